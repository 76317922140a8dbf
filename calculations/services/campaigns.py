"""Business actions on campaigns (METHODOLOGY.md section 8): create, set parameters, launch the Celery
computation, store its results, reject, validate (four eyes), publish (superseding the previous version)
and mark paid. Status changes go through `transitions.apply_transition` (lock + checks + audit row).

The computation (`run_campaign_computation`, the body of the Celery task) is idempotent: it works only
while the campaign is `computing` with the token the launch gave it, and replaces the results
(delete then insert) in the same transaction as the status change, under the row lock. A worker killed
mid-way leaves a stale heartbeat, which `fail_stale_campaigns` turns into `failed` (relaunchable).
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import fields
from datetime import date
from typing import TYPE_CHECKING

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from calculations.bundle.problems import Problem
from calculations.engine import CampaignResults, EngineError, ParameterError, Parameters

if TYPE_CHECKING:
    from calculations.bundle.inputs import CampaignInputs
from calculations.models import Campaign, CampaignDataset, Dataset, GroupementResult
from calculations.selectors import campaigns as selectors
from calculations.selectors.datasets import (
    chosen_datasets,
    dataset_years_needed,
    default_datasets,
    valid_dataset_for_year,
)
from common.errors import require_permission
from common.formatting import format_money
from common.liveness import Heartbeat, with_fresh_connection
from common.storage import FileIntegrityError
from groupements.models import Groupement

from .dataset_files import parquet_exists, verified_beneficiaries_by_year
from .datasets import MAX_YEAR, MIN_YEAR, supported_year
from .transitions import (
    COMPUTATION_TASK,
    INTERRUPTION_CHECK,
    TRANSITIONS_BY_NAME,
    CampaignError,
    CampaignPermissionDenied,
    actor_user,
    apply_transition,
    audit_context,
    refusal,
)

logger = logging.getLogger(__name__)
Status = Campaign.Status

PARAMETERS_SOURCE = "paramètres de la campagne"
PREVIOUS_VERSION_SOURCE = "version précédente"


class ComputationAbandoned(Exception):
    """The campaign is no longer `computing` with this task's token (marked failed, or relaunched)."""


def _require(actor, permission: str, action: str) -> None:
    require_permission(actor, permission, action, refusal=CampaignPermissionDenied)


def merge_parameters(*layers: tuple[str, dict]) -> Parameters:
    """Defaults, then each layer (later wins), checked as section 6 says; CampaignError lists every problem."""
    try:
        return Parameters.merge(*layers)
    except ParameterError as error:
        raise CampaignError(error.messages) from None


# --- creation and parameters -------------------------------------------------------------------


def check_year(year) -> int:
    """`year` when a campaign may be created for it; CampaignError otherwise (a date must exist for it)."""
    if not supported_year(year):
        raise CampaignError(f"Année de campagne invalide : {year!r} (attendu entre {MIN_YEAR} et {MAX_YEAR}).")
    return year


def checked_dataset_choices(*, year: int, datasets: dict[int, Dataset | None] | None = None) -> dict[int, Dataset]:
    """The dataset of each year campaign `year` needs: the one given in `datasets` (year -> Dataset), else
    the latest valid file of that year (a year without any valid file is left out: chosen at launch).
    CampaignError when a given dataset is not a valid national file of its year, or of a year not needed."""
    needed = dataset_years_needed(year=year)
    given = {y: dataset for y, dataset in (datasets or {}).items() if dataset is not None}
    problems = []
    for chosen_year, dataset in sorted(given.items()):
        if chosen_year not in needed:
            years = ", ".join(str(y) for y in needed)
            problems.append(
                f"La campagne {year} n'utilise pas de fichier national de {chosen_year} (années utilisées : {years})."
            )
        elif (dataset.year, dataset.status, dataset.kind) != (
            chosen_year,
            Dataset.Status.VALID,
            Dataset.Kind.BENEFICIARIES,
        ):
            problems.append(f"Le jeu de données n° {dataset.pk} n'est pas un fichier national validé de {chosen_year}.")
    if problems:
        raise CampaignError(problems)
    defaults = default_datasets(years=[y for y in needed if y not in given])
    return dict(sorted({**defaults, **given}.items()))


