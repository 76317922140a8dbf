"""What a groupement's statement shows: every step of METHODOLOGY section 4 from the stored result, in
the order it was computed, so a groupement can redo the arithmetic with a pocket calculator."""

from __future__ import annotations

from fractions import Fraction

from django.conf import settings
from django.urls import reverse

from calculations.models import Campaign, GroupementResult
from common.pdf import render_pdf

from .selectors import contestation_deadline

PARAMETER_LABELS = {
    "c_ecart": "C_écart – poids de l'écart de niveau",
    "c_evolution": "C_évolution – poids de la différence d'évolution",
    "c_partage": "C_partage – part du gain reversée au groupement",
    "evolution_form": "Forme de la différence d'évolution",
    "truncation_percentile": "Percentile d'écrêtement des dépenses",
    "quality_envelope_rate": "Taux de l'enveloppe qualité",
    "phase3_modulation": "Modulation de l'efficience en phase 3 (μ)",
    "phase3_quality_weight": "Poids de la qualité en phase 3",
    "group_cap_rate": "Plafond par groupement (part des dépenses réelles N)",
    "national_ceiling_rate": "Plafond national (part des dépenses réelles N)",
    "min_patients": "Seuil de patients",
    "socle_share_with_carte": "Part des points sur le socle avec indicateurs à la carte",
    "base_points": "Points de base (indicateurs)",
    "max_experience_points": "Points maximum d'expérience patient",
    "confidence_level": "Niveau de confiance des intervalles (étape 13)",
    "noise_gate": "Gain non distinguable du hasard non versé (on) ou signalé seulement (off)",
}

DIRECTION_LABELS = {"hausse": "hausse", "baisse": "baisse"}
FAMILY_LABELS = {"socle": "Socle", "carte": "À la carte"}


def is_draft(campaign: Campaign) -> bool:
    """A statement is a draft (watermarked PROJET) until its campaign is validated."""
    return not campaign.status_properties.final_statement


def statement_date(campaign: Campaign, *, draft: bool):
    """The date printed on the statement: validation for a final one, computation for a draft.

    Never "now": rendering twice must give the same bytes.
    """
    if not draft and campaign.validated_at:
        return campaign.validated_at
    return campaign.computed_at or campaign.created_at


def statement_context(result: GroupementResult, *, draft: bool) -> dict:
    """Template context of one statement; `result` with its campaign and groupement (and wave) loaded.

    Every figure is the engine's, as stored with the result: nothing is recomputed here (z, printed beside
    the intervals, is the engine's own function of the campaign's confidence level).
    """
    # The engine's steps import Polars: loaded when a statement is drawn, not by every command.
    from calculations.engine.steps.robustness import critical_value

    campaign = result.campaign
    groupement = result.groupement
    parameters = campaign.parameters or {}
    scaled = campaign.national_coefficient is not None and campaign.national_coefficient < 1

    quality_rows = [
        {
            **row,
            "family_label": FAMILY_LABELS.get(row.get("family"), row.get("family")),
            "direction_label": DIRECTION_LABELS.get(row.get("direction"), row.get("direction")),
        }
        for row in result.quality_details or []
    ]

    parameter_rows = [
        {"name": name, "label": PARAMETER_LABELS.get(name, name), "value": value}
        for name, value in sorted(parameters.items())
    ]
    return {
        "draft": draft,
        "campaign": campaign,
        "groupement": groupement,
        "wave": groupement.wave,
        "result": result,
        "date": statement_date(campaign, draft=draft),
        "year": campaign.year,
        "reference_year": result.reference_year,
        "threshold_n": (campaign.truncation_thresholds or {}).get(str(campaign.year)),
        "threshold_reference": (campaign.truncation_thresholds or {}).get(str(result.reference_year)),
        "parameters": parameters,
        "parameter_rows": parameter_rows,
        # Two parameters a row: the table takes half the height and the statement stays on two pages.
        "parameter_pairs": [parameter_rows[i : i + 2] for i in range(0, len(parameter_rows), 2)],
        # Known once published (the final statement is drawn again then); before, the rule is printed.
        "deadline": contestation_deadline(campaign),
        "contestation_days": campaign.contestation_days,
        "portal_url": settings.IPEP_SITE_URL.rstrip("/") + reverse("portal:campaign", args=[campaign.pk]),
        # METHODOLOGY section 7: the intéressement of campaign N is paid in N+1.
        "payment_year": campaign.year + 1,
        "evolution_form": parameters.get("evolution_form", "rate"),
        # Step 13: results computed before it have no intervals; their statement shows none.
        "has_intervals": result.level_gap_low is not None and result.evolution_gap_low is not None,
        "confidence_level": parameters.get("confidence_level", "0.95"),
        "noise_gate_on": parameters.get("noise_gate") == "on",
        "critical_value": critical_value(Fraction(str(parameters.get("confidence_level", "0.95")))),
        "truncated": Fraction(str(parameters.get("truncation_percentile", "99"))) != 100,
        "quality_rows": quality_rows,
        "scaled": scaled,
        "datasets": list(campaign.campaign_datasets.select_related("dataset").order_by("year")),
    }


def render_statement_pdf(result: GroupementResult, *, draft: bool) -> bytes:
    return render_pdf("reports/statement.html", statement_context(result, draft=draft))
