"""Step 6 — level gap, evolution gap and the amount per patient, by hand and on the toy campaign.

Toy figures (see builders; no truncation bites: p = 99 of 6 rows is rank 6, the maximum):
  N: DA = national mean 200 for everybody. G1: DR̄ = (50 + 150)/2 = 100, E = 200 − 100 = 100.
                                           G2: DR̄ = 300, E = −100.
  R: DA = 180. G1: DR̄_R = 120; G2: DR̄_R = 240.
  rate:     Ev_G1 = 120·200/180 − 100 = 100/3;   Ev_G2 = 240·200/180 − 300 = −100/3.
  absolute: Ev_G1 = (200 − 180) − (100 − 120) = 40;   Ev_G2 = 20 − 60 = −40.
"""

from __future__ import annotations

import pytest

from calculations.engine import Parameters, compute_campaign
from calculations.engine.steps.averages import YearAverages
from calculations.engine.steps.efficiency import efficiency, evolution_gap, level_gap
from tests.calculations.engine.builders import rows_by_code, toy_inputs


def averages(patients: int, real: float, expected: float) -> YearAverages:
    return YearAverages(patients, real, expected, 0.0, 0, 0.0)


def test_level_and_evolution_gaps_rate():
    rows = rows_by_code(compute_campaign(toy_inputs(), Parameters()))
    g1, g2 = rows["G1"], rows["G2"]
    assert g1.level_gap == 100.0 and g2.level_gap == -100.0
    assert g1.evolution_gap == pytest.approx(100 / 3, rel=1e-14)
    assert g2.evolution_gap == pytest.approx(-100 / 3, rel=1e-14)
    # G1: 1/2 · (1/3 · 100 + 2/3 · 100/3) = 250/9 per patient, × 2 patients.
    assert g1.amount_per_patient == pytest.approx(250 / 9, rel=1e-14)
    assert g1.efficiency_amount == pytest.approx(500 / 9, rel=1e-14)
    assert (g1.positive_level_gap, g1.positive_evolution_gap) == (g1.level_gap, g1.evolution_gap)
    # G2: both gaps negative, each floored at 0.
    assert g2.amount_per_patient == 0.0 and g2.efficiency_amount == 0.0
    assert (g2.positive_level_gap, g2.positive_evolution_gap) == (0.0, 0.0)


def test_evolution_gap_absolute_form():
    rows = rows_by_code(compute_campaign(toy_inputs(), Parameters.merge(("--param", {"evolution_form": "absolute"}))))
    assert rows["G1"].evolution_gap == pytest.approx(40.0, rel=1e-14)
    assert rows["G2"].evolution_gap == pytest.approx(-40.0, rel=1e-14)
    # G1: 1/2 · (1/3 · 100 + 2/3 · 40) = 1/2 · 60 = 30 per patient.
    assert rows["G1"].amount_per_patient == pytest.approx(30.0, rel=1e-14)


def test_efficiency_unit_cases():
    year_n, reference = averages(10, 140.0, 120.0), averages(9, 100.0, 80.0)
    assert level_gap(year_n) == -20.0  # 120 − 140
    assert evolution_gap(year_n, reference, "rate") == 10.0  # 100·120/80 − 140 = 150 − 140
    assert evolution_gap(year_n, reference, "absolute") == 0.0  # (120 − 80) − (140 − 100)
    gain = efficiency(year_n, reference, Parameters())
    # E < 0 floored at 0; 1/2 · 2/3 · 10 = 10/3 per patient, × 10 patients.
    assert (gain.positive_level_gap, gain.positive_evolution_gap) == (0.0, 10.0)
    assert gain.amount_per_patient == pytest.approx(10 / 3, rel=1e-15)
    assert gain.efficiency_amount == pytest.approx(100 / 3, rel=1e-15)
    weights = Parameters.merge(("--param", {"c_ecart": "1", "c_evolution": "0", "c_partage": "1"}))
    assert efficiency(averages(1, 90.0, 100.0), reference, weights).amount_per_patient == 10.0