def _record_dataset_choices(*, campaign: Campaign, datasets: dict[int, Dataset], user) -> None:
    """Store `datasets` (year -> Dataset) as the campaign's choice: rows of other years are removed, a row
    already naming the same dataset is kept as it is (who chose it, and when)."""
    current = chosen_datasets(campaign=campaign)
    stale = [row.pk for y, row in current.items() if y not in datasets or row.dataset_id != datasets[y].pk]
    CampaignDataset.objects.filter(pk__in=stale).delete()
    now = timezone.now()
    CampaignDataset.objects.bulk_create(
        CampaignDataset(
            campaign=campaign,
            dataset=dataset,
            year=y,
            sha256=dataset.sha256,
            chosen_by=actor_user(user),
            chosen_at=now,
        )
        for y, dataset in sorted(datasets.items())
        if y not in current or current[y].pk in stale
    )


def create_campaign(
    *, year: int, user, parameters: dict | None = None, datasets: dict[int, Dataset | None] | None = None
) -> Campaign:
    """A new campaign for `year` in draft, with the dataset of each year it needs: those of `datasets`
    (year -> Dataset), the latest valid file of the other years. A later upload never changes them.

    When a campaign of that year is in force (published or paid), the new one is its next version,
    supersedes it (once published) and starts from its parameters. Refused while another campaign of
    the year is being prepared.
    """
    _require(user, "calculations.add_campaign", "créer une campagne")
    check_year(year)
    choices = checked_dataset_choices(year=year, datasets=datasets)
    with audit_context(user), transaction.atomic():
        existing = list(Campaign.objects.select_for_update().filter(year=year).order_by("-version"))
        open_ones = [c for c in existing if c.status in Campaign.OPEN_STATUSES]
        if open_ones:
            current = open_ones[0]
            raise CampaignError(
                f"La campagne {year} v{current.version} est en cours ({current.get_status_display()}) : "
                "modifiez-la ou relancez-la plutôt que d'en créer une autre."
            )
        in_force = next((c for c in existing if c.status in Campaign.IN_FORCE_STATUSES), None)
        layers = [(PREVIOUS_VERSION_SOURCE, in_force.parameters)] if in_force else []
        merged = merge_parameters(*layers, (PARAMETERS_SOURCE, parameters or {}))
        try:
            with transaction.atomic():
                created = Campaign.objects.create(
                    year=year,
                    version=(existing[0].version + 1) if existing else 1,
                    parameters=merged.to_json_dict(),
                    supersedes=in_force,
                    created_by=actor_user(user),
                    contestation_days=settings.IPEP_CONTESTATION_DAYS,
                )
        except IntegrityError:
            # Another creation for the same year committed first (the partial unique index caught it).
            raise CampaignError(f"Une autre campagne {year} vient d'être créée : rechargez la page.") from None
        _record_dataset_choices(campaign=created, datasets=choices, user=user)
        return created


def choose_campaign_datasets(*, campaign: Campaign, user, datasets: dict[int, Dataset | None]) -> Campaign:
    """Change the datasets of a draft (or failed) campaign: `datasets` (year -> Dataset, None for the latest
    valid file of the year) for every year it needs; refused once the campaign has been launched."""
    _require(user, "calculations.change_campaign", "modifier une campagne")
    with audit_context(user), transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if not locked.parameters_editable:
            raise CampaignError(
                f"Les jeux de données de la campagne {locked.year} v{locked.version} ne sont plus modifiables "
                f"(« {locked.get_status_display()} »)."
            )
        _record_dataset_choices(
            campaign=locked, datasets=checked_dataset_choices(year=locked.year, datasets=datasets), user=user
        )
        return locked


def update_campaign_parameters(*, campaign: Campaign, user, parameters: dict) -> Campaign:
    """Replace the parameters of a draft (or failed) campaign: `parameters` merged over the defaults."""
    _require(user, "calculations.change_campaign", "modifier une campagne")
    merged = merge_parameters((PARAMETERS_SOURCE, parameters or {}))
    with audit_context(user), transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if not locked.parameters_editable:
            raise CampaignError(
                f"Les paramètres de la campagne {locked.year} v{locked.version} ne sont plus modifiables "
                f"(« {locked.get_status_display()} »)."
            )
        locked.parameters = merged.to_json_dict()
        locked.save(update_fields=["parameters"])
        return locked


