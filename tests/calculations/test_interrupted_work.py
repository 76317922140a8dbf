"""Interrupted work ends `failed` within two minutes and can be relaunched (issue 16, item 6), on
PostgreSQL: a worker process killed with kill -9 (a real `celery -A ipep_site worker` started here, on a
redis-server of the test's own), and a database connection dropped under the task
(`pg_terminate_backend` of the task's own connection).

The two-minute bound is IPEP_CAMPAIGN_STALE_AFTER_SECONDS / IPEP_DATASET_STALE_AFTER_SECONDS (90 s) plus
the periodic check (20 s), with a sign of life every IPEP_HEARTBEAT_SECONDS (15 s): the tests shrink
them to seconds. Before, a computation gave a sign of life only between engine steps, the stale limit
was 3 h, a validation could be failed only after the task time limit (3 h) and an error handler wrote
through the dead connection, leaving the work « En calcul » / « En validation ».
"""

import os
import shutil
import signal
import time

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError, connection, transaction

from calculations.models import Campaign, Dataset
from calculations.selectors.campaigns import campaign_results_json
from calculations.services import campaigns as campaign_services
from calculations.services import datasets as dataset_services
from calculations.services.dataset_files import upload_exists
from groupements import roles
from tests.calculations.campaign_factories import (
    exact_cents_differences,
    expected_golden,
    golden_parameters,
    store_golden_datasets,
)
from tests.conftest import GOLDEN_DIR
from tests.workers import Worker, wait_for, worker_environment

Status = Campaign.Status
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not settings.USES_POSTGRES, reason="needs PostgreSQL: set DATABASE_URL"),
]
needs_redis_server = pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")
# What the worker processes started here use: a sign of life every half second, stale after three.
FAST_LIVENESS = {
    "IPEP_HEARTBEAT_SECONDS": 0.5,
    "IPEP_CAMPAIGN_STALE_AFTER_SECONDS": 3,
    "IPEP_DATASET_STALE_AFTER_SECONDS": 3,
}


@pytest.fixture
def fast_liveness(settings):
    for name, value in FAST_LIVENESS.items():
        setattr(settings, name, value)


@pytest.fixture
def golden_campaign(transactional_db, media_root, make_user):
    from calculations.services.reference import load_reference_bundle

    load_reference_bundle(directory=GOLDEN_DIR)
    store_golden_datasets()
    calculator = make_user(role=roles.CALCULATOR)
    return campaign_services.create_campaign(year=2022, user=calculator, parameters=golden_parameters()), calculator


def start_worker(tmp_path, media_root, own_redis, name="worker") -> Worker:
    worker = Worker(
        environment=worker_environment(media_root=media_root, broker_url=own_redis.url, **FAST_LIVENESS),
        log_path=tmp_path / f"{name}.log",
    )
    worker.wait_ready()
    return worker


def kill_the_pool(worker: Worker) -> None:
    """kill -9 of the worker's pool processes (where tasks run), as the kernel's OOM killer would."""
    for pid in worker.pool_pids():
        os.kill(pid, signal.SIGKILL)


