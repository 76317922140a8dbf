"""Step 5 — DR̄, DA̅, DRtot and level_gap_se of a groupement from its per-cell sums, exactly.

Each figure is the nearest double of an exact value: the arithmetic below is written with fractions
(d in cents, DA from the rational least-squares fit), then converted once, as section 4 says.
"""

from __future__ import annotations

import math
from fractions import Fraction

import polars as pl

from calculations.engine import Parameters, compute_campaign
from calculations.engine.steps.averages import groupement_averages, untruncated_averages
from calculations.engine.steps.risk_model import RiskModel
from tests.calculations.engine.builders import rows_by_code, toy_inputs


def model(expected_euros: dict[int, Fraction]) -> RiskModel:
    """A fitted model whose DA per cell is given (in euros, exact), on one common denominator."""
    denominator = math.lcm(*(value.denominator for value in expected_euros.values()))
    numerators = {cell: int(value * denominator) for cell, value in expected_euros.items()}
    return RiskModel(2022, (), (), numerators, denominator)


def cells(patients_by_cell: dict[int, list[int]], threshold_cents: int | None = None) -> pl.DataFrame:
    """The per-cell sums of step 2 for one groupement, from each patient's spend in cents."""
    rows = []
    for cell, spends in patients_by_cell.items():
        truncated = [min(s, threshold_cents) if threshold_cents is not None else s for s in spends]
        rows.append(
            {
                "cell": cell,
                "patients": len(spends),
                "spend_cents": sum(spends),
                "truncated_cents": sum(truncated),
                "truncated_cents_squared": sum(t * t for t in truncated),
            }
        )
    return pl.DataFrame(rows, schema_overrides={"truncated_cents_squared": pl.Int128})


def sample_se(deviations: list[Fraction]) -> float:
    """The definition: v = Σ(x − x̄)² / (n − 1) exactly, then √v / √n in doubles."""
    n = len(deviations)
    mean = sum(deviations) / n
    variance = sum((x - mean) ** 2 for x in deviations) / (n - 1)
    return math.sqrt(float(variance)) / math.sqrt(n)


def test_means_are_the_nearest_doubles_of_the_exact_means():
    # Two patients spending 0,10 € and 0,20 €: DR̄ = 30 cents / (100 · 2) = 3/20 = 0,15 exactly, whose nearest
    # double is 0.15; adding the doubles first gives (0.1 + 0.2) / 2 = 0.15000000000000002.
    averages = groupement_averages(cells({0: [10, 20]}), model({0: Fraction(1, 3)}))
    assert averages.real_per_patient == float(Fraction(3, 20)) == 0.15
    assert (0.1 + 0.2) / 2 != 0.15
    # DA = 1/3 € for each patient: DA̅ = 1/3, nearest double.
    assert averages.expected_per_patient == float(Fraction(1, 3))
    assert averages.patients == 2
    assert averages.real_expenditure_cents == 30 and averages.real_expenditure_total == 0.3


def test_level_gap_se_by_hand():
    # Three patients of one cell spend 0,10, 0,20 and 0,40 €; DA = 1/3 € each.
    # x = d − DA: −7/30, −4/30, 2/30; x̄ = −9/90 = −1/10;
    # Σ(x − x̄)² = (−4/30)² + (−1/30)² + (5/30)² = 42/900; v = 42/900 / 2 = 7/300; se = √(7/300) / √3.
    averages = groupement_averages(cells({0: [10, 20, 40]}), model({0: Fraction(1, 3)}))
    assert averages.real_per_patient == float(Fraction(7, 30))
    assert averages.level_gap_se == math.sqrt(float(Fraction(7, 300))) / math.sqrt(3)
    assert averages.level_gap_se == sample_se([Fraction(-7, 30), Fraction(-4, 30), Fraction(2, 30)])


