"""A simulation started from the admin's service is computed by a real Celery worker through the broker
(not eager mode), on PostgreSQL in CI, and writes nothing but itself."""

import time

import pytest
from django.conf import settings

from calculations.models import Campaign, Simulation
from calculations.services import campaigns as campaign_services
from calculations.services.simulations import start_simulation
from groupements.roles import CALCULATOR, VALIDATOR
from tests.calculations.campaign_factories import campaign_state, golden_parameters, store_golden_datasets

pytestmark = [
    pytest.mark.celery_worker,
    pytest.mark.skipif(
        settings.CELERY_BROKER_URL.startswith("memory"), reason="needs a real broker: set CELERY_BROKER_URL"
    ),
]


@pytest.mark.django_db(transaction=True)
def test_a_worker_computes_the_simulation(real_worker, loaded_reference, media_root, make_user, monkeypatch):
    from reports import services as reports

    monkeypatch.setattr(reports, "render_campaign_statements", lambda *, campaign: None)
    calculator = make_user(role=CALCULATOR)
    store_golden_datasets()
    campaign = campaign_services.create_campaign(year=2022, user=calculator, parameters=golden_parameters())
    campaign_services.launch_campaign(campaign=campaign, user=calculator)
    campaign = campaign_services.wait_for_computation(campaign=campaign, timeout=120, poll_seconds=0.1)
    assert campaign.status == Campaign.Status.COMPUTED, campaign.error
    before = campaign_state(campaign)

    simulation = start_simulation(
        campaign=campaign, user=make_user(role=VALIDATOR), overrides={"national_ceiling_rate": "0.02"}
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        simulation.refresh_from_db()
        if simulation.is_final:
            break
        time.sleep(0.05)
    assert simulation.status == Simulation.Status.DONE, simulation.error
    assert simulation.started_at and simulation.finished_at
    totals = simulation.result["differences"]["totals"]["final_amount"]
    assert (totals["campaign"], totals["simulated"]) == ("244528.88", "288548.88")
    assert campaign_state(campaign) == before
