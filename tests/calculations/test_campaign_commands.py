"""create_campaign, run_campaign (launch, wait, JSON read back from the database) and transition_campaign."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from calculations.models import Campaign, CampaignTransition
from groupements.roles import CALCULATOR, VALIDATOR
from tests.calculations.campaign_factories import (  # noqa: F401
    campaign_in_status,
    exact_cents_differences,
    expected_golden,
    store_golden_datasets,
)
from tests.conftest import GOLDEN_DIR

Status = Campaign.Status


def run(*args):
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def statements_rendered(monkeypatch):
    """The statements' rendering (reports issue) is recorded, not run: these tests are about the campaign."""
    from reports import services as reports

    calls = []
    monkeypatch.setattr(reports, "render_campaign_statements", lambda *, campaign: calls.append(campaign.pk))
    return calls


@pytest.mark.django_db(transaction=True)
def test_from_a_loaded_database_create_and_run_reproduce_the_golden_file(
    loaded_reference, media_root, tmp_path, statements_rendered
):
    store_golden_datasets()
    out, _ = run("create_campaign", "--year", "2022", "--parameters", str(GOLDEN_DIR / "parametres.json"))
    assert "Campagne 2022 v1 (Brouillon) créée" in out
    output = tmp_path / "resultats_2022.json"

    _, err = run("run_campaign", "--year", "2022", "--output", str(output))

    campaign = Campaign.objects.get(year=2022)
    assert campaign.status == Status.COMPUTED
    assert "montant final 244\u00a0528,88\u00a0€" in err  # French figures, as everywhere a person reads
    differences, compared = exact_cents_differences(expected_golden(), json.loads(output.read_text(encoding="utf-8")))
    assert differences == [] and compared > 300
    assert statements_rendered == [campaign.pk]  # draft statements once computed
    launch = CampaignTransition.objects.get(to_status="computing")
    assert (launch.user, launch.actor) == (None, "ligne de commande")

    # Run again: already computed, not relaunched; the same stored results are written.
    again = tmp_path / "again.json"
    run("run_campaign", "--year", "2022", "--output", str(again))
    assert again.read_text(encoding="utf-8") == output.read_text(encoding="utf-8")
    assert CampaignTransition.objects.filter(to_status="computing").count() == 1


@pytest.mark.django_db
def test_create_campaign_reports_every_bad_parameter_and_exits_non_zero(capsys):
    with pytest.raises(CommandError, match="non créée"):
        call_command(
            "create_campaign",
            "--year",
            "2022",
            "--param",
            "c_ecart=0.5",
            "--param",
            "nonexistent=1",
            "--param",
            "min_patients=abc",
        )
    err = capsys.readouterr().err
    assert "c_ecart" in err and "nonexistent" in err and "min_patients" in err
    assert not Campaign.objects.exists()


@pytest.mark.django_db
def test_create_campaign_names_the_source_value_and_reason_of_each_bad_parameter(tmp_path, capsys):
    parameters = tmp_path / "parametres.json"
    parameters.write_text('{"c_partage": "1.5", "min_patients": 300}', encoding="utf-8")

    with pytest.raises(CommandError) as refused:
        call_command(
            "create_campaign", "--year", "2022", "--parameters", str(parameters), "--param", "noise_gate=peut-être"
        )

    assert str(refused.value) == "campagne 2022 non créée : 2 problème(s)"
    assert capsys.readouterr().err.splitlines() == [
        "parametres.json: c_partage: doit être au plus 1, reçu 1,5",
        "--param: noise_gate: doit valoir «\u202foff\u202f» ou «\u202fon\u202f», reçu «\u202fpeut-être\u202f»",
    ]
    assert not Campaign.objects.exists()


