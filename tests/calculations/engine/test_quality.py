"""Step 7 — the quality score: each indicator's points p·f, S, S max and q, computed by hand."""

from __future__ import annotations

import csv
import math
from fractions import Fraction

import pytest

from calculations.engine import EngineError, Parameters, compute_campaign
from calculations.engine.steps.quality import (
    IndicatorResult,
    IndicatorScore,
    indicator_fraction,
    indicator_points,
    quality_score,
)
from tests.calculations.engine.builders import rows_by_code, toy_inputs
from tests.golden import GOLDEN_DIR, golden_results


def hausse(value_n, value_n_1=None, family="socle", code="H"):
    # T = d8 = 80, I = d3 = 20
    return IndicatorResult(code, family, "hausse", value_n, value_n_1, d2=10.0, d3=20.0, d7=60.0, d8=80.0)


def baisse(value_n, value_n_1=None, family="socle", code="B"):
    # T = d2 = 10, I = d7 = 60
    return IndicatorResult(code, family, "baisse", value_n, value_n_1, d2=10.0, d3=20.0, d7=60.0, d8=80.0)


@pytest.mark.parametrize(
    ("result", "fraction"),
    [
        (hausse(80.0), 1.0),  # x ≥ T
        (hausse(95.0), 1.0),
        (hausse(50.0), 0.5),  # (50 − 20)/(80 − 20)
        (hausse(20.0), 0.0),  # x = I: start of the linear part
        (hausse(14.0, 11.0), 0.05),  # below I: progress (14 − 11)/60
        (hausse(14.0, 17.0), -0.05),  # below I and worse than N−1
        (hausse(14.0, None), 0.0),  # below I, no N−1 value
        (hausse(0.0, 100.0), -1.0),  # (0 − 100)/60 clamped to −1
        (hausse(19.0, -100.0), 1.0),  # (19 + 100)/60 clamped to 1
        (baisse(10.0), 1.0),  # x ≤ T
        (baisse(35.0), 0.5),  # (60 − 35)/(60 − 10)
        (baisse(60.0), 0.0),  # x = I
        (baisse(70.0, 75.0), 0.1),  # above I: progress (75 − 70)/50
        (baisse(70.0, 65.0), -0.1),
        (baisse(70.0, None), 0.0),
        (baisse(200.0, 0.0), -1.0),
    ],
)
def test_indicator_fraction(result, fraction):
    assert indicator_fraction(result) == pytest.approx(fraction, abs=1e-15)


def test_points_without_and_with_carte_indicators():
    defaults = Parameters()
    assert indicator_points(6, 0, defaults) == (pytest.approx(100 / 6, rel=1e-15), 0.0)
    # 70 points over 6 socle, 30 over 2 carte: exactly 15 each (not 30.000000000000004 / 2).
    socle, carte = indicator_points(6, 2, defaults)
    assert socle == pytest.approx(70 / 6, rel=1e-15) and carte == 15.0


def test_score_without_carte():
    # 2 socle indicators, 50 points each: f = 1 and 0.5 → 75; + 12.5 experience → 87.5; q = 87.5/120.
    quality = quality_score("G", [hausse(90.0), baisse(35.0)], 12.5, Parameters())
    assert quality.score == 87.5
    assert quality.ratio == pytest.approx(87.5 / 120, rel=1e-15)


def test_score_with_carte():
    # 1 socle (70 points, f = 0.5 → 35) + 2 carte (15 points each, f = 1 and f = −0.1 → 15 − 1.5) = 48.5; + 0.
    results = [hausse(50.0), hausse(80.0, family="carte", code="C1"), baisse(70.0, 65.0, family="carte", code="C2")]
    quality = quality_score("G", results, 0.0, Parameters())
    assert quality.score == pytest.approx(48.5, rel=1e-15)
    assert quality.ratio == pytest.approx(48.5 / 120, rel=1e-15)


