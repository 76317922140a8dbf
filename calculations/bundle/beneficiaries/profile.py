"""The profile of a validated file shown on the dataset's page: counts, money, ages."""

from __future__ import annotations

import polars as pl

from .rules import BOOLEAN_COLUMNS

AGE_BANDS = 11  # 0–9 … 90–99, then 100 and more


def profile_expressions() -> list[pl.Expr]:
    """Aggregates over typed rows (`rows` also counts blank rows, whose values are null: the caller
    takes them off)."""
    age = pl.col("age")
    # One range test per band: a shared `age // 10` would be computed again for each band.
    bands = [age.is_between(10 * b, 10 * b + 9) for b in range(AGE_BANDS - 1)] + [age >= 10 * (AGE_BANDS - 1)]
    return [
        pl.len().alias("rows"),
        pl.col("depenses_cents").sum().alias("depenses_cents"),
        pl.col("rpps_mt").is_not_null().sum().alias("with_mt"),
        (pl.col("sexe") == 1).sum().alias("men"),
        (pl.col("sexe") == 2).sum().alias("women"),
        *(pl.col(c).cast(pl.Int64).sum().alias(c) for c in BOOLEAN_COLUMNS),
        pl.col("age").cast(pl.Int64).sum().alias("age_sum"),
        *(band.sum().alias(f"band{b}") for b, band in enumerate(bands)),
    ]


def profile_from_row(row: dict) -> dict:
    rows = row["rows"]
    cents = int(row["depenses_cents"] or 0)
    return {
        "rows": rows,
        "depenses_total_cents": cents,
        "depenses_total": f"{cents // 100}.{cents % 100:02d}",
        "depenses_mean": round(cents / 100 / rows, 2) if rows else None,
        "with_mt": row["with_mt"],
        "with_mt_share": row["with_mt"] / rows if rows else None,
        "men": row["men"],
        "women": row["women"],
        **{c: row[c] for c in BOOLEAN_COLUMNS},
        "age_mean": row["age_sum"] / rows if rows else None,
        "age_bands": [
            {"band": f"{b * 10}–{b * 10 + 9}" if b < AGE_BANDS - 1 else "100 et plus", "count": row[f"band{b}"]}
            for b in range(AGE_BANDS)
        ],
    }
