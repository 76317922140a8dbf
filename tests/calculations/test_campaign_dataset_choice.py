"""The national file of each year is chosen when a campaign is created (the latest valid one unless the
calculator picks another), stored, shown, and never changed by a later upload; the migration gives
existing campaigns the files they used."""

import html
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from calculations.bundle.beneficiaries import scan_beneficiaries
from calculations.models import Campaign, CampaignDataset
from calculations.selectors import campaigns as campaign_selectors
from calculations.selectors.campaigns import campaign_results_json, latest_campaign_year, reference_snapshot
from calculations.selectors.datasets import dataset_years_needed
from calculations.services import campaigns as services
from calculations.services.transitions import CampaignError
from groupements.roles import CALCULATOR, READER
from tests.calculations.campaign_factories import (
    exact_cents_differences,
    expected_golden,
    golden_parameters,
    launch_and_compute,
    store_golden_datasets,
    store_valid_dataset,
    typed_parameters,
)
from tests.golden import GOLDEN_DIR
from tests.migrations import migrate
from tests.typography import plain

Status = Campaign.Status


@pytest.fixture
def calculator(make_user):
    return make_user(role=CALCULATOR)


def newer_2022_file():
    """A later, valid upload of 2022 with other content (the golden file without its first 500 rows):
    a campaign computed on it pays other amounts."""
    frame = scan_beneficiaries(GOLDEN_DIR / "beneficiaires_2022.csv").collect().slice(500)
    return store_valid_dataset(2022, frame, name="beneficiaires_2022_corrige.csv")


def chosen(campaign) -> dict[int, int]:
    return dict(campaign.campaign_datasets.order_by("year").values_list("year", "dataset_id"))


def page(response) -> str:
    return html.unescape(response.content.decode())


@pytest.mark.django_db
def test_the_years_offered_are_those_the_engine_needs(loaded_reference):
    golden_years = campaign_selectors.snapshot_inputs(reference_snapshot(year=2022)).years_needed()
    assert dataset_years_needed(year=2022) == golden_years == [2018, 2019, 2022]
    assert dataset_years_needed(year=2030) == [2030]  # nobody takes part: N only
    assert latest_campaign_year() == 2022  # the calendar goes to 2023, the indicator results to 2022


@pytest.mark.django_db
def test_a_later_upload_never_changes_an_existing_campaign(
    loaded_reference, media_root, calculator, django_capture_on_commit_callbacks
):
    golden = store_golden_datasets()
    campaign = services.create_campaign(year=2022, user=calculator, parameters=golden_parameters())
    assert chosen(campaign) == {year: dataset.pk for year, dataset in golden.items()}
    row = campaign.campaign_datasets.get(year=2022)
    assert (row.chosen_by, row.sha256) == (calculator, golden[2022].sha256)

    newer = newer_2022_file()  # uploaded after the creation: now the latest valid file of 2022
    campaign = launch_and_compute(campaign, calculator, django_capture_on_commit_callbacks)

    assert campaign.status == Status.COMPUTED, campaign.error
    assert chosen(campaign) == {year: dataset.pk for year, dataset in golden.items()}
    assert exact_cents_differences(expected_golden(), campaign_results_json(campaign=campaign))[0] == []
    # A campaign created now takes the newer file by default, and its amounts differ.
    Campaign.objects.filter(pk=campaign.pk).update(status=Status.SUPERSEDED)
    other = services.create_campaign(year=2022, user=calculator, parameters=golden_parameters())
    assert chosen(other)[2022] == newer.pk
    other = launch_and_compute(other, calculator, django_capture_on_commit_callbacks)
    assert other.final_amount != campaign.final_amount


