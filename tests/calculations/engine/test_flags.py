"""Step 12 — the eligibility flag and the budget guarantee, by hand and on the toy campaign (see builders:
G1 spends 100 per patient in N, 120 in R; G2 300 and 240; DA = 200 in N, 180 in R; 2 patients each)."""

from __future__ import annotations

import pytest

from calculations.engine import Parameters, compute_campaign
from calculations.engine.steps.averages import YearAverages
from calculations.engine.steps.flags import below_min_patients, budget_guarantee
from tests.calculations.engine.builders import rows_by_code, toy_inputs


def averages(patients: int, real: float, expected: float) -> YearAverages:
    return YearAverages(patients, real, expected, 0.0, 0, 0.0)


def test_below_min_patients_is_strict():
    assert not below_min_patients(5000, 5000) and below_min_patients(4999, 5000)


def test_budget_guarantee_by_hand():
    # 3 patients × 5 × 20 / 10 = 30; real truncated total 3 × 10 = 30; gain 0.
    assert budget_guarantee(averages(3, 10.0, 20.0), averages(1, 5.0, 10.0)) == (30.0, 30.0, 0.0)


def test_flags_and_budget_guarantee_in_the_toy_campaign():
    rows = rows_by_code(compute_campaign(toy_inputs(), Parameters()))
    g1, g2 = rows["G1"], rows["G2"]
    assert g1.below_min_patients and g2.below_min_patients  # 2 < 5000
    # G1: 2 · 120 · 200/180 = 800/3; real 2 · 100 = 200; gain = 800/3 − 200 = 200/3. G2: 2·240·200/180 − 600 = −200/3.
    assert g1.budget_guarantee == pytest.approx(800 / 3, rel=1e-14)
    assert g1.truncated_expenditure_total == 200.0 and g2.truncated_expenditure_total == 600.0
    assert g1.budget_guarantee_gain == pytest.approx(200 / 3, rel=1e-13)
    assert g2.budget_guarantee_gain == pytest.approx(-200 / 3, rel=1e-13)