def test_score_keeps_every_indicator_line_socle_first():
    # Carte C2 listed first; socle B (baisse, 35 → f = (60 − 35)/(60 − 10) = 0.5) and H (hausse, 14 from 11 →
    # f = (14 − 11)/(80 − 20) = 0.05) share 70 points: 35 each; carte C2 (f = −0.1) gets 30.
    results = [baisse(70.0, 65.0, family="carte", code="C2"), hausse(14.0, 11.0), baisse(35.0)]
    quality = quality_score("G", results, 7.5, Parameters())
    assert [(line.code, line.family) for line in quality.indicators] == [
        ("B", "socle"),
        ("H", "socle"),
        ("C2", "carte"),
    ]
    assert quality.indicators[1] == IndicatorScore(
        code="H",
        label="",
        family="socle",
        direction="hausse",
        value_n=14.0,
        value_n_1=11.0,
        d2=10.0,
        d3=20.0,
        d7=60.0,
        d8=80.0,
        fraction=pytest.approx(0.05, rel=1e-15),
        points=pytest.approx(35 * 0.05, rel=1e-15),
        max_points=35.0,
    )
    assert [line.points for line in quality.indicators] == pytest.approx([17.5, 1.75, -3.0], rel=1e-15)
    # Σ p·f = 17.5 + 1.75 − 3 = 16.25; S = 16.25 + 7.5 = 23.75; S max = 100 + 20.
    assert quality.indicator_points == pytest.approx(16.25, rel=1e-15)
    assert quality.experience_points == 7.5
    assert quality.score == pytest.approx(23.75, rel=1e-15)
    assert quality.score_max == 120.0


def test_score_max_follows_the_parameters():
    parameters = Parameters.merge(("--param", {"base_points": "80", "max_experience_points": "0"}))
    quality = quality_score("G", [hausse(50.0)], 0.0, parameters)  # 80 × 0.5 = 40 of 80
    assert (quality.score_max, quality.score, quality.ratio) == (80.0, 40.0, 0.5)


def test_negative_score_gives_zero_ratio():
    # f = −1 on the only socle indicator: −100 points + 5 experience = −95; q = clamp(−95/120) = 0.
    quality = quality_score("G", [hausse(0.0, 100.0)], 5.0, Parameters())
    assert quality.score == -95.0 and quality.ratio == 0.0


def test_full_score_gives_ratio_one():
    assert quality_score("G", [hausse(99.0)], 20.0, Parameters()).ratio == 1.0


def test_missing_experience_counts_zero_points():
    rows = rows_by_code(compute_campaign(toy_inputs(experience=[]), Parameters()))
    assert rows["G1"].quality_score == 50.0 and rows["G2"].quality_score == 100.0


def test_carte_indicator_in_the_toy_campaign():
    indicators = [
        {"code": "S1", "label": "Socle", "family": "socle", "direction": "hausse"},
        {"code": "C1", "label": "Carte", "family": "carte", "direction": "baisse"},
    ]
    results = [
        {"groupement": "G1", "indicator": "S1", "value_n": 50.0, "value_n_1": None},
        {"groupement": "G1", "indicator": "C1", "value_n": 35.0, "value_n_1": None},
        {"groupement": "G2", "indicator": "S1", "value_n": 90.0, "value_n_1": None},
    ]
    rows = rows_by_code(compute_campaign(toy_inputs(indicators=indicators, results=results), Parameters()))
    # G1 chose C1: 70 × 0.5 + 30 × (60 − 35)/50 = 35 + 15 = 50, + 10 → 60. G2 has no carte: 100 × 1 + 20 = 120.
    assert rows["G1"].quality_score == 60.0
    assert rows["G2"].quality_score == 120.0
    assert [(d.code, d.label, d.max_points, d.points) for d in rows["G1"].quality_details] == [
        ("S1", "Socle", 70.0, 35.0),
        ("C1", "Carte", 30.0, 15.0),
    ]
    assert (rows["G1"].indicator_points, rows["G1"].experience_points, rows["G1"].score_max) == (50.0, 10.0, 120.0)


def test_missing_socle_indicator_result_names_groupement_and_indicator():
    indicators = [
        {"code": "S1", "label": "Socle 1", "family": "socle", "direction": "hausse"},
        {"code": "S2", "label": "Socle 2", "family": "socle", "direction": "baisse"},
    ]
    results = [
        {"groupement": "G1", "indicator": "S1", "value_n": 50.0, "value_n_1": None},
        {"groupement": "G1", "indicator": "S2", "value_n": 50.0, "value_n_1": None},
        {"groupement": "G2", "indicator": "S1", "value_n": 90.0, "value_n_1": None},
    ]
    with pytest.raises(EngineError) as caught:
        compute_campaign(toy_inputs(indicators=indicators, results=results), Parameters())
    assert [str(p) for p in caught.value.problems] == [
        "resultats_indicateurs_2022.csv: code_indicateur: groupement G2\u202f: aucun résultat pour l'indicateur socle S2"
    ]