@pytest.mark.django_db
def test_the_calculator_may_choose_an_older_file_and_change_it_while_in_draft(loaded_reference, media_root, calculator):
    golden = store_golden_datasets()
    newer = newer_2022_file()
    campaign = services.create_campaign(year=2022, user=calculator, datasets={2022: golden[2022]})
    assert chosen(campaign)[2022] == golden[2022].pk
    first_choice = campaign.campaign_datasets.get(year=2018)

    services.choose_campaign_datasets(campaign=campaign, user=calculator, datasets={2022: newer, 2018: None})
    assert chosen(campaign) == {2018: golden[2018].pk, 2019: golden[2019].pk, 2022: newer.pk}
    assert campaign.campaign_datasets.get(year=2018).chosen_at == first_choice.chosen_at  # unchanged rows kept

    with pytest.raises(CampaignError) as refused:
        services.choose_campaign_datasets(campaign=campaign, user=calculator, datasets={2020: golden[2019]})
    assert refused.value.messages == [
        "La campagne 2022 n'utilise pas de fichier national de 2020 (années utilisées : 2018, 2019, 2022)."
    ]
    with pytest.raises(CampaignError, match="n'est pas un fichier national validé de 2019"):
        services.choose_campaign_datasets(campaign=campaign, user=calculator, datasets={2019: golden[2018]})
    Campaign.objects.filter(pk=campaign.pk).update(status=Status.COMPUTED)
    with pytest.raises(CampaignError, match="ne sont plus modifiables"):
        services.choose_campaign_datasets(campaign=campaign, user=calculator, datasets={2022: golden[2022]})


@pytest.mark.django_db
def test_a_year_without_a_valid_file_at_creation_takes_the_latest_at_launch(loaded_reference, media_root, calculator):
    store_golden_datasets(years=(2019, 2022))
    campaign = services.create_campaign(year=2022, user=calculator, parameters=golden_parameters())
    assert sorted(chosen(campaign)) == [2019, 2022]
    late = store_golden_datasets(years=(2018,))[2018]
    services.launch_campaign(campaign=campaign, user=calculator)
    assert chosen(campaign)[2018] == late.pk


@pytest.mark.django_db
def test_the_creation_form_offers_each_needed_year_and_stores_the_choice(
    client, make_user, loaded_reference, media_root, calculator
):
    golden = store_golden_datasets()
    newer = newer_2022_file()
    client.force_login(calculator)
    url = reverse("admin:calculations_campaign_add")

    form = page(client.get(url))
    assert 'name="year" value="2022"' in form  # the latest year a campaign can use
    for year in (2018, 2019, 2022):
        assert f'name="dataset_{year}"' in form
    selected = re.search(r'<select name="dataset_2022".*?</select>', form, re.S).group(0)
    assert re.search(rf'<option value="{newer.pk}" selected>n° {newer.pk} · beneficiaires_2022_corrige.csv · '
                     rf"déposé le \d\d/\d\d/\d{{4}} à \d\d:\d\d · 24\u00a0500 lignes · SHA-256 {newer.sha256[:12]}…",
                     selected), selected  # fmt: skip
    assert f'<option value="{golden[2022].pk}">' in selected

    # The year typed needs other files than the selects shown: shown again, nothing created.
    response = client.post(url, {"year": "2030", **typed_parameters(), "dataset_years": "2018,2019,2022"})
    assert response.status_code == 200 and not Campaign.objects.exists()
    refused = plain(page(response))
    assert "La campagne 2030 utilise les fichiers nationaux de 2030 : choisissez-les ci-dessous" in refused

    fields = {"year": "2022", **typed_parameters(), "dataset_years": "2018,2019,2022", "dataset_2022": golden[2022].pk}
    response = client.post(url, {**fields, "dataset_2018": golden[2018].pk, "dataset_2019": golden[2019].pk})
    assert response.status_code == 302, page(response)[:3000]
    campaign = Campaign.objects.get()
    assert chosen(campaign) == {year: dataset.pk for year, dataset in golden.items()}

    shown = page(client.get(reverse("admin:calculations_campaign_change", args=[campaign.pk])))
    panel = shown[shown.index('id="campaign-datasets"') :]
    assert f"n° {golden[2022].pk} · beneficiaires_2022.csv" in panel and golden[2022].sha256[:12] in panel

    # In draft the change page changes the choice; a reader sees it without selects.
    change = reverse("admin:calculations_campaign_change", args=[campaign.pk])
    response = client.post(change, {**typed_parameters(), "dataset_years": "2018,2019,2022", "dataset_2022": newer.pk})
    assert response.status_code == 302, page(response)[:3000]
    assert chosen(campaign)[2022] == newer.pk
    client.force_login(make_user(role=READER))
    shown = page(client.get(change))
    assert 'name="dataset_2022"' not in shown and f"n° {newer.pk} · beneficiaires_2022_corrige.csv" in shown


