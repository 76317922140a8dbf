"""The campaign admin: two users walk a campaign from draft to paid with the buttons their roles allow;
progress while computing; results table, totals and history; stale detection on visit."""

import datetime
import html
import re

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from calculations.models import Campaign, CampaignTransition
from groupements.models import Wave
from groupements.roles import CALCULATOR, GROUPEMENT_USER, READER, VALIDATOR
from tests.calculations.campaign_factories import (  # noqa: F401
    campaign_in_status,
    golden_parameters,
    store_golden_datasets,
    typed_parameters,
)
from tests.typography import plain

Status = Campaign.Status
NBSP = "\u00a0"


def change_url(campaign):
    return reverse("admin:calculations_campaign_change", args=[campaign.pk])


def transition(client, campaign, name, reason=""):
    url = reverse("admin:calculations_campaign_transition", args=[campaign.pk])
    return client.post(url, {"transition": name, "reason": reason}, follow=True)


def text(response) -> str:
    return html.unescape(response.content.decode())


def buttons(response):
    return re.findall(r'name="transition" value="(\w+)"', text(response))


@pytest.fixture
def statements_rendered(monkeypatch):
    from reports import services as reports

    calls = []
    monkeypatch.setattr(reports, "render_campaign_statements", lambda *, campaign: calls.append(campaign.status))
    monkeypatch.setattr(reports, "notify_statement_publication", lambda *, campaign: calls.append("notify"))
    return calls


@pytest.mark.django_db
def test_two_users_walk_a_campaign_from_draft_to_paid_in_the_admin(
    client, make_user, loaded_reference, media_root, statements_rendered, django_capture_on_commit_callbacks
):
    store_golden_datasets()
    calculator, validator = make_user(role=CALCULATOR), make_user(role=VALIDATOR)

    client.force_login(calculator)
    response = client.post(
        reverse("admin:calculations_campaign_add"), {"year": "2022", **typed_parameters(golden_parameters())}
    )
    campaign = Campaign.objects.get()
    assert response.status_code == 302, text(response)[:2000]
    assert (campaign.status, campaign.created_by, campaign.parameters["min_patients"]) == (
        Status.DRAFT,
        calculator,
        300,
    )
    assert buttons(client.get(change_url(campaign))) == ["launch"]

    with django_capture_on_commit_callbacks(execute=True):
        transition(client, campaign, "launch")  # the task runs once the launch commits
    campaign.refresh_from_db()
    assert campaign.status == Status.COMPUTED, campaign.error
    response = client.get(change_url(campaign))
    page = text(response)
    assert f"244{NBSP}528,88{NBSP}€" in page  # totals, French money
    assert page.count('<tr class="') >= 12 and "G012" in page
    assert buttons(response) == []  # the calculator may not review
    assert statements_rendered == [Status.COMPUTED]

    client.force_login(validator)
    assert buttons(client.get(change_url(campaign))) == ["reject", "validate"]
    with django_capture_on_commit_callbacks(execute=True):
        response = transition(client, campaign, "validate", "Relu et conforme")
    assert "Valider : Campagne 2022 v1 (Validée)" in plain(text(response))
    assert buttons(response) == ["publish"]
    with django_capture_on_commit_callbacks(execute=True):
        transition(client, campaign, "publish")
    response = transition(client, campaign, "pay")
    campaign.refresh_from_db()

    assert campaign.status == Status.PAID
    assert buttons(response) == []
    steps = list(campaign.transitions.values_list("to_status", "user__username", "actor"))
    assert steps == [
        ("computing", calculator.username, ""),
        ("computed", None, "tâche de calcul"),
        ("validated", validator.username, ""),
        ("published", validator.username, ""),
        ("paid", validator.username, ""),
    ]
    assert statements_rendered == [Status.COMPUTED, Status.VALIDATED, Status.PUBLISHED, "notify"]
    assert campaign.validated_by == validator and campaign.launched_by == calculator
    history = text(response)
    assert "Relu et conforme" in history and "système (tâche de calcul)" in history


