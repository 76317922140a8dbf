"""Read queries on campaigns: which campaign of a year, the reference rows a campaign uses, the datasets
it needs, and its stored results as the JSON of METHODOLOGY.md section 5 (read back from the database,
never recomputed)."""

from __future__ import annotations

from dataclasses import fields
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from calculations.engine import CampaignTotals, GroupementResultRow

if TYPE_CHECKING:
    from calculations.bundle.inputs import CampaignInputs
    from calculations.engine.gate import GateEffect
from calculations.engine.results import money_text
from calculations.models import Campaign, GroupementResult
from groupements.models import (
    Groupement,
    Indicator,
    IndicatorResult,
    Member,
    PatientExperience,
    PhaseCalendar,
    PortalAccess,
    Wave,
    YearlyDecile,
)

RESULT_KEYS = GroupementResultRow.json_keys()
TOTAL_KEYS = [f.name for f in fields(CampaignTotals)]
# Columns of the admin's results table that may be sorted on (`?tri=-final_amount`).
SORTABLE_RESULT_KEYS = tuple(key for key in RESULT_KEYS if key not in ("wave",))


def campaigns_of_year(*, year: int) -> QuerySet[Campaign]:
    return Campaign.objects.filter(year=year).order_by("-version")


def latest_campaign(*, year: int) -> Campaign | None:
    """The highest version of campaign `year` (the one being prepared, or the one in force)."""
    return campaigns_of_year(year=year).first()


def open_campaign(*, year: int) -> Campaign | None:
    """The campaign of `year` being prepared (draft … validated, or failed), if any."""
    return campaigns_of_year(year=year).filter(status__in=Campaign.OPEN_STATUSES).first()


def in_force_campaign(*, year: int) -> Campaign | None:
    """The published (or paid) campaign of `year`, if any."""
    return campaigns_of_year(year=year).filter(status__in=Campaign.IN_FORCE_STATUSES).first()


def latest_campaign_year() -> int:
    """The latest year a campaign can use: the last year of the phase calendar, up to last year (a year's
    national files exist the year after), that has indicator results loaded; else the last calendar year
    up to last year; else last year."""
    last_year = timezone.localdate().year - 1
    calendar = PhaseCalendar.objects.filter(year__lte=last_year)
    with_results = calendar.filter(year__in=IndicatorResult.objects.values("year")).aggregate(Max("year"))
    return with_results["year__max"] or calendar.aggregate(Max("year"))["year__max"] or last_year


def uninformed_at_publication(*, campaign: Campaign) -> list[str]:
    """Who will not be told by e-mail that the campaign's statements are published (the e-mail goes to
    every active portal user of its groupements with an address): each such user without an address,
    and each groupement of its results without any active portal user. One line each, by code."""
    groupements = {r.groupement_id: r.code for r in campaign.results.only("groupement_id", "code")}
    accesses = (
        PortalAccess.objects.filter(groupement_id__in=groupements, user__is_active=True)
        .select_related("user")
        .order_by("user__username")
    )
    lines, with_users = [], set()
    for access in accesses:
        with_users.add(access.groupement_id)
        if not access.user.email:
            lines.append((groupements[access.groupement_id], f"{access.user.get_username()} (aucune adresse e-mail)"))
    for groupement_id, code in groupements.items():
        if groupement_id not in with_users:
            lines.append((code, "aucun utilisateur actif du portail"))
    return [f"{code} : {who}" for code, who in sorted(lines)]


# The step of a launched campaign until a worker takes its task.
WAITING_STEP = "en attente d'un worker"


