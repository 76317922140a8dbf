"""The groupement portal: own groupement only, published statements only, contestation window, login
(its lock-out: tests/site/test_lockout.py). Every URL is checked anonymous, as another groupement and as staff."""

import datetime
import hashlib

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from calculations.models import Campaign
from groupements import roles
from reports import services
from reports.models import Contestation, Statement
from tests.factories import PASSWORD
from tests.reports.factories import golden_campaign, portal_user

pytestmark = pytest.mark.django_db


def statement_of(campaign, code):
    return Statement.objects.get(campaign=campaign, groupement__code=code)


def portal_urls(campaign, statement):
    return [
        reverse("portal:home"),
        reverse("portal:campaign", args=[campaign.pk]),
        reverse("portal:statement_download", args=[statement.pk]),
    ]


def test_anonymous_users_are_sent_to_the_login_page(client, published):
    statement = statement_of(published["campaign"], "G001")
    for url in portal_urls(published["campaign"], statement):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("portal:login") + "?next="), url


def test_home_lists_only_the_own_groupement_published_statements(client, published, media_root):
    hidden = golden_campaign(status="validated", codes=["G001"], datasets=False)  # validated, not published
    services.render_campaign_statements(campaign=hidden)
    client.force_login(published["g001_user"])
    page = client.get(reverse("portal:home")).content.decode()
    assert "G001 – MSP de Saint-Amand" in page
    assert "3\u00a0553,13\u00a0€" in page
    assert reverse("portal:statement_download", args=[statement_of(published["campaign"], "G001").pk]) in page
    assert "4\u00a0432,52" not in page  # G002's amount
    assert reverse("portal:campaign", args=[hidden.pk]) not in page


