"""« Historique des modifications »: the audit trail of every tracked model, readable and filterable by
object and user (PostgreSQL); on SQLite (the demo) the page says the trail is kept on PostgreSQL only,
and pghistory's own events URL never answers 500 on either database."""

import html

import pytest
from django.conf import settings
from django.urls import reverse

from groupements.models import PatientExperience
from groupements.roles import CALCULATOR, DATA_MANAGER, READER
from tests.typography import plain

NBSP = "\u00a0"


def text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.mark.django_db
def test_the_page_opens_on_both_databases_and_the_old_url_leads_to_it(client, make_user):
    client.force_login(make_user(role=READER))
    assert 'href="/admin/historique/">Historique des modifications' in text(client.get(reverse("admin:index")))

    response = client.get("/admin/pghistory/events/", follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0].endswith("/admin/historique/")
    page = text(response)
    assert "<h1>Historique des modifications</h1>" in page
    if not settings.USES_POSTGRES:
        assert "enregistré par la base PostgreSQL uniquement" in page and "history-filters" not in page
    for query in ("?objet=nope.Nope&id=1", "?utilisateur=abc&page=999", "?objet=calculations.Campaign&id=x"):
        assert client.get(reverse("change_history") + query).status_code == 200, query

    client.force_login(make_user(role=CALCULATOR))  # not an auditor
    assert client.get(reverse("change_history")).status_code == 403
    assert "change-history-link" not in text(client.get(reverse("admin:index")))


@pytest.mark.postgres
@pytest.mark.skipif(not settings.USES_POSTGRES, reason="pghistory records nothing on SQLite")
@pytest.mark.django_db
def test_a_change_is_shown_with_who_when_which_object_and_old_to_new_values_and_filters(
    client, make_user, loaded_reference
):
    manager = make_user(role=DATA_MANAGER, username="gestionnaire")
    other = make_user(role=DATA_MANAGER, username="autre")
    experience = PatientExperience.objects.get(year=2022, groupement__code="G001")
    client.force_login(manager)
    response = client.post(
        reverse("admin:groupements_patientexperience_change", args=[experience.pk]),
        {"year": "2022", "groupement": str(experience.groupement_id), "points": "12,5"},
    )
    assert response.status_code == 302

    client.force_login(make_user(role=READER))
    url = reverse("change_history")
    query = f"?objet=groupements.PatientExperience&id={experience.pk}"
    page = text(client.get(url + query))
    rows = plain(page[page.index('id="history-events"') :])
    assert rows.count('class="audit-event"') == 2  # its creation by the bundle load, then the change
    assert "gestionnaire" in rows and f"Points d'expérience patient n° {experience.pk}" in rows
    assert "modification" in rows and "<strong>points</strong> : 16,4 → 12,5" in rows
    assert f'href="{reverse("admin:groupements_patientexperience_change", args=[experience.pk])}"' in rows

    page = text(client.get(url + f"?utilisateur={manager.pk}"))
    assert text(client.get(url)).count('class="audit-event"') > 2  # every object
    assert page.count('class="audit-event"') == 1 and "16,4 → 12,5" in page
    assert "Aucune modification enregistrée pour ce filtre" in text(client.get(url + f"?utilisateur={other.pk}"))
    history = text(client.get(reverse("admin:groupements_patientexperience_history", args=[experience.pk])))
    assert f'href="{url}{query}"' in history.replace("&amp;", "&")
