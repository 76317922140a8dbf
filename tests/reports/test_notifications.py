"""Publication e-mails: every active portal user of the campaign's groupements, nobody else."""

import pytest

from reports import services
from reports.models import Statement
from tests.reports.factories import golden_campaign, portal_user
from tests.typography import plain

pytestmark = pytest.mark.django_db


def test_publication_mails_the_portal_users_of_the_campaign_groupements(published, mailoutbox, settings):
    settings.IPEP_SITE_URL = "https://ipep.example.org"
    second_g001 = portal_user("G001")
    portal_user("G003")  # G003 has no result in this campaign
    portal_user("G002", is_active=False)
    portal_user("G002", email="")
    sent = services.notify_statement_publication(campaign=published["campaign"])
    assert sent == 3
    recipients = sorted(address for message in mailoutbox for address in message.to)
    assert recipients == sorted([published["g001_user"].email, second_g001.email, published["g002_user"].email])
    g001_mail = next(m for m in mailoutbox if m.to == [published["g001_user"].email])
    assert plain(g001_mail.subject) == "IPEP – votre relevé d'intéressement 2022 est disponible"
    assert "Montant à verser : 3 553,13 €" in plain(g001_mail.body)
    assert f"https://ipep.example.org/campagnes/{published['campaign'].pk}/" in g001_mail.body
    g002_mail = next(m for m in mailoutbox if m.to == [published["g002_user"].email])
    assert "4 432,52 €" in g002_mail.body and "3 553,13" not in g002_mail.body


def test_publication_renders_final_statements_that_are_missing(db, media_root, mailoutbox):
    campaign = golden_campaign(status="published", codes=["G001"], datasets=False)
    portal_user("G001")
    assert not Statement.objects.exists()
    assert services.notify_statement_publication(campaign=campaign) == 1
    statement = Statement.objects.get()
    assert statement.draft is False and (media_root / statement.file.name).is_file()


def test_publication_mail_dates_are_french_whatever_the_publisher_language(published, mailoutbox):
    from django.utils import translation

    published["campaign"].published_at = published["campaign"].published_at.replace(month=3, day=10)
    published["campaign"].save(update_fields=["published_at"])
    with translation.override("en"):
        services.notify_statement_publication(campaign=published["campaign"])
    body = plain(mailoutbox[0].body)
    assert "jusqu'au" in body and "avril" in body and "April" not in body
