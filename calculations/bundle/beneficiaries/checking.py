"""One pass of the rules over `Rows`: the typed Parquet, the row hashes for the duplicate search, the
profile, and either a verdict (optimistic) or the diagnosis: a count per rule and the first failing
rows. One streaming Polars query (`collect_all` over one scan); only aggregates and the first
`limit` failing rows are ever held in memory, whatever the file holds."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from .profile import profile_expressions, profile_from_row
from .reading import BLANK, FIELDS, LINE, Rows
from .rules import (
    BENEFICIARY_SCHEMA,
    REQUIRED_COLUMNS,
    Rule,
    breaks_none,
    first_broken,
    rule_fields,
    rules_by_column,
    typed_columns,
)

HASH = "__hash"
_CODE = "__code_"  # + column: 1-based index of the column's first broken rule, 0 when none
_TEXT = "__text_"
_BAD = "__broken"


@dataclass
class PassResult:
    rows: int  # data rows, blank lines excluded
    broken_rows: int  # rows that break a rule or have a wrong field count
    profile: dict
    rule_counts: Counter = field(default_factory=Counter)  # diagnosis: problems per rule name
    failing: pl.DataFrame | None = None  # diagnosis: the first failing rows, in file order


def column_code(column: str) -> str:
    return _CODE + column


def text_column(column: str) -> str:
    """The value as written (trimmed, cut past what a reason shows) of a failing row."""
    return _TEXT + column


def _sink(frame: pl.LazyFrame, target: Path, **options) -> pl.LazyFrame:
    # Nothing filters these files by row group: no statistics, which cost a tenth of the pass.
    return frame.sink_parquet(target, lazy=True, mkdir=True, statistics=False, **options)


def check_rows(
    rows: Rows, rules: tuple[Rule, ...], *, width: int, delimiter: str, target: Path, hashes: Path, limit: int
) -> list[pl.LazyFrame]:
    """The queries of one pass (run them with `collect_all`, then `pass_result`): the typed rows to
    `target`; the hash of each id to compare (with its line, when the rows are numbered) to `hashes`;
    the stats; and, when the rows are numbered, the diagnosis: which rule each row breaks first, and
    the first `limit` failing rows. Unnumbered (optimistic) rows only get a verdict."""
    derived, fields = rule_fields(reader_integers=rows.reader_integers, delimiter=delimiter)
    frame = rows.frame.with_columns(derived)
    identifier = fields["id_patient"].text
    diagnose = rows.numbered
    if diagnose:
        wrong_count = pl.col(FIELDS) != width
        checked = ~pl.col(BLANK) & ~wrong_count
        by_column = rules_by_column(rules)
        frame = frame.with_columns(
            pl.when(checked).then(first_broken(by_column[c], fields[c])).otherwise(0).alias(column_code(c))
            for c in REQUIRED_COLUMNS
        )
        broken = wrong_count | pl.any_horizontal(pl.col(column_code(c)) != 0 for c in REQUIRED_COLUMNS)
        hashed = pl.when(checked & (identifier != "")).then(identifier.hash())
        details = [
            pl.col(LINE),
            pl.col(FIELDS),
            *(pl.col(column_code(c)) for c in REQUIRED_COLUMNS),
            *(fields[c].text.str.slice(0, 48).alias(text_column(c)) for c in REQUIRED_COLUMNS),
        ]
    else:
        details = []
        broken = ~breaks_none(rules, fields)
        hashed = identifier.hash()
    kept = frame.filter(~pl.col(BLANK)).select(*typed_columns(fields), hashed.alias(HASH), broken.alias(_BAD), *details)
    stats = [pl.col(_BAD).sum().alias("__broken_rows"), *profile_expressions()]
    if diagnose:
        stats.append((pl.col(FIELDS) != width).sum().alias("field_count"))
        for column, column_rules in rules_by_column(rules).items():
            for index, rule in enumerate(column_rules, start=1):
                stats.append((pl.col(column_code(column)) == index).sum().alias(f"{column}:{rule.name}"))
    queries = [
        # zstd level 1: as small as the default level and a third faster to write.
        _sink(
            kept.select(list(BENEFICIARY_SCHEMA)), target, compression="zstd", compression_level=1, sync_on_close="all"
        ),
        # Random hashes do not compress.
        _sink(kept.select(*([LINE] if diagnose else []), HASH), hashes, compression="uncompressed"),
        kept.select(stats),
    ]
    if diagnose:
        # The first failing rows: the streaming engine keeps the file order, and a `head` stops taking
        # rows once it has them (a `bottom_k` would hold the shared scan back, and memory with it).
        failing = [
            LINE,
            FIELDS,
            *(column_code(c) for c in REQUIRED_COLUMNS),
            *(text_column(c) for c in REQUIRED_COLUMNS),
        ]
        queries.append(kept.filter(pl.col(_BAD)).select(failing).head(limit))
    return queries


def pass_result(frames: list[pl.DataFrame], rules: tuple[Rule, ...]) -> PassResult:
    stats = frames[2].row(0, named=True)
    counts = Counter()
    failing = None
    diagnose = len(frames) > 3
    if diagnose:
        counts["field_count"] = stats["field_count"]
        for rule in rules:
            counts[rule.name] += stats[f"{rule.column}:{rule.name}"]
        failing = frames[3].sort(LINE)
    return PassResult(
        rows=stats["rows"],
        broken_rows=stats["__broken_rows"],
        profile=profile_from_row(stats),
        rule_counts=+counts,
        failing=failing,
    )
