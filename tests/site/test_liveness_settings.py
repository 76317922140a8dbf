"""The defaults keep the promise of issue 16 (item 6): interrupted work is failed within two minutes."""

from django.conf import settings


def test_interrupted_work_is_detected_within_two_minutes_by_default():
    checks = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    for task, stale_after in (
        ("calculations.fail_stale_campaigns", settings.IPEP_CAMPAIGN_STALE_AFTER_SECONDS),
        ("calculations.fail_stale_validations", settings.IPEP_DATASET_STALE_AFTER_SECONDS),
    ):
        assert stale_after + checks[task] <= 120, task
        # Several signs of life per stale period: one slow database write is not a death.
        assert stale_after >= settings.IPEP_HEARTBEAT_SECONDS * 3, task
