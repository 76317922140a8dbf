"""`manage.py ingest_file PATH --year Y`: valid, rejected (problems on stderr, non-zero exit), again."""

import io

import pytest
from django.core.management import CommandError, call_command

from calculations.models import Dataset

pytestmark = pytest.mark.django_db
NBSP = "\u00a0"


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("ingest_file", *map(str, args), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_ingest_a_valid_file_then_the_same_again(golden_dir, media_root):
    out, err = run(golden_dir / "beneficiaires_2019.csv", "--year", 2019)
    dataset = Dataset.objects.get()
    assert dataset.status == Dataset.Status.VALID
    assert f"Jeu de données n° {dataset.pk} (2019) valide : 25 000 lignes" in out
    assert f"Parquet : {dataset.parquet_file.name} (SHA-256 {dataset.parquet_sha256})" in out
    assert (media_root / dataset.parquet_file.name).is_file()
    assert "100 % terminé" in err  # the progress (one line per step when stderr is not a terminal)
    out, _ = run(golden_dir / "beneficiaires_2019.csv", "--year", 2019, "--no-progress")
    assert "déjà enregistré" in out and Dataset.objects.count() == 1


def test_a_rejected_file_prints_its_problems_and_fails(tmp_path, media_root):
    source = tmp_path / "beneficiaires_2020.csv"
    source.write_text(
        "id_patient;age;sexe;ald;css;deces;rpps_mt;depenses\nP1;33;1;0;0;0;;10\nP2;33;1;0;0;0;;1e3\n", encoding="utf-8"
    )
    err = io.StringIO()
    with pytest.raises(CommandError, match="rejeté : 1 problème"):
        call_command("ingest_file", str(source), "--year", "2020", "--no-progress", stdout=io.StringIO(), stderr=err)
    assert err.getvalue().splitlines() == [
        "beneficiaires_2020.csv:3: depenses: ce n'est pas un nombre décimal (séparateur décimal «\u202f.\u202f» ou «\u202f,\u202f», sans exposant, signe ni séparateur de milliers)\u202f: «\u202f1e3\u202f»"
    ]
    assert Dataset.objects.get().status == Dataset.Status.REJECTED


def test_missing_file_and_bad_year(tmp_path, media_root):
    with pytest.raises(CommandError, match="Fichier introuvable"):
        run(tmp_path / "absent.csv", "--year", 2020)
    with pytest.raises(CommandError, match="Année invalide"):
        run(tmp_path / "absent.csv", "--year", 1900)


def test_a_file_with_many_problems_prints_the_first_hundred_then_counts_the_rest(tmp_path, media_root):
    """Issue 18 item 2: 150 negative spends → 100 lines, `… and 50 more`, and 150 problems in the summary."""
    rows = [f"P{i};33;1;0;0;0;;-{i + 1}" for i in range(150)]
    source = tmp_path / "beneficiaires_2020.csv"
    source.write_text("\n".join(["id_patient;age;sexe;ald;css;deces;rpps_mt;depenses", *rows]) + "\n", encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(CommandError, match="rejeté : 150 problème"):
        call_command("ingest_file", str(source), "--year", "2020", "--no-progress", stdout=io.StringIO(), stderr=err)
    lines = err.getvalue().splitlines()
    assert lines[0] == "beneficiaires_2020.csv:2: depenses: ne doit pas être négatif, reçu «\u202f-1\u202f»"
    assert lines[99] == "beneficiaires_2020.csv:101: depenses: ne doit pas être négatif, reçu «\u202f-100\u202f»"
    assert lines[100:] == ["… and 50 more (valeur négative\u202f: 50)"]
