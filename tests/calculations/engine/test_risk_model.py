"""Step 4: the national risk model, fitted exactly from per-cell sums."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import polars as pl
import pytest

from calculations.engine import EngineError, Parameters, compute_campaign
from calculations.engine.steps.risk_model import (
    COLUMN_NAMES,
    design_row,
    fit_risk_model,
    risk_cell_expression,
    solve_exact,
)
from tests.calculations.engine.builders import G1_DOCTOR, G2_DOCTOR, OUTSIDE_DOCTOR, toy_inputs


def cell_of(age: int, sexe: int, ald: int, css: int, deces: int) -> int:
    frame = pl.DataFrame({"age": [age], "sexe": [sexe], "ald": [ald], "css": [css], "deces": [deces]})
    return frame.select(risk_cell_expression())["cell"].item()


def test_cells_and_design_rows():
    # sexe 2, age 97 → band min(97 // 5, 19) = 19; ((2−1)·20 + 19)·8 + ald·4 + css·2 + deces = 312 + 4 + 1.
    assert cell_of(97, 2, 1, 0, 1) == 317
    assert cell_of(4, 1, 0, 0, 0) == 0
    assert cell_of(125, 2, 1, 1, 1) == 319  # 95+ is the last band
    assert cell_of(94, 1, 0, 1, 0) == 18 * 8 + 2  # 90–94 is band 18
    row = design_row(317)
    assert len(row) == 43 and sum(row) == 3
    assert row[39] == 1 and COLUMN_NAMES[39] == "sexe2_age95+"
    assert row[40:] == (1, 0, 1)  # ald, css, deces
    assert COLUMN_NAMES[0] == "sexe1_age0-4"


def test_saturated_two_cell_model_gives_cell_means():
    # Cell A (band age 30–34, no flag): d = 100 and 200 €. Cell B (same band, ald): d = 1 000 €.
    # Kept columns: the band and ald. OLS: β_band = mean(A) = 150, β_ald = 1000 − 150 = 850.
    a, b = cell_of(30, 1, 0, 0, 0), cell_of(30, 1, 1, 0, 0)
    model = fit_risk_model(2022, {a: 2, b: 1}, {a: 30_000, b: 100_000})
    assert model.columns == ("sexe1_age30-34", "ald")
    assert model.coefficients == (Fraction(150), Fraction(850))
    assert model.expected(a) == 150 and model.expected(b) == 1000


def test_non_saturated_model_solved_by_hand():
    # Four cells, three columns (band 30–34, band 40–44, ald), one patient each:
    #   X rows [1,0,0] [1,0,1] [0,1,0] [0,1,1], y = 10, 30, 20, 60.
    #   X'X = [[2,0,1],[0,2,1],[1,1,2]], X'y = [40, 80, 90].
    #   a = (40 − c)/2, b = (80 − c)/2, a + b + 2c = 90 → 60 + c = 90 → c = 30, a = 5, b = 25.
    #   Fitted: 5, 35, 25, 55.
    cells = [cell_of(30, 1, 0, 0, 0), cell_of(30, 1, 1, 0, 0), cell_of(40, 1, 0, 0, 0), cell_of(40, 1, 1, 0, 0)]
    model = fit_risk_model(2020, dict.fromkeys(cells, 1), dict(zip(cells, [1000, 3000, 2000, 6000], strict=True)))
    assert model.coefficients == (Fraction(5), Fraction(25), Fraction(30))
    assert [model.expected(c) for c in cells] == [5, 35, 25, 55]


def test_exact_fit_agrees_with_a_float_least_squares():
    rng = np.random.default_rng(11)
    cells = sorted({int(c) for c in rng.integers(0, 320, size=120)})
    counts = {c: int(rng.integers(1, 50)) for c in cells}
    sums = {c: int(rng.integers(0, 10**6)) * counts[c] for c in cells}
    model = fit_risk_model(2019, counts, sums)
    design = np.array([design_row(c) for c in cells], dtype=float)
    kept = [j for j in range(43) if design[:, j].any()]
    weights = np.sqrt([counts[c] for c in cells])
    means = np.array([sums[c] / counts[c] / 100 for c in cells])
    beta, *_ = np.linalg.lstsq(design[:, kept] * weights[:, None], means * weights, rcond=None)
    fitted = design[:, kept] @ beta
    assert [float(model.expected(c)) for c in cells] == pytest.approx(list(fitted), rel=1e-9)


def test_rank_deficient_design_names_the_year():
    # Everybody is in ald and in one band: the ald column equals the band column.
    cell = cell_of(50, 2, 1, 0, 0)
    with pytest.raises(EngineError) as caught:
        fit_risk_model(2021, {cell: 5}, {cell: 12_345})
    assert "2021" in str(caught.value) and "rang incomplet" in str(caught.value)
    assert caught.value.problems[0].file == "beneficiaires_2021.csv"


def test_rank_deficient_year_in_a_campaign():
    # In 2021 every patient is 40 with ald = 1: columns sexe1_age40-44 and ald coincide.
    spend = {
        2022: [(G1_DOCTOR, 50), (G2_DOCTOR, 300), (OUTSIDE_DOCTOR, 200)],
        2021: [(G1_DOCTOR, 120, 40, 1, 1, 0, 0), (G2_DOCTOR, 240, 40, 1, 1, 0, 0)],
    }
    with pytest.raises(EngineError) as caught:
        compute_campaign(toy_inputs(spend=spend), Parameters())
    assert "modèle de risque 2021\u202f: le plan est de rang incomplet" in str(caught.value)


def test_solve_exact():
    # [[4, 2], [2, 3]] x = [10, 11] → x = (1, 3).
    assert solve_exact([[4, 2], [2, 3]], [10, 11]) == [1, 3]
    # [[2, 1], [1, 2]] x = [1, 0] → x = (2/3, −1/3).
    assert solve_exact([[2, 1], [1, 2]], [1, 0]) == [Fraction(2, 3), Fraction(-1, 3)]
    assert solve_exact([[1, 1], [1, 1]], [1, 1]) is None