def terminate_own_connection() -> None:
    """The database drops this thread's connection (as a restarted server or a network cut would); the
    task goes on and meets the dead connection at its next query."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")
    except OperationalError:
        pass


# --- campaigns ---------------------------------------------------------------------------------------


@needs_redis_server
def test_a_computation_whose_worker_process_is_killed_fails_within_the_stale_limit_then_relaunches_to_the_same_cents(
    golden_campaign, fast_liveness, own_redis, broker_client, media_root, tmp_path, monkeypatch
):
    campaign, calculator = golden_campaign
    queued = []
    monkeypatch.setattr(campaign_services.computation, "_enqueue_computation", lambda *args: queued.append(args))
    campaign_services.launch_campaign(campaign=campaign, user=calculator)
    [(campaign_id, token)] = queued
    worker = start_worker(tmp_path, media_root, own_redis)
    try:
        broker_client.send_task("calculations.compute_campaign", args=[campaign_id, token])
        wait_for(
            lambda: Campaign.objects.get(pk=campaign_id).progress_step != "en attente d'un worker",
            seconds=60,
            message=lambda: "never computed:\n" + worker.log_text()[-3000:],
        )
        with transaction.atomic():  # the computation blocks at its next step, where it is killed
            Campaign.objects.select_for_update().get(pk=campaign_id)
            kill_the_pool(worker)
        killed_at = time.monotonic()

        # The periodic check, sent as beat sends it, run by the worker (its pool restarted).
        def checked_and_failed():
            broker_client.send_task("calculations.fail_stale_campaigns")
            return Campaign.objects.get(pk=campaign_id).status == Status.FAILED

        wait_for(checked_and_failed, seconds=60, poll=1, message=lambda: "never failed:\n" + worker.log_text()[-3000:])
        detected_after = time.monotonic() - killed_at
    finally:
        worker.stop()

    failed = Campaign.objects.get(pk=campaign_id)
    assert failed.status == Status.FAILED
    assert failed.error.startswith("Calcul interrompu : aucun signe de vie de la tâche depuis le "), failed.error
    assert "relancez le calcul" in failed.error
    assert 3 <= detected_after < 3 + 30, detected_after  # the stale limit, plus a worker restarting its pool
    relaunched = campaign_services.launch_campaign(campaign=failed, user=calculator)
    [_, (_, new_token)] = queued
    campaign_services.run_campaign_computation(campaign_id=campaign_id, token=new_token)  # the new task, run here
    relaunched.refresh_from_db()
    assert relaunched.status == Status.COMPUTED
    assert exact_cents_differences(expected_golden(), campaign_results_json(campaign=relaunched))[0] == []
    assert [t.to_status for t in relaunched.transitions.all()] == ["computing", "failed", "computing", "computed"]


def test_a_live_computation_in_a_long_step_is_never_taken_for_dead(golden_campaign, fast_liveness, monkeypatch):
    """The sign of life comes from a thread: a step longer than the stale limit is not a dead worker."""
    from calculations.engine import compute as engine_compute

    compute_campaign = engine_compute.compute_campaign

    campaign, calculator = golden_campaign
    checks = []

    def slow_engine(inputs, parameters, progress):
        deadline = time.monotonic() + settings.IPEP_CAMPAIGN_STALE_AFTER_SECONDS * 2
        while time.monotonic() < deadline:  # one long Polars step: no progress call for 6 s
            time.sleep(0.5)
            checks.append(campaign_services.fail_stale_campaigns())
        return compute_campaign(inputs, parameters, progress=progress)

    monkeypatch.setattr(engine_compute, "compute_campaign", slow_engine)
    campaign_services.launch_campaign(campaign=campaign, user=calculator)

    campaign.refresh_from_db()
    assert campaign.status == Status.COMPUTED, campaign.error
    assert checks and all(found == [] for found in checks)


def test_a_computation_whose_database_connection_drops_ends_failed_and_relaunches(golden_campaign, monkeypatch):
    from calculations.engine import compute as engine_compute

    compute_campaign = engine_compute.compute_campaign

    campaign, calculator = golden_campaign
    drops = []

    def engine_losing_its_connection(inputs, parameters, progress):
        if not drops:
            drops.append(True)
            terminate_own_connection()
        return compute_campaign(inputs, parameters, progress=progress)

    monkeypatch.setattr(engine_compute, "compute_campaign", engine_losing_its_connection)
    campaign_services.launch_campaign(campaign=campaign, user=calculator)  # eager: computed on commit

    campaign.refresh_from_db()
    assert campaign.status == Status.FAILED
    assert "Erreur interne" in campaign.error and "connection" in campaign.error.lower(), campaign.error
    relaunched = campaign_services.launch_campaign(campaign=campaign, user=calculator)
    relaunched.refresh_from_db()
    assert relaunched.status == Status.COMPUTED
    assert exact_cents_differences(expected_golden(), campaign_results_json(campaign=relaunched))[0] == []


# --- dataset validations -----------------------------------------------------------------------------


def golden_upload(year=2022):
    return SimpleUploadedFile(f"beneficiaires_{year}.csv", (GOLDEN_DIR / f"beneficiaires_{year}.csv").read_bytes())


@needs_redis_server
@pytest.mark.django_db(transaction=True)
def test_a_validation_whose_worker_is_killed_ends_failed_at_the_next_worker_start_and_relaunches(
    fast_liveness, own_redis, broker_client, media_root, tmp_path, make_user, monkeypatch
):
    manager = make_user(role=roles.DATA_MANAGER)
    queued = []
    monkeypatch.setattr(dataset_services, "_enqueue_validation", lambda dataset_id: queued.append(dataset_id))
    dataset = dataset_services.start_dataset_upload(uploaded_file=golden_upload(), year=2022, user=manager)
    worker = start_worker(tmp_path, media_root, own_redis)
    try:
        broker_client.send_task("calculations.validate_dataset", args=queued)
        wait_for(
            lambda: Dataset.objects.get(pk=dataset.pk).status == Dataset.Status.VALIDATING,
            seconds=60,
            poll=0.01,
            message=lambda: "never validated:\n" + worker.log_text()[-3000:],
        )
        with transaction.atomic():  # its next progress write blocks, where it is killed
            Dataset.objects.select_for_update().get(pk=dataset.pk)
            kill_the_pool(worker)
    finally:
        worker.stop()
    dataset.refresh_from_db()
    assert dataset.status == Dataset.Status.VALIDATING  # what the dead worker left
    time.sleep(settings.IPEP_DATASET_STALE_AFTER_SECONDS)

    worker = start_worker(tmp_path, media_root, own_redis, name="next-worker")  # its start fails it
    worker.stop()

    dataset.refresh_from_db()
    assert dataset.status == Dataset.Status.FAILED
    assert dataset.get_status_display() == "Échec"
    [problem] = dataset.problems
    assert problem["reason"].startswith("Validation interrompue : aucun signe de vie du worker depuis le ")
    assert upload_exists(dataset), "the raw upload is kept until the validation ends"
    dataset_services.relaunch_dataset_validation(dataset=dataset, user=manager)
    dataset.refresh_from_db()
    assert dataset.status == Dataset.Status.UPLOADED and queued == [dataset.pk, dataset.pk]
    dataset_services.validate_uploaded_dataset(dataset_id=dataset.pk)  # the relaunched task, run here
    dataset.refresh_from_db()
    assert dataset.status == Dataset.Status.VALID and dataset.row_count == 25_000
    assert not upload_exists(dataset) and not any((media_root / "uploads").iterdir())


@pytest.mark.django_db(transaction=True)
def test_a_validation_whose_database_connection_drops_ends_failed_keeps_the_upload_and_relaunches(
    media_root, make_user, monkeypatch
):
    manager = make_user(role=roles.DATA_MANAGER)
    real_validate = dataset_services._validate
    drops = []

    def validate_losing_the_connection(source, **kwargs):
        if not drops:
            drops.append(True)
            terminate_own_connection()
        return real_validate(source, **kwargs)

    monkeypatch.setattr(dataset_services, "_validate", validate_losing_the_connection)
    dataset = dataset_services.start_dataset_upload(uploaded_file=golden_upload(2018), year=2018, user=manager)

    dataset.refresh_from_db()  # validated (eagerly) after the commit, the connection dropped meanwhile
    assert drops and dataset.status == Dataset.Status.FAILED
    assert "erreur interne pendant la validation" in dataset.problems[0]["reason"].lower()
    assert upload_exists(dataset)
    dataset_services.relaunch_dataset_validation(dataset=dataset, user=manager)
    dataset.refresh_from_db()
    assert dataset.status == Dataset.Status.VALID and dataset.row_count == 25_000
    assert not upload_exists(dataset)


@pytest.mark.django_db(transaction=True)
def test_the_data_manager_deletes_a_failed_or_rejected_dataset_audited(media_root, make_user):
    from pghistory.models import Events

    manager = make_user(role=roles.DATA_MANAGER)
    failed = Dataset.objects.create(year=2022, original_name="a.csv", sha256="a" * 64, status=Dataset.Status.FAILED)
    rejected = Dataset.objects.create(year=2022, original_name="b.csv", sha256="b" * 64, status=Dataset.Status.REJECTED)
    for role in (roles.READER, roles.CALCULATOR, roles.VALIDATOR):
        with pytest.raises(dataset_services.DatasetPermissionDenied):
            dataset_services.delete_dataset(dataset=failed, user=make_user(role=role))

    for dataset in (failed, rejected):
        dataset_services.delete_dataset(dataset=dataset, user=manager)

    assert not Dataset.objects.exists()
    for dataset in (failed, rejected):
        [deletion] = Events.objects.tracks(dataset).filter(pgh_label="delete")
        assert deletion.pgh_data["original_name"] == dataset.original_name
        assert deletion.pgh_context["user"] == manager.pk