@pytest.mark.django_db
def test_create_campaign_does_not_stop_at_an_unreadable_file_or_a_malformed_param(tmp_path, capsys):
    parameters = tmp_path / "parametres.json"
    parameters.write_text('{"c_partage": 0.5,}', encoding="utf-8")

    with pytest.raises(CommandError, match="4 problème"):
        call_command(
            "create_campaign",
            "--year",
            "2022",
            "--parameters",
            str(parameters),
            "--param",
            "min_patients",
            "--param",
            "confidence_level=1",
            "--dataset",
            "2022=abc",
        )

    assert capsys.readouterr().err.splitlines() == [
        "--dataset '2022=abc' : donnez au moins 6 caractères du SHA-256",
        "parametres.json:1: -: JSON invalide (ligne 1, colonne 19)",
        "--param: min_patients: attendu nom=valeur",
        "--param: confidence_level: doit être dans ]0, 1[ (bornes exclues), reçu 1",
    ]
    assert not Campaign.objects.exists()


@pytest.mark.django_db
def test_run_campaign_without_a_campaign_says_how_to_create_it():
    with pytest.raises(CommandError, match="create_campaign --year 2022"):
        run("run_campaign", "--year", "2022")


@pytest.mark.django_db
def test_run_campaign_refuses_incomplete_inputs_with_every_problem(loaded_reference, media_root, capsys):
    run("create_campaign", "--year", "2022")
    with pytest.raises(CommandError, match="non lancée"):
        call_command("run_campaign", "--year", "2022")
    err = capsys.readouterr().err
    assert "beneficiaires_2018" in err and "beneficiaires_2019" in err and "beneficiaires_2022" in err
    assert Campaign.objects.get().status == Status.DRAFT


@pytest.mark.django_db
def test_transition_campaign_needs_a_user_for_four_eyes_and_checks_the_role(make_user, capsys):
    campaign_in_status(Status.COMPUTED)
    with pytest.raises(CommandError, match="transition refusée"):
        call_command("transition_campaign", "--year", "2022", "--to", "validated")
    assert "--user" in capsys.readouterr().err
    calculator = make_user(role=CALCULATOR, username="calc")
    with pytest.raises(CommandError):
        call_command("transition_campaign", "--year", "2022", "--to", "validated", "--user", calculator.username)
    with pytest.raises(CommandError):
        call_command("transition_campaign", "--year", "2022", "--to", "validated", "--user", "nobody")
    assert Campaign.objects.get().status == Status.COMPUTED

    make_user(role=VALIDATOR, username="val")
    out, _ = run("transition_campaign", "--year", "2022", "--to", "validated", "--user", "val", "--reason", "relu")
    assert "Validée" in out
    record = CampaignTransition.objects.get()
    assert (record.to_status, record.user.username, record.reason) == ("validated", "val", "relu")


@pytest.mark.django_db
def test_transition_campaign_rejects_only_with_a_reason(make_user, capsys):
    make_user(role=VALIDATOR, username="val")
    campaign_in_status(Status.COMPUTED)
    with pytest.raises(CommandError):
        call_command("transition_campaign", "--year", "2022", "--to", "draft", "--user", "val")
    assert "motif est obligatoire" in capsys.readouterr().err
    run("transition_campaign", "--year", "2022", "--to", "draft", "--user", "val", "--reason", "paramètres à revoir")
    assert Campaign.objects.get().status == Status.DRAFT


@pytest.mark.django_db
def test_create_campaign_refuses_a_year_out_of_range_and_exits_non_zero(capsys):
    with pytest.raises(CommandError, match="non créée"):
        call_command("create_campaign", "--year", "0")
    assert "Année de campagne invalide" in capsys.readouterr().err
    assert not Campaign.objects.exists()


def test_simulate_refuses_an_output_in_a_missing_directory_before_computing(tmp_path, monkeypatch):
    from calculations.management.commands import simulate

    monkeypatch.setattr(
        simulate, "simulate", lambda *a, **k: pytest.fail("computed although the output cannot be written")
    )
    with pytest.raises(CommandError, match="le dossier .* n.existe pas"):
        run("simulate", str(GOLDEN_DIR), "--year", "2022", "--output", str(tmp_path / "missing" / "out.json"))


@pytest.mark.django_db
def test_run_campaign_refuses_an_output_in_a_missing_directory_before_launching(tmp_path):
    campaign_in_status(Status.DRAFT)
    with pytest.raises(CommandError, match="n'existe pas"):
        run("run_campaign", "--year", "2022", "--output", str(tmp_path / "missing" / "out.json"))
    assert Campaign.objects.get().status == Status.DRAFT
