"""A task goes through the real broker (Redis in CI) and a real worker thread, not eager mode."""

import pytest
from django.conf import settings

from ipep_site.celery import app, ping

pytestmark = [
    pytest.mark.celery_worker,
    pytest.mark.skipif(
        settings.CELERY_BROKER_URL.startswith("memory"), reason="needs a real broker: set CELERY_BROKER_URL"
    ),
]


def test_ping_round_trip_through_broker_and_worker(real_worker):
    result = ping.delay("bonjour")
    assert result.get(timeout=20) == "bonjour"
    # Not eager: the result came back from the worker through the result backend.
    assert result.backend.__class__.__name__ != "DisabledBackend"
    assert app.conf.broker_url.startswith("redis://")