def stale_computing_campaigns(*, now=None) -> QuerySet[Campaign]:
    """Campaigns `computing` whose task gave no sign of life: for IPEP_CAMPAIGN_STALE_AFTER_SECONDS once a
    worker took it (it beats every IPEP_HEARTBEAT_SECONDS), for IPEP_QUEUED_STALE_AFTER_SECONDS while it
    waits in the queue (busy workers are not dead ones; the message itself survives a worker's death)."""
    now = now or timezone.now()
    started_limit = now - timedelta(seconds=settings.IPEP_CAMPAIGN_STALE_AFTER_SECONDS)
    queued_limit = now - timedelta(seconds=settings.IPEP_QUEUED_STALE_AFTER_SECONDS)
    return Campaign.objects.filter(status=Campaign.Status.COMPUTING).filter(
        Q(heartbeat_at__isnull=True)
        | (~Q(progress_step=WAITING_STEP) & Q(heartbeat_at__lt=started_limit))
        | Q(heartbeat_at__lt=queued_limit)
    )


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def reference_snapshot(*, year: int) -> dict:
    """The reference rows campaign `year` uses, as JSON (decimals as exact text, dates ISO).

    Participating groupements are those whose wave has a phase-calendar row for `year`; the snapshot
    keeps their waves, phases, members, indicator results and patient experience, plus every indicator
    and the year's deciles. `snapshot_inputs(snapshot)` rebuilds the engine's frames.
    """
    phases = list(PhaseCalendar.objects.filter(year=year).select_related("wave").order_by("wave__code"))
    participating_waves = [p.wave_id for p in phases]
    groupements = list(
        Groupement.objects.filter(wave_id__in=participating_waves).select_related("wave").order_by("code")
    )
    waves = Wave.objects.filter(pk__in={g.wave_id for g in groupements}).order_by("code")
    members = (
        Member.objects.filter(groupement__in=groupements)
        .select_related("groupement")
        .order_by("groupement__code", "rpps", "start")
    )
    results = (
        IndicatorResult.objects.filter(year=year, groupement__in=groupements)
        .select_related("groupement", "indicator")
        .order_by("groupement__code", "indicator__code")
    )
    experience = (
        PatientExperience.objects.filter(year=year, groupement__in=groupements)
        .select_related("groupement")
        .order_by("groupement__code")
    )
    return {
        "year": year,
        "waves": [
            {"code": w.code, "label": w.label, "entry_year": w.entry_year, "reference_year": w.reference_year}
            for w in waves
        ],
        "phases": [
            {"wave": p.wave.code, "year": p.year, "phase": p.phase}
            for p in phases
            if p.wave_id in {g.wave_id for g in groupements}
        ],
        "groupements": [{"code": g.code, "name": g.name, "wave": g.wave.code, "region": g.region} for g in groupements],
        "members": [
            {
                "groupement": m.groupement.code,
                "rpps": m.rpps,
                "start": m.start.isoformat(),
                "end": m.end.isoformat() if m.end else None,
            }
            for m in members
        ],
        "indicators": [
            {"code": i.code, "label": i.label, "family": i.family, "direction": i.direction}
            for i in Indicator.objects.order_by("code")
        ],
        "deciles": [
            {"indicator": d.indicator.code, **{k: _text(getattr(d, k)) for k in ("d2", "d3", "d7", "d8")}}
            for d in YearlyDecile.objects.filter(year=year).select_related("indicator").order_by("indicator__code")
        ],
        "indicator_results": [
            {
                "groupement": r.groupement.code,
                "indicator": r.indicator.code,
                "value_n": _text(r.value_n),
                "value_n_1": _text(r.value_n_1),
            }
            for r in results
        ],
        "experience": [{"groupement": e.groupement.code, "points": _text(e.points)} for e in experience],
    }


def _float(text):
    return None if text is None else float(Decimal(text))


def reference_rows(snapshot: dict) -> dict:
    """The snapshot as the keyword arguments of `CampaignInputs.from_rows` (typed as the frames expect)."""
    return {
        "year": snapshot["year"],
        "waves": snapshot["waves"],
        "phases": snapshot["phases"],
        "groupements": snapshot["groupements"],
        "members": [
            {**m, "start": date.fromisoformat(m["start"]), "end": date.fromisoformat(m["end"]) if m["end"] else None}
            for m in snapshot["members"]
        ],
        "indicators": snapshot["indicators"],
        "deciles": [
            {"indicator": d["indicator"], **{k: _float(d[k]) for k in ("d2", "d3", "d7", "d8")}}
            for d in snapshot["deciles"]
        ],
        "indicator_results": [
            {**r, "value_n": _float(r["value_n"]), "value_n_1": _float(r["value_n_1"])}
            for r in snapshot["indicator_results"]
        ],
        "experience": [{"groupement": e["groupement"], "points": _float(e["points"])} for e in snapshot["experience"]],
    }