@pytest.mark.django_db
def test_the_launcher_sees_no_validate_button_and_a_forged_post_is_refused(client, make_user):
    both_roles = make_user(role=CALCULATOR)
    both_roles.groups.add(*make_user(role=VALIDATOR).groups.all())
    campaign = campaign_in_status(Status.COMPUTED, launched_by=both_roles)
    client.force_login(both_roles)

    assert buttons(client.get(change_url(campaign))) == ["reject"]
    response = transition(client, campaign, "validate")

    assert "Double contrôle" in text(response)
    campaign.refresh_from_db()
    assert campaign.status == Status.COMPUTED and not CampaignTransition.objects.exists()


@pytest.mark.django_db
def test_a_reader_sees_the_campaign_without_buttons_and_cannot_post_transitions(client, make_user):
    campaign = campaign_in_status(Status.COMPUTED)
    client.force_login(make_user(role=READER))

    response = client.get(change_url(campaign))
    assert response.status_code == 200 and buttons(response) == []
    response = transition(client, campaign, "validate")
    assert "n'a pas le droit" in plain(text(response))
    assert client.get(reverse("admin:calculations_campaign_transition", args=[campaign.pk])).status_code == 405

    client.force_login(make_user(role=GROUPEMENT_USER))
    assert client.get(change_url(campaign)).status_code == 302  # not staff: to the login page
    transition(client, campaign, "validate")
    campaign.refresh_from_db()
    assert campaign.status == Status.COMPUTED and not CampaignTransition.objects.exists()


@pytest.mark.django_db
def test_rejection_form_requires_a_reason(client, make_user):
    campaign = campaign_in_status(Status.COMPUTED)
    client.force_login(make_user(role=VALIDATOR))

    assert "motif est obligatoire" in text(transition(client, campaign, "reject", ""))
    transition(client, campaign, "reject", "Seuil à revoir")
    campaign.refresh_from_db()
    assert campaign.status == Status.DRAFT


@pytest.mark.django_db
def test_computing_page_refreshes_with_its_progress_and_detects_a_dead_worker(client, make_user):
    campaign = campaign_in_status(
        Status.COMPUTING, heartbeat_at=timezone.now(), progress=0.42, progress_step="3. truncation 2019"
    )
    client.force_login(make_user(role=READER))

    page = text(client.get(change_url(campaign)))
    assert '<meta http-equiv="refresh"' in page
    assert "3. truncation 2019" in page and "42 %" in page

    stale = timezone.now() - datetime.timedelta(seconds=settings.IPEP_CAMPAIGN_STALE_AFTER_SECONDS + 5)
    Campaign.objects.filter(pk=campaign.pk).update(heartbeat_at=stale)
    page = text(client.get(change_url(campaign)))
    campaign.refresh_from_db()
    assert campaign.status == Status.FAILED
    assert '<meta http-equiv="refresh"' not in page and "Calcul interrompu" in page


@pytest.mark.django_db
def test_results_table_sorts_on_a_column(
    client, make_user, loaded_reference, media_root, django_capture_on_commit_callbacks
):
    from calculations.services.campaigns import create_campaign, launch_campaign

    store_golden_datasets()
    calculator = make_user(role=CALCULATOR)
    campaign = create_campaign(year=2022, user=calculator, parameters=golden_parameters())
    with django_capture_on_commit_callbacks() as callbacks:
        launch_campaign(campaign=campaign, user=calculator)
    callbacks[0]()
    client.force_login(make_user(role=READER))

    def codes(order):
        page = text(client.get(change_url(campaign), {"tri": order}))
        table = page[page.index('id="campaign-results"') :]
        return re.findall(r"<td class=\"\">(G\d{3})</td>", table)

    by_amount = list(campaign.results.order_by("-final_amount", "code").values_list("code", flat=True))
    assert codes("-final_amount") == by_amount
    assert codes("code") == sorted(by_amount)
    assert codes("not_a_column") == sorted(by_amount)


