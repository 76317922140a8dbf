"""The yearly national beneficiaries file: validation and typed frames.

CONTRACT (used by the engine, `simulate`, and dataset ingestion). A validated beneficiaries frame has
exactly these columns:

    id_patient: String, age: Int16, sexe: Int8, ald: Int8, css: Int8, deces: Int8,
    rpps_mt: String (null when empty), depenses_cents: Int64 (exact integer cents)

`depenses_cents` keeps money exact (sums and percentiles in integers); `depenses_cents / 100` is the
nearest double of the written decimal.

TEMPORARY STUB: full streaming validation (issue 5) replaces the CSV path below.
"""
from __future__ import annotations

from pathlib import Path

import polars as pl

BENEFICIARY_SCHEMA = {
    "id_patient": pl.String,
    "age": pl.Int16,
    "sexe": pl.Int8,
    "ald": pl.Int8,
    "css": pl.Int8,
    "deces": pl.Int8,
    "rpps_mt": pl.String,
    "depenses_cents": pl.Int64,
}


def scan_beneficiaries(path: Path) -> pl.LazyFrame:
    """A lazy frame of validated beneficiaries from a Parquet file written by ingestion, or a CSV."""
    path = Path(path)
    if path.suffix == ".parquet":
        return pl.scan_parquet(path)
    with open(path, encoding="utf-8-sig", errors="replace") as handle:
        header = handle.readline()
    separator = ";" if ";" in header else ","
    frame = pl.read_csv(path, separator=separator, decimal_comma=separator == ";", infer_schema=False)
    frame = frame.rename({c: c.strip().lower() for c in frame.columns})
    return frame.lazy().select(
        pl.col("id_patient").str.strip_chars(),
        pl.col("age").str.strip_chars().cast(pl.Int16),
        *(pl.col(c).str.strip_chars().cast(pl.Int8) for c in ("sexe", "ald", "css", "deces")),
        pl.col("rpps_mt").str.strip_chars().replace("", None),
        (pl.col("depenses").str.strip_chars().str.replace(",", ".").cast(pl.Decimal(18, 2)) * 100)
        .cast(pl.Int64)
        .alias("depenses_cents"),
    )
