"""Publishing when some groupement users cannot be told: the campaign page lists them beside the
« Publier » button, and the message after publishing lists them again."""

import html

import pytest
from django.urls import reverse

from calculations.models import Campaign
from calculations.selectors.campaigns import uninformed_at_publication
from groupements.models import PortalAccess
from groupements.roles import GROUPEMENT_USER, VALIDATOR
from tests.calculations.campaign_factories import campaign_in_status
from tests.factories import GroupementFactory, GroupementResultFactory, UserFactory
from tests.typography import plain


def text(response) -> str:
    return html.unescape(response.content.decode())


def portal_user(groupement, **fields):
    user = UserFactory(role=GROUPEMENT_USER, **fields)
    PortalAccess.objects.create(user=user, groupement=groupement)
    return user


@pytest.fixture
def validated(db):
    """Campaign 2022 validated with three groupements: G101 reachable (one of its two users has no
    address), G102 with no address at all, G103 with an inactive user only."""
    campaign = campaign_in_status(Campaign.Status.VALIDATED)
    g101, g102, g103 = (GroupementFactory(code=code) for code in ("G101", "G102", "G103"))
    for groupement in (g101, g102, g103):
        GroupementResultFactory(campaign=campaign, groupement=groupement)
    portal_user(g101, username="dir101")
    portal_user(g101, username="sec101", email="")
    portal_user(g102, username="dir102", email="")
    portal_user(g103, username="old103", is_active=False)
    return campaign


@pytest.mark.django_db
def test_the_users_who_will_not_be_told_are_listed_before_and_after_publishing(
    validated, client, make_user, monkeypatch
):
    from reports import services as reports

    monkeypatch.setattr(reports, "notify_statement_publication", lambda *, campaign: 0)
    expected = [
        "G101 : sec101 (aucune adresse e-mail)",
        "G102 : dir102 (aucune adresse e-mail)",
        "G103 : aucun utilisateur actif du portail",
    ]
    assert uninformed_at_publication(campaign=validated) == expected

    client.force_login(make_user(role=VALIDATOR))
    page = text(client.get(reverse("admin:calculations_campaign_change", args=[validated.pk])))
    warning = plain(page[page.index('id="publish-uninformed"') :])
    assert "Ne seront pas prévenus par e-mail de la publication" in warning
    for line in expected:
        assert f"<li>{line}</li>" in warning

    response = client.post(
        reverse("admin:calculations_campaign_transition", args=[validated.pk]),
        {"transition": "publish", "reason": ""},
        follow=True,
    )
    validated.refresh_from_db()
    assert validated.status == Campaign.Status.PUBLISHED
    assert "Non prévenus par e-mail (3) : " + " ; ".join(expected) + "." in plain(text(response))
    assert 'id="publish-uninformed"' not in text(response)  # no publish button any more


@pytest.mark.django_db
def test_nothing_is_listed_when_everyone_can_be_told(validated):
    for access in PortalAccess.objects.select_related("user"):
        access.user.email, access.user.is_active = f"{access.user.username}@example.org", True
        access.user.save()
    assert uninformed_at_publication(campaign=validated) == []
