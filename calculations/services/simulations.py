"""What-if simulations (METHODOLOGY.md section 10): a stored campaign version recomputed with other
parameters on exactly its inputs, compared with it figure by figure.

The inputs are those the campaign's computation used: its reference snapshot and its datasets, read
through `stored_campaign_inputs` (each dataset's SHA-256 as recorded at launch, its Parquet's SHA-256 as
written at validation). The parameters are the campaign's own with the simulation's merged over them.
Nothing here writes to the campaign, its results or its history: `manage.py simulate_campaign` and the
admin's « Simuler » are thin callers of `simulate_stored_campaign` and `simulation_report`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from celery.exceptions import SoftTimeLimitExceeded
from django.db import transaction
from django.utils import timezone

from calculations.engine import EngineError, ParameterError, Parameters
from calculations.engine.results import money_text
from calculations.models import Campaign, Simulation
from calculations.selectors.campaigns import campaigns_of_year
from calculations.selectors.simulations import COMPARED_FIGURES
from common.errors import require_permission
from common.storage import FileIntegrityError

from .campaigns import PARAMETERS_SOURCE, merge_parameters, stored_campaign_inputs
from .transitions import CampaignError, CampaignPermissionDenied

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from calculations.engine import CampaignResults
    from calculations.engine.compute import Progress

SIMULATION_SOURCE = "simulation"


@dataclass(frozen=True)
class SimulationOutcome:
    """A simulation's merged parameters, the engine's results and the checksums of the inputs it read."""

    campaign: Campaign
    parameters: Parameters
    results: CampaignResults
    input_checksums: dict


def stored_campaign(*, year: int, version: int | None = None) -> Campaign:
    """Campaign `year` (version `version`, else the latest) when it has results to compare; CampaignError otherwise."""
    campaigns = campaigns_of_year(year=year)
    campaign = campaigns.filter(version=version).first() if version is not None else campaigns.first()
    if campaign is None:
        which = f"version {version}" if version is not None else "aucune version"
        raise CampaignError(f"Campagne {year} : {which} introuvable.")
    check_simulable(campaign)
    return campaign


def check_simulable(campaign: Campaign) -> None:
    """CampaignError unless `campaign` has results of its own parameters and inputs to compare with."""
    if not campaign.has_results or campaign.final_amount is None:
        raise CampaignError(
            f"{campaign} n'a pas de résultats calculés à comparer : une simulation part d'une campagne calculée."
        )


def simulation_parameters(*, campaign: Campaign, overrides: dict | None = None) -> Parameters:
    """The campaign's parameters with `overrides` ({name: value}) merged over them; CampaignError lists every problem."""
    return merge_parameters((PARAMETERS_SOURCE, campaign.parameters), (SIMULATION_SOURCE, overrides or {}))


def simulate_stored_campaign(
    *, campaign: Campaign, overrides: dict | None = None, progress: Progress | None = None
) -> SimulationOutcome:
    """Recompute `campaign` on its own inputs with `overrides` merged over its parameters (read-only).

    Raises CampaignError (every problem, in French) when the campaign has no results, a parameter is
    refused, or an input no longer has the checksum recorded for it.
    """
    check_simulable(campaign)
    parameters = simulation_parameters(campaign=campaign, overrides=overrides)
    from calculations.engine.compute import compute_campaign  # Polars: loaded by the computation only

    try:
        inputs, _own = stored_campaign_inputs(campaign)
        results = compute_campaign(inputs, parameters, progress=progress)
    except FileIntegrityError as error:
        raise CampaignError(error.messages) from None
    except (EngineError, ParameterError) as error:
        raise CampaignError(error.messages) from None
    return SimulationOutcome(campaign, parameters, results, input_checksums(campaign))


