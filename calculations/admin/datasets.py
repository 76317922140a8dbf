"""Admin of the yearly national files: upload (data managers), progress while the Celery task
validates, profile of a valid file, problems of a rejected one (downloadable as CSV). Datasets are
written by `calculations.services.datasets` only: the change page is read-only."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect, JsonResponse
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from calculations.bundle.reasons import rule_label
from calculations.models import Dataset
from calculations.selectors import datasets as selectors
from calculations.selectors.campaigns import latest_campaign_year
from calculations.services import datasets as services
from common.formatting import format_integer, format_money, format_number, french_typography
from common.spreadsheets import csv_writer

POLL_SECONDS = 2


UPLOAD_HELP = (
    "Fichier CSV séparé par des points-virgules ou des virgules, encodé en UTF-8 ou en Windows-1252. "
    "Il est enregistré par morceaux puis validé en arrière-plan."
)


class DatasetUploadForm(forms.Form):
    year = forms.IntegerField(label="Année des données", min_value=services.MIN_YEAR, max_value=services.MAX_YEAR)
    file = forms.FileField(
        label="Fichier beneficiaires_Y.csv",
        help_text=UPLOAD_HELP,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].initial = latest_campaign_year()


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    change_form_template = "admin/calculations/dataset/change_form.html"
    list_display = (
        "__str__",
        "year",
        "status",
        "progress_display",
        "rows_display",
        "size_display",
        "uploaded_by",
        "created_at",
    )
    list_filter = ("status", "year", "kind")
    search_fields = ("original_name", "sha256")
    ordering = ("-year", "-created_at")
    fields = (
        "kind",
        "year",
        "original_name",
        "status",
        "size_display",
        "sha256",
        "rows_display",
        "uploaded_by",
        "created_at",
        "validation_started_at",
        "validated_at",
        "parquet_display",
        "campaigns_display",
    )
    readonly_fields = fields

    @admin.display(description="progression")
    def progress_display(self, obj):
        if obj.is_final:
            return "–"
        return f"{obj.progress * 100:.0f} % – {obj.progress_step}"

    @admin.display(description="lignes", ordering="row_count")
    def rows_display(self, obj):
        return format_integer(obj.row_count) if obj.row_count is not None else "–"

    @admin.display(description="taille", ordering="size")
    def size_display(self, obj):
        return filesizeformat(obj.size)

    @admin.display(description="fichier Parquet")
    def parquet_display(self, obj):
        # The stored name and its checksum, never a link: files reach people through checked views only.
        if not obj.parquet_file:
            return "–"
        return f"{obj.parquet_file.name} (SHA-256 {obj.parquet_sha256 or 'non enregistré'})"

    @admin.display(description="utilisé par")
    def campaigns_display(self, obj):
        uses = obj.campaign_uses.select_related("campaign").order_by("campaign__year", "campaign__version")
        if not uses:
            return "aucune campagne"
        return format_html_join(
            ", ",
            '<a href="{}">{}</a>',
            ((reverse("admin:calculations_campaign_change", args=[u.campaign_id]), u.campaign) for u in uses),
        )

    # --- permissions: uploads only through the service; content never edited; used datasets kept ----

    def has_add_permission(self, request):
        return request.user.has_perm(services.UPLOAD_PERMISSION)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        if obj is not None and selectors.dataset_is_used(obj):
            return False
        return super().has_delete_permission(request, obj)

    def delete_model(self, request, obj):
        try:
            services.delete_dataset(dataset=obj, user=request.user)
        except services.DatasetError as error:
            raise PermissionDenied("\n".join(error.messages)) from None

    def delete_queryset(self, request, queryset):
        # All or nothing: one refusal leaves every selected dataset (and its files) in place.
        with transaction.atomic():
            for dataset in queryset:
                self.delete_model(request, dataset)

    # --- pages -----------------------------------------------------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<path:object_id>/statut/", view(self.status_view), name="calculations_dataset_status"),
            path("<path:object_id>/problemes.csv", view(self.problems_view), name="calculations_dataset_problems"),
            path("<path:object_id>/relancer/", view(self.relaunch_view), name="calculations_dataset_relaunch"),
            *super().get_urls(),
        ]

    def _viewable(self, request, object_id) -> Dataset:
        dataset = self.get_object(request, object_id)
        if dataset is None or not self.has_view_permission(request, dataset):
            raise PermissionDenied
        return dataset

    def add_view(self, request, form_url="", extra_context=None):
        """The upload: the file arrives on disk through Django's temporary-file handler, then the
        service copies it in chunks (hashing meanwhile) and queues the validation."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = DatasetUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            started = timezone.now()
            try:
                dataset = services.start_dataset_upload(
                    uploaded_file=form.cleaned_data["file"], year=form.cleaned_data["year"], user=request.user
                )
            except services.DatasetError as error:
                for line in error.messages:
                    form.add_error(None, line)
            else:
                if dataset.created_at >= started:
                    messages.success(request, f"Fichier « {dataset.original_name} » déposé : validation lancée.")
                else:
                    messages.info(
                        request,
                        f"Ce fichier a déjà été déposé : jeu de données n° {dataset.pk} ({dataset.get_status_display().lower()}).",
                    )
                return HttpResponseRedirect(reverse("admin:calculations_dataset_change", args=[dataset.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": "Déposer un fichier national de bénéficiaires",
            "opts": self.model._meta,
            "form": form,
            "has_view_permission": self.has_view_permission(request),
        }
        return TemplateResponse(request, "admin/calculations/dataset/upload.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        dataset = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if dataset is not None and self.has_view_permission(request, dataset):
            extra.update(self.dataset_context(request, dataset))
        return super().change_view(request, object_id, form_url, extra)

    def dataset_context(self, request, dataset: Dataset) -> dict:
        profile = dataset.profile or {}
        rows = profile.get("rows") or 0
        bands = profile.get("age_bands") or []
        largest = max((band["count"] for band in bands), default=0) or 1
        return {
            "dataset": dataset,
            "status_url": reverse("admin:calculations_dataset_status", args=[dataset.pk]),
            "problems_url": reverse("admin:calculations_dataset_problems", args=[dataset.pk]),
            "relaunch_url": reverse("admin:calculations_dataset_relaunch", args=[dataset.pk]),
            "can_relaunch": dataset.status in (*Dataset.RELAUNCHABLE_STATUSES, Dataset.Status.VALIDATING)
            and self.has_add_permission(request),
            "poll_seconds": POLL_SECONDS,
            "progress_percent": round(dataset.progress * 100),
            "rows_text": self.rows_display(dataset),
            "problem_lines": selectors.dataset_problem_lines(dataset),
            "problem_counts": [
                (rule_label(rule), count)
                for rule, count in sorted((dataset.problem_counts or {}).items(), key=lambda item: (-item[1], item[0]))
            ],
            "profile_rows": [
                ("Lignes", format_integer(rows)),
                ("Dépenses totales", format_money(profile.get("depenses_total"))),
                ("Dépense moyenne par patient", format_money(profile.get("depenses_mean"))),
                ("Patients avec médecin traitant", _share(profile.get("with_mt"), rows)),
                ("Hommes / femmes", f"{format_integer(profile.get('men'))} / {format_integer(profile.get('women'))}"),
                ("En ALD", _share(profile.get("ald"), rows)),
                ("Bénéficiaires de la CSS", _share(profile.get("css"), rows)),
                ("Décédés dans l'année", _share(profile.get("deces"), rows)),
                (
                    "Âge moyen",
                    format_number(profile.get("age_mean"), 1) if profile.get("age_mean") is not None else "–",
                ),
                ("Encodage, séparateur", f"{profile.get('encoding', '–')}, « {profile.get('delimiter', '–')} »"),
            ]
            if profile
            else [],
            "age_bands": [
                {
                    "band": band["band"],
                    "count": format_integer(band["count"]),
                    "width": round(100 * band["count"] / largest),
                }
                for band in bands
            ],
        }

    def status_view(self, request, object_id):
        """Polled by the change page while the file is validated."""
        status = selectors.dataset_status(self._viewable(request, object_id))
        # Written into the page as is (static/ipep/progress.js): set like the text around it.
        status["status_label"] = french_typography(status["status_label"])
        status["step"] = status["step"] and french_typography(status["step"])
        return JsonResponse(status)

    def problems_view(self, request, object_id):
        """The problem report as CSV (`;`, UTF-8 with BOM so that spreadsheets read the accents)."""
        dataset = self._viewable(request, object_id)
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="problemes_jeu_{dataset.pk}_{dataset.year}.csv"'
        response.write("\ufeff")
        writer = csv_writer(response, delimiter=";")
        writer.writerows(selectors.dataset_problem_rows(dataset))
        return response

    def relaunch_view(self, request, object_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        dataset = self._viewable(request, object_id)
        try:
            services.relaunch_dataset_validation(dataset=dataset, user=request.user)
        except services.DatasetError as error:
            for line in error.messages:
                messages.error(request, line)
        else:
            messages.success(request, "Validation relancée.")
        return HttpResponseRedirect(reverse("admin:calculations_dataset_change", args=[dataset.pk]))


def _share(count, rows) -> str:
    if count is None or not rows:
        return "–"
    return format_html("{} ({} %)", format_integer(count), format_number(100 * count / rows, 1))