def test_two_cells_with_truncation_against_the_definition():
    # Threshold 1,00 €. Cell 0 (DA = 2/7 €): 0,12 €, 5,00 € → 1,00 €, 0,33 €. Cell 9 (DA = 5/3 €): 1,50 € → 1,00 €, 0,99 €.
    spends = {0: [12, 500, 33], 9: [150, 99]}
    expected = {0: Fraction(2, 7), 9: Fraction(5, 3)}
    averages = groupement_averages(cells(spends, threshold_cents=100), model(expected))
    d = {0: [Fraction(12, 100), Fraction(1), Fraction(33, 100)], 9: [Fraction(1), Fraction(99, 100)]}
    # DR̄ = (0,12 + 1,00 + 0,33 + 1,00 + 0,99) / 5 = 3,44 / 5; DA̅ = (3 · 2/7 + 2 · 5/3) / 5 = (6/7 + 10/3) / 5 = 88/105.
    assert averages.real_per_patient == float(Fraction(344, 500))
    assert averages.expected_per_patient == float(Fraction(88, 105))
    # DRtot is untruncated: 0,12 + 5,00 + 0,33 + 1,50 + 0,99 = 7,94 €.
    assert averages.real_expenditure_cents == 794 and averages.real_expenditure_total == 7.94
    deviations = [x - expected[cell] for cell, values in d.items() for x in values]
    assert averages.level_gap_se == sample_se(deviations)


def test_level_gap_se_is_zero_for_one_patient_or_no_spread():
    assert groupement_averages(cells({0: [500]}), model({0: Fraction(1)})).level_gap_se == 0.0
    # Every deviation equal (d − DA = 4 − 1 = 3): variance 0.
    assert groupement_averages(cells({0: [400, 400, 400]}), model({0: Fraction(1)})).level_gap_se == 0.0


def test_averages_in_the_toy_campaign():
    rows = rows_by_code(compute_campaign(toy_inputs(), Parameters()))
    g1, g2 = rows["G1"], rows["G2"]
    assert (g1.n_patients, g1.n_patients_reference, g2.n_patients, g2.n_patients_reference) == (2, 2, 2, 2)
    assert (g1.real_per_patient, g1.expected_per_patient) == (100.0, 200.0)
    assert (g1.real_per_patient_reference, g1.expected_per_patient_reference) == (120.0, 180.0)
    assert g1.real_expenditure_total == 200.0 and g2.real_expenditure_total == 600.0
    # d − DA over G1 in N: −150, −50; mean −100; sample variance (50² + 50²)/1 = 5000; se = √5000/√2 = 50.
    assert g1.level_gap_se == math.sqrt(5000) / math.sqrt(2)
    assert g2.level_gap_se == 0.0  # d − DA = 100, 100: no spread


def test_large_spends_keep_a_tiny_spread_exact():
    # Three patients near the 100 M€ bound: 99 999 999,99 €, 99 999 999,98 €, 99 999 999,97 €; DA = 99 999 999,98 €.
    # x = 0,01, 0, −0,01: x̄ = 0, v = (0,0001 + 0 + 0,0001) / 2 = 1/10 000, se = √(1/10 000) / √3 = 0,01 / √3.
    # In doubles, Σd² − n·x̄² would lose every digit (Σd² ≈ 3·10¹⁶ € ², far above 2⁵³ cents²).
    spends = {0: [9_999_999_999, 9_999_999_998, 9_999_999_997]}
    averages = groupement_averages(cells(spends), model({0: Fraction(9_999_999_998, 100)}))
    assert averages.level_gap_se == math.sqrt(float(Fraction(1, 10_000))) / math.sqrt(3)
    assert averages.real_per_patient == 99_999_999.98


def test_untruncated_averages_use_raw_spend_and_the_refitted_model():
    # Step 13's sensitivity on the cells of the two-cell case: raw spend 0,12 + 5,00 + 0,33 + 1,50 + 0,99 = 7,94 €
    # over 5 patients; DA from a model refitted on raw spend (here 7/5 € in cell 0, 1/4 € in cell 9).
    spends = {0: [12, 500, 33], 9: [150, 99]}
    averages = untruncated_averages(cells(spends, threshold_cents=100), model({0: Fraction(7, 5), 9: Fraction(1, 4)}))
    assert averages.real_per_patient == float(Fraction(794, 500))
    # DA̅ = (3 · 7/5 + 2 · 1/4) / 5 = (21/5 + 1/2) / 5 = 47/50
    assert averages.expected_per_patient == float(Fraction(47, 50))
    assert averages.patients == 5 and averages.real_expenditure_cents == 794
    assert averages.level_gap_se is None  # not part of the sensitivity
