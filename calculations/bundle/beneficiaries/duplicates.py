"""Duplicate ids, in bounded memory whatever the number of rows.

A pass writes, for every row to compare, its line and the 64-bit hash of its id. Equal ids have equal
hashes, so no repeated hash proves there is no duplicate (the usual case, and the only cost for a
valid file). Otherwise the ids themselves are compared (a hash collision is not a duplicate). Both
searches split the rows into buckets by hash, so that only one bucket is ever held in memory.
"""

from __future__ import annotations

import math
from pathlib import Path

import polars as pl

from .checking import HASH
from .reading import LINE

# Rows per bucket (random hashes spread rows evenly): hashes take 8 bytes each plus their hash table;
# ids a few dozen bytes each in the group-by.
HASH_BUCKET_ROWS = 8_000_000
ID_BUCKET_ROWS = 2_000_000


def _in_bucket(bucket: int, buckets: int) -> pl.Expr:
    present = pl.col(HASH).is_not_null()
    return present if buckets == 1 else present & (pl.col(HASH) % buckets == bucket)


def may_have_duplicates(hashes: Path, rows: int) -> bool:
    """False proves that no id repeats: no hash repeats. True when one does, or when a bucket holds
    far more rows than its share (many rows share a few hashes: the ids must decide, in bounded memory)."""
    buckets = max(1, math.ceil(rows / HASH_BUCKET_ROWS))
    for bucket in range(buckets):
        part = pl.scan_parquet(hashes).filter(_in_bucket(bucket, buckets)).select(HASH)
        if part.select(pl.len()).collect().item() > 2 * HASH_BUCKET_ROWS:
            return True
        # Eager `n_unique` on the collected bucket: three times faster than the lazy one.
        values = part.collect().to_series()
        if values.n_unique() < values.len():
            return True
    return False


def find_duplicates(target: Path, hashes: Path, rows: int, *, limit: int) -> tuple[int, pl.DataFrame]:
    """Rows whose id appeared on an earlier line: their number, and the first `limit` of them in file
    order as (line, id_patient, first_line). `target` holds the ids, row for row with `hashes`."""
    buckets = max(1, math.ceil(rows / ID_BUCKET_ROWS))
    ids = pl.concat([pl.scan_parquet(target).select("id_patient"), pl.scan_parquet(hashes)], how="horizontal")
    total = 0
    shown = [pl.DataFrame(schema={LINE: pl.Int64, "id_patient": pl.String, "first_line": pl.Int64})]
    for bucket in range(buckets):
        part = ids.filter(_in_bucket(bucket, buckets)).select(LINE, "id_patient")
        repeated = (
            part.group_by("id_patient")
            .agg(pl.col(LINE).min().alias("first_line"), pl.len().alias("rows"))
            .filter(pl.col("rows") > 1)
            .collect(engine="streaming")
        )
        if repeated.is_empty():
            continue
        total += int((repeated["rows"] - 1).sum())
        first = repeated.lazy().select("id_patient", "first_line")
        shown.append(
            part.join(first, on="id_patient")
            .filter(pl.col(LINE) > pl.col("first_line"))
            .bottom_k(limit, by=LINE)
            .collect(engine="streaming")
        )
    return total, pl.concat(shown).sort(LINE).head(limit)
