"""Celery tasks of the campaign lifecycle: thin wrappers around `calculations.services.campaigns`."""

import logging

from celery import shared_task
from celery.signals import worker_ready
from django.db import connections

from calculations.services import campaigns as services
from calculations.services import datasets as dataset_services

logger = logging.getLogger(__name__)


@shared_task(name="calculations.compute_campaign", acks_late=True, ignore_result=True)
def compute_campaign_task(campaign_id: int, token: str) -> None:
    """Compute and store campaign `campaign_id`; a redelivered or outdated message does nothing (see the service)."""
    services.run_campaign_computation(campaign_id=campaign_id, token=token)


@shared_task(name="calculations.fail_stale_campaigns", ignore_result=True)
def fail_stale_campaigns_task() -> int:
    """Periodic: campaigns `computing` whose worker died are marked `failed` (relaunchable)."""
    return len(services.fail_stale_campaigns())


@shared_task(name="calculations.fail_stale_validations", ignore_result=True)
def fail_stale_validations_task() -> int:
    """Periodic: datasets `validating` whose worker died end « échec » (relaunchable, upload kept)."""
    return len(dataset_services.fail_stale_validations())


@worker_ready.connect
def fail_interrupted_work_at_worker_start(**kwargs) -> None:
    """A worker starting (often the one restarted after a crash) fails the work its predecessor left."""
    try:
        campaigns = services.fail_stale_campaigns()
        datasets = dataset_services.fail_stale_validations()
        if campaigns or datasets:
            logger.warning(
                "worker start: %d computation(s), %d validation(s) interrupted", len(campaigns), len(datasets)
            )
    except Exception:  # the database may be away too: the periodic check will do it
        logger.exception("worker start: could not check interrupted work")
    finally:
        connections.close_all()  # opened in the main process: not to be shared with the pool's children
