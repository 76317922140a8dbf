"""Step 2 — patient lists, and the one aggregation pass per year that feeds steps 3 to 5.

A national file has tens of millions of rows, so it is read once (lazily, by Polars' streaming
engine) into per-(groupement, risk cell) integer sums; nothing per patient is kept in memory.
Patients whose médecin traitant is no member get a null groupement: they still count in the
national risk model.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import polars as pl

from calculations.bundle.beneficiaries.rules import INT64_MAX, MONEY_LIMIT_CENTS
from calculations.bundle.reasons import number, reason

from ..errors import EngineError, engine_problem
from .risk_model import CELL_COUNT, risk_cell_expression


@dataclass(frozen=True)
class YearAggregate:
    """Sums of one year's national file by (groupement or null, risk cell); money in integer cents.

    `cells` columns: groupement (String, null = no groupement), cell (Int16), patients (count),
    spend_cents (Σ untruncated), truncated_cents (Σ d in cents), truncated_cents_squared (Σ d² in cents²).
    """

    year: int
    rows: int
    truncation_threshold_cents: int
    cells: pl.DataFrame

    @property
    def truncation_threshold(self) -> float:
        return self.truncation_threshold_cents / 100

    def national_cells(self, spend_column: str = "truncated_cents") -> tuple[dict[int, int], dict[int, int]]:
        """Patients and Σ spend (cents) per risk cell over the whole national file (for step 4).

        `spend_column` is truncated_cents (d of step 3) or spend_cents (the untruncated refit of step 13).
        """
        national = self.cells.group_by("cell").agg(pl.col("patients").sum(), pl.col(spend_column).sum())
        cells = national["cell"].to_list()
        return dict(zip(cells, national["patients"].to_list(), strict=True)), dict(
            zip(cells, national[spend_column].to_list(), strict=True)
        )

    def groupement_cells(self, groupement: str) -> pl.DataFrame:
        return self.cells.filter(pl.col("groupement") == groupement)

    def patient_counts(self) -> dict[str, int]:
        """n_{g,Y} for every groupement with at least one patient."""
        per_groupement = self.cells.drop_nulls("groupement").group_by("groupement").agg(pl.col("patients").sum())
        return dict(zip(per_groupement["groupement"].to_list(), per_groupement["patients"].to_list(), strict=True))


def count_rows(beneficiaries: pl.LazyFrame) -> int:
    """Rows of a national file (read from Parquet metadata when the frame is a plain Parquet scan)."""
    return int(beneficiaries.select(pl.len()).collect(engine="streaming").item())


def aggregate_patient_lists(
    year: int, beneficiaries: pl.LazyFrame, member_groupements: pl.DataFrame, threshold_cents: int, rows: int
) -> YearAggregate:
    """Step 2 (with the sums of steps 3–5): attach each row to its médecin traitant's groupement and sum by cell.

    `member_groupements` (rpps, groupement) is the step-1 member set. d = min(depenses, s_Y) is summed
    in integer cents (and d² in 128-bit integers), so every later total is exact and order-free.
    """
    spend = pl.col("depenses_cents").cast(pl.Int64)
    truncated = pl.min_horizontal(spend, pl.lit(threshold_cents, pl.Int64))
    # Polars groups fastest on one integer key: groupement number (0 = none) · CELL_COUNT + cell.
    codes = sorted(member_groupements["groupement"].unique().to_list())
    numbers = member_groupements.select(
        "rpps",
        pl.col("groupement").replace_strict(codes, range(1, len(codes) + 1), return_dtype=pl.Int32).alias("number"),
    )
    sums = (
        beneficiaries.select(pl.col("rpps_mt").cast(pl.String), risk_cell_expression(), spend.alias("depenses_cents"))
        .join(numbers.lazy(), left_on="rpps_mt", right_on="rpps", how="left")
        .group_by((pl.col("number").fill_null(0) * CELL_COUNT + pl.col("cell").cast(pl.Int32)).alias("key"))
        .agg(
            pl.len().alias("patients"),
            pl.col("depenses_cents").sum().alias("spend_cents"),
            truncated.sum().alias("truncated_cents"),
            truncated.cast(pl.Int128).pow(2).sum().alias("truncated_cents_squared"),
            pl.col("depenses_cents").min().alias("smallest_cents"),
            pl.col("depenses_cents").max().alias("largest_cents"),
        )
        .collect(engine="streaming")
    )
    check_spend_bounds(year, sums["smallest_cents"].min(), sums["largest_cents"].max(), rows)
    number = pl.col("key") // CELL_COUNT
    cells = sums.select(
        pl.when(number > 0)
        .then(number.replace_strict(range(1, len(codes) + 1), codes, default=None, return_dtype=pl.String))
        .alias("groupement"),
        (pl.col("key") % CELL_COUNT).cast(pl.Int16).alias("cell"),
        "patients",
        "spend_cents",
        "truncated_cents",
        "truncated_cents_squared",
    ).sort("groupement", "cell", nulls_last=True)
    return YearAggregate(year, rows, threshold_cents, cells)


def check_spend_bounds(year: int, smallest_cents: int | None, largest_cents: int | None, rows: int) -> None:
    """Section 3 bounds `depenses` to [0, 100 000 000 €) so that every sum of cents fits an Int64, which
    Polars would wrap without a word. Frames that did not go through the file's validation (a Parquet
    file put in a bundle, a frame built in code) are checked here: out of bounds, or a sum of cents that
    could pass 2⁶³ − 1, is an error before any figure is used."""
    if smallest_cents is None:
        return
    file = f"beneficiaires_{year}.csv"
    problems = []
    if smallest_cents < 0 or largest_cents >= MONEY_LIMIT_CENTS:
        problems.append(
            engine_problem(
                file,
                reason(
                    "spend_bounds",
                    limit=number(MONEY_LIMIT_CENTS // 100),
                    low=number(Decimal(smallest_cents).scaleb(-2)),
                    high=number(Decimal(largest_cents).scaleb(-2)),
                ),
                "depenses",
            )
        )
    if max(abs(smallest_cents), abs(largest_cents)) * rows > INT64_MAX:
        problems.append(
            engine_problem(
                file,
                reason("spend_sum_overflow", rows=number(rows)),
                "depenses",
            )
        )
    if problems:
        raise EngineError(problems)


def check_patient_lists(aggregates: dict[int, YearAggregate], reference_year_of: dict[str, int], year: int) -> None:
    """Step 2's rule: a participating groupement with an empty list in N or in its reference year is an error."""
    problems = []
    counts = {y: aggregate.patient_counts() for y, aggregate in aggregates.items()}
    for code, reference_year in sorted(reference_year_of.items()):
        for y in (year, reference_year):
            if counts[y].get(code, 0) == 0:
                problems.append(
                    engine_problem(
                        f"beneficiaires_{y}.csv",
                        reason("empty_patient_list", groupement=code, list_year=y, year=year),
                        "rpps_mt",
                    )
                )
    if problems:
        raise EngineError(problems)
