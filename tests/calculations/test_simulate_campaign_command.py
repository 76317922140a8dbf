"""`manage.py simulate_campaign`: a what-if on the stored golden campaign (METHODOLOGY.md section 10).

With no `--param` it reproduces the campaign to the cent (every difference zero) and its `simulation` is
exactly what `manage.py simulate` writes for the same bundle; one changed parameter gives differences
computed by hand below; the campaign, its results and its history are never touched; a changed input
is refused."""

import json

import pytest
from django.core.management import CommandError, call_command

from calculations.models import Campaign
from calculations.selectors.campaigns import campaign_results_json
from calculations.services import campaigns as services
from calculations.services.simulations import COMPARED_FIGURES
from groupements.roles import CALCULATOR
from tests.calculations.campaign_factories import golden_parameters, launch_and_compute, store_golden_datasets
from tests.golden import golden_results


@pytest.fixture
def computed(loaded_reference, media_root, make_user, django_capture_on_commit_callbacks):
    """The golden campaign 2022 v1, computed and stored (its results are the golden file's, to the cent)."""
    calculator = make_user(role=CALCULATOR)
    store_golden_datasets()
    draft = services.create_campaign(year=2022, user=calculator, parameters=golden_parameters())
    campaign = launch_and_compute(draft, calculator, django_capture_on_commit_callbacks)
    assert campaign.status == Campaign.Status.COMPUTED, campaign.error
    return campaign


def run(tmp_path, *arguments, name="simulation.json") -> dict | str:
    output = tmp_path / name
    as_csv = ["--format", "csv"] if name.endswith(".csv") else []
    call_command("simulate_campaign", "--year", "2022", *arguments, *as_csv, "--output", str(output))
    content = output.read_bytes().decode("utf-8-sig")
    return content if name.endswith(".csv") else json.loads(content)


def campaign_state(campaign: Campaign) -> tuple:
    campaign.refresh_from_db()
    return (
        json.dumps(campaign_results_json(campaign=campaign), sort_keys=True),
        campaign.status,
        campaign.parameters,
        list(campaign.transitions.values_list("pk", "to_status")),
        campaign.computed_at,
    )


@pytest.mark.django_db
def test_own_parameters_reproduce_the_campaign_to_the_cent(computed, tmp_path):
    before = campaign_state(computed)

    report = run(tmp_path)

    assert (report["year"], report["version"]) == (2022, 1)
    assert report["parameters"] == computed.parameters
    # The exact output of `manage.py simulate` on the golden bundle.
    assert report["simulation"] == json.loads(json.dumps(golden_results().to_json_dict()))
    totals = report["differences"]["totals"]
    assert totals["final_amount"] == {
        "campaign": "244528.88",
        "simulated": "244528.88",
        "difference": "0.00",
        "percent": 0.0,
    }
    assert totals["national_coefficient"]["difference"] == 0.0
    lines = report["differences"]["groupements"]
    assert [line["code"] for line in lines] == [f"G{i:03d}" for i in range(1, 13)]
    stored = {r.code: r for r in computed.results.all()}
    for line in lines:
        assert (
            line["final_amount"]["simulated"]
            == line["final_amount"]["campaign"]
            == str(stored[line["code"]].final_amount)
        )
        for name in COMPARED_FIGURES:
            assert line[name]["difference"] in (0.0, "0.00"), (line["code"], name)
            assert line[name]["percent"] == 0.0
    assert campaign_state(computed) == before


@pytest.mark.django_db
def test_a_higher_national_ceiling_pays_the_amounts_after_cap_unscaled(computed, tmp_path):
    """national_ceiling_rate 0.01 → 0.02: C = 0.02 × 37 619 827,88 = 752 396,56 € is above
    Σ after cap = 288 548,89 €, so k = 1 and each groupement is paid its amount after cap, half-up
    to the cent. Efficiency, quality and after-cap amounts do not move."""
    before = campaign_state(computed)

    report = run(tmp_path, "--param", "national_ceiling_rate=0.02")

    assert report["parameters"]["national_ceiling_rate"] == "0.02"
    assert report["parameters"]["c_partage"] == computed.parameters["c_partage"]
    lines = {line["code"]: line for line in report["differences"]["groupements"]}
    # G001: after cap 4 192,767936… → 4 192,77; the campaign paid 4 192,767936… × 0,847443… → 3 553,13.
    assert lines["G001"]["final_amount"]["campaign"] == "3553.13"
    assert lines["G001"]["final_amount"]["simulated"] == "4192.77"
    assert lines["G001"]["final_amount"]["difference"] == "639.64"
    assert lines["G001"]["final_amount"]["percent"] == pytest.approx(639.64 / 3553.13 * 100, rel=1e-12)
    # G003: capped at 77 632,9406 → 77 632,94 instead of 65 789,53.
    assert lines["G003"]["final_amount"]["difference"] == "11843.41"
    for line in lines.values():
        for name in ("efficiency_amount", "quality_amount", "amount_after_cap"):
            assert line[name]["difference"] == 0.0
    totals = report["differences"]["totals"]
    # 4 192,77 + 5 230,46 + 77 632,94 + 7 598,85 + 41 112,89 + 19 689,46 + 31 865,25 + 3 586,50
    # + 8 878,63 + 8 337,59 + 74 648,97 + 5 774,57 = 288 548,88
    assert totals["final_amount"]["simulated"] == "288548.88"
    assert totals["final_amount"]["difference"] == "44020.00"
    assert totals["national_coefficient"]["simulated"] == 1.0
    assert totals["national_coefficient"]["difference"] == 1.0 - 0.8474434890307838
    assert campaign_state(computed) == before


@pytest.mark.django_db
def test_csv_lists_totals_first_with_a_decimal_comma(computed, tmp_path):
    content = run(tmp_path, "--param", "national_ceiling_rate=0.02", name="ecarts.csv")
    header, total, first, *_ = content.splitlines()
    assert header.split(";")[:5] == [
        "Groupement",
        "Montant final – campagne",
        "Montant final – simulation",
        "Montant final – écart (€)",
        "Montant final – écart (%)",
    ]
    assert total.split(";")[:4] == ["Total", "244528,88", "288548,88", "44020,00"]
    assert first.split(";")[:4] == ["G001", "3553,13", "4192,77", "639,64"]


@pytest.mark.django_db
def test_a_refused_parameter_or_a_changed_dataset_stops_before_writing(computed, media_root, tmp_path, capsys):
    with pytest.raises(CommandError):
        run(tmp_path, "--param", "c_ecart=1/2")  # c_ecart + c_evolution would be 7/6
    assert not (tmp_path / "simulation.json").exists()

    stored = computed.campaign_datasets.get(year=2022).dataset.parquet_file.name
    (media_root / stored).write_bytes(b"PAR1 not the validated file PAR1")
    with pytest.raises(CommandError):
        run(tmp_path)
    assert not (tmp_path / "simulation.json").exists()
    assert "SHA-256" in capsys.readouterr().err


@pytest.mark.django_db
def test_a_campaign_without_results_cannot_be_simulated(loaded_reference, make_user, tmp_path):
    services.create_campaign(year=2022, user=make_user(role=CALCULATOR), parameters=golden_parameters())
    with pytest.raises(CommandError):
        run(tmp_path)
    with pytest.raises(CommandError):
        run(tmp_path, "--campaign-version", "3")
