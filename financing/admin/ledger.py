"""Admin of the financing ledger: lines and seed credits, the FISS report (HTML and PDF, with the
break-even section) and the versements.csv import."""

import tempfile
from pathlib import Path

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from import_export.admin import ImportExportModelAdmin

from calculations.bundle import BundleError
from common.admin_numbers import FrenchNumbersMixin
from common.audit import AuditHistoryMixin
from common.formatting import format_money
from common.importexport import FilteredExportMixin
from common.pdf import render_pdf
from groupements.formats import FORMATS

from .. import resources
from ..models import COORDINATION_AMOUNT, LedgerLine, Nature, SeedCredit
from ..selectors.pilots import pilot_projects_report
from ..selectors.programme import programme_view, verdict
from ..selectors.report import break_even, break_even_campaigns, financing_report
from ..services import ledger as ledger_services
from ..services import payments as payment_services
from ..services import pilots as pilot_services
from .refusals import RefusalsAsMessagesMixin, mark_paid

VIEW_LEDGER = "financing.view_ledgerline"


def _report_context(request) -> dict:
    campaigns = list(break_even_campaigns())
    chosen = None
    if request.GET.get("campaign", "").isdigit():
        chosen = next((c for c in campaigns if c.pk == int(request.GET["campaign"])), None)
    elif campaigns:
        chosen = campaigns[0]
    programme = programme_view()
    return {
        "report": financing_report(),
        "campaigns": campaigns,
        "break_even": break_even(campaign=chosen) if chosen else None,
        "pilots": pilot_projects_report(),
        "programme": programme,
        "programme_verdict": verdict(programme) if programme else "",
    }


class LedgerLineForm(forms.ModelForm):
    class Meta:
        model = LedgerLine
        fields = (
            "groupement",
            "pilot_project",
            "year",
            "nature",
            "amount",
            "salaries",
            "running_costs",
            "status",
            "label",
        )
        help_texts = {
            "salaries": "Ligne de coordination seulement.",
            "running_costs": "Ligne de coordination seulement.",
        }

    def clean(self):
        cleaned = super().clean()
        nature, amount = cleaned.get("nature"), cleaned.get("amount")
        if nature == Nature.COORDINATION:
            for field, message in pilot_services.coordination_split_problems(
                salaries=cleaned.get("salaries"), running_costs=cleaned.get("running_costs")
            ).items():
                self.add_error(field, message)
        elif cleaned.get("salaries") is not None or cleaned.get("running_costs") is not None:
            raise ValidationError(
                {"salaries": "Seule une ligne de coordination se répartit entre salaires et fonctionnement."}
            )
        if nature == Nature.INNOVATIVE_ACTIONS:
            raise ValidationError(
                {
                    "nature": "Les actions innovantes s'enregistrent comme demandes (« Demandes d'actions innovantes ») : le plafond annuel y est vérifié."
                }
            )
        # A manual line is a payment: the database refuses a negative one that is not a recovery, which
        # only the import of versements.csv records (a `montant` written `-…`).
        if amount is not None and amount < 0:
            raise ValidationError(
                {
                    "amount": "Le montant ne peut pas être négatif : une récupération s'enregistre en important versements.csv (montant précédé de « - »)."
                }
            )
        if nature == Nature.COORDINATION and amount is not None and amount != COORDINATION_AMOUNT:
            raise ValidationError(
                {"amount": f"La ligne de coordination est fixe : {format_money(COORDINATION_AMOUNT)} par an."}
            )
        refuse_a_second_line(
            self.instance, groupement=cleaned.get("groupement"), year=cleaned.get("year"), nature=nature
        )
        return cleaned


def refuse_a_second_line(instance: LedgerLine, *, groupement, year, nature) -> None:
    """One line per groupement, year and nature outside campaigns (a recovery apart). The database's
    constraint says so, but Django skips it in a form: its condition uses fields the form does not show."""
    if not (groupement and year and nature):
        return
    others = LedgerLine.objects.filter(
        groupement=groupement, year=year, nature=nature, campaign__isnull=True, recovery=False
    ).exclude(pk=instance.pk)
    if others.exists():
        raise ValidationError(
            f"Une ligne de même nature existe déjà pour ce groupement et cette année ({groupement.code}, {year}) : modifiez-la."
        )


class PaymentsFileForm(forms.Form):
    file = forms.FileField(label="Fichier versements.csv")


@admin.register(LedgerLine)
class LedgerLineAdmin(
    FrenchNumbersMixin, RefusalsAsMessagesMixin, AuditHistoryMixin, FilteredExportMixin, admin.ModelAdmin
):
    resource_classes = [resources.LedgerLineResource]
    formats = FORMATS
    import_export_change_list_template = "admin/financing/ledgerline/change_list.html"
    form = LedgerLineForm
    list_display = (
        "year",
        "nature",
        "groupement",
        "pilot_project",
        "amount",
        "salaries",
        "running_costs",
        "status",
        "campaign",
        "recorded_by",
    )
    list_filter = ("year", "nature", "status", "recovery", "groupement__wave")
    search_fields = ("groupement__code", "groupement__name", "pilot_project__code", "label")
    list_select_related = ("groupement", "pilot_project", "campaign", "recorded_by")
    autocomplete_fields = ("groupement",)
    readonly_fields = ("campaign", "recovery", "recorded_by", "recorded_at", "paid_at")
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
            path("rapport-fiss/", view(self.financing_report_view), name="financing_ledgerline_financing_report"),
            path(
                "rapport-fiss.pdf",
                view(self.financing_report_pdf_view),
                name="financing_ledgerline_financing_report_pdf",
            ),
            path("importer-versements/", view(self.import_payments_view), name="financing_ledgerline_import_payments"),
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
        return TemplateResponse(request, "admin/financing/ledgerline/financing_report.html", context)

    def financing_report_pdf_view(self, request):
        self._require_view(request)
        pdf = render_pdf("financing/financing_report_pdf.html", _report_context(request))
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = 'attachment; filename="rapport-financement-fiss.pdf"'
        return response

    def import_payments_view(self, request):
        if not request.user.has_perm(ledger_services.ADD_LEDGER):
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
                    summary = payment_services.import_payments(
                        path=target, user=request.user, display_name=uploaded.name
                    )
                except BundleError as error:
                    problems = error.lines()
                else:
                    for line in summary.lines():
                        self.message_user(request, line, messages.SUCCESS)
                    return redirect(reverse("admin:financing_ledgerline_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Importer versements.csv",
            "form": form,
            "problems": problems,
        }
        return TemplateResponse(request, "admin/financing/ledgerline/import_payments.html", context)


class SeedCreditForm(forms.ModelForm):
    class Meta:
        model = SeedCredit
        fields = ("groupement", "year", "amount", "status", "label")

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if amount is not None and amount < 0:
            raise ValidationError("Le montant ne peut pas être négatif.")
        return amount

    def clean(self):
        cleaned = super().clean()
        refuse_a_second_line(
            self.instance, groupement=cleaned.get("groupement"), year=cleaned.get("year"), nature=Nature.SEED
        )
        return cleaned


@admin.register(SeedCredit)
class SeedCreditAdmin(
    FrenchNumbersMixin, RefusalsAsMessagesMixin, AuditHistoryMixin, FilteredExportMixin, ImportExportModelAdmin
):
    resource_classes = [resources.SeedCreditResource]
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
