"""The yearly lifecycle on the production stack: PostgreSQL (row locks) and a real Celery worker.

Skipped on the default SQLite / in-memory broker run; CI runs them (.ci/run.sh sets DATABASE_URL and
CELERY_BROKER_URL).
"""

import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from django.conf import settings
from django.db import connection, connections

from calculations.models import Campaign, CampaignTransition, GroupementResult
from calculations.selectors.campaigns import campaign_results_json
from calculations.services import campaigns as services
from calculations.services.transitions import TransitionNotAllowed
from groupements.roles import CALCULATOR, VALIDATOR
from ipep_site.celery import app
from tests.calculations.campaign_factories import (  # noqa: F401
    exact_cents_differences,
    expected_golden,
    golden_parameters,
    store_golden_datasets,
)
from tests.conftest import REPO

Status = Campaign.Status
needs_postgres = pytest.mark.skipif(not settings.USES_POSTGRES, reason="needs PostgreSQL (row locks): set DATABASE_URL")
needs_broker = pytest.mark.skipif(
    settings.CELERY_BROKER_URL.startswith("memory"), reason="needs a real broker: set CELERY_BROKER_URL"
)
WAIT_SECONDS = 90


@pytest.fixture
def hooks(monkeypatch):
    """The statements' fan-out (reports issue, tested there) is recorded here, in whichever thread commits."""
    from reports import services as reports

    calls = []
    monkeypatch.setattr(
        reports, "render_campaign_statements", lambda *, campaign: calls.append(("render", campaign.status))
    )
    monkeypatch.setattr(
        reports, "notify_statement_publication", lambda *, campaign: calls.append(("notify", campaign.status))
    )
    return calls


@pytest.fixture
def golden_draft(transactional_db, media_root, make_user):
    from calculations.services.reference import load_reference_bundle
    from tests.conftest import GOLDEN_DIR

    load_reference_bundle(directory=GOLDEN_DIR)
    store_golden_datasets()
    calculator = make_user(role=CALCULATOR)
    return services.create_campaign(year=2022, user=calculator, parameters=golden_parameters()), calculator


def wait_until_not_computing(campaign, seconds=WAIT_SECONDS):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        campaign.refresh_from_db()
        if campaign.status != Status.COMPUTING:
            return campaign
        time.sleep(0.1)
    raise AssertionError(f"{campaign} still computing after {seconds} s (step {campaign.progress_step!r})")


@pytest.mark.postgres
@pytest.mark.celery_worker
@needs_postgres
@needs_broker
@pytest.mark.django_db(transaction=True)
def test_full_lifecycle_with_a_real_worker_reproduces_the_golden_file_and_ends_paid(
    golden_draft, make_user, real_worker, hooks
):
    from financing.models import LedgerLine

    campaign, calculator = golden_draft
    validator = make_user(role=VALIDATOR)

    services.launch_campaign(campaign=campaign, user=calculator)  # commits, then the message goes to Redis
    campaign = wait_until_not_computing(campaign)

    assert campaign.status == Status.COMPUTED, campaign.error
    differences, compared = exact_cents_differences(expected_golden(), campaign_results_json(campaign=campaign))
    assert differences == [] and compared > 300
    services.validate_campaign(campaign=campaign, user=validator, reason="double contrôle fait")
    services.publish_campaign(campaign=campaign, user=validator)
    services.pay_campaign(campaign=campaign, user=validator)

    campaign.refresh_from_db()
    assert campaign.status == Status.PAID
    assert [t.to_status for t in campaign.transitions.all()] == [
        "computing",
        "computed",
        "validated",
        "published",
        "paid",
    ]
    assert hooks == [
        ("render", Status.COMPUTED),
        ("render", Status.VALIDATED),
        ("render", Status.PUBLISHED),  # drawn again with the contestation deadline
        ("notify", Status.PUBLISHED),
    ]
    lines = LedgerLine.objects.filter(campaign=campaign)
    assert lines.count() == 12
    assert sum(line.amount for line in lines) == campaign.final_amount  # 244 528,88 € paid, to the cent


def run_in_threads(count, target):
    """Start `count` threads on `target(index)` together; each closes its own database connection."""
    barrier, outcomes = threading.Barrier(count), [None] * count

    def body(index):
        try:
            barrier.wait()
            outcomes[index] = target(index)
        except Exception as error:
            outcomes[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=body, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT_SECONDS)
    return outcomes


