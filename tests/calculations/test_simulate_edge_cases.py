"""Issue 18: the edge cases of METHODOLOGY v3.1 (sections 3, 4.5, 4.11), each on a small bundle written
by the test (`tests.calculations.small_bundle`), through `manage.py simulate`."""

from __future__ import annotations

import io
import json
from decimal import Decimal

import polars as pl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from calculations.bundle.beneficiaries import BENEFICIARY_SCHEMA
from tests.calculations.small_bundle import (
    DEFAULT_FILES,
    DEFAULT_SPEND,
    G1_DOCTOR,
    G2_DOCTOR,
    OUTSIDE_DOCTOR,
    beneficiaries_rows,
    write_bundle,
)


def simulated(tmp_path, files=None, *params: str) -> dict:
    bundle = write_bundle(tmp_path / "bundle", files)
    output = tmp_path / "results.json"
    call_command("simulate", str(bundle), "--year", "2022", *params, "--output", str(output), stderr=io.StringIO())
    return json.loads(output.read_text(encoding="utf-8"))


def refusal(tmp_path, files=None, *params: str) -> tuple[list[str], str]:
    """(the problem lines on stderr, the command's error) of a bundle simulate must refuse."""
    bundle = write_bundle(tmp_path / "bundle", files)
    stderr = io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("simulate", str(bundle), "--year", "2022", *params, stdout=io.StringIO(), stderr=stderr)
    return stderr.getvalue().splitlines(), str(caught.value)


def by_code(document: dict) -> dict:
    return {row["code"]: row for row in document["groupements"]}


# --- 1. overflow --------------------------------------------------------------------------------


def test_spend_of_one_hundred_million_euros_or_three_decimals_is_refused_line_by_line(tmp_path):
    spends = [(G1_DOCTOR, "99999999,99"), (G1_DOCTOR, "100000000"), (G2_DOCTOR, "300,001"), (G2_DOCTOR, "300")]
    lines, error = refusal(tmp_path, {"beneficiaires_2022.csv": beneficiaries_rows(spends)})
    assert lines == [
        "beneficiaires_2022.csv:3: depenses: trop grand\u202f: doit être inférieur à 100\u00a0000\u00a0000 euros, reçu «\u202f100000000\u202f»",
        "beneficiaires_2022.csv:4: depenses: au plus 2 décimales (un montant en euros et centimes), reçu «\u202f300,001\u202f»",
    ]
    assert "2 problème(s)" in error


def test_the_largest_spend_allowed_is_summed_exactly(tmp_path):
    # G1: 99 999 999,99 € twice = 199 999 999,98 € → DRtot exactly, whatever the order of rows.
    spends = [(G1_DOCTOR, "99999999,99"), (G1_DOCTOR, "99999999,99"), *DEFAULT_SPEND[2022][2:]]
    document = simulated(tmp_path, {"beneficiaires_2022.csv": beneficiaries_rows(spends)})
    assert by_code(document)["G1"]["real_expenditure_total"] == 199_999_999.98


