"""Step 1 — the members of each groupement at the campaign's reference date."""

from __future__ import annotations

from datetime import date

import polars as pl

from calculations.bundle.reasons import reason

from ..errors import EngineError, engine_problem


def active_members(members: pl.DataFrame, groupement_codes: list[str], year: int) -> pl.DataFrame:
    """Step 1: RPPS members of the given groupements with start ≤ 31/12/N and (end empty or ≥ 31/12/N).

    Returns columns `rpps`, `groupement`. The same set serves every year of the campaign (N and R):
    a groupement is judged on its current doctors' patients, including in its reference year.
    """
    reference_date = date(year, 12, 31)
    active = members.filter(
        pl.col("groupement").is_in(groupement_codes)
        & (pl.col("start") <= reference_date)
        & (pl.col("end").is_null() | (pl.col("end") >= reference_date))
    )
    pairs = active.select(pl.col("rpps").cast(pl.String), pl.col("groupement").cast(pl.String)).unique(
        maintain_order=True
    )
    # membres.csv forbids overlapping rows of one RPPS: a patient must count for one groupement at most.
    shared = pairs.filter(pl.col("rpps").is_duplicated()).group_by("rpps").agg(pl.col("groupement").sort()).sort("rpps")
    if shared.height:
        raise EngineError(
            [
                engine_problem(
                    "membres.csv",
                    reason("member_of_several", rpps=rpps, groupements=", ".join(codes), year=year),
                    "rpps",
                )
                for rpps, codes in shared.iter_rows()
            ]
        )
    return pairs
