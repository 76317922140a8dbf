"""Admin of statements (read-only, downloadable) and contestations (staff answer them here)."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from . import services
from .models import Contestation, Statement


@admin.register(Statement)
class StatementAdmin(admin.ModelAdmin):
    list_display = ("groupement", "campaign", "draft", "rendered_at", "short_sha256", "download")
    list_filter = ("draft", "campaign__year", "campaign")
    search_fields = ("groupement__code", "groupement__name", "sha256")
    list_select_related = ("groupement", "campaign")
    readonly_fields = ("campaign", "groupement", "draft", "file_name", "sha256", "size", "rendered_at", "download")

    def has_add_permission(self, request):
        return False  # rendered by the campaign workflow only

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="SHA-256")
    def short_sha256(self, obj):
        return f"{obj.sha256[:16]}…"

    @admin.display(description="fichier enregistré")
    def file_name(self, obj):
        # The stored name as text: the storage's own URL would bypass the access and checksum checks.
        return obj.file.name

    @admin.display(description="fichier")
    def download(self, obj):
        return format_html('<a href="{}">Télécharger</a>', reverse("reports:statement_download", args=[obj.pk]))


@admin.register(Contestation)
class ContestationAdmin(admin.ModelAdmin):
    list_display = ("groupement", "campaign", "created_at", "user", "status", "answered_at")
    list_filter = ("status", "campaign__year", "campaign")
    search_fields = ("groupement__code", "groupement__name", "message", "answer")
    list_select_related = ("groupement", "campaign", "user")
    readonly_fields = (
        "campaign",
        "groupement",
        "user",
        "created_at",
        "message",
        "answered_by",
        "answered_at",
        "national_report",
    )
    fields = (
        "campaign",
        "national_report",
        "groupement",
        "user",
        "created_at",
        "message",
        "status",
        "answer",
        "answered_by",
        "answered_at",
    )

    def has_add_permission(self, request):
        return False  # filed by groupements on the portal

    @admin.display(description="rapport national")
    def national_report(self, obj):
        return format_html(
            '<a href="{}">Voir le rapport de la campagne</a>',
            reverse("reports:national_report", args=[obj.campaign_id]),
        )

    def save_model(self, request, obj, form, change):
        services.answer_contestation(contestation=obj, user=request.user, status=obj.status, answer=obj.answer)
