"""What the portal says about each version: the national coefficient when the ceiling scaled the amounts,
a superseded version replaced (never « à verser »), and the contestation window right on both sides of
its deadline (`published_at + contestation_days`)."""

import datetime

import pytest
from django.db import connection
from django.template.defaultfilters import date as date_filter
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from calculations.models import Campaign
from reports import selectors, services
from tests.reports.factories import golden_campaign, portal_user
from tests.typography import plain

pytestmark = pytest.mark.django_db


def french_date(moment, pattern="j F Y"):
    with translation.override("fr"):
        return date_filter(timezone.localtime(moment), pattern)


def page(client, campaign):
    return plain(client.get(reverse("portal:campaign", args=[campaign.pk])).content.decode())


def test_the_national_coefficient_is_explained_when_the_ceiling_scaled_the_amounts(client, published):
    campaign = published["campaign"]
    client.force_login(published["g001_user"])
    text = page(client, campaign)
    # Golden 2022: Σ after cap 288 548,89 € > ceiling 244 528,88 €, k = 244 528,88122 / 288 548,89368 = 0,84744…;
    # G001 after cap 4 192,77 € (phase 3, quality only) × k = 3 553,13 €.
    assert (
        "Le total national des montants après plafond (288 548,89 €) dépassant le plafond national "
        "(244 528,88 €), chaque montant a été multiplié par le coefficient national de 0,8474 : "
        "votre montant après plafond de 4 192,77 € devient 3 553,13 €."
    ) in text
    assert "Montant à verser : <strong>3 553,13 €</strong>" in text

    Campaign.objects.filter(pk=campaign.pk).update(national_coefficient=1.0)
    assert "coefficient national" not in page(client, campaign)


def test_a_superseded_version_says_replaced_by_version_n_and_never_to_be_paid(client, db, media_root):
    old = golden_campaign(status="superseded", version=1, codes=["G001"], datasets=False)
    new = golden_campaign(
        status="published", version=2, supersedes=old, codes=["G001"], datasets=False, published_at=timezone.now()
    )
    services.render_campaign_statements(campaign=old)
    services.render_campaign_statements(campaign=new)
    client.force_login(portal_user("G001"))

    old_page = page(client, old)
    assert "Ce relevé a été remplacé par la version 2" in old_page
    assert reverse("portal:campaign", args=[new.pk]) in old_page
    assert "à verser" not in old_page and "Montant de cette version (non versé)" in old_page
    # Published yesterday, its window would still run: it is not contestable, and not « clos » either.
    assert "clos depuis" not in old_page and "Contester ce relevé" not in old_page
    assert "Cette version n'est plus contestable : contestez, le cas échéant, la version 2." in old_page
    assert client.post(reverse("portal:campaign", args=[old.pk]), {"message": "x"}).status_code == 302
    assert not old.contestations.exists()

    new_page = page(client, new)
    assert "Montant à verser" in new_page and "remplacé" not in new_page and "Contester ce relevé" in new_page

    home = plain(client.get(reverse("portal:home")).content.decode())
    v1_row = next(row for row in home.split("<tr>") if "<td>v1</td>" in row)
    assert "Remplacé par la version 2" in v1_row and "(non versé)" in v1_row and "sur la version 2" in v1_row
    v2_row = next(row for row in home.split("<tr>") if "<td>v2</td>" in row)
    assert "Publiée" in v2_row and "ouverte jusqu'au" in v2_row


def test_a_paid_version_says_paid(client, published):
    Campaign.objects.filter(pk=published["campaign"].pk).update(status="paid")
    client.force_login(published["g001_user"])
    text = page(client, published["campaign"])
    assert "Montant versé : <strong>3 553,13 €</strong>" in text and "à verser" not in text


@pytest.mark.parametrize(
    ("offset", "window"),
    [
        (datetime.timedelta(seconds=-1), "open"),
        (datetime.timedelta(0), "open"),  # the deadline itself is still within the window
        (datetime.timedelta(seconds=1), "closed"),
    ],
)
def test_the_window_around_its_deadline(published, offset, window):
    campaign = published["campaign"]
    deadline = campaign.published_at + datetime.timedelta(days=campaign.contestation_days)
    version = selectors.portal_version(campaign=campaign, now=deadline + offset)
    assert (version.window, version.deadline) == (window, deadline)


def test_the_window_is_open_until_its_date_and_closed_only_after_it(client, published):
    campaign, now = published["campaign"], timezone.now()
    client.force_login(published["g001_user"])
    home_url = reverse("portal:home")

    # Deadline in two minutes: open, its date in the future.
    Campaign.objects.filter(pk=campaign.pk).update(
        published_at=now - datetime.timedelta(days=30, minutes=-2), contestation_days=30
    )
    deadline = now + datetime.timedelta(minutes=2)
    text = page(client, campaign)
    assert f"Le délai de contestation est ouvert jusqu'au {french_date(deadline, 'j F Y à H:i')}." in text
    assert "clos depuis" not in text and "Contester ce relevé" in text
    assert f"ouverte jusqu'au {french_date(deadline)}" in plain(client.get(home_url).content.decode())

    # Deadline two minutes ago: closed since that date, no form.
    Campaign.objects.filter(pk=campaign.pk).update(published_at=now - datetime.timedelta(days=30, minutes=2))
    deadline = now - datetime.timedelta(minutes=2)
    text = page(client, campaign)
    assert f"Le délai de contestation est clos depuis le {french_date(deadline, 'j F Y à H:i')}." in text
    assert "ouvert jusqu" not in text and "Contester ce relevé" not in text
    assert f"close depuis le {french_date(deadline)}" in plain(client.get(home_url).content.decode())

    # A long window published today: open, the deadline 90 days ahead (never « clos » before it).
    Campaign.objects.filter(pk=campaign.pk).update(published_at=now, contestation_days=90)
    text = page(client, campaign)
    assert f"ouvert jusqu'au {french_date(now + datetime.timedelta(days=90), 'j F Y à H:i')}" in text
    assert "clos depuis" not in text


def test_portal_pages_are_set_in_french_typography(client, published, media_root):
    from tests.typography import typography_faults, visible_text

    campaign = published["campaign"]
    Campaign.objects.filter(pk=campaign.pk).update(national_coefficient=0.5)  # every sentence shown
    client.force_login(published["g001_user"])
    for url in (reverse("portal:home"), reverse("portal:campaign", args=[campaign.pk])):
        html = client.get(url).content.decode()
        assert typography_faults(visible_text(html)) == [], url
    html = client.get(reverse("portal:campaign", args=[campaign.pk])).content.decode()
    assert "Montant à verser\u202f: <strong>3\u00a0553,13\u00a0€</strong>" in html
    assert "Montant d’efficience" in html
    client.logout()
    for url in (reverse("portal:login"), reverse("portal:password_reset")):
        assert typography_faults(visible_text(client.get(url).content.decode())) == [], url


def test_the_home_page_reads_the_same_number_of_rows_sets_whatever_the_number_of_versions(client, db, media_root):
    """Session, user, portal access, statements, results with their campaigns: five queries, for one
    version as for three (no query per version)."""
    user = portal_user("G001")
    client.force_login(user)

    def home_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("portal:home")).status_code == 200
        return len(queries)

    golden_campaign(status="published", year=2022, version=1, codes=["G001"], datasets=False)
    one = home_queries()
    for year in (2023, 2024):
        golden_campaign(status="published", year=year, version=1, codes=["G001"], datasets=False)
    assert (one, home_queries()) == (5, 5)
