"""Statements are rendered by a real Celery worker, one task per groupement (not eager mode)."""

import hashlib

import pytest
from django.conf import settings

from reports import services
from reports.models import Statement
from tests.reports.factories import golden_campaign

pytestmark = [
    pytest.mark.celery_worker,
    pytest.mark.skipif(
        settings.CELERY_BROKER_URL.startswith("memory"), reason="needs a real broker: set CELERY_BROKER_URL"
    ),
]


@pytest.mark.django_db(transaction=True)
def test_fan_out_renders_one_statement_per_groupement_through_the_broker(real_worker, media_root):
    campaign = golden_campaign(status="computed", codes=["G001", "G002", "G008"], datasets=False)
    group_result = services.render_campaign_statements(campaign=campaign)
    assert len(group_result.results) == 3  # one task per groupement
    shas = group_result.get(timeout=60)
    statements = Statement.objects.filter(campaign=campaign).order_by("groupement__code")
    assert [s.groupement.code for s in statements] == ["G001", "G002", "G008"]
    assert sorted(shas) == sorted(s.sha256 for s in statements)
    for statement in statements:
        assert statement.draft is True
        assert hashlib.sha256((media_root / statement.file.name).read_bytes()).hexdigest() == statement.sha256