@pytest.mark.django_db
def test_create_campaign_command_names_the_files(loaded_reference, media_root, capsys):
    golden = store_golden_datasets()
    newer_2022_file()
    call_command("create_campaign", "--year", "2022", "--dataset", f"2022={golden[2022].sha256[:10]}")
    campaign = Campaign.objects.get()
    assert chosen(campaign) == {year: dataset.pk for year, dataset in golden.items()}
    out = capsys.readouterr().out
    assert f"fichier national 2022 : n° {golden[2022].pk} · beneficiaires_2022.csv" in out

    Campaign.objects.all().delete()
    with pytest.raises(CommandError, match="campagne 2022 non créée"):
        call_command("create_campaign", "--year", "2022", "--dataset", "2022=ffffffffff", "--dataset", "2022")
    assert capsys.readouterr().err.splitlines() == [
        "--dataset '2022=ffffffffff' : aucun jeu de données ne correspond à 'ffffffffff'",
        "--dataset '2022' : attendu ANNEE=N° ou ANNEE=SHA-256, par exemple 2022=12",
    ]
    with pytest.raises(CommandError, match="campagne 2022 non créée"):
        call_command("create_campaign", "--year", "2022", "--dataset", f"2022={golden[2019].pk}")
    assert (
        capsys.readouterr().err.strip()
        == f"Le jeu de données n° {golden[2019].pk} n'est pas un fichier national validé de 2022."
    )


@pytest.mark.django_db(transaction=True)
def test_the_migration_gives_existing_campaigns_the_files_they_used():
    old = migrate([("calculations", "0008_robustness_and_sensitivity")])
    wave = old.get_model("groupements", "Wave").objects.create(
        code="V1", label="Vague 1", entry_year=2019, reference_year=2018
    )
    old.get_model("groupements", "Groupement").objects.create(code="G001", name="MSP", wave=wave, region="Bretagne")
    old.get_model("groupements", "PhaseCalendar").objects.create(wave=wave, year=2022, phase=3)
    Dataset = old.get_model("calculations", "Dataset")
    files = {
        (year, n): Dataset.objects.create(
            year=year, original_name=f"b{year}_{n}.csv", sha256=f"{year}{n}".ljust(64, "0"), status="valid"
        )
        for year in (2018, 2021, 2022)
        for n in (1, 2)
    }
    Campaign_ = old.get_model("calculations", "Campaign")
    launched = Campaign_.objects.create(year=2022, version=1, status="published")
    old.get_model("calculations", "CampaignDataset").objects.create(
        campaign=launched, dataset=files[2022, 1], year=2022, sha256=files[2022, 1].sha256
    )
    draft = Campaign_.objects.create(year=2022, version=2, status="draft")

    migrate()

    assert chosen(Campaign.objects.get(pk=launched.pk)) == {2022: files[2022, 1].pk}  # what it used
    assert chosen(Campaign.objects.get(pk=draft.pk)) == {2018: files[2018, 2].pk, 2022: files[2022, 2].pk}
    assert CampaignDataset.objects.filter(campaign_id=launched.pk, chosen_at__isnull=False).count() == 1
