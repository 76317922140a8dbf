"""Step 7 (quality score) and step 8 (envelope, drawing right), computed by hand."""

from __future__ import annotations

import pytest

from calculations.engine import EngineError, Parameters, compute_campaign
from calculations.engine.steps.envelope import drawing_right, quality_envelope, quality_value
from calculations.engine.steps.quality import IndicatorResult, indicator_fraction, indicator_points, quality_score
from tests.calculations.engine_builders import toy_inputs


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


def test_negative_score_gives_zero_ratio():
    # f = −1 on the only socle indicator: −100 points + 5 experience = −95; q = clamp(−95/120) = 0.
    quality = quality_score("G", [hausse(0.0, 100.0)], 5.0, Parameters())
    assert quality.score == -95.0 and quality.ratio == 0.0


def test_full_score_gives_ratio_one():
    assert quality_score("G", [hausse(99.0)], 20.0, Parameters()).ratio == 1.0


def test_envelope_and_drawing_right():
    # 0.005 × 800 = 4; drawing right of 2 patients out of 4 = 2; quality value at q = 0.25 = 0.5.
    envelope = quality_envelope(800.0, Parameters())
    assert envelope == 4.0
    assert drawing_right(envelope, 2, 4) == 2.0
    assert quality_value(2.0, 0.25) == 0.5


def test_quality_in_the_toy_campaign():
    # G1: S1 = 50 → f = 0.5 → 50 points + 10 experience = 60, q = 0.5. G2: S1 = 90 → 100 + 20 = 120, q = 1.
    # Envelope 0.005 × (200 + 600) = 4; drawing rights 4 × 2/4 = 2 each; values 1 and 2.
    rows = {row.code: row for row in compute_campaign(toy_inputs(), Parameters()).groupements}
    assert (rows["G1"].quality_score, rows["G1"].quality_ratio) == (60.0, 0.5)
    assert (rows["G2"].quality_score, rows["G2"].quality_ratio) == (120.0, 1.0)
    assert rows["G1"].drawing_right == 2.0 and rows["G2"].drawing_right == 2.0
    assert rows["G1"].quality_value == 1.0 and rows["G2"].quality_value == 2.0


def test_missing_experience_counts_zero_points():
    rows = {row.code: row for row in compute_campaign(toy_inputs(experience=[]), Parameters()).groupements}
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
    rows = {
        row.code: row
        for row in compute_campaign(toy_inputs(indicators=indicators, results=results), Parameters()).groupements
    }
    # G1 chose C1: 70 × 0.5 + 30 × (60 − 35)/50 = 35 + 15 = 50, + 10 → 60. G2 has no carte: 100 × 1 + 20 = 120.
    assert rows["G1"].quality_score == 60.0
    assert rows["G2"].quality_score == 120.0


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
        "resultats_indicateurs_2022:: code_indicateur: groupement G2: no result for socle indicator S2"
    ]