def test_own_statement_downloads_as_the_stored_pdf(client, published, media_root):
    statement = statement_of(published["campaign"], "G001")
    client.force_login(published["g001_user"])
    response = client.get(reverse("portal:statement_download", args=[statement.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f'filename="releve_2022_G001_v{published["campaign"].version}.pdf"' in response["Content-Disposition"]
    content = response.getvalue()  # streamed from the storage
    assert hashlib.sha256(content).hexdigest() == statement.sha256
    assert content.startswith(b"%PDF-")


def test_another_groupement_statement_and_campaign_are_not_found(client, published, media_root):
    campaign = published["campaign"]
    only_g002 = golden_campaign(
        status="published", codes=["G002"], datasets=False, year=2023
    )  # one campaign in force per year
    services.render_campaign_statements(campaign=only_g002)
    client.force_login(published["g001_user"])
    assert client.get(reverse("portal:statement_download", args=[statement_of(campaign, "G002").pk])).status_code == 404
    assert (
        client.get(reverse("portal:statement_download", args=[statement_of(only_g002, "G002").pk])).status_code == 404
    )
    assert client.get(reverse("portal:campaign", args=[only_g002.pk])).status_code == 404
    assert client.post(reverse("portal:campaign", args=[only_g002.pk]), {"message": "Intrusion"}).status_code == 404
    assert client.get(reverse("portal:statement_download", args=[999_999])).status_code == 404
    assert not Contestation.objects.exists()


def test_unpublished_campaigns_are_not_found_even_for_the_own_groupement(client, db, media_root):
    validated = golden_campaign(status="validated", codes=["G001"], datasets=False)
    services.render_campaign_statements(campaign=validated)
    client.force_login(portal_user("G001"))
    assert client.get(reverse("portal:campaign", args=[validated.pk])).status_code == 404
    assert (
        client.get(reverse("portal:statement_download", args=[statement_of(validated, "G001").pk])).status_code == 404
    )


def test_a_tampered_statement_file_is_refused_with_a_clear_french_error(client, published, media_root, make_user):
    statement = statement_of(published["campaign"], "G001")
    (media_root / statement.file.name).write_bytes(b"%PDF-1.7 not the rendered file")
    client.force_login(published["g001_user"])
    response = client.get(reverse("portal:statement_download", args=[statement.pk]))
    assert response.status_code == 409 and response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "Téléchargement refusé" in page
    assert f"Relevé G001 – 2022 v{statement.campaign.version}" in page
    assert "ne correspond plus à son empreinte SHA-256" in page
    assert "not the rendered file" not in page
    client.force_login(make_user(role=roles.READER))  # staff downloads are checked the same way
    assert client.get(reverse("reports:statement_download", args=[statement.pk])).status_code == 409
    (media_root / statement.file.name).unlink()
    response = client.get(reverse("reports:statement_download", args=[statement.pk]))
    assert response.status_code == 409 and "introuvable" in response.content.decode()


def test_user_without_portal_access_is_refused_and_staff_goes_to_the_admin(client, published, make_user):
    client.force_login(make_user(role=roles.GROUPEMENT_USER))  # no PortalAccess row
    assert client.get(reverse("portal:home")).status_code == 403
    assert (
        client.get(
            reverse("portal:statement_download", args=[statement_of(published["campaign"], "G001").pk])
        ).status_code
        == 403
    )
    client.force_login(make_user(role=roles.READER))
    response = client.get(reverse("portal:home"))
    assert response.status_code == 302 and response["Location"] == reverse("admin:index")


# --- Staff-only views -------------------------------------------------------------------------------


def staff_urls(campaign, statement):
    return [
        reverse("reports:national_report", args=[campaign.pk]),
        reverse("reports:national_report_pdf", args=[campaign.pk]),
        reverse("reports:national_report_csv", args=[campaign.pk]),
        reverse("reports:national_report_xlsx", args=[campaign.pk]),
        reverse("reports:statement_download", args=[statement.pk]),
    ]


def test_staff_views_refuse_groupement_users_and_send_anonymous_to_login(client, published):
    urls = staff_urls(published["campaign"], statement_of(published["campaign"], "G001"))
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login")), url
    client.force_login(published["g001_user"])
    for url in urls:
        assert client.get(url).status_code == 403, url


def test_staff_views_need_the_role_permission(client, published, make_user):
    statement = statement_of(published["campaign"], "G001")
    client.force_login(make_user(role=roles.READER))
    assert client.get(reverse("reports:national_report", args=[published["campaign"].pk])).status_code == 200
    response = client.get(reverse("reports:statement_download", args=[statement.pk]))
    assert response.status_code == 200 and hashlib.sha256(response.getvalue()).hexdigest() == statement.sha256
    client.force_login(make_user(is_staff=True))  # staff without any role
    assert client.get(reverse("reports:national_report", args=[published["campaign"].pk])).status_code == 403
    assert client.get(reverse("reports:statement_download", args=[statement.pk])).status_code == 403
    client.force_login(make_user(role=roles.READER))
    assert client.get(reverse("reports:national_report", args=[999_999])).status_code == 404


def test_the_national_report_links_statements_only_for_roles_that_may_download_them(client, published, make_user):
    statement = statement_of(published["campaign"], "G001")
    link = reverse("reports:statement_download", args=[statement.pk])
    page = reverse("reports:national_report", args=[published["campaign"].pk])
    client.force_login(make_user(role=roles.READER))
    assert link in client.get(page).content.decode()
    client.force_login(make_user(role=roles.CALCULATOR))
    response = client.get(page)
    assert response.status_code == 200 and link not in response.content.decode()
    assert client.get(link).status_code == 403


# --- Contestations ----------------------------------------------------------------------------------


def test_contestation_within_the_window_is_recorded_and_shown(client, published):
    campaign = published["campaign"]
    client.force_login(published["g001_user"])
    url = reverse("portal:campaign", args=[campaign.pk])
    page = client.get(url).content.decode()
    assert "Contester ce relevé" in page
    response = client.post(url, {"message": "  Le nombre de patients 2022 nous paraît sous-estimé.  "})
    assert response.status_code == 302
    contestation = Contestation.objects.get()
    assert (contestation.campaign, contestation.groupement.code, contestation.user) == (
        campaign,
        "G001",
        published["g001_user"],
    )
    assert contestation.message == "Le nombre de patients 2022 nous paraît sous-estimé."
    assert contestation.status == Contestation.Status.SUBMITTED
    assert "sous-estimé" in client.get(url).content.decode()
    client.force_login(published["g002_user"])
    assert "sous-estimé" not in client.get(url).content.decode()


def test_contestation_after_the_window_is_refused(client, published):
    campaign = published["campaign"]
    # Published 31 days ago with a 30-day window: closed since yesterday.
    Campaign.objects.filter(pk=campaign.pk).update(
        published_at=timezone.now() - datetime.timedelta(days=31), contestation_days=30
    )
    client.force_login(published["g001_user"])
    url = reverse("portal:campaign", args=[campaign.pk])
    page = client.get(url).content.decode()
    assert "Contester ce relevé" not in page and "Le délai de contestation est clos" in page
    client.post(url, {"message": "Trop tard ?"})
    assert not Contestation.objects.exists()


def test_submit_contestation_rules(published):
    campaign, user = published["campaign"], published["g001_user"]
    g001, g002 = user.portal_access.groupement, published["g002_user"].portal_access.groupement
    deadline = campaign.published_at + datetime.timedelta(days=campaign.contestation_days)
    with pytest.raises(services.ContestationRefused, match="délai de contestation a expiré"):
        services.submit_contestation(
            campaign=campaign, groupement=g001, user=user, message="x", now=deadline + datetime.timedelta(seconds=1)
        )
    with pytest.raises(services.ContestationRefused, match="vide"):
        services.submit_contestation(campaign=campaign, groupement=g001, user=user, message="   ")
    with pytest.raises(services.ContestationRefused, match="dépasse 5000"):
        services.submit_contestation(campaign=campaign, groupement=g001, user=user, message="x" * 5001)
    with pytest.raises(services.PermissionRefused):
        services.submit_contestation(campaign=campaign, groupement=g002, user=user, message="pour un autre")
    assert services.submit_contestation(campaign=campaign, groupement=g001, user=user, message="ok", now=deadline).pk


def test_staff_answer_in_the_admin_is_mailed_to_the_groupement_user(
    client, published, make_user, mailoutbox, django_capture_on_commit_callbacks
):
    contestation = services.submit_contestation(
        campaign=published["campaign"],
        groupement=published["g001_user"].portal_access.groupement,
        user=published["g001_user"],
        message="Écart ?",
    )
    validator = make_user(role=roles.VALIDATOR)
    client.force_login(validator)
    url = reverse("admin:reports_contestation_change", args=[contestation.pk])
    assert client.get(reverse("admin:reports_contestation_changelist")).status_code == 200
    with django_capture_on_commit_callbacks(execute=True) as sent_after_commit:
        response = client.post(url, {"status": "rejected", "answer": "Les effectifs proviennent du fichier national."})
    assert response.status_code == 302
    contestation.refresh_from_db()
    assert (contestation.status, contestation.answered_by) == ("rejected", validator)
    assert len(sent_after_commit) == 1  # the e-mail leaves once the answer is committed
    assert len(mailoutbox) == 1 and mailoutbox[0].to == [published["g001_user"].email]
    assert "Les effectifs proviennent du fichier national." in mailoutbox[0].body
    client.force_login(make_user(role=roles.READER))
    assert client.post(url, {"status": "accepted", "answer": "?"}).status_code == 403


# --- Login ---------------------------------------------------------------------------------------------


def login(client, username, password, address="10.0.0.1"):
    return client.post(reverse("portal:login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def test_login_goes_to_the_portal_home(client, published):
    response = login(client, published["g001_user"].username, PASSWORD)
    assert response.status_code == 302 and response["Location"] == reverse(settings.LOGIN_REDIRECT_URL)
    assert "G001" in client.get(reverse("portal:home")).content.decode()


def test_statement_admin_lists_statements_with_a_download_link(client, published, make_user):
    statement = statement_of(published["campaign"], "G001")
    client.force_login(make_user(role=roles.READER))
    page = client.get(reverse("admin:reports_statement_changelist")).content.decode()
    assert reverse("reports:statement_download", args=[statement.pk]) in page
    assert client.get(reverse("admin:reports_statement_change", args=[statement.pk])).status_code == 200


def test_saving_an_answered_contestation_unchanged_does_not_mail_again(
    client, published, make_user, mailoutbox, django_capture_on_commit_callbacks
):
    contestation = services.submit_contestation(
        campaign=published["campaign"],
        groupement=published["g001_user"].portal_access.groupement,
        user=published["g001_user"],
        message="Écart ?",
    )
    first, second = make_user(role=roles.VALIDATOR), make_user(role=roles.VALIDATOR)
    url = reverse("admin:reports_contestation_change", args=[contestation.pk])

    def post(data):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, data)

    client.force_login(first)
    assert post({"status": "rejected", "answer": "Réponse."}).status_code == 302
    answered_at = Contestation.objects.get().answered_at
    client.force_login(second)
    assert post({"status": "rejected", "answer": "Réponse.  "}).status_code == 302
    contestation.refresh_from_db()
    assert len(mailoutbox) == 1
    assert (contestation.answered_by, contestation.answered_at) == (first, answered_at)
    assert post({"status": "accepted", "answer": "Réponse."}).status_code == 302
    assert len(mailoutbox) == 2
