"""Business actions on the yearly national files: upload (streamed to the project's storage),
validation (Celery task body or synchronous for the command line), storage as immutable Parquet, deletion.

Lifecycle: `uploaded` (bytes stored, task queued) → `validating` → `valid` (Parquet stored, see
`dataset_files`) or `rejected` (nothing stored but the problems). The same bytes uploaded again return
the existing dataset and write nothing. A valid dataset is never changed, and one a campaign uses is
never deleted (model invariants, PROTECT on CampaignDataset, and checks here). The validation works on
local temporary files (removed on success and failure); stored files go through `common.storage`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone

from calculations.bundle.csvformat import MAX_YEAR, MIN_YEAR
from calculations.bundle.problems import DEFAULT_LIMIT, BundleError, Problem
from calculations.models import Dataset
from calculations.selectors import datasets as selectors
from common.errors import ActionRefused, PermissionRefused, require_permission
from common.liveness import Heartbeat, with_fresh_connection
from common.storage import CHUNK_SIZE, delete_stored, local_path, project_storage, scratch_directory

if TYPE_CHECKING:
    from calculations.bundle.beneficiaries import ByteFacts, ValidatedFile
    from calculations.bundle.beneficiaries.progress import ProgressCallback

from .dataset_files import StoredParquet, store_parquet, upload_exists, upload_name
from .transitions import SystemActor, audit_context

logger = logging.getLogger(__name__)
Status = Dataset.Status

UPLOAD_PERMISSION = "calculations.upload_dataset"
VALIDATION_CHECK = SystemActor("détection des validations interrompues")
DELETE_PERMISSION = "calculations.delete_dataset"
COPY_CHUNK_SIZE = CHUNK_SIZE  # what the web process holds of an upload at any time
# Share of the progress bar spent hashing the bytes when that comes before the validation proper.
HASH_SHARE = 0.15


class DatasetError(ActionRefused):
    """A dataset action was refused; `messages` gives every reason, in French, ready to show."""


class DatasetPermissionDenied(DatasetError, PermissionRefused):
    """The user lacks the role permission for this action."""


def _require(user, permission: str, action: str) -> None:
    require_permission(user, permission, action, refusal=DatasetPermissionDenied)


def supported_year(year) -> bool:
    return isinstance(year, int) and not isinstance(year, bool) and MIN_YEAR <= year <= MAX_YEAR


def _check_year(year) -> int:
    if not supported_year(year):
        raise DatasetError(f"Année invalide : {year!r} (attendu entre {MIN_YEAR} et {MAX_YEAR}).")
    return year


def _existing(*, sha256: str, year: int, kind: str = Dataset.Kind.BENEFICIARIES) -> Dataset | None:
    """The dataset with these bytes, if any; the same bytes declared for another year are refused."""
    existing = selectors.dataset_by_content(sha256=sha256, kind=kind)
    if existing is not None and existing.year != year:
        raise DatasetError(
            f"Ce fichier (SHA-256 {sha256[:12]}…) a déjà été déposé pour l'année {existing.year} "
            f"(jeu de données n° {existing.pk}, « {existing.original_name} »)."
        )
    return existing


# --- progress -------------------------------------------------------------------------------------


class _ProgressWriter:
    """Writes the fraction and the step on the dataset row (read by the admin's status endpoint), at
    most every `interval` seconds (the validation calls it from the task's thread)."""

    def __init__(self, dataset_id: int, interval: float = 0.5):
        self.dataset_id, self.interval = dataset_id, interval
        self.last = 0.0

    def __call__(self, fraction: float, step: str) -> None:
        now = time.monotonic()
        if now - self.last >= self.interval or fraction >= 1.0:
            self.last = now
            Dataset.objects.filter(pk=self.dataset_id, status=Status.VALIDATING).update(
                progress=max(0.0, min(1.0, fraction)), progress_step=step[:100]
            )


# --- synchronous ingestion (command line, scripts) ------------------------------------------------


def ingest_dataset(
    *, path, year: int, user=None, original_name: str | None = None, progress: ProgressCallback | None = None
) -> Dataset:
    """Hash, deduplicate, validate and store a beneficiaries CSV, synchronously; returns the dataset,
    valid or rejected (or the existing one when these bytes were already ingested for `year`).

    The hash runs beside the validation (one pass less over the file), so the dataset row is written
    once the outcome is known. When a dataset of the same size exists, the file is probably the same
    one again: it is then hashed first, and an identical file returns at once without validation.
    `user` None means a trusted script (the `ingest_file` command); a user needs the upload permission.
    """
    if user is not None:
        _require(user, UPLOAD_PERMISSION, "déposer un fichier national")
    _check_year(year)
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"Fichier introuvable : {path}")
    name = Path(original_name or path.name).name[:255]
    facts = None
    if Dataset.objects.filter(kind=Dataset.Kind.BENEFICIARIES, size=path.stat().st_size).exists():
        from calculations.bundle.beneficiaries import scan_bytes  # Polars: loaded by an ingestion only

        facts = scan_bytes(path, progress=(lambda f, step: progress(HASH_SHARE * f, step)) if progress else None)
        existing = _existing(sha256=facts.sha256, year=year)
        if existing is not None:
            return existing
    with scratch_directory() as scratch:
        validated, error = _validate(
            path,
            name=name,
            year=year,
            byte_facts=facts,
            progress=_after_hash(progress) if facts else progress,
            output=scratch / "rows.parquet",
        )
        sha256 = (validated or error).facts.sha256
        existing = _existing(sha256=sha256, year=year)  # these bytes for another year: refused, nothing kept
        if existing is not None:
            return existing
        stored = _store(validated, year=year, sha256=sha256)
    try:
        with transaction.atomic():
            dataset = Dataset.objects.create(
                kind=Dataset.Kind.BENEFICIARIES,
                year=year,
                original_name=name,
                size=path.stat().st_size,
                sha256=sha256,
                status=Status.VALIDATING,
                uploaded_by=user,
                validation_started_at=timezone.now(),
            )
            return _record(dataset, validated, error, stored)
    except IntegrityError:  # the same bytes ingested concurrently: theirs is kept
        existing = _existing(sha256=sha256, year=year)
        if stored is not None and existing.parquet_file.name != stored.name:
            stored.discard()
        return existing
    except BaseException:
        if stored is not None:
            stored.discard()
        raise


def _after_hash(progress: ProgressCallback | None) -> ProgressCallback | None:
    if progress is None:
        return None
    return lambda fraction, step: progress(HASH_SHARE + (1 - HASH_SHARE) * fraction, step)


def _validate(
    source: Path,
    *,
    name: str,
    year: int,
    byte_facts: ByteFacts | None,
    progress: ProgressCallback | None,
    output: Path,
):
    """(validated file, None) or (None, the BundleError with the problems); a crash is a DatasetError.

    The typed Parquet is written to `output`, a local temporary file: `_store` publishes it."""
    try:
        from calculations.bundle.beneficiaries import validate_beneficiaries  # Polars: by an ingestion only

        validated = validate_beneficiaries(
            source, display_name=name, output=output, progress=progress, byte_facts=byte_facts
        )
    except BundleError as error:
        return None, error
    except Exception as exc:
        logger.exception("validation of %s crashed", source)
        raise DatasetError(f"Erreur interne pendant la validation de {name} : {exc}") from exc
    return validated, None


def _store(validated: ValidatedFile | None, *, year: int, sha256: str) -> StoredParquet | None:
    if validated is None:
        return None
    return store_parquet(validated.parquet_path, kind=Dataset.Kind.BENEFICIARIES, year=year, source_sha256=sha256)


def _record(
    dataset: Dataset, validated: ValidatedFile | None, error: BundleError | None, stored: StoredParquet | None
) -> Dataset:
    """Stores the outcome of the validation on the dataset: valid (with its Parquet) or rejected."""
    if error is not None:
        return _reject(dataset, problems=error.problems, more=error.more, warnings=error.warnings)
    dataset.status = Status.VALID
    dataset.upload_file = ""
    dataset.parquet_file, dataset.parquet_sha256 = stored.name, stored.sha256
    dataset.row_count = validated.rows
    dataset.profile = {**validated.profile, "encoding": validated.facts.encoding, "delimiter": validated.delimiter}
    dataset.warnings = [str(w) for w in validated.warnings]
    dataset.problems, dataset.problem_count, dataset.problem_counts = [], 0, {}
    dataset.progress, dataset.progress_step = 1.0, "terminé"
    dataset.validated_at = timezone.now()
    dataset.save()
    return dataset


def _reject_internal(dataset: Dataset, reason: str) -> Dataset:
    return _reject(
        dataset, problems=[Problem(dataset.original_name, None, None, reason, "internal")], more=Counter(), warnings=[]
    )


def _reject(dataset: Dataset, *, problems: list[Problem], more: Counter, warnings: list[Problem]) -> Dataset:
    """Records the first problems one by one and every problem in the counts per rule."""
    counts = Counter(p.rule for p in problems) + Counter(more)
    dataset.status = Status.REJECTED
    dataset.problems = [dataclasses.asdict(p) for p in problems[:DEFAULT_LIMIT]]
    dataset.problem_count = sum(counts.values())
    dataset.problem_counts = dict(counts.most_common())
    dataset.warnings = [str(w) for w in warnings]
    dataset.parquet_file, dataset.parquet_sha256, dataset.upload_file = "", "", ""
    dataset.row_count, dataset.profile = None, {}
    dataset.progress, dataset.progress_step = 1.0, "terminé"
    dataset.save()
    return dataset


# --- upload through the admin ---------------------------------------------------------------------


def _hash_upload(uploaded_file) -> tuple[str, int]:
    """SHA-256 and size of an upload, read chunk by chunk (a few MB in memory at most, whatever the size;
    Django keeps a large upload in a temporary file, removed at the end of the request)."""
    digest = hashlib.sha256()
    size = 0
    uploaded_file.seek(0)
    # Explicit sized reads: `chunks()` of an in-memory upload would return it whole.
    while chunk := uploaded_file.read(COPY_CHUNK_SIZE):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def start_dataset_upload(*, uploaded_file, year: int, user) -> Dataset:
    """Stores an uploaded beneficiaries file and queues its validation (Celery, after the commit).

    Returns the new dataset (`uploaded`), or the existing one when these bytes were already uploaded
    (then nothing is stored).
    """
    _require(user, UPLOAD_PERMISSION, "déposer un fichier national")
    _check_year(year)
    sha256, size = _hash_upload(uploaded_file)
    existing = _existing(sha256=sha256, year=year)
    if existing is not None:
        return existing
    name = upload_name(sha256)
    uploaded_file.seek(0)
    stored = project_storage().save(name, uploaded_file)
    try:
        with transaction.atomic():
            dataset = Dataset.objects.create(
                kind=Dataset.Kind.BENEFICIARIES,
                year=year,
                original_name=Path(uploaded_file.name or "beneficiaires.csv").name[:255],
                size=size,
                sha256=sha256,
                status=Status.UPLOADED,
                progress_step="en file d'attente",
                upload_file=stored,
                uploaded_by=user,
            )
    except IntegrityError:  # the same bytes uploaded concurrently: the other upload owns the (same) file
        return _existing(sha256=sha256, year=year)
    except BaseException:
        delete_stored(project_storage(), stored)
        raise
    transaction.on_commit(lambda: _enqueue_validation(dataset.pk))
    return dataset


def _enqueue_validation(dataset_id: int) -> None:
    from calculations.tasks.datasets import validate_dataset_task

    try:
        validate_dataset_task.apply_async(args=[dataset_id])
    except Exception as exc:  # the broker is unreachable: say so on the page, the upload stays relaunchable
        logger.exception("dataset %s: could not enqueue the validation", dataset_id)
        Dataset.objects.filter(pk=dataset_id, status=Status.UPLOADED).update(
            progress_step=f"mise en file impossible : {exc}"[:100]
        )


def validate_uploaded_dataset(*, dataset_id: int, task_id: str = "") -> Dataset | None:
    """Body of the Celery task: validates an `uploaded` dataset's bytes and stores the outcome.

    Idempotent: a redelivered message for a dataset no longer `uploaded` does nothing. The task writes
    a sign of life while it runs (`fail_stale_validations` fails it when that stops). The outcome is
    `valid` or `rejected` (the raw upload is then deleted), or `failed` when the validation itself
    broke (the upload is kept for a relaunch); a failure is written on a fresh database connection.
    """
    with transaction.atomic():
        dataset = Dataset.objects.select_for_update().filter(pk=dataset_id).first()
        if dataset is None or dataset.status != Status.UPLOADED:
            return dataset
        dataset.status = Status.VALIDATING
        dataset.validation_started_at = dataset.heartbeat_at = timezone.now()
        dataset.task_id = task_id[:100]
        dataset.progress, dataset.progress_step = 0.0, "empreinte SHA-256"
        dataset.save()
    source = dataset.upload_file.name
    try:
        with Heartbeat(lambda: _beat(dataset.pk, dataset.task_id)):
            outcome = _validate_upload(dataset, source)
    except DatasetError as error:  # a crash of the validation (already logged)
        return _fail_validation(dataset.pk, dataset.task_id, error.messages[0])
    except Exception as exc:  # the soft time limit, a lost database connection…: never left `validating`
        logger.exception("dataset %s: validation task failed", dataset.pk)
        return _fail_validation(dataset.pk, dataset.task_id, f"erreur interne pendant la validation : {exc}")
    if outcome.status in (Status.VALID, Status.REJECTED):
        # The validation ended: the Parquet (or the report) is what remains, not the raw bytes.
        delete_stored(project_storage(), source)
    return outcome


def _validate_upload(dataset: Dataset, source: str) -> Dataset:
    if not upload_exists(dataset):
        return _finish(dataset, lambda: _reject_internal(dataset, "le fichier déposé est introuvable sur le serveur"))
    stored = None
    with local_path(project_storage(), source) as local, scratch_directory() as scratch:
        validated, error = _validate(
            local,
            name=dataset.original_name,
            year=dataset.year,
            byte_facts=None,
            progress=_ProgressWriter(dataset.pk),
            output=scratch / "rows.parquet",
        )
        if (validated or error).facts.sha256 != dataset.sha256:
            reason = "le fichier déposé a changé depuis le dépôt (SHA-256 différent)"
            return _finish(dataset, lambda: _reject_internal(dataset, reason))
        stored = _store(validated, year=dataset.year, sha256=dataset.sha256)
    try:
        outcome = _finish(dataset, lambda: _record(dataset, validated, error, stored))
    except BaseException:
        if stored is not None:
            stored.discard()
        raise
    if outcome.status != Status.VALID and stored is not None:
        stored.discard()  # the validation was failed meanwhile (stale): its Parquet is not kept
    return outcome


def _finish(dataset: Dataset, record: Callable[[], Dataset]) -> Dataset:
    """`record()` the outcome, unless the dataset stopped being this task's (failed as stale, relaunched)."""
    with transaction.atomic():
        current = Dataset.objects.select_for_update().get(pk=dataset.pk)
        if current.status != Status.VALIDATING or current.task_id != dataset.task_id:
            logger.warning("dataset %s: validation outcome dropped, the dataset is %s", dataset.pk, current.status)
            return current
        return record()


def _beat(dataset_id: int, task_id: str) -> bool:
    return bool(
        Dataset.objects.filter(pk=dataset_id, status=Status.VALIDATING, task_id=task_id).update(
            heartbeat_at=timezone.now()
        )
    )


def _fail_validation(dataset_id: int, task_id: str | None, reason: str) -> Dataset | None:
    """`validating` → `failed` with `reason` (the raw upload kept); None when it was no longer this task's."""

    def write():
        with transaction.atomic():
            dataset = Dataset.objects.select_for_update().filter(pk=dataset_id).first()
            if dataset is None or dataset.status != Status.VALIDATING:
                return None
            if task_id is not None and dataset.task_id != task_id:
                return None
            problem = Problem(dataset.original_name, None, None, reason, "interrupted")
            dataset.status = Status.FAILED
            dataset.problems = [dataclasses.asdict(problem)]
            dataset.problem_count, dataset.problem_counts = 0, {}
            dataset.progress_step = "échec"
            dataset.save()
            return dataset

    return with_fresh_connection(write)


def fail_stale_validations(*, now=None) -> list[Dataset]:
    """Datasets `validating` whose task gave no sign of life for IPEP_DATASET_STALE_AFTER_SECONDS end
    `failed` (worker killed, machine lost), their upload kept for a relaunch. Called by the periodic
    task, when a worker starts, and before a relaunch or a deletion."""
    failed = []
    for dataset in selectors.stale_validations(now=now):
        last = dataset.heartbeat_at or dataset.validation_started_at or dataset.created_at
        reason = (
            f"Validation interrompue : aucun signe de vie du worker depuis le "
            f"{timezone.localtime(last).strftime('%d/%m/%Y %H:%M:%S')} (étape « {dataset.progress_step or '-'} »). "
            "Le fichier déposé est conservé : relancez la validation."
        )
        with audit_context(VALIDATION_CHECK):
            outcome = _fail_validation(dataset.pk, None, reason)
        if outcome is not None:
            failed.append(outcome)
    return failed


def relaunch_dataset_validation(*, dataset: Dataset, user) -> Dataset:
    """Queues again a dataset whose validation never ran or failed (its upload still stored)."""
    _require(user, UPLOAD_PERMISSION, "relancer une validation")
    fail_stale_validations()
    with audit_context(user), transaction.atomic():
        locked = Dataset.objects.select_for_update().get(pk=dataset.pk)
        if not locked.is_relaunchable or not upload_exists(locked):
            raise DatasetError(
                "Seul un dépôt en attente ou en échec (dont le fichier déposé est conservé) peut être relancé."
            )
        locked.status, locked.task_id = Status.UPLOADED, ""
        locked.progress, locked.progress_step = 0.0, "en file d'attente"
        locked.problems, locked.problem_count, locked.problem_counts = [], 0, {}
        locked.heartbeat_at = locked.validation_started_at = None
        locked.save()
        transaction.on_commit(lambda: _enqueue_validation(locked.pk))
    return locked


# --- deletion -------------------------------------------------------------------------------------


def delete_dataset(*, dataset: Dataset, user) -> None:
    """Deletes a dataset that no campaign uses, with its files (after the commit)."""
    _require(user, DELETE_PERMISSION, "supprimer un jeu de données")
    fail_stale_validations()
    with audit_context(user), transaction.atomic():
        # Locked: the validation task takes the same lock to start, so it either finds no row or is seen here.
        locked = Dataset.objects.select_for_update().filter(pk=dataset.pk).first()
        if locked is None:
            return
        if selectors.dataset_is_used(locked):
            raise DatasetError(
                f"Le jeu de données n° {locked.pk} est utilisé par une campagne : il ne peut pas être supprimé."
            )
        if locked.status == Status.VALIDATING:
            # The task would write its outcome on a deleted row, which recreates it (and its Parquet).
            raise DatasetError(
                f"Le jeu de données n° {locked.pk} est en cours de validation : attendez la fin pour le supprimer."
            )
        names = [name for name in (locked.upload_file.name, locked.parquet_file.name) if name]
        locked.delete()
        transaction.on_commit(lambda: [delete_stored(project_storage(), name) for name in names])
