"""« Simuler » in the campaign admin: the typed form pre-filled with the campaign's parameters, the task
(eager here; a real worker in tests/calculations/test_simulation_worker.py), the stored simulation listed
under its campaign, the difference table (totals first, changes marked, sortable), its CSV and XLSX, the
roles that may use it, and the campaign, its results, statements and history left exactly as they were."""

import html
import io
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from calculations.models import Campaign, Simulation
from groupements.models import Groupement
from groupements.roles import CALCULATOR, DATA_MANAGER, GROUPEMENT_USER, READER, VALIDATOR
from tests.calculations.campaign_factories import (
    campaign_in_status,
    campaign_state,
    computed_golden_campaign,
    typed_parameters,
)
from tests.typography import plain

NBSP = "\u00a0"


def text(response) -> str:
    return html.unescape(response.content.decode())


def new_url(campaign):
    return reverse("admin:calculations_simulation_new", args=[campaign.pk])


@pytest.fixture
def computed(loaded_reference, media_root, make_user, django_capture_on_commit_callbacks):
    campaign = computed_golden_campaign(make_user(role=CALCULATOR), django_capture_on_commit_callbacks)
    from reports.models import Statement

    Statement.objects.create(
        campaign=campaign,
        groupement=Groupement.objects.get(code="G001"),
        file="statements/releve.pdf",
        sha256="a" * 64,
        rendered_at=timezone.now(),
    )
    return campaign


def simulate(client, campaign, capture, **changes):
    """Open « Simuler », submit the form as shown with `changes` typed over it, run the task on commit."""
    page = text(client.get(new_url(campaign)))
    shown = dict(re.findall(r'<input type="text" name="(\w+)" value="([^"]*)"', page))
    data = typed_parameters(campaign.parameters)
    assert len(shown) == 14 and {name: data[name] for name in shown} == shown  # the campaign's own values
    with capture(execute=True):
        response = client.post(new_url(campaign), {**data, **changes})
    return response


@pytest.mark.django_db
def test_a_reader_simulates_a_higher_ceiling_and_reads_the_differences(
    computed, client, make_user, django_capture_on_commit_callbacks
):
    for role in (CALCULATOR, VALIDATOR):  # the other roles that may simulate get the form too
        client.force_login(make_user(role=role))
        assert 'name="national_ceiling_rate" value="0,0065"' in text(client.get(new_url(computed)))
    user = make_user(role=READER)
    client.force_login(user)
    before = campaign_state(computed)
    campaign_page = text(client.get(reverse("admin:calculations_campaign_change", args=[computed.pk])))
    assert 'id="campaign-simulate"' in campaign_page and ">Simuler<" in campaign_page

    response = simulate(client, computed, django_capture_on_commit_callbacks, national_ceiling_rate="0,02")
    simulation = Simulation.objects.get()
    assert response.status_code == 302 and response.url == reverse(
        "admin:calculations_simulation_change", args=[simulation.pk]
    )
    assert (simulation.status, simulation.created_by, simulation.overrides) == (
        Simulation.Status.DONE,
        user,
        {"national_ceiling_rate": "0.02"},
    )
    assert simulation.parameters["min_patients"] == 300  # the campaign's own, merged under the change
    assert set(simulation.input_checksums["datasets"]) == {"2018", "2019", "2022"}

    page = text(client.get(response.url))
    total = re.search(r'<tr class="total changed" id="simulation-total">(.*?)</tr>', page, re.S).group(1)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", total)
    # Montant final: campaign 244 528,88 €, simulated 288 548,88 € (k = 1), difference +44 020,00 €.
    assert cells[:3] == [f"244{NBSP}528,88{NBSP}€", f"288{NBSP}548,88{NBSP}€", f"+44{NBSP}020,00{NBSP}€"]
    assert "Coefficient national : campagne 0,847443, simulation 1,000000" in plain(page)
    rows = re.findall(r'<tr class="(changed)?"><th>(G\d+)</th>', page)
    assert [code for _, code in rows] == [f"G{i:03d}" for i in range(1, 13)]
    assert all(changed for changed, _ in rows)  # every groupement's final amount moved
    assert "12 groupements modifiés" in page

    campaign_page = text(client.get(reverse("admin:calculations_campaign_change", args=[computed.pk])))
    assert f"n° {simulation.pk}" in campaign_page and "national_ceiling_rate = 0.02" in campaign_page
    assert campaign_state(computed) == before


