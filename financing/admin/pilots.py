"""Admin of pilot projects: the project with its yearly coordination and innovative actions, the
garantie budgétaire of the groupement it follows, and the claims for innovative actions (room checked)."""

from django import forms
from django.contrib import admin, messages
from django.template.loader import render_to_string

from common.admin_numbers import FrenchNumbersMixin
from common.audit import AuditHistoryMixin
from common.errors import ActionRefused

from ..models import ApprovedInnovativeAction, InnovativeActionClaim, LedgerLine, PilotProject
from ..selectors.pilots import pilot_budget_guarantees, pilot_years
from ..services import pilots as pilot_services
from .refusals import RefusalsAsMessagesMixin, mark_paid, show_refusal


class LedgerLineInline(admin.TabularInline):
    model = LedgerLine
    fk_name = "pilot_project"
    fields = ("year", "nature", "amount", "status", "label")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "lignes du grand livre"

    def has_add_permission(self, request, obj=None):
        return False


class ApprovedInnovativeActionInline(admin.TabularInline):
    """The innovative actions of the project's convention (annex 7): the only ones a claim may pay."""

    model = ApprovedInnovativeAction
    fields = ("code", "label", "convention_reference", "first_year", "last_year")
    extra = 0
    verbose_name_plural = "actions innovantes approuvées par la convention (annexe 7)"

    def has_delete_permission(self, request, obj=None):
        return False  # a claim may name it (PROTECT); an action no longer approved gets its last year ended


@admin.register(PilotProject)
class PilotProjectAdmin(FrenchNumbersMixin, RefusalsAsMessagesMixin, AuditHistoryMixin, admin.ModelAdmin):
    list_display = ("code", "name", "start_year", "end_year", "groupement")
    search_fields = ("code", "name")
    autocomplete_fields = ("groupement",)
    readonly_fields = ("yearly_lines", "budget_guarantee")
    fields = ("code", "name", "start_year", "end_year", "groupement", "yearly_lines", "budget_guarantee")
    inlines = [ApprovedInnovativeActionInline, LedgerLineInline]
    actions = ["create_coordination_lines"]

    @admin.display(description="coordination et actions innovantes par année")
    def yearly_lines(self, obj):
        if obj is None or obj.pk is None:
            return "–"
        return render_to_string("admin/financing/pilotproject/yearly_lines.html", {"years": pilot_years(project=obj)})

    @admin.display(description="garantie budgétaire (pour information, jamais payée)")
    def budget_guarantee(self, obj):
        if obj is None or obj.pk is None:
            return "–"
        return render_to_string(
            "admin/financing/pilotproject/budget_guarantee.html",
            {"project": obj, "rows": pilot_budget_guarantees(project=obj)},
        )

    @admin.action(description="Créer les lignes de coordination (152 520 € par an)", permissions=["add"])
    def create_coordination_lines(self, request, queryset):
        try:
            count = sum(
                len(pilot_services.record_coordination_lines(project=project, user=request.user))
                for project in queryset
            )
        except ActionRefused as refusal:
            show_refusal(self, request, refusal)
        else:
            self.message_user(request, f"{count} ligne(s) de coordination présentes.", messages.SUCCESS)


class InnovativeActionClaimForm(forms.ModelForm):
    class Meta:
        model = InnovativeActionClaim
        fields = ("pilot_project", "year", "approved_action", "amount", "label")
        help_texts = {"approved_action": "Une action de la convention du projet, approuvée pour l'année de la demande."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields.get("approved_action")
        if field is not None:
            field.required = True
            field.queryset = ApprovedInnovativeAction.objects.select_related("pilot_project")
            field.label_from_instance = lambda action: f"{action.pilot_project.code} · {action}"

    def clean(self):
        cleaned = super().clean()
        project = cleaned.get("pilot_project") or getattr(self.instance, "pilot_project", None)
        year, amount = cleaned.get("year"), cleaned.get("amount")
        if project and year and amount is not None:
            problems = pilot_services.innovative_actions_claim_problems(
                project=project, year=year, amount=amount, action=cleaned.get("approved_action"), claim=self.instance
            )
            for field, message in problems.items():
                self.add_error(field, message)
        return cleaned


@admin.register(InnovativeActionClaim)
class InnovativeActionClaimAdmin(FrenchNumbersMixin, RefusalsAsMessagesMixin, admin.ModelAdmin):
    form = InnovativeActionClaimForm
    list_display = ("pilot_project", "year", "approved_action", "amount", "label", "status", "recorded_by")
    list_filter = ("year", "status", "pilot_project")
    search_fields = ("pilot_project__code", "label")
    list_select_related = ("pilot_project", "approved_action", "recorded_by")
    actions = [mark_paid]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status == LedgerLine.Status.PAID:
            return ("pilot_project", "year", "approved_action", "amount", "label")
        return ("pilot_project",) if obj is not None else ()

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.status == LedgerLine.Status.PAID:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        # The service re-checks the room with the project row locked (the form check is advisory).
        claim = pilot_services.record_innovative_action_claim(
            project=obj.pilot_project,
            year=obj.year,
            amount=obj.amount,
            label=obj.label,
            action=obj.approved_action,
            user=request.user,
            claim=obj if change else None,
        )
        obj.pk = claim.pk
