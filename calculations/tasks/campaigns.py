"""Celery tasks of the campaign lifecycle: thin wrappers around `calculations.services.campaigns`."""

from celery import shared_task

from calculations.services import campaigns as services


@shared_task(name="calculations.compute_campaign", acks_late=True, ignore_result=True)
def compute_campaign_task(campaign_id: int, token: str) -> None:
    """Compute and store campaign `campaign_id`; a redelivered or outdated message does nothing (see the service)."""
    services.run_campaign_computation(campaign_id=campaign_id, token=token)


@shared_task(name="calculations.fail_stale_campaigns", ignore_result=True)
def fail_stale_campaigns_task() -> int:
    """Periodic: campaigns `computing` whose worker died are marked `failed` (relaunchable)."""
    return len(services.fail_stale_campaigns())
