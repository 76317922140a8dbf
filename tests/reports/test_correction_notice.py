"""Publishing a correction: the reason is mandatory, and the e-mail says that version N replaces
version N−1 (published when, for how much) and why."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from calculations.models import Campaign, GroupementResult
from calculations.services import campaigns
from calculations.services.transitions import CampaignError
from groupements.roles import VALIDATOR
from tests.reports.factories import golden_campaign, portal_user
from tests.typography import plain

pytestmark = pytest.mark.django_db
REASON = "Les patients de la MSP de Saint-Amand avaient été comptés deux fois."


@pytest.fixture
def correction(media_root):
    old = golden_campaign(
        status="published",
        version=1,
        codes=["G001", "G002"],
        datasets=False,
        published_at=datetime.datetime(2023, 4, 3, 9, 0, tzinfo=datetime.UTC),
    )
    new = golden_campaign(status="computed", version=2, supersedes=old, codes=["G001", "G002"], datasets=False)
    GroupementResult.objects.filter(campaign=new, code="G001").update(final_amount=Decimal("3600.00"))
    Campaign.objects.filter(pk=new.pk).update(status="validated", validated_at=timezone.now())
    new.refresh_from_db()
    return old, new


def test_a_correction_cannot_be_published_without_its_reason(correction, make_user, mailoutbox):
    old, new = correction
    with pytest.raises(CampaignError, match="motif de la correction de la version 1"):
        campaigns.publish_campaign(campaign=new, user=make_user(role=VALIDATOR), reason="")
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.status, new.status, mailoutbox) == ("published", "validated", [])


def test_the_publication_mail_of_a_correction_says_which_version_it_replaces_and_why(
    correction, make_user, mailoutbox, django_capture_on_commit_callbacks
):
    old, new = correction
    user = portal_user("G001")
    portal_user("G002")
    with django_capture_on_commit_callbacks(execute=True):
        campaigns.publish_campaign(campaign=new, user=make_user(role=VALIDATOR), reason=f"  {REASON} ")

    message = next(m for m in mailoutbox if m.to == [user.email])
    assert (
        plain(message.subject)
        == "IPEP – votre relevé d'intéressement 2022 corrigé : la version 2 remplace la version 1"
    )
    body = plain(message.body)
    assert "Le relevé d'intéressement IPEP 2022 (version 2)" in body
    assert (
        "Cette version 2 remplace la version 1 publiée le 3 avril 2023, dont le montant (3 553,13 €) n'est plus à verser."
        in body
    )
    assert f"Motif de la correction : {REASON}\n" in body
    assert "Montant à verser : 3 600,00 €" in body
    g002 = next(m for m in mailoutbox if m.to != [user.email])
    assert "(4 432,52 €) n'est plus à verser" in plain(g002.body)
    assert "Montant à verser : 4 432,52 €" in plain(g002.body)


def test_a_first_publication_mail_says_nothing_of_a_correction(published, mailoutbox):
    from reports import services

    services.notify_statement_publication(campaign=published["campaign"])
    assert "remplace" not in mailoutbox[0].body and "Motif" not in mailoutbox[0].body
    assert "corrigé" not in mailoutbox[0].subject


def test_the_admin_asks_for_the_reason_of_a_correction(client, correction, make_user):
    from django.urls import reverse

    old, new = correction
    client.force_login(make_user(role=VALIDATOR))
    page = plain(client.get(reverse("admin:calculations_campaign_change", args=[new.pk])).content.decode())
    assert 'required placeholder="Motif de la correction (obligatoire, envoyé aux groupements)"' in page


def test_publication_mails_are_set_in_french_typography(correction, make_user, mailoutbox):
    from reports import services
    from tests.typography import typography_faults

    old, new = correction
    portal_user("G001")
    campaigns.publish_campaign(campaign=new, user=make_user(role=VALIDATOR), reason="Erreur d'import.")
    services.notify_statement_publication(campaign=new)
    message = mailoutbox[-1]
    assert typography_faults(message.subject) == typography_faults(message.body) == []
    assert "Motif de la correction\u202f: Erreur d’import." in message.body
    assert "relevé d’intéressement" in message.subject