@pytest.mark.django_db
def test_parameters_are_editable_in_draft_only(client, make_user):
    calculator = make_user(role=CALCULATOR)
    client.force_login(calculator)
    draft = campaign_in_status(Status.DRAFT, parameters={"min_patients": 5000})

    page = text(client.get(change_url(draft)))
    assert re.search(r'name="min_patients" value="5000"', page)  # pre-filled with the draft's own
    assert ">Efficience<" in page and ">Robustesse<" in page

    response = client.post(change_url(draft), typed_parameters({"min_patients": "250", "c_partage": "0,6"}))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.parameters["min_patients"], draft.parameters["c_partage"]) == (250, "0.6")
    response = client.post(change_url(draft), typed_parameters({"c_ecart": "1/2"}))
    assert "Les poids de l'écart et de l'évolution doivent faire 1 ensemble (ici 7/6)." in plain(text(response))

    Campaign.objects.filter(pk=draft.pk).update(status=Status.COMPUTED)
    page = text(client.get(change_url(draft)))
    assert 'name="min_patients"' not in page and "campaign-parameters" in page  # read-only once computed
    client.post(change_url(draft), typed_parameters({"min_patients": "1"}))
    draft.refresh_from_db()
    assert draft.parameters["min_patients"] == 250


@pytest.mark.django_db
def test_history_pages_of_campaigns_and_reference_data_open(client, make_user, loaded_reference):
    campaign = campaign_in_status(Status.DRAFT)
    client.force_login(make_user(role=READER))
    for url in (
        reverse("admin:calculations_campaign_history", args=[campaign.pk]),
        reverse("admin:groupements_wave_history", args=[Wave.objects.get(code="V1").pk]),
    ):
        page = text(client.get(url))
        assert "Journal d'audit" in plain(page)
        if not settings.USES_POSTGRES:
            assert "SQLite" in page


@pytest.mark.django_db
def test_the_creation_form_refuses_a_year_out_of_range_instead_of_storing_an_unlaunchable_campaign(client, make_user):
    client.force_login(make_user(role=CALCULATOR))
    response = client.post(reverse("admin:calculations_campaign_add"), {"year": "0", **typed_parameters()})
    assert response.status_code == 200
    assert "Année de campagne invalide" in text(response)
    assert not Campaign.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("order", ["--code", "-", "", "nonexistent", "-final_amount"])
def test_a_forged_sort_order_on_the_campaign_page_never_crashes_it(order, client, make_user):
    campaign = campaign_in_status(Status.COMPUTED)
    client.force_login(make_user(role=READER))
    assert client.get(change_url(campaign), {"tri": order}).status_code == 200


@pytest.mark.django_db
def test_the_creation_form_has_one_typed_field_per_parameter_and_refuses_on_the_field(client, make_user):
    client.force_login(make_user(role=CALCULATOR))
    url = reverse("admin:calculations_campaign_add")
    page = text(client.get(url))
    assert 'name="parameters"' not in page  # no raw JSON box any more
    for group in ("Efficience", "Qualité", "Plafonds", "Robustesse"):
        assert f">{group}<" in page
    assert re.search(r'name="quality_envelope_rate" value="0,005"', page)
    assert "Par défaut : 1/3." in plain(page)

    response = client.post(url, {"year": "2022", **typed_parameters({"c_partage": "1,5"})})
    page = text(response)
    assert response.status_code == 200 and not Campaign.objects.exists()
    field = re.search(r'<div class="[^"]*field-c_partage[^"]*">(.*?)</div>\s*</div>', page, re.S).group(1)
    assert "La valeur doit être au plus 1 (c'est une part)." in plain(field)

    response = client.post(url, {"year": "2022", **typed_parameters({"national_ceiling_rate": "0,0065"})})
    assert response.status_code == 302
    campaign = Campaign.objects.get()
    assert campaign.parameters["national_ceiling_rate"] == "0.0065"
    assert campaign.parameters["c_ecart"] == "1/3"