@pytest.mark.postgres
@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_launches_produce_one_result_set(golden_draft, make_user, hooks):
    campaign, calculator = golden_draft
    other_calculator = make_user(role=CALCULATOR)
    users = [calculator, other_calculator, calculator, other_calculator]

    outcomes = run_in_threads(len(users), lambda i: services.launch_campaign(campaign=campaign, user=users[i]))

    launched = [o for o in outcomes if isinstance(o, Campaign)]
    refused = [o for o in outcomes if isinstance(o, TransitionNotAllowed)]
    assert (len(launched), len(refused)) == (1, len(users) - 1), outcomes
    campaign.refresh_from_db()
    assert campaign.status == Status.COMPUTED
    assert GroupementResult.objects.filter(campaign=campaign).count() == 12
    assert CampaignTransition.objects.filter(campaign=campaign, to_status="computing").count() == 1
    assert exact_cents_differences(expected_golden(), campaign_results_json(campaign=campaign))[0] == []


@pytest.mark.postgres
@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_task_delivered_twice_at_once_stores_one_result_set(golden_draft, monkeypatch, hooks):
    from calculations.tasks.campaigns import compute_campaign_task

    campaign, calculator = golden_draft
    messages = []
    monkeypatch.setattr(compute_campaign_task, "apply_async", lambda *args, **kwargs: messages.append(kwargs["args"]))
    services.launch_campaign(campaign=campaign, user=calculator)
    [(campaign_id, token)] = messages  # delivered twice, to two workers, at the same time:

    outcomes = run_in_threads(2, lambda i: services.run_campaign_computation(campaign_id=campaign_id, token=token))

    assert sorted(isinstance(o, Campaign) for o in outcomes) == [False, True], outcomes  # one stored, one found it done
    campaign.refresh_from_db()
    assert campaign.status == Status.COMPUTED
    assert GroupementResult.objects.filter(campaign=campaign).count() == 12
    assert CampaignTransition.objects.filter(campaign=campaign, to_status="computed").count() == 1


def worker_environment(media_root):
    db = connection.settings_dict
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    environment.update(
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
        CELERY_TASK_ALWAYS_EAGER="0",
        MEDIA_ROOT=str(media_root),
    )
    return environment


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.celery_worker
@needs_postgres
@needs_broker
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_computation_leaves_a_failed_campaign_that_relaunches_cleanly(
    golden_draft, media_root, settings, hooks
):
    campaign, calculator = golden_draft
    app.control.purge()
    celery = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "ipep_site",
        "worker",
        "--pool",
        "solo",
        "--concurrency",
        "1",
        "-l",
        "warning",
        "--without-heartbeat",
        "--without-gossip",
        "--without-mingle",
    ]
    worker = subprocess.Popen(
        celery, cwd=REPO, env=worker_environment(media_root), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        app.conf.task_always_eager = False
        services.launch_campaign(campaign=campaign, user=calculator)
        # Wait for the worker to start computing, then hold the campaign row: its next progress
        # update blocks mid-computation, where it is killed.
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            campaign.refresh_from_db()
            if campaign.progress_step not in ("", "en attente d'un worker") or time.monotonic() > deadline:
                break
            assert worker.poll() is None, worker.stderr.read().decode()[-2000:]
            time.sleep(0.02)
        from django.db import transaction

        with transaction.atomic():
            held = Campaign.objects.select_for_update().get(pk=campaign.pk)
            assert held.status == Status.COMPUTING, f"the worker finished before it could be killed ({held.status})"
            step_when_killed = held.progress_step
            worker.send_signal(signal.SIGKILL)
            worker.wait(30)
        assert worker.returncode == -signal.SIGKILL
    finally:
        app.conf.task_always_eager = True
        if worker.poll() is None:
            worker.kill()
            worker.wait(30)

    campaign.refresh_from_db()
    assert campaign.status == Status.COMPUTING  # the dead worker left it so
    assert not GroupementResult.objects.filter(campaign=campaign).exists()
    settings.IPEP_CAMPAIGN_STALE_AFTER_SECONDS = 1
    time.sleep(1.2)

    [failed] = services.fail_stale_campaigns()

    assert failed.status == Status.FAILED and "Calcul interrompu" in failed.error
    assert step_when_killed in failed.error or failed.progress_step in failed.error
    relaunched = services.launch_campaign(campaign=failed, user=calculator)  # eager: computed on commit
    relaunched.refresh_from_db()
    assert relaunched.status == Status.COMPUTED
    assert exact_cents_differences(expected_golden(), campaign_results_json(campaign=relaunched))[0] == []
    assert [t.to_status for t in relaunched.transitions.all()] == ["computing", "failed", "computing", "computed"]