def test_a_national_file_whose_cents_could_wrap_an_int64_fails_loudly(tmp_path):
    """9 300 rows of 9 999 999 999 999,99 € in one cell: Σ cents = 9 300 × 999 999 999 999 999
    = 9.3e18 > 2⁶³ − 1 = 9.22e18, which an Int64 sum wraps to a negative figure. A Parquet file in a
    bundle is not validated again: the engine checks the bounds before using any sum."""
    bundle = write_bundle(tmp_path / "bundle", {"beneficiaires_2022.csv": None})
    rows = 9_300
    pl.DataFrame(
        {
            "id_patient": [f"P{i}" for i in range(rows)],
            "age": [40] * rows,
            "sexe": [1] * rows,
            "ald": [0] * rows,
            "css": [0] * rows,
            "deces": [0] * rows,
            "rpps_mt": [G1_DOCTOR, G2_DOCTOR] * (rows // 2),
            "depenses_cents": [999_999_999_999_999] * rows,
        },
        schema=BENEFICIARY_SCHEMA,
    ).write_parquet(bundle / "beneficiaires_2022.parquet")
    assert pl.Series([999_999_999_999_999] * rows).sum() < 0  # what a plain Int64 sum would have used
    stderr = io.StringIO()
    with pytest.raises(CommandError, match=r"2 problème\(s\)"):
        call_command("simulate", str(bundle), "--year", "2022", stdout=io.StringIO(), stderr=stderr)
    assert stderr.getvalue().splitlines() == [
        "beneficiaires_2022.csv: depenses: les dépenses doivent être comprises entre 0 et 100\u00a0000\u00a0000 euros "
        "exclus, trouvé de 9\u00a0999\u00a0999\u00a0999\u00a0999,99 à 9\u00a0999\u00a0999\u00a0999\u00a0999,99",
        "beneficiaires_2022.csv: depenses: la somme des dépenses en centimes sur 9\u00a0300 lignes pourrait dépasser "
        "un entier de 64 bits\u202f: refusé plutôt que faux",
    ]


# --- 2. complete refusals -------------------------------------------------------------------------


def test_every_file_and_the_parameters_are_checked_before_refusing(tmp_path):
    """A member overlap, a negative spend and c_partage = 2 are all reported, not the first alone."""
    members = DEFAULT_FILES["membres.csv"] + f"G2;{G1_DOCTOR};2020-01-01;\n"
    spends = [(G1_DOCTOR, "-5"), *DEFAULT_SPEND[2022]]
    lines, error = refusal(
        tmp_path,
        {
            "membres.csv": members,
            "beneficiaires_2022.csv": beneficiaries_rows(spends),
            "beneficiaires_2018.csv": None,
            "parametres.json": '{"c_partage": 2}',
        },
        "--param",
        "noise_gate=maybe",
        "--param",
        "oops",
    )
    assert lines == [
        f"membres.csv:4: rpps: le RPPS {G1_DOCTOR} est déjà membre de G1 à cette date (ligne 2)",
        "--param: oops: attendu nom=valeur",
        "parametres.json: c_partage: doit être au plus 1, reçu 2",
        "--param: noise_gate: doit valoir «\u202foff\u202f» ou «\u202fon\u202f», reçu «\u202fmaybe\u202f»",
        "beneficiaires_2018.csv: -: fichier obligatoire absent du lot (la campagne 2022 a besoin de l'année 2018)",
        "beneficiaires_2022.csv:2: depenses: ne doit pas être négatif, reçu «\u202f-5\u202f»",
    ]
    assert "6 problème(s)" in error


def test_each_file_reports_its_first_hundred_problems_then_counts_the_rest(tmp_path):
    # 150 broken member rows (RPPS of 10 digits) and 120 negative spends in 2018: 100 + "… and K more" each.
    members = DEFAULT_FILES["membres.csv"] + "".join(f"G1;{1000000000 + i};2019-01-01;\n" for i in range(150))
    spends = DEFAULT_SPEND[2018] + [(OUTSIDE_DOCTOR, "-1")] * 120
    lines, error = refusal(tmp_path, {"membres.csv": members, "beneficiaires_2018.csv": beneficiaries_rows(spends)})
    assert lines[0] == "membres.csv:4: rpps: le RPPS doit comporter 11 chiffres, reçu «\u202f1000000000\u202f»"
    assert lines[99] == "membres.csv:103: rpps: le RPPS doit comporter 11 chiffres, reçu «\u202f1000000099\u202f»"
    assert lines[100] == "… and 50 more (RPPS\u202f: 50)"
    assert lines[101] == "beneficiaires_2018.csv:10: depenses: ne doit pas être négatif, reçu «\u202f-1\u202f»"
    assert lines[201] == "… and 20 more (valeur négative\u202f: 20)"
    assert len(lines) == 202
    assert "270 problème(s)" in error


# --- 3. valid files that were refused ---------------------------------------------------------------


def test_an_experience_file_with_only_its_header_means_zero_points(tmp_path):
    # S1 (hausse, d3 = 20, d8 = 80) is the only indicator: 100 points. G1: (50 − 20) / (80 − 20) = 0.5
    # → 50 points; G2: 90 ≥ 80 → 100 points; no experience points.
    document = simulated(tmp_path, {"experience_patient_2022.csv": "code_groupement;points\n"})
    assert [row["quality_score"] for row in document["groupements"]] == [50.0, 100.0]


def test_decimals_with_more_places_are_valid_but_for_spend(tmp_path):
    # Deciles with 7 places, results with 8, points with 6: only `depenses` is limited (2 places).
    files = {
        "deciles_2022.csv": "code_indicateur;d2;d3;d7;d8\nS1;10;20.0000001;60;80\n",
        "resultats_indicateurs_2022.csv": (
            "code_groupement;code_indicateur;valeur_n;valeur_n_1\nG1;S1;50.12345678;45\nG2;S1;90;85.00000001\n"
        ),
        "experience_patient_2022.csv": "code_groupement;points\nG1;10.123456\nG2;20\n",
    }
    document = simulated(tmp_path, files)
    g1 = by_code(document)["G1"]
    # f = (50.12345678 − 20.0000001) / (80 − 20.0000001), 100 points, + 10.123456 experience points.
    f = (50.12345678 - 20.0000001) / (80 - 20.0000001)
    assert g1["quality_score"] == pytest.approx(100 * f + 10.123456, rel=1e-12)


# --- 4. indicator values are never negative -----------------------------------------------------------


def test_negative_indicator_values_and_deciles_are_refused(tmp_path):
    files = {
        "deciles_2022.csv": "code_indicateur;d2;d3;d7;d8\nS1;-10;20;60;80\n",
        "resultats_indicateurs_2022.csv": (
            "code_groupement;code_indicateur;valeur_n;valeur_n_1\nG1;S1;-50;45\nG2;S1;90;-85\n"
        ),
    }
    lines, _ = refusal(tmp_path, files)
    assert lines == [
        "resultats_indicateurs_2022.csv:2: valeur_n: ne doit pas être négatif, reçu «\u202f-50\u202f»",
        "resultats_indicateurs_2022.csv:3: valeur_n_1: ne doit pas être négatif, reçu «\u202f-85\u202f»",
        "deciles_2022.csv:2: d2: ne doit pas être négatif, reçu «\u202f-10\u202f»",
    ]


# --- 5. zero expected spend in a reference year -------------------------------------------------------


def test_zero_expected_spend_in_the_reference_year_names_the_groupement_and_the_year(tmp_path):
    # Percentile 10 over the 8 rows of 2018 with one at 0 €: rank ceil(10 · 8 / 100) = 1 → s = 0 €, every
    # d = 0, so DA̅_R = 0 for both groupements (2022 has no 0 €: s = 100 €, DA̅_N = 100 €).
    spends = [*DEFAULT_SPEND[2018][:7], (OUTSIDE_DOCTOR, "0")]
    lines, error = refusal(
        tmp_path, {"beneficiaires_2018.csv": beneficiaries_rows(spends)}, "--param", "truncation_percentile=10"
    )
    assert [line.split(" (le modèle")[0] for line in lines] == [
        f"beneficiaires_2018.csv: -: groupement {code}\u202f: dépense attendue par patient nulle pour l'année de référence 2018"
        for code in ("G1", "G2")
    ]
    assert "2 problème(s)" in error


# --- 6. the last cent ---------------------------------------------------------------------------------


def capped_spend(g1: list[str], g2: list[str]) -> str:
    """Groupements that spend little among outsiders who spend 5 000 € each: both gains far exceed
    their caps, so amount_after_cap = cap = group_cap_rate · DRtot."""
    return beneficiaries_rows(
        [(G1_DOCTOR, amount) for amount in g1] + [(G2_DOCTOR, amount) for amount in g2] + [(OUTSIDE_DOCTOR, "5000")] * 4
    )


def test_half_up_cents_above_the_ceiling_switch_to_the_scaled_rule_with_k_1(tmp_path):
    """Σ after_cap equals C exactly: G1 and G2 each spend 10,01 € (DRtot), caps at 1/2 → 5,005 € each,
    C = 1/2 · 20,02 = 10,01 € = Σ after_cap, so k = 1. Half-up would pay 5,01 + 5,01 = 10,02 € > C.
    Scaled rule with k = 1: 5.005 · 100 = 500.5 (doubles) → floors 500 + 500 = 1 000 cents of
    floor(100 · 10.01) = 1 001: the cent left goes to the larger fractional part, a tie (0.5 and 0.5)
    broken by code ascending: G1 5,01 €, G2 5,00 €."""
    files = {
        "beneficiaires_2022.csv": capped_spend(["5", "5.01"], ["5", "5.01"]),
        "parametres.json": '{"min_patients": 1, "group_cap_rate": "1/2", "national_ceiling_rate": "1/2"}',
    }
    document = simulated(tmp_path, files)
    rows = by_code(document)
    assert [rows[code]["amount_after_cap"] for code in ("G1", "G2")] == [5.005, 5.005]
    assert document["totals"]["national_ceiling"] == document["totals"]["amount_after_cap"] == 10.01
    assert document["totals"]["national_coefficient"] == 1.0
    assert [rows["G1"]["final_amount"], rows["G2"]["final_amount"]] == ["5.01", "5.00"]
    assert document["totals"]["final_amount"] == "10.01"


def test_floors_above_the_ceiling_give_back_the_excess_from_the_smallest_fractional_parts(tmp_path):
    """G1 spends 176,75 €, G2 60,25 € (caps at rate 1: the whole DRtot); Σ = 237 €, C = 0.6 · 237 =
    142.2 €, k = C / Σ = 0.6. Floors: 176.75 · 0.6 · 100 = 10 605, 60.25 · 0.6 · 100 = 3 615 → 14 220 cents,
    but 100 · C in doubles is 14 219.999999999998 → floor 14 219: one cent too many, taken back from the
    smallest fractional part (0 and 0, a tie broken by code descending: G2)."""
    files = {
        "beneficiaires_2022.csv": capped_spend(["100", "76.75"], ["30", "30.25"]),
        "parametres.json": '{"min_patients": 1, "group_cap_rate": "1", "national_ceiling_rate": "0.6"}',
    }
    document = simulated(tmp_path, files)
    rows = by_code(document)
    assert 100 * document["totals"]["national_ceiling"] == 14219.999999999998
    assert document["totals"]["national_coefficient"] == 0.6
    assert [rows["G1"]["final_amount"], rows["G2"]["final_amount"]] == ["106.05", "36.14"]
    assert Decimal(document["totals"]["final_amount"]) == Decimal("142.19")


# --- 7. unknown columns, file-level problems ----------------------------------------------------------


def test_unknown_columns_of_a_beneficiaries_file_are_warned_and_file_problems_name_the_file(tmp_path):
    text = DEFAULT_FILES["beneficiaires_2018.csv"].splitlines()
    widened = "\n".join([text[0] + ";commentaire", *(row + ";x" for row in text[1:])]) + "\n"
    bundle = write_bundle(tmp_path / "bundle", {"beneficiaires_2018.csv": widened})
    stderr = io.StringIO()
    call_command("simulate", str(bundle), "--year", "2022", "--output", str(tmp_path / "r.json"), stderr=stderr)
    assert stderr.getvalue().splitlines()[:1] == [
        "avertissement : beneficiaires_2018.csv:1: commentaire: colonne inconnue ignorée"
    ]
    # Nobody of G2 is a member any more: a problem of the file as a whole, `file: column: reason`.
    lines, _ = refusal(
        tmp_path / "second",
        {"membres.csv": f"code_groupement;rpps;date_debut;date_fin\nG1;{G1_DOCTOR};2019-01-01;\n"},
    )
    assert lines[0].startswith("beneficiaires_2022.csv: rpps_mt: groupement G2\u202f: patientèle vide en 2022")
