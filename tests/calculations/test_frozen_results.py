"""Published results are immutable: the model refuses to change or delete the results of a validated (or
later) campaign, and on PostgreSQL a trigger refuses it even to SQL that bypasses the models."""

import pytest
from django.conf import settings
from django.db import IntegrityError, transaction

from calculations.models import Campaign, FrozenResultsError, GroupementResult
from tests.factories import GroupementResultFactory

pytestmark = pytest.mark.django_db
Status = Campaign.Status
needs_postgres = pytest.mark.skipif(
    not settings.USES_POSTGRES, reason="the trigger exists on PostgreSQL only: set DATABASE_URL"
)


@pytest.mark.parametrize("status", [Status.VALIDATED, Status.PUBLISHED, Status.PAID, Status.SUPERSEDED])
def test_results_of_a_validated_or_later_campaign_cannot_be_saved_or_deleted(status):
    result = GroupementResultFactory(campaign__status=status, quality_score=40.0)
    result.quality_score = 99.0

    with pytest.raises(FrozenResultsError, match="figés"):
        result.save()
    with pytest.raises(FrozenResultsError):
        result.delete()
    assert GroupementResult.objects.get(pk=result.pk).quality_score == 40.0


@pytest.mark.parametrize("status", [Status.DRAFT, Status.COMPUTING, Status.COMPUTED])
def test_results_before_validation_may_still_be_replaced(status):
    result = GroupementResultFactory(campaign__status=status, quality_score=40.0)
    result.quality_score = 41.0
    result.save()
    assert GroupementResult.objects.get(pk=result.pk).quality_score == 41.0
    result.delete()
    assert not GroupementResult.objects.exists()


@needs_postgres
def test_the_database_refuses_bulk_updates_and_deletes_of_published_results():
    published = GroupementResultFactory(campaign__status=Status.PUBLISHED, quality_score=40.0)
    computed = GroupementResultFactory(campaign__status=Status.COMPUTED, campaign__year=2022, quality_score=40.0)

    with pytest.raises(IntegrityError, match="frozen"), transaction.atomic():
        GroupementResult.objects.filter(pk=published.pk).update(quality_score=99.0)
    with pytest.raises(IntegrityError, match="frozen"), transaction.atomic():
        GroupementResult.objects.filter(pk=published.pk).delete()
    assert GroupementResult.objects.get(pk=published.pk).quality_score == 40.0

    assert GroupementResult.objects.filter(pk=computed.pk).update(quality_score=41.0) == 1