# --- launch: inputs checked before anything is computed ---------------------------------------


def check_campaign_inputs(*, campaign: Campaign) -> tuple[dict, dict[int, object]]:
    """The reference snapshot and the dataset of each year needed; CampaignError lists every problem.

    Checked here so that a bad input is refused at launch, before any computing: parameters, at least
    one participating groupement, every socle indicator and its deciles for each of them, active
    members, and a valid national file (with its Parquet) for N and each reference year.
    """
    problems: list[str] = []
    try:
        merge_parameters((PARAMETERS_SOURCE, campaign.parameters))
    except CampaignError as error:
        problems.extend(error.messages)
    year = campaign.year
    snapshot = selectors.reference_snapshot(year=year)

    def problem(file, column, reason):
        problems.append(str(Problem(file, None, column, reason)))

    groupements = [g["code"] for g in snapshot["groupements"]]
    if not groupements:
        problem(
            "calendrier_phases.csv",
            "annee",
            f"aucun groupement ne participe à la campagne {year} (aucune vague n'a de ligne pour {year})",
        )
    socle = [i["code"] for i in snapshot["indicators"] if i["family"] == "socle"]
    if not socle:
        problem("indicateurs.csv", "famille", "aucun indicateur socle n'est défini")
    problems.extend(str(p) for p in _missing_reference_rows(snapshot, groupements=groupements, socle=socle))

    datasets = {}
    chosen = chosen_datasets(campaign=campaign)
    for needed in selectors.snapshot_inputs(snapshot).years_needed() if groupements else []:
        # The file chosen for the year; the latest valid one if none was chosen (none existed at creation).
        dataset = chosen[needed].dataset if needed in chosen else valid_dataset_for_year(year=needed)
        if dataset is None:
            problem(
                f"beneficiaires_{needed}.csv",
                None,
                f"aucun fichier national validé pour {needed} (nécessaire à la campagne {year})",
            )
        elif not parquet_exists(dataset):
            problem(
                f"beneficiaires_{needed}.csv",
                None,
                f"le fichier Parquet du jeu de données {dataset.pk} est introuvable",
            )
        else:
            datasets[needed] = dataset
    if problems:
        raise CampaignError(problems)
    return snapshot, datasets


def _listed(codes, limit: int = 10) -> str:
    """`G001, G002, G003` — the first `limit` codes, then how many more."""
    codes = sorted(codes)
    shown = ", ".join(codes[:limit])
    return f"{shown} … et {len(codes) - limit} autres" if len(codes) > limit else shown


def _groupements(count: int) -> str:
    return f"{count} groupement{'s' if count > 1 else ''}"


def _missing_reference_rows(snapshot: dict, *, groupements: list[str], socle: list[str]) -> list[Problem]:
    """What the reference tables lack for the campaign, one problem per missing file or table (never one
    per groupement × indicator): indicator results, deciles, members at 31/12 of N."""
    year = snapshot["year"]
    problems = []
    results_file = f"resultats_indicateurs_{year}.csv"
    present = {(r["groupement"], r["indicator"]) for r in snapshot["indicator_results"]}
    if groupements and socle and not present:
        problems.append(
            Problem(
                results_file,
                None,
                None,
                f"aucun résultat d'indicateur chargé pour {year} ({_groupements(len(groupements))} participants)",
            )
        )
    elif groupements and socle:
        missing: dict[str, list[str]] = {}
        for indicator in socle:
            absent = [code for code in groupements if (code, indicator) not in present]
            if absent:
                missing[indicator] = absent
        if missing:
            lacking = {code for codes in missing.values() for code in codes}
            detail = " ; ".join(f"{indicator} ({_listed(codes)})" for indicator, codes in missing.items())
            problems.append(
                Problem(
                    results_file,
                    None,
                    "code_indicateur",
                    f"indicateurs socle manquants pour {_groupements(len(lacking))} : {detail}",
                )
            )
    deciles_file = f"deciles_{year}.csv"
    with_deciles = {d["indicator"] for d in snapshot["deciles"]}
    # The deciles of every indicator with results; of every socle indicator when no result is loaded yet.
    used = {r["indicator"] for r in snapshot["indicator_results"]} or (set(socle) if groupements else set())
    if used and not with_deciles:
        problems.append(Problem(deciles_file, None, None, f"aucun décile chargé pour {year}"))
    elif used - with_deciles:
        problems.append(
            Problem(
                deciles_file,
                None,
                "code_indicateur",
                f"pas de déciles {year} pour les indicateurs {_listed(used - with_deciles)}",
            )
        )
    end_of_year = date(year, 12, 31).isoformat()
    active = {
        m["groupement"]
        for m in snapshot["members"]
        if m["start"] <= end_of_year and (m["end"] is None or m["end"] >= end_of_year)
    }
    without_members = [code for code in groupements if code not in active]
    if without_members:
        problems.append(
            Problem(
                "membres.csv",
                None,
                "code_groupement",
                f"aucun membre au 31/12/{year} pour {_groupements(len(without_members))} : {_listed(without_members)}",
            )
        )
    return problems


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


