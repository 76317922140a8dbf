"""Step 5 — per-groupement averages of real (truncated) and expected expenditure, from exact cell sums
(and the same averages without truncation, for the sensitivity of step 13)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import polars as pl

from .risk_model import RiskModel


@dataclass(frozen=True)
class YearAverages:
    """A groupement's figures for one year Y (floats are the nearest doubles of exact values)."""

    patients: int  # n_{g,Y}
    real_per_patient: float  # DR̄: mean truncated spend
    expected_per_patient: float  # DA̅: mean fitted value
    real_expenditure_total: float  # DRtot: Σ untruncated spend
    real_expenditure_cents: int  # the same, exact
    level_gap_se: float | None  # sample std (ddof 1) of d − DA, over √n; 0 when n ≤ 1 (None: not needed)


def groupement_averages(cells: pl.DataFrame, model: RiskModel) -> YearAverages:
    """Step 5: DR̄, DA̅, DRtot and level_gap_se of one groupement's list, from its per-cell sums.

    Everything is exact until the final conversion to double: Σd and Σd² are integers (cents), DA per
    cell is a rational, so no figure depends on row order. The deviations x = d − DA use
    Σ(x − x̄)² = Σd² − 2·Σ_c DA_c·Σ_c d + Σ_c n_c·DA_c² − n·x̄², evaluated without cancellation error.
    """
    patients = int(cells["patients"].sum())
    truncated_cents = int(cells["truncated_cents"].sum())
    spend_cents = int(cells["spend_cents"].sum())
    # DA_c = a_c / D exactly; sums over cells stay integers until the final divisions.
    denominator = model.denominator
    expected_sum = 0  # Σ_i DA_i · D
    cross_sum = 0  # Σ_i d_i·DA_i · 100·D
    expected_square_sum = 0  # Σ_i DA_i² · D²
    for cell, count, cell_cents in zip(cells["cell"], cells["patients"], cells["truncated_cents"], strict=True):
        numerator = model.expected_numerators[cell]
        expected_sum += count * numerator
        cross_sum += numerator * cell_cents
        expected_square_sum += count * numerator * numerator
    real_mean = Fraction(truncated_cents, 100 * patients)
    expected_mean = Fraction(expected_sum, denominator * patients)
    squared_deviations = (
        Fraction(int(cells["truncated_cents_squared"].sum()), 10_000)
        - Fraction(2 * cross_sum, 100 * denominator)
        + Fraction(expected_square_sum, denominator * denominator)
    )
    return YearAverages(
        patients=patients,
        real_per_patient=float(real_mean),
        expected_per_patient=float(expected_mean),
        real_expenditure_total=spend_cents / 100,  # int / int is correctly rounded in Python
        real_expenditure_cents=spend_cents,
        level_gap_se=_level_gap_se(patients, squared_deviations, real_mean - expected_mean),
    )


def _level_gap_se(patients: int, sum_of_squared_deviations: Fraction, mean_deviation: Fraction) -> float:
    """√v / √n in doubles, v the nearest double of the exact sample variance (ddof 1); 0 when n ≤ 1."""
    if patients <= 1:
        return 0.0
    variance = (sum_of_squared_deviations - patients * mean_deviation * mean_deviation) / (patients - 1)
    return math.sqrt(float(variance)) / math.sqrt(patients)


def untruncated_averages(cells: pl.DataFrame, model: RiskModel) -> YearAverages:
    """Step 13's sensitivity: DR̄ and DA̅ of step 5 with d = depenses (no truncation), DA from the model
    refitted on untruncated spend (`model`), from the same per-cell sums; exact until the final doubles."""
    patients = int(cells["patients"].sum())
    spend_cents = int(cells["spend_cents"].sum())
    expected_sum = sum(
        count * model.expected_numerators[cell] for cell, count in zip(cells["cell"], cells["patients"], strict=True)
    )
    return YearAverages(
        patients=patients,
        real_per_patient=float(Fraction(spend_cents, 100 * patients)),
        expected_per_patient=float(Fraction(expected_sum, model.denominator * patients)),
        real_expenditure_total=spend_cents / 100,
        real_expenditure_cents=spend_cents,
        level_gap_se=None,
    )
