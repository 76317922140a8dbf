"""Launching a campaign and computing it (in a worker), its failures and interruptions."""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import fields
from typing import TYPE_CHECKING

from celery.exceptions import SoftTimeLimitExceeded
from django.db import transaction
from django.utils import timezone

from calculations.engine import CampaignResults, EngineError, ParameterError, Parameters
from calculations.models import Campaign, GroupementResult
from calculations.selectors import campaigns as selectors
from common.formatting import format_money
from common.liveness import Heartbeat, with_fresh_connection
from common.storage import FileIntegrityError
from groupements.models import Groupement

from ..dataset_files import verified_beneficiaries_by_year
from ..transitions import (
    COMPUTATION_TASK,
    INTERRUPTION_CHECK,
    TRANSITIONS_BY_NAME,
    CampaignError,
    actor_user,
    apply_transition,
    audit_context,
    refusal,
)
from .creation import PARAMETERS_SOURCE, Status, _record_dataset_choices, merge_parameters
from .inputs import check_campaign_inputs

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from calculations.bundle.inputs import CampaignInputs


class ComputationAbandoned(Exception):
    """The campaign is no longer `computing` with this task's token (marked failed, or relaunched)."""


def launch_campaign(*, campaign: Campaign, user) -> Campaign:
    """draft/failed → computing, then (after commit) one Celery task computes and stores the results.

    Refused with every problem listed, nothing changed, when the inputs are incomplete. The launch
    records the reference snapshot, and the dataset of each year the computation will use: the one
    chosen (never replaced by a later upload), the latest valid one for a year without a choice.
    """
    fail_stale_campaigns()
    with audit_context(user), transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        error = refusal(TRANSITIONS_BY_NAME["launch"], campaign=locked, actor=user)
        if error is not None:
            raise error
        snapshot, datasets = check_campaign_inputs(campaign=locked)
        now = timezone.now()
        token = uuid.uuid4().hex
        locked.results.all().delete()
        _record_dataset_choices(campaign=locked, datasets=datasets, user=user)
        locked = apply_transition(
            campaign=locked,
            name="launch",
            actor=user,
            launched_by=actor_user(user),
            launched_at=now,
            task_id=token,
            heartbeat_at=now,
            progress=0.0,
            progress_step=selectors.WAITING_STEP,
            error="",
            reference_snapshot=snapshot,
            computed_at=None,
            **_empty_totals(),
        )
        campaign_id = locked.pk
        transaction.on_commit(lambda: _enqueue_computation(campaign_id, token))
    return locked


def _empty_totals() -> dict:
    return {"truncation_thresholds": {}, **dict.fromkeys(selectors.TOTAL_KEYS)}


def _enqueue_computation(campaign_id: int, token: str) -> None:
    from calculations.tasks.campaigns import compute_campaign_task

    try:
        compute_campaign_task.apply_async(args=[campaign_id, token], task_id=token)
    except Exception as exc:  # the broker is unreachable: say so now rather than after the stale delay
        logger.exception("campaign %s: could not enqueue the computation", campaign_id)
        _mark_failed(
            campaign_id, token, f"Impossible de mettre le calcul en file d'attente : {exc}", actor=COMPUTATION_TASK
        )


class _ProgressReporter:
    """Writes the step, the fraction done and the heartbeat; stops the task when it lost the campaign."""

    def __init__(self, campaign_id: int, token: str):
        self.campaign_id, self.token = campaign_id, token
        self.step = ""

    def __call__(self, step: str, fraction: float) -> None:
        self.step = step
        updated = Campaign.objects.filter(pk=self.campaign_id, status=Status.COMPUTING, task_id=self.token).update(
            progress_step=step[:100], progress=max(0.0, min(1.0, float(fraction))), heartbeat_at=timezone.now()
        )
        if not updated:
            raise ComputationAbandoned()


def run_campaign_computation(*, campaign_id: int, token: str) -> Campaign | None:
    """Compute campaign `campaign_id` and store its results; a no-op unless it is `computing` with `token`.

    Any error leaves the campaign `failed` with its message (relaunchable); returns the campaign when
    this call stored the results, None otherwise.
    """
    campaign = Campaign.objects.filter(pk=campaign_id, status=Status.COMPUTING, task_id=token).first()
    if campaign is None:
        logger.info(
            "campaign %s: nothing to compute for task %s (already done, failed or relaunched)", campaign_id, token
        )
        return None
    report = _ProgressReporter(campaign_id, token)
    try:
        with Heartbeat(lambda: _beat(campaign_id, token)):
            report("chargement des données", 0.0)
            inputs, parameters = stored_campaign_inputs(campaign)
            from calculations.engine.compute import compute_campaign  # Polars: loaded by the computation only

            results = compute_campaign(inputs, parameters, progress=report)
            report("enregistrement des résultats", 1.0)
            return _store_results(campaign_id, token, results)
    except ComputationAbandoned:
        logger.warning("campaign %s: task %s stopped, the campaign is no longer computing with it", campaign_id, token)
        return None
    except (EngineError, ParameterError, CampaignError) as error:
        _mark_failed(campaign_id, token, "\n".join(error.messages), step=report.step)
    except SoftTimeLimitExceeded:
        _mark_failed(campaign_id, token, "Calcul interrompu : délai maximal de la tâche dépassé.", step=report.step)
    except Exception as error:
        logger.exception("campaign %s: computation failed", campaign_id)
        _mark_failed(campaign_id, token, f"Erreur interne : {error!r}", step=report.step)
    return None


