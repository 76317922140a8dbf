"""A Redis outage while a task runs (issue 16, item 5), on a real worker (`celery -A ipep_site worker`,
prefork, as deployed), PostgreSQL and a redis-server of the test's own that it kills and restarts.

Before ipep_site/broker.py, the worker died at the outage (« Unrecoverable error: AttributeError:
'NoneType' object has no attribute 'hostname' » in kombu's `restore_unacked`) and the statements queued
by the computation finishing meanwhile were lost (publishing gave up after about a second).
"""

import base64
import json
import shutil
import time

import pytest
import redis
from django.conf import settings
from django.db import transaction

from calculations.models import Campaign, GroupementResult
from calculations.services import campaigns as services
from groupements.roles import CALCULATOR
from reports.models import Statement
from tests.calculations.campaign_factories import golden_parameters, store_golden_datasets
from tests.workers import Worker, wait_for, worker_environment

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.celery_worker,
    pytest.mark.skipif(not settings.USES_POSTGRES, reason="needs PostgreSQL (shared with a worker process)"),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server"),
]
OUTAGE_SECONDS = 3


@pytest.mark.django_db(transaction=True)
def test_a_redis_outage_during_a_computation_neither_kills_the_worker_nor_loses_the_statements(
    own_redis, broker_client, media_root, tmp_path, make_user, monkeypatch
):
    from calculations.services.reference import load_reference_bundle
    from tests.conftest import GOLDEN_DIR

    load_reference_bundle(directory=GOLDEN_DIR)
    store_golden_datasets()
    calculator = make_user(role=CALCULATOR)
    campaign = services.create_campaign(year=2022, user=calculator, parameters=golden_parameters())
    messages = []
    monkeypatch.setattr(services.computation, "_enqueue_computation", lambda *args: messages.append(args))
    services.launch_campaign(campaign=campaign, user=calculator)
    [(campaign_id, token)] = messages
    worker = Worker(
        environment=worker_environment(media_root=media_root, broker_url=own_redis.url),
        log_path=tmp_path / "worker.log",
    )
    try:
        worker.wait_ready()
        broker_client.send_task("calculations.compute_campaign", args=[campaign_id, token], task_id=token)
        wait_for(
            lambda: Campaign.objects.get(pk=campaign_id).progress_step not in ("", "en attente d'un worker"),
            seconds=60,
            message=lambda: "the worker never started computing:\n" + worker.log_text()[-4000:],
        )
        # Hold the campaign row: the computation blocks at its next step while Redis goes away.
        with transaction.atomic():
            Campaign.objects.select_for_update().get(pk=campaign_id)
            own_redis.kill()
            time.sleep(1)
        wait_for(
            lambda: Campaign.objects.get(pk=campaign_id).status == Campaign.Status.COMPUTED,
            seconds=90,
            message=lambda: "the computation did not finish during the outage:\n" + worker.log_text()[-4000:],
        )
        time.sleep(OUTAGE_SECONDS)  # the statements' fan-out is being published: Redis still down
        assert worker.alive() and "Unrecoverable error" not in worker.log_text(), worker.log_text()[-4000:]
        own_redis.start()

        groupements = set(
            GroupementResult.objects.filter(campaign_id=campaign_id).values_list("groupement_id", flat=True)
        )
        assert len(groupements) == 12
        # Every statement is drawn, or waits in Redis to be (drawing all twelve takes a minute on a busy
        # machine; a queued message is what the outage used to lose).
        wait_for(
            lambda: (
                rendered(campaign_id) | queued_statements(own_redis, campaign_id) == groupements
                and rendered(campaign_id)
            ),
            seconds=90,
            message=lambda: "statements lost:\n" + worker.log_text()[-4000:],
        )
        assert worker.alive(), worker.log_text()[-4000:]
        assert "Unrecoverable error" not in worker.log_text()
    finally:
        worker.stop()
    assert all(statement.draft for statement in Statement.objects.filter(campaign_id=campaign_id))


def rendered(campaign_id) -> set[int]:
    return set(Statement.objects.filter(campaign_id=campaign_id).values_list("groupement_id", flat=True))


def queued_statements(redis_server, campaign_id) -> set[int]:
    """Groupements whose statement task waits in Redis: in the queue, or delivered and not yet acknowledged."""
    broker = redis.Redis(port=redis_server.port)
    raw = broker.lrange("celery", 0, -1) + [json.loads(m)[0] for m in broker.hvals("unacked")]
    groupements = set()
    for message in raw:
        message = json.loads(message) if isinstance(message, bytes | str) else message
        if message["headers"].get("task") == "reports.render_statement":
            args = json.loads(base64.b64decode(message["body"]))[0]
            if args[0] == campaign_id:
                groupements.add(args[1])
    return groupements
