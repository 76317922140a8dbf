"""Admin of campaigns: parameters, datasets, progress, results, totals, transition history, and one
button per transition the user may apply now. Thin: every action calls calculations.services.campaigns."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from calculations.forms.parameters import ParameterFieldsMixin, parameter_fieldsets
from calculations.models import Campaign, GroupementResult
from calculations.selectors.campaigns import (
    campaign_results,
    campaign_totals,
    open_campaign,
    result_order,
    uninformed_at_publication,
)
from calculations.services import campaigns as services
from calculations.services.transitions import TRANSITIONS_BY_NAME, USER_TRANSITIONS, CampaignError, allowed_transitions
from calculations.signals import campaign_page_panels
from common.admin_numbers import DECIMAL, MONEY, NUMBER, RATIO, FrenchNumbersMixin, format_kind
from common.audit import AuditHistoryMixin
from common.errors import ActionRefused
from common.formatting import format_money, format_number

from .campaign_datasets import dataset_fields, form_with_dataset_choices, requested_year
from .noise_gate import noise_gate_context
from .records import RecordAdminMixin
from .simulations import simulation_context

REFRESH_SECONDS = 3
PARAMETERS_ON_CREATION = (
    "Nombres décimaux avec une virgule (0,005) ou fractions (1/3). Les paramètres laissés à leur valeur "
    "par défaut reprennent ceux de la version en vigueur de l'année, s'il y en a une."
)
# Results table of the campaign page: (field, header, format).
RESULT_COLUMNS = [
    ("code", "Groupement", "text"),
    ("wave", "Vague", "text"),
    ("phase", "Phase", "text"),
    ("n_patients", "Patients N", "integer"),
    ("n_patients_reference", "Patients R", "integer"),
    ("level_gap", "Écart E", "number"),
    ("evolution_gap", "Évolution Ev", "number"),
    ("efficiency_amount", "Efficience", "money"),
    ("quality_score", "Score S", "number"),
    ("quality_ratio", "q", "ratio"),
    ("quality_amount", "Qualité", "money"),
    ("amount_before_cap", "Avant plafond", "money"),
    ("cap", "Plafond", "money"),
    ("amount_after_cap", "Après plafond", "money"),
    ("final_amount", "Montant final", "money"),
    ("below_min_patients", "Sous le seuil", "flag"),
]


def _formatted(value, kind: str) -> str:
    if value is None:
        return "–"
    if kind == "money":
        return format_money(value)
    if kind == "integer":
        return format_number(value, 0)
    if kind == "ratio":
        return format_number(value, 4)
    if kind == "number":
        return format_number(value, 2)
    if kind == "flag":
        return "oui" if value else ""
    return str(value)


class CampaignCreateForm(ParameterFieldsMixin, forms.ModelForm):
    """Year and typed parameters (calculations/forms/parameters.py). Only the parameters changed from the
    defaults shown are given to the service: the others follow the version in force, if any."""

    class Meta:
        model = Campaign
        fields = ["year"]

    def clean(self):
        cleaned = super().clean()
        cleaned["parameters"] = self.changed_parameters()
        return cleaned

    def clean_year(self):
        year = self.cleaned_data["year"]
        try:
            services.check_year(year)
        except CampaignError as error:
            raise forms.ValidationError(error.messages) from None
        current = open_campaign(year=year)
        if current is not None:
            raise forms.ValidationError(
                f"La campagne {year} v{current.version} est déjà en cours ({current.get_status_display()})."
            )
        return year


class CampaignParametersForm(ParameterFieldsMixin, forms.ModelForm):
    """A draft's parameters, one typed field each, pre-filled with its own."""

    class Meta:
        model = Campaign
        fields = []

    def __init__(self, *args, instance=None, **kwargs):
        own = instance.parameters if instance is not None else None
        super().__init__(*args, instance=instance, initial_parameters=own, **kwargs)

    def clean(self):
        cleaned = super().clean()
        cleaned["parameters"] = self.parameter_values()
        return cleaned