def _beat(campaign_id: int, token: str) -> bool:
    """The computation's sign of life between steps (a Polars step may take minutes); False once it lost the campaign."""
    return bool(
        Campaign.objects.filter(pk=campaign_id, status=Status.COMPUTING, task_id=token).update(
            heartbeat_at=timezone.now()
        )
    )


def stored_campaign_inputs(campaign: Campaign) -> tuple[CampaignInputs, Parameters]:
    """The engine's inputs from the launch's snapshot and the recorded datasets: each the one recorded at
    launch (SHA-256 of its CSV) and its Parquet the one written at validation (SHA-256 of the file).
    The computation and the what-if simulations (`simulations.py`) both read a campaign through it."""
    parameters = merge_parameters((PARAMETERS_SOURCE, campaign.parameters))
    reference = selectors.snapshot_inputs(campaign.reference_snapshot)
    used = list(campaign.campaign_datasets.select_related("dataset"))
    for recorded in used:
        if recorded.dataset.sha256 != recorded.sha256:
            raise CampaignError(
                f"beneficiaires_{recorded.year}.csv: -: le jeu de données a changé depuis le lancement (SHA-256)"
            )
    try:
        beneficiaries = verified_beneficiaries_by_year({recorded.year: recorded.dataset for recorded in used})
    except FileIntegrityError as error:
        raise CampaignError(
            [
                *error.messages,
                "Calcul refusé : un fichier de données a été modifié ou perdu depuis sa validation ; "
                "déposez de nouveau le fichier national.",
            ]
        ) from None
    return reference.with_beneficiaries(beneficiaries), parameters


def _store_results(campaign_id: int, token: str, results: CampaignResults) -> Campaign | None:
    """Replace the results and totals and mark `computed`, in one transaction under the row lock."""
    with audit_context(COMPUTATION_TASK), transaction.atomic():
        locked = Campaign.objects.select_for_update().filter(pk=campaign_id).first()
        if locked is None or locked.status != Status.COMPUTING or locked.task_id != token:
            return None
        groupements = dict(
            Groupement.objects.filter(code__in=[r.code for r in results.groupements]).values_list("code", "pk")
        )
        locked.results.all().delete()
        GroupementResult.objects.bulk_create(
            GroupementResult.from_engine_row(row, campaign=locked, groupement_id=groupements[row.code])
            for row in results.groupements
        )
        totals = {f.name: getattr(results.totals, f.name) for f in fields(results.totals)}
        locked = apply_transition(
            campaign=locked,
            name="complete",
            actor=COMPUTATION_TASK,
            reason=f"{len(results.groupements)} groupement(s), montant final {format_money(results.totals.final_amount)}",
            truncation_thresholds={str(year): value for year, value in sorted(results.truncation_thresholds.items())},
            computed_at=timezone.now(),
            progress=1.0,
            progress_step="terminé",
            heartbeat_at=timezone.now(),
            **totals,
        )
        return locked


def _mark_failed(campaign_id: int, token: str, message: str, *, step: str = "", actor=COMPUTATION_TASK) -> None:
    """`failed` with `message`, written on a working connection: the error may have been the connection."""
    text = f"Échec à l'étape « {step} » :\n{message}" if step else message

    def write():
        with audit_context(actor), transaction.atomic():
            locked = Campaign.objects.select_for_update().filter(pk=campaign_id).first()
            if locked is None or locked.status != Status.COMPUTING or locked.task_id != token:
                return
            apply_transition(campaign=locked, name="fail", actor=actor, reason=text, error=text)

    with_fresh_connection(write)


def fail_stale_campaigns(*, now=None) -> list[Campaign]:
    """Mark `failed` every `computing` campaign whose task stopped giving signs of life (see
    `selectors.stale_computing_campaigns`: IPEP_CAMPAIGN_STALE_AFTER_SECONDS once started).

    A worker killed mid-way (kill -9, lost machine) stops the heartbeat; the campaign can then be
    relaunched, and any late delivery of the old task finds a different status or token and does nothing.
    Called at launch, by the admin pages, by the periodic task and when a worker starts.
    """
    failed = []
    for stale in selectors.stale_computing_campaigns(now=now):
        last = timezone.localtime(stale.heartbeat_at).strftime("%d/%m/%Y %H:%M:%S") if stale.heartbeat_at else "jamais"
        message = (
            f"Calcul interrompu : aucun signe de vie de la tâche depuis le {last} "
            f"(dernière étape « {stale.progress_step or '-'} »). Le worker s'est probablement arrêté ; relancez le calcul."
        )
        with audit_context(INTERRUPTION_CHECK), transaction.atomic():
            locked = selectors.stale_computing_campaigns(now=now).select_for_update().filter(pk=stale.pk).first()
            if locked is None:
                continue
            failed.append(
                apply_transition(campaign=locked, name="fail", actor=INTERRUPTION_CHECK, reason=message, error=message)
            )
    return failed


def wait_for_computation(
    *, campaign: Campaign, timeout: float | None = None, poll_seconds: float = 1.0, on_step=None
) -> Campaign:
    """Polls `campaign` until it leaves `computing` (a worker that died is detected by
    `fail_stale_campaigns` meanwhile) and returns it; still `computing` when `timeout` seconds passed.
    `on_step(campaign)` is called each time the step shown by the task changes."""
    started, last_step = time.monotonic(), None
    campaign.refresh_from_db()
    while campaign.status == Status.COMPUTING:
        if on_step is not None and campaign.progress_step != last_step:
            last_step = campaign.progress_step
            on_step(campaign)
        if timeout is not None and time.monotonic() - started > timeout:
            break
        time.sleep(poll_seconds)
        fail_stale_campaigns()
        campaign.refresh_from_db()
    return campaign
