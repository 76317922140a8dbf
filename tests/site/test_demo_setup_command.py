"""`demo_setup` (what `make demo` runs): the golden bundle loaded, computed to the cent, published, with
one login per role; running it again changes nothing."""

from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from calculations.models import Campaign, Dataset
from calculations.selectors.campaigns import campaign_results_json
from groupements import roles
from groupements.models import PortalAccess
from reports.models import Statement
from tests.calculations.campaign_factories import exact_cents_differences, expected_golden
from tests.conftest import GOLDEN_DIR


def demo_setup(*args):
    out = StringIO()
    call_command(
        "demo_setup", "--bundle", str(GOLDEN_DIR), "--year", "2022", "--password", "demo-pass-1", *args, stdout=out
    )
    return out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_demo_setup_publishes_the_golden_campaign_and_prints_the_logins(media_root, rf):
    out = demo_setup()

    campaign = Campaign.objects.get(year=2022)
    assert campaign.status == Campaign.Status.PUBLISHED
    assert campaign.final_amount == Decimal("244528.88")
    differences, compared = exact_cents_differences(expected_golden(), campaign_results_json(campaign=campaign))
    assert differences == [] and compared > 300
    assert Statement.objects.filter(campaign=campaign, draft=False).count() == 12
    assert sorted(Dataset.objects.filter(status=Dataset.Status.VALID).values_list("year", flat=True)) == [
        2018,
        2019,
        2022,
    ]

    assert "Mot de passe de tous les comptes : demo-pass-1" in out
    assert "244\u00a0528,88\u00a0€" in out
    login = rf.post("/connexion/")  # django-axes checks the lock-out of every authentication against a request
    admin = authenticate(login, username="admin", password="demo-pass-1")
    assert admin is not None and admin.is_superuser
    validator = authenticate(login, username="validation", password="demo-pass-1")
    assert list(validator.groups.values_list("name", flat=True)) == [roles.VALIDATOR]
    assert campaign.transitions.get(to_status="validated").user == validator
    portal = authenticate(login, username="g001", password="demo-pass-1")
    assert not portal.is_staff and PortalAccess.objects.get(user=portal).groupement.code == "G001"


@pytest.mark.django_db(transaction=True)
def test_demo_setup_run_twice_keeps_one_campaign_and_one_dataset_per_year(media_root, settings):
    demo_setup("--no-publish")
    assert Campaign.objects.get(year=2022).status == Campaign.Status.COMPUTED

    settings.IPEP_SITE_URL = "http://192.0.2.10:8080/"
    out = demo_setup()

    assert Campaign.objects.filter(year=2022).count() == 1
    assert Campaign.objects.get(year=2022).status == Campaign.Status.PUBLISHED
    assert Dataset.objects.count() == 3
    assert "Référentiels déjà chargés." in out
    assert "Démonstration prête : http://192.0.2.10:8080/admin/" in out  # the site's URL, not a fixed port
    assert "(portail : http://192.0.2.10:8080/)" in out and ":8000" not in out