@pytest.mark.django_db
def test_the_table_sorts_on_any_column_with_the_totals_kept_first(
    computed, client, make_user, django_capture_on_commit_callbacks
):
    client.force_login(make_user(role=READER))
    url = simulate(client, computed, django_capture_on_commit_callbacks, national_ceiling_rate="0,02").url
    by_difference = re.findall(
        r"<tr[^>]*><th>(G\d+|Total)</th>", text(client.get(url, {"tri": "-final_amount.difference"}))
    )
    # G003 gains the most (77 632,94 − 65 789,53 = 11 843,41 €).
    assert by_difference[:2] == ["Total", "G003"]
    assert re.findall(r"<tr[^>]*><th>(G\d+|Total)</th>", text(client.get(url, {"tri": "nonsense"})))[1] == "G001"


@pytest.mark.django_db
def test_own_parameters_give_the_campaign_to_the_cent_and_nothing_marked(
    computed, client, make_user, django_capture_on_commit_callbacks
):
    client.force_login(make_user(role=VALIDATOR))
    url = simulate(client, computed, django_capture_on_commit_callbacks).url
    simulation = Simulation.objects.get()
    assert simulation.overrides == {}
    page = text(client.get(url))
    assert 'class="changed' not in page and 'td class="num changed"' not in page
    assert "aucun groupement modifié" in page
    stored = {r.code: r.final_amount for r in computed.results.all()}
    for line in simulation.result["differences"]["groupements"]:
        assert line["final_amount"]["simulated"] == str(stored[line["code"]])


@pytest.mark.django_db
def test_csv_and_xlsx_downloads_hold_the_same_table(computed, client, make_user, django_capture_on_commit_callbacks):
    from openpyxl import load_workbook

    client.force_login(make_user(role=CALCULATOR))
    simulate(client, computed, django_capture_on_commit_callbacks, national_ceiling_rate="0,02")
    simulation = Simulation.objects.get()
    response = client.get(reverse("admin:calculations_simulation_csv", args=[simulation.pk]))
    assert response["Content-Type"].startswith("text/csv")
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[1].split(";")[:4] == ["Total", "244528,88", "288548,88", "44020,00"]
    response = client.get(reverse("admin:calculations_simulation_xlsx", args=[simulation.pk]))
    sheet = load_workbook(io.BytesIO(response.content))["Écarts"]
    assert [cell.value for cell in sheet[3]][:4] == ["Total", 244528.88, 288548.88, 44020.0]
    assert sheet["A4"].value == "G001" and sheet["D4"].value == pytest.approx(639.64)


@pytest.mark.django_db
def test_a_refused_parameter_stays_on_its_field_and_nothing_is_stored(computed, client, make_user):
    client.force_login(make_user(role=CALCULATOR))
    response = client.post(new_url(computed), typed_parameters({**computed.parameters, "c_partage": "1,5"}))
    page = text(response)
    assert response.status_code == 200 and not Simulation.objects.exists()
    field = re.search(r'<div class="form-row field-c_partage errors">(.*?)<div class="help">', page, re.S).group(1)
    assert "La valeur doit être au plus 1 (c'est une part)." in plain(field)


@pytest.mark.django_db
@pytest.mark.parametrize("role", [DATA_MANAGER, GROUPEMENT_USER])
def test_other_roles_may_neither_simulate_nor_read_a_simulation(
    role, computed, client, make_user, django_capture_on_commit_callbacks
):
    client.force_login(make_user(role=READER))
    simulate(client, computed, django_capture_on_commit_callbacks)
    simulation = Simulation.objects.get()
    client.force_login(make_user(role=role))
    for url in (
        new_url(computed),
        reverse("admin:calculations_simulation_change", args=[simulation.pk]),
        reverse("admin:calculations_simulation_status", args=[simulation.pk]),
        reverse("admin:calculations_simulation_csv", args=[simulation.pk]),
        reverse("admin:calculations_simulation_xlsx", args=[simulation.pk]),
    ):
        assert client.get(url).status_code in (302, 403), url  # 302: no admin access at all
    assert client.post(new_url(computed), typed_parameters(computed.parameters)).status_code in (302, 403)
    assert Simulation.objects.count() == 1


@pytest.mark.django_db
def test_a_campaign_without_results_offers_no_simulation(client, make_user, loaded_reference):
    draft = campaign_in_status(Campaign.Status.DRAFT)
    client.force_login(make_user(role=CALCULATOR))
    page = text(client.get(reverse("admin:calculations_campaign_change", args=[draft.pk])))
    assert 'id="campaign-simulate"' not in page
    response = client.post(new_url(draft), typed_parameters(), follow=True)
    assert "n'a pas de résultats calculés à comparer" in plain(text(response))
    assert not Simulation.objects.exists()