def snapshot_inputs(snapshot: dict) -> CampaignInputs:
    """The engine's inputs rebuilt from a launch's reference snapshot (national files not attached yet)."""
    from calculations.bundle.inputs import CampaignInputs  # Polars: loaded by the computation only

    return CampaignInputs.from_rows(**reference_rows(snapshot))


def _money_text(amount: Decimal | None) -> str | None:
    return None if amount is None else money_text(amount)


def result_json(result: GroupementResult) -> dict:
    row = {key: getattr(result, key) for key in RESULT_KEYS}
    row["final_amount"] = _money_text(result.final_amount)
    return row


def campaign_results_json(*, campaign: Campaign) -> dict:
    """The stored results of `campaign` as the JSON of section 5 (same keys and order as `simulate`)."""
    totals = {key: getattr(campaign, key) for key in TOTAL_KEYS}
    totals["final_amount"] = _money_text(campaign.final_amount)
    return {
        "year": campaign.year,
        "parameters": campaign.parameters,
        "truncation_thresholds": dict(sorted(campaign.truncation_thresholds.items())),
        "totals": totals,
        "groupements": [result_json(r) for r in campaign.results.order_by("code")],
    }


def result_order(order: str) -> str:
    """`order` (a result column, `-` first for descending) when results may be sorted on it, else "code"."""
    return order if order.removeprefix("-") in SORTABLE_RESULT_KEYS else "code"  # one "-" only: "--code" is no field


def campaign_results(*, campaign: Campaign, order: str = "code") -> QuerySet[GroupementResult]:
    """The results of `campaign` sorted on one column (`-` for descending); unknown columns sort by code."""
    return campaign.results.order_by(result_order(order), "code")


def campaign_totals(campaign: Campaign) -> list[tuple[str, object, str]]:
    """(label, value, kind) of the campaign-level figures; kind is money, integer or ratio."""
    return [
        ("Dépenses réelles totales N", campaign.real_expenditure_total, "money"),
        ("Patients", campaign.n_patients, "integer"),
        ("Enveloppe qualité", campaign.quality_envelope, "money"),
        ("Plafond national", campaign.national_ceiling, "money"),
        ("Somme des montants après plafond", campaign.amount_after_cap, "money"),
        ("Coefficient national", campaign.national_coefficient, "ratio"),
        ("Montant final total", campaign.final_amount, "money"),
    ]


def noise_gate_effect(*, campaign: Campaign) -> GateEffect | None:
    """What `noise_gate` would change to the stored campaign: its final amounts with the gate off and on,
    recomputed by the engine from the stored figures. None without results or without step 13's flag
    (results computed before it)."""
    # The engine's steps import Polars: loaded here, when a campaign page asks, not by every command.
    from calculations.engine.gate import StoredFigures
    from calculations.engine.gate import noise_gate_effect as gate_effect
    from calculations.engine.parameters import ParameterError, Parameters

    if not campaign.has_results or campaign.national_ceiling is None:
        return None
    figures = [
        StoredFigures(
            code=r.code,
            phase=r.phase,
            n_patients=r.n_patients,
            level_gap=r.level_gap,
            evolution_gap=r.evolution_gap,
            efficiency_noise=r.efficiency_noise,
            quality_value=r.quality_value,
            quality_ratio=r.quality_ratio,
            cap=r.cap,
        )
        for r in campaign.results.order_by("code")
    ]
    if not figures or any(f.efficiency_noise is None for f in figures):
        return None
    try:
        parameters = Parameters.merge(("campagne", campaign.parameters or {}))
    except ParameterError:
        return None
    return gate_effect(figures, campaign.national_ceiling, parameters)
