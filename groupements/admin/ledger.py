"""Admin of the financing ledger: lines, seed credits, pilot projects and their innovative-action
claims, the FISS report (HTML and PDF, with the break-even section) and the versements.csv import."""

import tempfile
from pathlib import Path

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from import_export.admin import ExportMixin, ImportExportModelAdmin

from calculations.bundle import BundleError
from common.formatting import format_money
from common.pdf import render_pdf

from .. import resources_ledger
from ..formats import FORMATS
from ..models import InnovativeActionClaim, LedgerLine, PilotProject, SeedCredit
from ..models.ledger import COORDINATION_AMOUNT, Nature
from ..selectors.ledger import break_even, break_even_campaigns, financing_report, pilot_budget_guarantees, pilot_years
from ..services import ledger as ledger_services
from ..services import pilots as pilot_services

VIEW_LEDGER = "groupements.view_ledgerline"


def _report_context(request) -> dict:
    campaigns = list(break_even_campaigns())
    chosen = None
    if request.GET.get("campaign", "").isdigit():
        chosen = next((c for c in campaigns if c.pk == int(request.GET["campaign"])), None)
    elif campaigns:
        chosen = campaigns[0]
    return {
        "report": financing_report(),
        "campaigns": campaigns,
        "break_even": break_even(campaign=chosen) if chosen else None,
    }


@admin.action(description="Marquer payées les lignes sélectionnées", permissions=["change"])
def mark_paid(modeladmin, request, queryset):
    count = ledger_services.mark_lines_paid(lines=list(queryset), user=request.user)
    modeladmin.message_user(request, f"{count} ligne(s) marquée(s) payée(s).", messages.SUCCESS)


class LedgerLineForm(forms.ModelForm):
    class Meta:
        model = LedgerLine
        fields = ("groupement", "pilot_project", "year", "nature", "amount", "status", "label")

    def clean(self):
        cleaned = super().clean()
        nature, amount = cleaned.get("nature"), cleaned.get("amount")
        if nature == Nature.INNOVATIVE_ACTIONS:
            raise ValidationError(
                {
                    "nature": "Les actions innovantes s'enregistrent comme demandes (« Demandes actions innovantes ») : le plafond annuel y est vérifié."
                }
            )
        if nature == Nature.COORDINATION and amount is not None and amount != COORDINATION_AMOUNT:
            raise ValidationError(
                {"amount": f"La ligne de coordination est fixe : {format_money(COORDINATION_AMOUNT)} par an."}
            )
        return cleaned


class PaymentsFileForm(forms.Form):
    file = forms.FileField(label="Fichier versements.csv")