def input_checksums(campaign: Campaign) -> dict:
    """What a simulation read: per year the CSV's and the Parquet's SHA-256, and the reference snapshot's."""
    snapshot_text = json.dumps(campaign.reference_snapshot, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return {
        "datasets": {
            str(used.year): {"sha256": used.sha256, "parquet_sha256": used.dataset.parquet_sha256}
            for used in campaign.campaign_datasets.select_related("dataset").order_by("year")
        },
        "reference_snapshot_sha256": hashlib.sha256(snapshot_text.encode("utf-8")).hexdigest(),
    }


# --- stored simulations (the admin's « Simuler »): a Celery task computes, the page polls ---------


def start_simulation(*, campaign: Campaign, user, overrides: dict | None = None) -> Simulation:
    """A pending simulation of `campaign` with `overrides`, computed by a Celery task once committed.

    Refused (nothing stored) without the permission, when the campaign has no results or a parameter
    is refused. Only the simulation is written: the campaign, its results and its history never change.
    """
    require_permission(user, "calculations.add_simulation", "simuler une campagne", refusal=CampaignPermissionDenied)
    check_simulable(campaign)
    parameters = simulation_parameters(campaign=campaign, overrides=overrides)
    with transaction.atomic():
        simulation = Simulation.objects.create(
            campaign=campaign,
            created_by=user,
            overrides=dict(overrides or {}),
            parameters=parameters.to_json_dict(),
            progress_step="en attente d'un worker",
        )
        simulation_id = simulation.pk
        transaction.on_commit(lambda: _enqueue(simulation_id))
    return simulation


def _enqueue(simulation_id: int) -> None:
    from calculations.tasks.simulations import run_simulation_task

    try:
        run_simulation_task.delay(simulation_id)
    except Exception as exc:  # the broker is unreachable: say so now
        logger.exception("simulation %s: could not enqueue", simulation_id)
        _finish(simulation_id, status=Simulation.Status.FAILED, error=f"Mise en file d'attente impossible : {exc}")


def run_simulation(*, simulation_id: int) -> Simulation | None:
    """The task's body: claims the pending simulation, computes it, stores the report or the error.
    A redelivered message finds it no longer pending and does nothing."""
    claimed = Simulation.objects.filter(pk=simulation_id, status=Simulation.Status.PENDING).update(
        status=Simulation.Status.RUNNING, started_at=timezone.now(), progress_step="chargement des données"
    )
    if not claimed:
        return None
    simulation = Simulation.objects.select_related("campaign").get(pk=simulation_id)

    def progress(step: str, fraction: float) -> None:
        Simulation.objects.filter(pk=simulation_id).update(progress=fraction, progress_step=step[:100])

    try:
        outcome = simulate_stored_campaign(
            campaign=simulation.campaign, overrides=simulation.overrides, progress=progress
        )
    except CampaignError as error:
        return _finish(simulation_id, status=Simulation.Status.FAILED, error="\n".join(error.messages))
    except SoftTimeLimitExceeded:
        return _finish(simulation_id, status=Simulation.Status.FAILED, error="Délai maximal de la tâche dépassé.")
    except Exception as error:
        logger.exception("simulation %s failed", simulation_id)
        return _finish(simulation_id, status=Simulation.Status.FAILED, error=f"Erreur interne : {error!r}")
    return _finish(
        simulation_id,
        status=Simulation.Status.DONE,
        result=simulation_report(outcome),
        input_checksums=outcome.input_checksums,
        progress=1.0,
        progress_step="terminé",
    )


def _finish(simulation_id: int, **values) -> Simulation:
    Simulation.objects.filter(pk=simulation_id).update(finished_at=timezone.now(), **values)
    return Simulation.objects.get(pk=simulation_id)


# --- the comparison ------------------------------------------------------------------------------


def simulation_report(outcome: SimulationOutcome) -> dict:
    """The JSON of a simulation: year, version, the merged parameters, the simulation (section-5 shape,
    as `manage.py simulate` writes it) and the differences with the stored campaign."""
    campaign = outcome.campaign
    return {
        "year": campaign.year,
        "version": campaign.version,
        "parameters": outcome.parameters.to_json_dict(),
        "simulation": outcome.results.to_json_dict(),
        "differences": differences(campaign, outcome.results),
    }


def differences(campaign: Campaign, results: CampaignResults) -> dict:
    """Per groupement (by code) and in total: campaign, simulated, difference (€) and difference (%)."""
    stored = {r.code: r for r in campaign.results.order_by("code")}
    simulated = {row.code: row for row in results.groupements}
    groupements = []
    for code in sorted(stored.keys() | simulated.keys()):
        before, after = stored.get(code), simulated.get(code)
        line = {"code": code}
        for name in COMPARED_FIGURES:
            line[name] = compared(getattr(before, name) if before else None, getattr(after, name) if after else None)
        groupements.append(line)
    totals = {
        "final_amount": compared(campaign.final_amount, results.totals.final_amount),
        "efficiency_amount": compared(
            math.fsum(r.efficiency_amount for r in stored.values()),
            math.fsum(row.efficiency_amount for row in results.groupements),
        ),
        "quality_amount": compared(
            math.fsum(r.quality_amount for r in stored.values()),
            math.fsum(row.quality_amount for row in results.groupements),
        ),
        "amount_after_cap": compared(campaign.amount_after_cap, results.totals.amount_after_cap),
        "national_coefficient": compared(campaign.national_coefficient, results.totals.national_coefficient),
    }
    return {"totals": totals, "groupements": groupements}


def compared(campaign_value, simulated_value) -> dict:
    """One figure of both sides. Money (Decimal) as 2-decimal text as in section 5; statistics as numbers.
    The percentage is relative to the campaign's value; null when that is zero and the value moved."""
    if campaign_value is None or simulated_value is None:
        difference = percent = None
    else:
        difference = simulated_value - campaign_value
        if campaign_value:
            percent = float(Decimal(difference) / Decimal(campaign_value) * 100)
        else:
            percent = 0.0 if not difference else None
    if isinstance(campaign_value, Decimal) or isinstance(simulated_value, Decimal):
        return {
            "campaign": _money(campaign_value),
            "simulated": _money(simulated_value),
            "difference": _money(difference),
            "percent": percent,
        }
    return {"campaign": campaign_value, "simulated": simulated_value, "difference": difference, "percent": percent}


def _money(value: Decimal | None) -> str | None:
    return None if value is None else money_text(value)


def changed(figure: dict) -> bool:
    """Whether a compared figure moved (a value on one side only counts as a change)."""
    return figure["difference"] is None or Decimal(str(figure["difference"])) != 0