def _golden_csv(name: str) -> list[dict]:
    with (GOLDEN_DIR / name).open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream, delimiter=";"))


def independent_quality_details(code: str) -> tuple[list[dict], float]:
    """Step 7 read again straight from the golden CSV files, without the engine: the statement's quality table
    for `code` and its experience points. p = 100 / socle count, or 70 / socle and 30 / carte with carte ones."""
    indicators = {row["code"]: row for row in _golden_csv("indicateurs.csv")}
    deciles = {
        row["code_indicateur"]: {k: float(v) for k, v in row.items() if k != "code_indicateur"}
        for row in _golden_csv("deciles_2022.csv")
    }
    rows = [row for row in _golden_csv("resultats_indicateurs_2022.csv") if row["code_groupement"] == code]
    socle = sum(indicators[r["code_indicateur"]]["famille"] == "socle" for r in rows)
    carte = len(rows) - socle
    socle_points = Fraction(100, socle) if carte == 0 else Fraction(70, socle)
    carte_points = Fraction(30, carte) if carte else Fraction(0)
    details = []
    for row in rows:
        indicator = indicators[row["code_indicateur"]]
        d = deciles[row["code_indicateur"]]
        x, previous = float(row["valeur_n"]), (float(row["valeur_n_1"]) if row["valeur_n_1"] else None)
        if indicator["sens"] == "hausse":
            target, threshold, progress = d["d8"], d["d3"], (None if previous is None else x - previous)
            reached, between = x >= target, x >= threshold
            share = (x - threshold) / (target - threshold)
        else:
            target, threshold, progress = d["d2"], d["d7"], (None if previous is None else previous - x)
            reached, between = x <= target, x <= threshold
            share = (threshold - x) / (threshold - target)
        if reached:
            fraction = 1.0
        elif between:
            fraction = share
        elif progress is None:
            fraction = 0.0
        else:
            fraction = max(-1.0, min(1.0, progress / abs(target - threshold)))
        max_points = float(socle_points if indicator["famille"] == "socle" else carte_points)
        details.append(
            {
                "code": row["code_indicateur"],
                "label": indicator["libelle"],
                "family": indicator["famille"],
                "direction": indicator["sens"],
                "value_n": x,
                "value_n_1": previous,
                **d,
                "fraction": fraction,
                "points": max_points * fraction,
                "max_points": max_points,
            }
        )
    experience = next(
        (float(r["points"]) for r in _golden_csv("experience_patient_2022.csv") if r["code_groupement"] == code), 0.0
    )
    return details, experience


def test_golden_g001_points_by_hand():
    details = {line.code: line for line in rows_by_code(golden_results())["G001"].quality_details}
    # 6 socle indicators share 70 points, the one carte indicator gets 30.
    assert details["VACC_GRIPPE"].points == pytest.approx(70 / 6 * (62.76 - 51.4) / (66.8 - 51.4))  # 8.6060
    assert details["DEPIST_CCR"].points == pytest.approx(70 / 6 * (20.91 - 25.42) / (48.0 - 30.5))  # −3.0067
    assert details["HOSP_EVIT"].points == pytest.approx(70 / 6)  # baisse, 50.38 ≤ D2 = 59.8: all points
    assert details["SOINS_NON_PROG"].points == pytest.approx(30 * (43.50 - 45.82) / (63.4 - 51.1))  # carte, −5.6585


@pytest.mark.parametrize("code", [f"G{n:03d}" for n in range(1, 13)])
def test_golden_details_agree_with_an_independent_reading_of_the_files(code):
    row = rows_by_code(golden_results())[code]
    details, experience = independent_quality_details(code)
    engine = {line.code: line.to_json_dict() for line in row.quality_details}
    assert sorted(engine) == sorted(d["code"] for d in details)
    for expected in details:
        line = engine[expected["code"]]
        assert list(line) == list(expected)
        for key, value in expected.items():
            if isinstance(value, float):
                assert line[key] == pytest.approx(value, rel=1e-12, abs=1e-12), (expected["code"], key)
            else:
                assert line[key] == value, (expected["code"], key)
    assert row.experience_points == experience
    # Σ points + experience = S of the engine, and of expected_2022.json.
    assert math.fsum([*(d["points"] for d in details), experience]) == pytest.approx(row.quality_score, rel=1e-12)
    assert row.indicator_points == pytest.approx(math.fsum(d["points"] for d in details), rel=1e-12)
