"""Step 3 — écrêtement: the nearest-rank percentile of national spend, computed exactly in cents."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import polars as pl

# A national file is never sorted: a histogram of cents narrows the search to one bucket, and only that
# bucket's values are brought into memory (the bucket is split again while it is still large).
FIRST_BUCKET_WIDTH_CENTS = 1 << 16  # 655.36 €: a few thousand buckets for real spend distributions
REFINEMENT_FACTOR = 1 << 8
EXACT_SELECTION_LIMIT = 1 << 20
# Up to this many rows (256 MB of cents) one read and a selection in memory are faster than the two
# streaming passes; beyond it (68 M patients for France) memory must stay flat.
IN_MEMORY_SELECTION_ROWS = 1 << 25


def nearest_rank(percentile: Fraction, rows: int) -> int:
    """1-based rank ceil(p · rows / 100), in exact rational arithmetic (p may be 99.5)."""
    return math.ceil(Fraction(percentile) * rows / 100)


def truncation_threshold_cents(beneficiaries: pl.LazyFrame, percentile: Fraction, rows: int) -> int:
    """Step 3: s_Y in cents = the value at rank ceil(p·rows/100) of `depenses_cents` sorted ascending.

    A file of up to IN_MEMORY_SELECTION_ROWS rows is read once and the rank selected in memory.
    Larger files get exact selection in streaming passes over one integer column: a histogram of cents
    locates the bucket holding the rank, then that bucket's values alone are selected exactly (a
    bucket still holding more than a million rows is histogrammed again, finer). Memory then stays
    flat whatever the file size. No float is involved either way.
    """
    rank = nearest_rank(percentile, rows)
    cents = pl.col("depenses_cents")
    candidates = beneficiaries.select(cents.cast(pl.Int64))
    if rows <= IN_MEMORY_SELECTION_ROWS:
        return _select_in_memory(candidates.collect()["depenses_cents"].to_numpy(), rank)
    width = FIRST_BUCKET_WIDTH_CENTS
    while True:
        histogram = (
            candidates.group_by((cents // width).alias("bucket"))
            .agg(pl.len().alias("rows"))
            .collect(engine="streaming")
            .sort("bucket")
        )
        cumulative = np.cumsum(histogram["rows"].to_numpy())
        position = int(np.searchsorted(cumulative, rank))  # first bucket whose cumulative count reaches the rank
        rank -= int(cumulative[position - 1]) if position else 0
        low = int(histogram["bucket"][position]) * width
        if width == 1:
            return low
        candidates = candidates.filter(cents.is_between(low, low + width - 1))
        if int(histogram["rows"][position]) <= EXACT_SELECTION_LIMIT:
            return _select_in_memory(candidates.collect(engine="streaming")["depenses_cents"].to_numpy(), rank)
        width = max(1, width // REFINEMENT_FACTOR)


def _select_in_memory(values: np.ndarray, rank: int) -> int:
    """The value at 1-based `rank` of `values` sorted ascending (a partial sort, on a copy)."""
    return int(np.partition(values, rank - 1)[rank - 1])
