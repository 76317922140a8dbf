"""Step 4 — the national risk model of year Y, fitted exactly from per-cell counts and sums.

Every regressor is 0/1, so a patient's design row depends only on its *risk cell*
(sexe, age band, ald, css, deces): 2 × 20 × 2 × 2 × 2 = 320 cells. X′X and X′y are sums over cells,
and the fitted value DA is one number per cell. X′X is an integer matrix and X′y is an integer number
of cents, so the normal equations are solved in exact rational arithmetic (fraction-free Gaussian
elimination): the fit does not depend on row order or on floating-point accumulation.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

import polars as pl

from calculations.bundle.reasons import reason

from ..errors import EngineError, engine_problem

AGE_BANDS = 20  # 0–4, 5–9, …, 90–94, 95+
SEXES = (1, 2)
CELL_COUNT = len(SEXES) * AGE_BANDS * 8
# Column order of the design: 40 sexe × age band indicators, then ald, css, deces.
COLUMN_NAMES = tuple(
    f"sexe{s}_age{5 * b}" + ("+" if b == AGE_BANDS - 1 else f"-{5 * b + 4}") for s in SEXES for b in range(AGE_BANDS)
) + (
    "ald",
    "css",
    "deces",
)


def risk_cell_expression() -> pl.Expr:
    """The risk cell of a beneficiaries row as an Int16 in [0, 320): ((sexe−1)·20 + band)·8 + ald·4 + css·2 + deces."""
    band = pl.min_horizontal(pl.col("age").cast(pl.Int16) // 5, pl.lit(AGE_BANDS - 1, pl.Int16))
    sex_band = (pl.col("sexe").cast(pl.Int16) - 1) * AGE_BANDS + band
    flags = pl.col("ald").cast(pl.Int16) * 4 + pl.col("css").cast(pl.Int16) * 2 + pl.col("deces").cast(pl.Int16)
    return (sex_band * 8 + flags).alias("cell")


def design_row(cell: int) -> tuple[int, ...]:
    """The 43 regressors (0/1) of every patient in `cell`."""
    sex_band, flags = divmod(cell, 8)
    row = [0] * len(COLUMN_NAMES)
    row[sex_band] = 1
    row[40], row[41], row[42] = (flags >> 2) & 1, (flags >> 1) & 1, flags & 1
    return tuple(row)


@dataclass(frozen=True)
class RiskModel:
    """The fitted model of one year: coefficients of the kept columns and DA for each populated cell.

    DA of cell c is exactly `expected_numerators[c] / denominator` euros: one common denominator lets
    step 5 sum over cells in integer arithmetic.
    """

    year: int
    columns: tuple[str, ...]
    coefficients: tuple[Fraction, ...]  # euros per patient, exact
    expected_numerators: Mapping[int, int]
    denominator: int

    def expected(self, cell: int) -> Fraction:
        """DA_i for a patient of `cell`, exact (euros)."""
        return Fraction(self.expected_numerators[cell], self.denominator)


def fit_risk_model(year: int, cell_counts: Mapping[int, int], cell_truncated_cents: Mapping[int, int]) -> RiskModel:
    """Step 4: OLS without intercept of d on the 43 columns, from national per-cell counts and Σd (in cents).

    Columns that are zero on every row are dropped; a rank-deficient design (rank of the integer X′X
    below its size) raises EngineError naming the year.
    """
    populated = sorted(cell for cell, count in cell_counts.items() if count > 0)
    rows = {cell: design_row(cell) for cell in populated}
    kept = [j for j in range(len(COLUMN_NAMES)) if any(rows[cell][j] for cell in populated)]
    if not kept:
        raise EngineError([engine_problem(f"beneficiaires_{year}.csv", reason("no_risk_rows", year=year))])
    size = len(kept)
    gram = [[0] * size for _ in range(size)]  # X′X
    moment = [0] * size  # X′y in cents
    for cell in populated:
        count, cents = cell_counts[cell], cell_truncated_cents[cell]
        active = [k for k, j in enumerate(kept) if rows[cell][j]]
        for a in active:
            moment[a] += cents
            for b in active:
                gram[a][b] += count
    coefficients_cents = solve_exact(gram, moment)
    if coefficients_cents is None:
        raise EngineError(
            [
                engine_problem(
                    f"beneficiaires_{year}.csv",
                    reason("rank_deficient", year=year, size=size),
                )
            ]
        )
    coefficients = tuple(c / 100 for c in coefficients_cents)
    denominator = math.lcm(*(c.denominator for c in coefficients))
    numerators = [c.numerator * (denominator // c.denominator) for c in coefficients]
    expected_numerators = {cell: sum(numerators[k] for k, j in enumerate(kept) if rows[cell][j]) for cell in populated}
    return RiskModel(year, tuple(COLUMN_NAMES[j] for j in kept), coefficients, expected_numerators, denominator)


def solve_exact(matrix: list[list[int]], right_hand_side: list[int]) -> list[Fraction] | None:
    """Exact solution of M·x = b for a symmetric positive semi-definite integer M; None when M is singular.

    Fraction-free (Bareiss) elimination keeps every entry an integer. X′X is positive semi-definite, so
    it is invertible iff every leading principal minor is positive: no pivoting is needed, and a zero
    pivot proves the rank deficiency.
    """
    size = len(matrix)
    augmented = [list(row) + [value] for row, value in zip(matrix, right_hand_side, strict=True)]
    previous_pivot = 1
    for k in range(size):
        pivot = augmented[k][k]
        if pivot == 0:
            return None
        for i in range(k + 1, size):
            row_i, row_k = augmented[i], augmented[k]
            factor = row_i[k]
            for j in range(k + 1, size + 1):
                row_i[j] = (pivot * row_i[j] - factor * row_k[j]) // previous_pivot
            row_i[k] = 0
        previous_pivot = pivot
    solution: list[Fraction] = [Fraction(0)] * size
    for i in reversed(range(size)):
        remainder = Fraction(augmented[i][size]) - sum(
            (augmented[i][j] * solution[j] for j in range(i + 1, size)), Fraction(0)
        )
        solution[i] = remainder / augmented[i][i]
    return solution