@admin.register(LedgerLine)
class LedgerLineAdmin(ExportMixin, admin.ModelAdmin):
    resource_classes = [resources_ledger.LedgerLineResource]
    formats = FORMATS
    import_export_change_list_template = "admin/groupements/ledgerline/change_list.html"
    form = LedgerLineForm
    list_display = ("year", "nature", "groupement", "pilot_project", "amount", "status", "campaign", "recorded_by")
    list_filter = ("year", "nature", "status", "groupement__wave")
    search_fields = ("groupement__code", "groupement__name", "pilot_project__code", "label")
    list_select_related = ("groupement", "pilot_project", "campaign", "recorded_by")
    autocomplete_fields = ("groupement",)
    readonly_fields = ("campaign", "recorded_by", "recorded_at", "paid_at")
    actions = [mark_paid]

    def has_change_permission(self, request, obj=None):
        # Lines of a paid campaign are the payment itself, claims have their own admin (room check);
        # a paid line is money out of the programme: it is not changed (as a paid seed credit or claim).
        if obj is not None and (
            obj.campaign_id or obj.nature == Nature.INNOVATIVE_ACTIONS or obj.status == LedgerLine.Status.PAID
        ):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and (obj.campaign_id or obj.status == LedgerLine.Status.PAID):
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.recorded_by = request.user
        super().save_model(request, obj, form, change)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("rapport-fiss/", view(self.financing_report_view), name="groupements_ledgerline_financing_report"),
            path(
                "rapport-fiss.pdf",
                view(self.financing_report_pdf_view),
                name="groupements_ledgerline_financing_report_pdf",
            ),
            path(
                "importer-versements/", view(self.import_payments_view), name="groupements_ledgerline_import_payments"
            ),
            *super().get_urls(),
        ]

    def _require_view(self, request):
        if not request.user.has_perm(VIEW_LEDGER):
            raise PermissionDenied

    def financing_report_view(self, request):
        self._require_view(request)
        context = {
            **self.admin_site.each_context(request),
            **_report_context(request),
            "opts": self.model._meta,
            "title": "Rapport de financement FISS",
        }
        return TemplateResponse(request, "admin/groupements/ledgerline/financing_report.html", context)

    def financing_report_pdf_view(self, request):
        self._require_view(request)
        pdf = render_pdf("groupements/financing_report_pdf.html", _report_context(request))
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = 'attachment; filename="rapport-financement-fiss.pdf"'
        return response

    def import_payments_view(self, request):
        if not request.user.has_perm("groupements.add_ledgerline"):
            raise PermissionDenied
        problems = []
        form = PaymentsFileForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            uploaded = form.cleaned_data["file"]
            with tempfile.TemporaryDirectory() as directory:
                target = Path(directory) / "versements.csv"
                with open(target, "wb") as handle:
                    for chunk in uploaded.chunks():
                        handle.write(chunk)
                try:
                    summary = ledger_services.import_payments(
                        path=target, user=request.user, display_name=uploaded.name
                    )
                except BundleError as error:
                    problems = error.lines()
                else:
                    for line in summary.lines():
                        self.message_user(request, line, messages.SUCCESS)
                    return redirect(reverse("admin:groupements_ledgerline_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Importer versements.csv",
            "form": form,
            "problems": problems,
        }
        return TemplateResponse(request, "admin/groupements/ledgerline/import_payments.html", context)


class SeedCreditForm(forms.ModelForm):
    class Meta:
        model = SeedCredit
        fields = ("groupement", "year", "amount", "status", "label")

    def clean(self):
        cleaned = super().clean()
        groupement, year = cleaned.get("groupement"), cleaned.get("year")
        # `nature` is not a form field, so Django would skip the uniqueness constraint that uses it.
        if (
            self.instance.pk is None
            and groupement
            and year
            and SeedCredit.objects.filter(groupement=groupement, year=year).exists()
        ):
            raise ValidationError(
                f"Une ligne de même nature existe déjà pour ce groupement et cette année ({groupement.code}, {year}) : modifiez-la."
            )
        return cleaned


@admin.register(SeedCredit)
class SeedCreditAdmin(ImportExportModelAdmin):
    resource_classes = [resources_ledger.SeedCreditResource]
    formats = FORMATS
    form = SeedCreditForm
    list_display = ("year", "groupement", "wave", "amount", "status", "recorded_by")
    list_filter = ("year", "groupement__wave", "status")
    search_fields = ("groupement__code", "groupement__name")
    list_select_related = ("groupement__wave", "recorded_by")
    autocomplete_fields = ("groupement",)
    actions = [mark_paid]

    @admin.display(description="vague")
    def wave(self, obj):
        return obj.wave

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status == LedgerLine.Status.PAID:
            return ("groupement", "year", "amount", "status", "label")
        return ("groupement", "year") if obj is not None else ()

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.status == LedgerLine.Status.PAID:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        credit = ledger_services.record_seed_credit(
            groupement=obj.groupement, year=obj.year, amount=obj.amount, user=request.user, status=obj.status
        )
        if obj.label != credit.label:
            credit.label = obj.label
            credit.save(update_fields=["label"])
        obj.pk = credit.pk


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


@admin.register(PilotProject)
class PilotProjectAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "start_year", "end_year", "groupement")
    search_fields = ("code", "name")
    autocomplete_fields = ("groupement",)
    readonly_fields = ("yearly_lines", "budget_guarantee")
    fields = ("code", "name", "start_year", "end_year", "groupement", "yearly_lines", "budget_guarantee")
    inlines = [LedgerLineInline]
    actions = ["create_coordination_lines"]

    @admin.display(description="coordination et actions innovantes par année")
    def yearly_lines(self, obj):
        if obj is None or obj.pk is None:
            return "–"
        return render_to_string("admin/groupements/pilotproject/yearly_lines.html", {"years": pilot_years(project=obj)})

    @admin.display(description="garantie budgétaire (pour information, jamais payée)")
    def budget_guarantee(self, obj):
        if obj is None or obj.pk is None:
            return "–"
        return render_to_string(
            "admin/groupements/pilotproject/budget_guarantee.html",
            {"project": obj, "rows": pilot_budget_guarantees(project=obj)},
        )

    @admin.action(description="Créer les lignes de coordination (152 520 € par an)", permissions=["add"])
    def create_coordination_lines(self, request, queryset):
        count = sum(
            len(pilot_services.record_coordination_lines(project=project, user=request.user)) for project in queryset
        )
        self.message_user(request, f"{count} ligne(s) de coordination présentes.", messages.SUCCESS)


class InnovativeActionClaimForm(forms.ModelForm):
    class Meta:
        model = InnovativeActionClaim
        fields = ("pilot_project", "year", "amount", "label")

    def clean(self):
        cleaned = super().clean()
        project, year, amount = cleaned.get("pilot_project"), cleaned.get("year"), cleaned.get("amount")
        if project and year and amount is not None:
            pilot_services.check_innovative_actions_claim(
                project=project, year=year, amount=amount, claim=self.instance
            )
        return cleaned


@admin.register(InnovativeActionClaim)
class InnovativeActionClaimAdmin(admin.ModelAdmin):
    form = InnovativeActionClaimForm
    list_display = ("pilot_project", "year", "amount", "label", "status", "recorded_by")
    list_filter = ("year", "status", "pilot_project")
    search_fields = ("pilot_project__code", "label")
    list_select_related = ("pilot_project", "recorded_by")
    actions = [mark_paid]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status == LedgerLine.Status.PAID:
            return ("pilot_project", "year", "amount", "label")
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
            user=request.user,
            claim=obj if change else None,
        )
        obj.pk = claim.pk