# --- the computation (Celery task body) -------------------------------------------------------


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


# --- review, publication, payment --------------------------------------------------------------


def reject_campaign(*, campaign: Campaign, user, reason: str) -> Campaign:
    """computed → draft, with a mandatory reason; the results stay visible until the next launch replaces them."""
    with audit_context(user), transaction.atomic():
        return apply_transition(
            campaign=campaign, name="reject", actor=user, reason=reason, validated_by=None, validated_at=None
        )


def validate_campaign(*, campaign: Campaign, user, reason: str = "") -> Campaign:
    """computed → validated, by someone other than the launcher (four eyes); final statements follow."""
    with audit_context(user), transaction.atomic():
        locked = apply_transition(
            campaign=campaign,
            name="validate",
            actor=user,
            reason=reason,
            validated_by=actor_user(user),
            validated_at=timezone.now(),
        )
        return locked


def publish_campaign(*, campaign: Campaign, user, reason: str = "") -> Campaign:
    """validated → published; the version it corrects becomes superseded in the same transaction."""
    with audit_context(user), transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        error = refusal(TRANSITIONS_BY_NAME["publish"], campaign=locked, actor=user, reason=reason)
        if error is not None:
            raise error
        previous = (
            Campaign.objects.select_for_update()
            .filter(pk=locked.supersedes_id, status__in=Campaign.IN_FORCE_STATUSES)
            .first()
        )
        if previous is not None:
            # The groupements are told why their statement changed (reports: the publication e-mail).
            if not (reason or "").strip():
                raise CampaignError(
                    f"« Publier » une correction : indiquez le motif de la correction de la version "
                    f"{previous.version} (il est envoyé aux groupements)."
                )
            # First, so that the year never has two campaigns in force (partial unique index).
            apply_transition(
                campaign=previous,
                name="supersede",
                actor=user,
                reason=f"Remplacée par la version {locked.version} : {reason.strip()}",
            )
        locked = apply_transition(
            campaign=locked, name="publish", actor=user, reason=reason, published_at=timezone.now()
        )
        return locked


def pay_campaign(*, campaign: Campaign, user, reason: str = "") -> Campaign:
    """published → paid; the financing app writes the intéressement ledger lines in the same transaction
    (it reacts to `campaign_transitioned`: its refusal undoes the payment)."""
    with audit_context(user), transaction.atomic():
        return apply_transition(campaign=campaign, name="pay", actor=user, reason=reason, paid_at=timezone.now())


# Target status → service, for the admin buttons and `transition_campaign --to`.
SERVICES_BY_TARGET = {
    Status.COMPUTING: lambda *, campaign, user, reason="": launch_campaign(campaign=campaign, user=user),
    Status.DRAFT: reject_campaign,
    Status.VALIDATED: validate_campaign,
    Status.PUBLISHED: publish_campaign,
    Status.PAID: pay_campaign,
}


def transition_campaign(*, campaign: Campaign, to: str, user, reason: str = "") -> Campaign:
    """Apply the user transition that leads `campaign` to status `to`."""
    service = SERVICES_BY_TARGET.get(to)
    if service is None:
        targets = ", ".join(SERVICES_BY_TARGET)
        raise CampaignError(f"Statut cible {to!r} impossible à demander (possibles : {targets}).")
    return service(campaign=campaign, user=user, reason=reason)