@admin.register(Campaign)
class CampaignAdmin(AuditHistoryMixin, admin.ModelAdmin):
    change_form_template = "admin/calculations/campaign/change_form.html"
    list_display = (
        "__str__",
        "year",
        "version",
        "status",
        "progress_display",
        "final_amount_display",
        "launched_by",
        "validated_by",
        "computed_at",
    )
    list_display_links = ("__str__",)
    list_filter = ("status", "year")
    ordering = ("-year", "-version")
    readonly_fields = (
        "year",
        "version",
        "status",
        "parameters_display",
        "supersedes",
        "contestation_days",
        "progress_display",
        "error",
        "created_by",
        "created_at",
        "launched_by",
        "launched_at",
        "computed_at",
        "validated_by",
        "validated_at",
        "published_at",
        "paid_at",
    )

    @admin.display(description="progression")
    def progress_display(self, obj):
        if obj.status != Campaign.Status.COMPUTING:
            return "–"
        return f"{obj.progress * 100:.0f} % – {obj.progress_step}"

    @admin.display(description="montant final", ordering="final_amount")
    def final_amount_display(self, obj):
        return _formatted(obj.final_amount, "money")

    @admin.display(description="paramètres")
    def parameters_display(self, obj):
        rows = format_html_join(
            "", "<tr><th>{}</th><td>{}</td></tr>", ((k, v) for k, v in (obj.parameters or {}).items())
        )
        return format_html('<table class="campaign-parameters">{}</table>', rows)

    # --- permissions: no deletion (audit); parameters editable only before the computation ---------

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        if obj is not None and not obj.parameters_editable:
            return False
        return super().has_change_permission(request, obj)

    def get_form(self, request, obj=None, change=False, **kwargs):
        base = CampaignCreateForm if obj is None else CampaignParametersForm
        kwargs["form"] = form_with_dataset_choices(base, year=requested_year(request, obj), campaign=obj)
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["year", "parameters", *dataset_fields(year=requested_year(request, obj))]
        if not self.has_change_permission(request, obj):
            return list(self.readonly_fields)
        shown = ["parameters" if f == "parameters_display" else f for f in self.readonly_fields]
        return shown + list(dataset_fields(year=obj.year, campaign=obj))

    def get_changeform_initial_data(self, request):
        return {"year": requested_year(request, None), **super().get_changeform_initial_data(request)}

    def get_fieldsets(self, request, obj=None):
        # "parameters" in the fields stands for the typed parameter fields, one fieldset per group.
        fields = self.get_fields(request, obj)
        if "parameters" not in fields:
            return [(None, {"fields": fields})]
        description = PARAMETERS_ON_CREATION if obj is None else ""
        return [
            (None, {"fields": [f for f in fields if f != "parameters"]}),
            *parameter_fieldsets(description=description),
        ]

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        # The services write (with their checks and audit); the admin only reports the outcome.
        try:
            if change:
                services.update_campaign_parameters(
                    campaign=obj, user=request.user, parameters=form.cleaned_data["parameters"]
                )
                services.choose_campaign_datasets(campaign=obj, user=request.user, datasets=form.dataset_choices())
            else:
                created = services.create_campaign(
                    year=form.cleaned_data["year"],
                    user=request.user,
                    parameters=form.cleaned_data["parameters"],
                    datasets=form.dataset_choices(),
                )
                obj.pk = created.pk
        except CampaignError as error:
            raise PermissionDenied("\n".join(error.messages)) from None
        obj.refresh_from_db()

    # --- pages -------------------------------------------------------------------------------

    def changelist_view(self, request, extra_context=None):
        services.fail_stale_campaigns()
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        services.fail_stale_campaigns()
        campaign = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if campaign is not None and self.has_view_permission(request, campaign):
            extra.update(self.campaign_context(request, campaign))
            extra.update(simulation_context(request, campaign))
        return super().change_view(request, object_id, form_url, extra)

    def campaign_context(self, request, campaign: Campaign) -> dict:
        order = result_order(request.GET.get("tri", "code"))
        results = (
            list(campaign_results(campaign=campaign, order=order))
            if campaign.has_results or campaign.results.exists()
            else []
        )
        current = order.removeprefix("-")
        headers = [
            {
                "label": label,
                "field": field,
                "sorted": field == current,
                "descending": order.startswith("-"),
                "next": f"-{field}" if field == current and not order.startswith("-") else field,
            }
            for field, label, _ in RESULT_COLUMNS
        ]
        rows = [
            {
                "pk": r.pk,
                "below": r.below_min_patients,
                "cells": [_formatted(getattr(r, field), kind) for field, _, kind in RESULT_COLUMNS],
            }
            for r in results
        ]
        return {
            "campaign": campaign,
            "computing": campaign.status == Campaign.Status.COMPUTING,
            "refresh_seconds": REFRESH_SECONDS,
            "progress_percent": round(campaign.progress * 100),
            "transition_buttons": (buttons := allowed_transitions(campaign=campaign, actor=request.user)),
            "uninformed": uninformed_at_publication(campaign=campaign)
            if any(b.name == "publish" for b in buttons)
            else [],
            "transition_url": reverse("admin:calculations_campaign_transition", args=[campaign.pk]),
            "campaign_datasets": campaign.campaign_datasets.select_related("dataset", "chosen_by").order_by("year"),
            "totals": [(label, _formatted(value, kind)) for label, value, kind in campaign_totals(campaign)]
            if campaign.final_amount is not None
            else [],
            "thresholds": [
                (year, _formatted(value, "money")) for year, value in sorted(campaign.truncation_thresholds.items())
            ],
            "result_headers": headers,
            "result_rows": rows,
            "results_stale": bool(results) and not campaign.has_results,
            "results_url": reverse("admin:calculations_groupementresult_changelist")
            + f"?campaign__id__exact={campaign.pk}",
            "transitions": campaign.transitions.select_related("user").order_by("at", "pk"),
            "panels": [
                html
                for _receiver, html in campaign_page_panels.send(sender=Campaign, campaign=campaign, request=request)
                if html
            ],
            "noise_gate": noise_gate_context(campaign),
        }

    def get_urls(self):
        return [
            path(
                "<path:object_id>/transition/",
                self.admin_site.admin_view(self.transition_view),
                name="calculations_campaign_transition",
            ),
            *super().get_urls(),
        ]

    def transition_view(self, request, object_id):
        """POST `transition` (one of USER_TRANSITIONS) and `reason`: the service checks role, status and four eyes."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        campaign = self.get_object(request, object_id)
        if campaign is None or not self.has_view_permission(request, campaign):
            raise PermissionDenied
        name = request.POST.get("transition", "")
        if name not in USER_TRANSITIONS:
            messages.error(request, f"Transition inconnue : {name!r}.")
        else:
            transition = TRANSITIONS_BY_NAME[name]
            try:
                updated = services.transition_campaign(
                    campaign=campaign, to=transition.target, user=request.user, reason=request.POST.get("reason", "")
                )
            except ActionRefused as error:  # the campaign's own refusals, or those of an app reacting (the ledger)
                for line in error.messages:
                    messages.error(request, line)
            else:
                updated.refresh_from_db()
                messages.success(request, f"{transition.label} : {updated}.")
                if name == "publish" and (uninformed := uninformed_at_publication(campaign=updated)):
                    messages.warning(
                        request,
                        f"Non prévenus par e-mail ({len(uninformed)}) : " + " ; ".join(uninformed) + ".",
                    )
        return HttpResponseRedirect(reverse("admin:calculations_campaign_change", args=[campaign.pk]))


# Figures of a result: euros (totals, and per patient: to the cent), ratios (4 places), points (2 places).
RESULT_FORMATS = {
    **dict.fromkeys(
        [
            "real_per_patient",
            "expected_per_patient",
            "real_per_patient_reference",
            "expected_per_patient_reference",
            "level_gap",
            "level_gap_se",
            "evolution_gap",
            "level_gap_se_reference",
            "level_gap_low",
            "level_gap_high",
            "evolution_gap_se",
            "evolution_gap_low",
            "evolution_gap_high",
            "amount_per_patient_untruncated",
            "amount_per_patient",
            "positive_level_gap",
            "positive_evolution_gap",
            "efficiency_amount_untruncated",
            "efficiency_amount",
            "drawing_right",
            "quality_value",
            "quality_amount",
            "amount_before_cap",
            "real_expenditure_total",
            "cap",
            "amount_after_cap",
            "budget_guarantee",
            "budget_guarantee_gain",
            "final_amount",
            "truncated_expenditure_total",
            "amount_after_coefficient",
        ],
        MONEY,
    ),
    **dict.fromkeys(["quality_ratio", "phase3_factor"], RATIO),
    **dict.fromkeys(["quality_score", "indicator_points", "experience_points", "score_max"], NUMBER),
}


@admin.register(GroupementResult)
class GroupementResultAdmin(RecordAdminMixin, FrenchNumbersMixin, admin.ModelAdmin):
    """Read-only: results are written by the computation only, and never changed once published."""

    number_formats = RESULT_FORMATS

    list_display = (
        "code",
        "campaign",
        "wave",
        "phase",
        "n_patients",
        "level_gap",
        "evolution_gap",
        "quality_score",
        "amount_after_cap",
        "final_amount",
        "below_min_patients",
    )
    list_filter = ("campaign", "wave", "phase", "below_min_patients")
    search_fields = ("code", "groupement__name")
    list_select_related = ("campaign",)
    exclude = ("quality_details",)
    readonly_fields = ("quality_details_display",)

    @admin.display(description="détail qualité")
    def quality_details_display(self, obj):
        return format_html(
            "<table><tr><th>Indicateur</th><th>Famille</th><th>Sens</th><th>N</th><th>N-1</th><th>D2</th><th>D3</th><th>D7</th><th>D8</th>"
            "<th>Points</th><th>Maximum</th></tr>{}</table>",
            format_html_join(
                "",
                "<tr>" + "<td>{}</td>" * 11 + "</tr>",
                (
                    (
                        d["code"],
                        d["family"],
                        d["direction"],
                        *(
                            format_kind(d[key], DECIMAL) if d.get(key) is not None else "–"
                            for key in ("value_n", "value_n_1", "d2", "d3", "d7", "d8")
                        ),
                        format_number(d["points"], 2),
                        format_number(d["max_points"], 2),
                    )
                    for d in obj.quality_details
                ),
            ),
        )

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields if f.name != "quality_details"] + ["quality_details_display"]
