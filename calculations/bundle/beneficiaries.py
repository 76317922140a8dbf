"""The yearly national beneficiaries file: streaming validation (METHODOLOGY.md section 3) and typed
frames.

CONTRACT (used by the engine, `simulate`, and dataset ingestion). A validated beneficiaries frame has
exactly these columns:

    id_patient: String, age: Int16, sexe: Int8, ald: Int8, css: Int8, deces: Int8,
    rpps_mt: String (null when empty), depenses_cents: Int64 (exact integer cents)

`depenses_cents` keeps money exact (sums and percentiles in integers); `depenses_cents / 100` is the
nearest double of the written decimal.

How a file of tens of millions of rows is checked in bounded memory, at close to the speed of a plain
Polars read + write:

1. `scan_bytes` reads the bytes once in chunks: SHA-256, and whether the data hold anything the
   optimistic path does not handle (quotes, `+`, whitespace to trim, non-ASCII text), with the number
   of separators. It runs before (ingestion: hash first, to deduplicate) or beside the Polars pass.
2. The header is read in Python (first non-blank physical line): required columns, duplicates,
   unknown columns (warned), delimiter.
3. The *optimistic* pass: one streaming Polars query (`collect_all`, one scan) parses integers with the
   CSV reader itself (for such bytes it accepts exactly `-?[0-9]+`), checks the text columns with
   vectorised regexes, writes the typed Parquet (a row not proven clean gets a null id) and computes
   the profile. Field counts are proven by the separators counted in step 1 when the last column may
   not be empty (a clean row then cannot be short), else by a raw-line query in the same pass.
4. Anything not proven clean goes through the *exact* pass: every column read as text, one boolean per
   rule, only the first failing rows collected plus a count per rule; field counts from raw lines.
5. Duplicate ids are looked for on the 64-bit hash of the written ids; only a suspected duplicate
   triggers the exact (string) search, which names the line of the first occurrence.
6. Files Polars cannot parse (unbalanced quotes…) and files with quoted line breaks (where row index and
   physical line differ) are diagnosed by the row-by-row reference reader (`reference_problems`), which
   defines the rules exactly; the tests check the vectorised paths against it.

Line numbers are physical, the header is line 1 (or the first non-blank line); without quoted line
breaks, row `i` of the data (blank lines included, as Polars returns them) is line `header + 1 + i`.
Problems are reported as `file:line: column: reason`: the first 100 in file order, then a count per rule.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import os
import queue
import re
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from .csvformat import SNIFF_BYTES, binary_kind, check_header, header_delimiter, normalise_header
from .problems import DEFAULT_LIMIT, BundleError, Problem, ProblemCollector

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
REQUIRED_COLUMNS = ("id_patient", "age", "sexe", "ald", "css", "deces", "rpps_mt", "depenses")
# Integer columns and their inclusive ranges (ald, css, deces are booleans).
INTEGER_RANGES = {"age": (0, 125), "sexe": (1, 2), "ald": (0, 1), "css": (0, 1), "deces": (0, 1)}
BOOLEAN_COLUMNS = ("ald", "css", "deces")
# Money: at most 13 significant digits before the separator keeps cents exact in an Int64 and in a double.
MAX_EURO_DIGITS = 13
MONEY_PLACES = 2
CHUNK_SIZE = 4 << 20
# Reads each physical line as one text field (this byte never occurs in CSV text).
_RAW_SEPARATOR = "\x1f"
_EXTRA = "__extra"
_ROW = "__row"

_INTEGER_RE = r"^-?[0-9]+$"
_RPPS_RE = r"^[0-9]{11}$"

ProgressCallback = Callable[[float, str], None]


# --------------------------------------------------------------------------------------------------
# Results and errors


@dataclass(frozen=True)
class FileFacts:
    """Identity and form of a validated file."""

    size: int
    sha256: str
    encoding: str  # "utf-8" (a BOM is allowed) or "cp1252"


@dataclass
class ValidatedFile:
    """A beneficiaries file that passed every rule."""

    name: str
    rows: int
    facts: FileFacts | None
    delimiter: str
    warnings: list[Problem] = field(default_factory=list)
    profile: dict = field(default_factory=dict)
    parquet_path: Path | None = None
    path_taken: str = "fast"  # fast | exact | reference: which validation path decided (for tests and logs)


class BeneficiariesError(BundleError):
    """A rejected file: the first `limit` problems in file order, then a count per rule of the rest
    (`more`). Millions of broken rows are never materialised: only the first problems are kept."""


class _Progress:
    """Maps the phases of a validation onto one 0..1 fraction, throttled."""

    def __init__(self, callback: ProgressCallback | None, interval: float = 0.5):
        self.callback = callback
        self.interval = interval
        self.last = 0.0
        self.highest = 0.0  # a second pass never moves the bar back

    def __call__(self, fraction: float, label: str, *, force: bool = False) -> None:
        if self.callback is None:
            return
        self.highest = max(self.highest, min(1.0, fraction))
        now = time.monotonic()
        if force or now - self.last >= self.interval:
            self.last = now
            self.callback(self.highest, label)

    def part(self, start: float, end: float) -> Callable[[float, str], None]:
        return lambda fraction, label: self(start + (end - start) * fraction, label)


def _bytes_read_by_process() -> int | None:
    """Bytes this process has read so far (Linux), to follow Polars' progress through the file."""
    try:
        with open("/proc/self/io") as handle:
            for line in handle:
                if line.startswith("rchar:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _run_with_progress(
    work: Callable[[], object], *, expected_bytes: int, report: Callable[[float, str], None], label: str
):
    """Runs `work` (a Polars query, which releases the GIL) in a thread; the calling thread reports
    progress from the bytes read meanwhile, so callbacks (database writes) stay on the caller's thread."""
    result: dict = {}

    def target():
        try:
            result["value"] = work()
        except BaseException as exc:  # re-raised in the caller's thread
            result["error"] = exc

    start = _bytes_read_by_process()
    worker = threading.Thread(target=target, name="beneficiaries-validation", daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(0.25)
        now = _bytes_read_by_process()
        if start is not None and now is not None and expected_bytes:
            # The reader runs ahead of the work: never show more than 95 % before the end.
            report(min(0.95, (now - start) / expected_bytes), label)
    if "error" in result:
        raise result["error"]
    report(1.0, label)
    return result.get("value")


# --------------------------------------------------------------------------------------------------
# Bytes, encoding, header


def _transcode_to_utf8(source: Path, target: Path, *, progress=None, chunk_size: int = CHUNK_SIZE) -> None:
    """Windows-1252 → UTF-8, chunk by chunk (same lines, so line numbers are kept)."""
    size = source.stat().st_size or 1
    decoder = codecs.getincrementaldecoder("cp1252")(errors="replace")
    done = 0
    with open(source, "rb") as reader, open(target, "wb") as writer:
        while chunk := reader.read(chunk_size):
            writer.write(decoder.decode(chunk).encode("utf-8"))
            done += len(chunk)
            if progress:
                progress(done / size, "conversion Windows-1252 → UTF-8")
        writer.write(decoder.decode(b"", final=True).encode("utf-8"))


@dataclass(frozen=True)
class _Header:
    line: int  # physical line of the header
    delimiter: str
    names: list[str]  # normalised, in file order
    positions: dict[str, int]  # required column → field index

    @property
    def width(self) -> int:
        return len(self.names)

    def field(self, column: str) -> str:
        return f"c{self.positions[column]}"


def _read_header(path: Path, name: str, problems: list[Problem], warnings: list[Problem]) -> _Header | None:
    """The first non-blank physical line, checked: required columns present once, unknown ones warned."""
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as handle:
        line_number = 0
        for text in handle:
            line_number += 1
            if text.strip():
                break
        else:
            problems.append(Problem(name, 1, None, "empty file: a header row is required", "empty_file"))
            return None
    delimiter = header_delimiter(text)
    try:
        cells = next(csv.reader([text.rstrip("\r\n")], delimiter=delimiter, strict=True))
    except csv.Error as exc:
        problems.append(Problem(name, line_number, None, f"malformed header: {exc}", "header"))
        return None
    names = [normalise_header(cell) for cell in cells]
    collector = ProblemCollector()
    positions = check_header(names, list(REQUIRED_COLUMNS), file=name, line=line_number, collector=collector)
    problems += collector.problems
    warnings += collector.warnings
    if positions is None:
        return None
    return _Header(line_number, delimiter, names, positions)


# --------------------------------------------------------------------------------------------------
# Vectorised rules


def _scan_rows(source: Path, header: _Header, *, typed_integers: bool) -> pl.LazyFrame:
    """The data rows (blank lines included) with one column per header field, plus `__extra` which is
    non-empty when a row has more fields than the header."""
    integer_fields = {header.field(c): BENEFICIARY_SCHEMA[c] for c in INTEGER_RANGES} if typed_integers else {}
    schema = {f"c{i}": integer_fields.get(f"c{i}", pl.String) for i in range(header.width)}
    schema[_EXTRA] = pl.String
    return pl.scan_csv(
        source,
        separator=header.delimiter,
        has_header=False,
        skip_lines=header.line,
        schema=schema,
        missing_columns="insert",
        truncate_ragged_lines=True,
        empty_string_is_null=False,
        ignore_errors=typed_integers,  # an unparsable integer becomes null, hence suspect
        quote_char='"',
        encoding="utf8",
        raise_if_empty=False,
    )


def _scan_lines(source: Path, header: _Header) -> pl.LazyFrame:
    """Every physical line after the header as one text value (row `i` here is row `i` of `_scan_rows`
    when no quoted field spans lines)."""
    return pl.scan_csv(
        source,
        separator=_RAW_SEPARATOR,
        has_header=False,
        skip_lines=header.line,
        schema={"line": pl.String},
        truncate_ragged_lines=True,
        empty_string_is_null=False,
        quote_char=None,
        encoding="utf8",
        raise_if_empty=False,
    )


def _line_checks(header: _Header, *, quotes: bool) -> dict[str, pl.Expr]:
    """Per raw line: blank, number of fields, and whether quotes are unbalanced (a quoted line break)."""
    line = pl.col("line")
    blank = line.str.contains(r"^[\s" + re.escape(header.delimiter) + r'"]*$')
    if quotes:
        unquoted = line.str.replace_all(r'"[^"]*"', "")
        fields = unquoted.str.count_matches(header.delimiter, literal=True) + 1
        odd_quotes = (line.str.count_matches('"', literal=True) % 2) == 1
    else:
        fields = line.str.count_matches(header.delimiter, literal=True) + 1
        odd_quotes = pl.lit(False)
    return {"blank": blank, "fields": fields.cast(pl.Int64), "odd_quotes": odd_quotes}


def _text(header: _Header, column: str) -> pl.Expr:
    return pl.col(header.field(column)).str.strip_chars()


def _blank_row(header: _Header) -> pl.Expr:
    return pl.all_horizontal(
        *(pl.col(f"c{i}").str.strip_chars() == "" for i in range(header.width)), pl.col(_EXTRA).str.strip_chars() == ""
    )


def _decimal_pattern(delimiter: str, places: str = r"+", *, sign: str = "-?", digits: str = "+") -> str:
    """`digits[.digits]` (or `,` in a `;` file): no exponent, no `+`, no thousands separator."""
    separator = "[.,]" if delimiter == ";" else r"\."
    return rf"^{sign}[0-9]{digits}({separator}[0-9]{places})?$"


def _cents(text: pl.Expr, *, leading_zeros: bool) -> pl.Expr:
    """Exact cents of a validated decimal text (read as Decimal(18, 2), whose integer is the cents).
    With `leading_zeros`, they are dropped first so that a long zero-padded amount still fits."""
    normalised = text.str.replace(",", ".", literal=True)
    if leading_zeros:
        normalised = normalised.str.replace(r"^(-?)0+([0-9])", "${1}${2}")
    return normalised.cast(pl.Decimal(18, MONEY_PLACES), strict=False).to_physical().cast(pl.Int64)


def _flag_name(key: tuple[str, str]) -> str:
    return f"__{key[0]}__{key[1]}"


def _rule_flags(header: _Header) -> dict[tuple[str, str], pl.Expr]:
    """One boolean per (column, rule), on text columns, for rows already known to be non-blank with the
    right field count; at most one rule per column is true (the first broken one)."""
    flags: dict[tuple[str, str], pl.Expr] = {}
    identifier = _text(header, "id_patient")
    flags[("id_patient", "required")] = identifier == ""
    for column, (low, high) in INTEGER_RANGES.items():
        text = _text(header, column)
        empty = text == ""
        integer = text.str.contains(_INTEGER_RE)
        value = text.cast(pl.Int64, strict=False)
        rule = "boolean" if column in BOOLEAN_COLUMNS else "range"
        flags[(column, "required")] = empty
        flags[(column, "integer")] = ~empty & ~integer
        flags[(column, rule)] = ~empty & integer & (value.is_null() | (value < low) | (value > high))
    rpps = _text(header, "rpps_mt")
    flags[("rpps_mt", "rpps")] = (rpps != "") & ~rpps.str.contains(_RPPS_RE)
    money = _text(header, "depenses")
    empty = money == ""
    decimal = money.str.contains(_decimal_pattern(header.delimiter))
    negative = money.str.starts_with("-") & money.str.contains("[1-9]")
    places = money.str.contains(_decimal_pattern(header.delimiter, rf"{{1,{MONEY_PLACES}}}"))
    small = money.str.contains(rf"^-?0*[0-9]{{1,{MAX_EURO_DIGITS}}}([.,]|$)")
    flags[("depenses", "required")] = empty
    flags[("depenses", "decimal")] = ~empty & ~decimal
    flags[("depenses", "negative")] = ~empty & decimal & negative
    flags[("depenses", "decimal_places")] = ~empty & decimal & ~negative & ~places
    flags[("depenses", "range")] = ~empty & decimal & ~negative & places & ~small
    return flags


def _reason(column: str, rule: str, value: str, delimiter: str) -> str:
    shown = repr(value if len(value) <= 40 else value[:40] + "…")
    if rule == "required":
        return "value is required"
    if rule == "integer":
        return f"not an integer: {shown}"
    if rule == "range":
        if column == "depenses":
            return f"too large: at most {MAX_EURO_DIGITS} digits before the decimal separator, got {shown}"
        low, high = INTEGER_RANGES[column]
        return f"must be between {low} and {high}, got {shown}"
    if rule == "boolean":
        return f"must be 0 or 1, got {shown}"
    if rule == "rpps":
        return f"RPPS must be 11 digits, got {shown}"
    if rule == "decimal":
        separator = "'.' or ','" if delimiter == ";" else "'.'"
        return (
            f"not a decimal number (decimal separator {separator}, no exponent, sign or thousands separator): {shown}"
        )
    if rule == "negative":
        return f"must not be negative, got {shown}"
    if rule == "decimal_places":
        return f"at most {MONEY_PLACES} decimal places (an amount in euros and cents), got {shown}"
    raise ValueError(f"unknown rule {rule}")  # pragma: no cover - a programming error


def _exact_output(header: _Header) -> list[pl.Expr]:
    """The CONTRACT columns from text columns (values of rows that break a rule are unspecified)."""
    rpps = _text(header, "rpps_mt")
    return [
        _text(header, "id_patient").alias("id_patient"),
        *(
            _text(header, c).cast(pl.Int64, strict=False).cast(BENEFICIARY_SCHEMA[c], strict=False).alias(c)
            for c in INTEGER_RANGES
        ),
        pl.when(rpps == "").then(None).otherwise(rpps).alias("rpps_mt"),
        _cents(_text(header, "depenses"), leading_zeros=True).alias("depenses_cents"),
    ]


def _fast_output(header: _Header) -> list[pl.Expr]:
    """The CONTRACT columns on the optimistic path, where the data bytes are known to hold no
    whitespace to trim, no quote and no `+` (checked by `_ByteScan` before the result is trusted):
    integers come parsed by the reader (null unless `-?[0-9]+`), text needs no trimming. A row not
    proven clean (blank lines included) gets a null id, the only null ids of the output."""
    identifier = pl.col(header.field("id_patient"))
    rpps = pl.col(header.field("rpps_mt"))
    money = pl.col(header.field("depenses"))
    money_format = _decimal_pattern(
        header.delimiter, f"{{1,{MONEY_PLACES}}}", sign="", digits=f"{{1,{MAX_EURO_DIGITS}}}"
    )
    clean = pl.all_horizontal(
        identifier != "",
        pl.col(_EXTRA) == "",
        *(pl.col(header.field(c)).is_between(low, high).fill_null(False) for c, (low, high) in INTEGER_RANGES.items()),
        (rpps == "") | rpps.str.contains(_RPPS_RE),
        money.str.contains(money_format),
    )
    return [
        pl.when(clean).then(identifier).alias("id_patient"),
        *(pl.col(header.field(c)).cast(BENEFICIARY_SCHEMA[c], strict=False).alias(c) for c in INTEGER_RANGES),
        pl.when(rpps == "").then(None).otherwise(rpps).alias("rpps_mt"),
        # At most 13 digits in all here, so Decimal(18, 2) cannot overflow even with leading zeros.
        _cents(money, leading_zeros=False).alias("depenses_cents"),
    ]


# --------------------------------------------------------------------------------------------------
# The passes


@dataclass
class _PassResult:
    rows: int  # data rows written (blank lines excluded on the exact path)
    suspect_rows: int  # rows not proven clean (fast path) or problems found (exact path)
    bad_fields: int  # lines whose field count differs from the header's
    odd_quote_lines: int  # lines with an odd number of `"`: a quoted field spans lines (or a stray quote)
    profile: dict | None = None  # fast path: computed while writing
    blank_rows: int = 0
    rule_counts: Counter = field(default_factory=Counter)
    failing: pl.DataFrame | None = None  # exact path: first failing rows
    field_rows: pl.DataFrame | None = None  # exact path: every row with a wrong field count (row, fields)
    flag_keys: list[tuple[str, str]] = field(default_factory=list)  # exact path: (column, rule) of each flag


def _line_query(source: Path, header: _Header, *, quotes: bool) -> pl.LazyFrame:
    """How many non-blank lines have a wrong field count, and how many have an odd number of quotes."""
    checks = _line_checks(header, quotes=quotes)
    lines = _scan_lines(source, header)
    # The blank test (a regex) only runs on the few lines whose count is off.
    wrong = lines.filter(checks["fields"] != header.width).select((~checks["blank"]).sum().alias("bad_fields"))
    if not quotes:
        return wrong.with_columns(pl.lit(0, pl.UInt32).alias("odd_quotes"))
    odd = lines.select(checks["odd_quotes"].sum().alias("odd_quotes"))
    return pl.concat([wrong, odd], how="horizontal")


def _bad_field_rows(source: Path, header: _Header, *, quotes: bool) -> pl.LazyFrame:
    checks = _line_checks(header, quotes=quotes)
    return (
        _scan_lines(source, header)
        .with_row_index(_ROW)
        .filter(~checks["blank"] & (checks["fields"] != header.width))
        .select(pl.col(_ROW), checks["fields"].alias("fields"))
    )


def _sink(frame: pl.LazyFrame, target: Path) -> pl.LazyFrame:
    # zstd level 1: as small as the default level and a third faster to write.
    return frame.sink_parquet(
        target, lazy=True, mkdir=True, sync_on_close="all", compression="zstd", compression_level=1
    )


def _fast_pass(
    source: Path, header: _Header, target: Path, *, count_lines: bool, expected_bytes: int, report
) -> _PassResult:
    """Optimistic: integers parsed by the reader, one clean/suspect verdict per row (see `_fast_output`).
    Field counts come from the raw lines only when `count_lines`; otherwise the caller compares the
    separators counted by `_ByteScan` with what clean rows imply."""
    text_fields = [f"c{i}" for i in range(header.width) if header.names[i] not in INTEGER_RANGES]
    blank = pl.all_horizontal(
        *(pl.col(name) == "" for name in [*text_fields, _EXTRA]),
        *(pl.col(header.field(c)).is_null() for c in INTEGER_RANGES),
    )
    typed = _scan_rows(source, header, typed_integers=True).select(*_fast_output(header), blank.alias("__blank"))
    written = typed.drop("__blank")
    # Every branch selects from the same scan, so the streaming engine reads the file once for them.
    stats = typed.select(
        pl.col("__blank").sum().alias("blank"),
        pl.col("id_patient").null_count().alias("null_ids"),
        *_profile_expressions(),
    )
    queries = [_sink(written, target), stats]
    if count_lines:
        queries.append(_line_query(source, header, quotes=False))
    frames = _run_with_progress(
        lambda: pl.collect_all(queries, engine="streaming"),
        expected_bytes=expected_bytes,
        report=report,
        label="validation des lignes",
    )
    row = frames[1].row(0, named=True)
    bad_fields, odd_quotes = frames[2].row(0) if count_lines else (0, 0)
    # A blank row has a null id too: it is skipped, not suspect (and not counted in the profile).
    row["rows"] -= row["blank"]
    return _PassResult(
        row["rows"],
        row["null_ids"] - row["blank"],
        bad_fields,
        odd_quotes,
        profile=_profile(row),
        blank_rows=row["blank"],
    )


def _drop_blank_rows(target: Path) -> None:
    """Rewrites the optimistic output without the rows of blank lines (their id is null)."""
    cleaned = target.with_name("rows-without-blank.parquet")
    _sink(pl.scan_parquet(target).filter(pl.col("id_patient").is_not_null()), cleaned).collect(engine="streaming")
    os.replace(cleaned, target)


def _exact_pass(
    source: Path, header: _Header, target: Path, *, expected_bytes: int, quotes: bool, limit: int, report
) -> _PassResult:
    """Every column as text, one flag per rule; only the first failing rows and the counts are kept."""
    field_problems = _run_with_progress(
        lambda: _bad_field_rows(source, header, quotes=quotes).collect(engine="streaming").sort(_ROW),
        expected_bytes=expected_bytes / 3,
        report=lambda f, label: report(0.3 * f, label),
        label="contrôle du nombre de champs",
    )
    rows = _scan_rows(source, header, typed_integers=False).with_row_index(_ROW)
    rows = rows.join(field_problems.lazy(), on=_ROW, how="left", maintain_order="left")  # keep the file order
    flags = _rule_flags(header)
    names = {key: _flag_name(key) for key in flags}
    checked = rows.with_columns(_blank_row(header).alias("__blank")).with_columns(
        (~pl.col("__blank") & pl.col("fields").is_null()).alias("__checked")
    )
    checked = checked.with_columns(*((pl.col("__checked") & expr).alias(names[key]) for key, expr in flags.items()))
    any_flag = pl.any_horizontal(*(pl.col(name) for name in names.values()))
    written = checked.filter(~pl.col("__blank")).select(_exact_output(header))
    stats = checked.select(
        pl.len().alias("all"),
        pl.col("__blank").sum().alias("blank"),
        *(pl.col(name).sum().alias(name) for name in names.values()),
    )
    values = [_text(header, c).alias(c) for c in REQUIRED_COLUMNS]
    # The first failing rows in file order (a streaming `head` after a filter does not promise order).
    failing = (
        checked.filter(any_flag)
        .select(pl.col(_ROW), *values, *(pl.col(name) for name in names.values()))
        .bottom_k(limit, by=_ROW)
    )
    queries = [_sink(written, target), stats, failing, _line_query(source, header, quotes=quotes)]
    _, stats_frame, failing_frame, lines_frame = _run_with_progress(
        lambda: pl.collect_all(queries, engine="streaming"),
        expected_bytes=expected_bytes,
        report=lambda f, label: report(0.3 + 0.7 * f, label),
        label="validation détaillée des lignes",
    )
    failing_frame = failing_frame.sort(_ROW)
    stats_row = stats_frame.row(0, named=True)
    rule_counts = Counter()
    for (_, rule), name in names.items():
        rule_counts[rule] += stats_row[name]
    rule_counts["field_count"] = field_problems.height
    _, odd_quotes = lines_frame.row(0)
    return _PassResult(
        rows=stats_row["all"] - stats_row["blank"],
        suspect_rows=sum(rule_counts.values()),
        bad_fields=field_problems.height,
        odd_quote_lines=odd_quotes,
        blank_rows=stats_row["blank"],
        rule_counts=rule_counts,
        failing=failing_frame,
        field_rows=field_problems,
        flag_keys=list(flags),
    )


def _exact_duplicates(
    source: Path, header: _Header, *, limit: int, excluded: pl.DataFrame | None
) -> tuple[int, pl.DataFrame]:
    """Rows whose id already appeared (row, id, first row of that id): the count and the first `limit`.
    Rows with a wrong field count (`excluded`) are not compared, as their fields are misplaced."""
    identifier = _text(header, "id_patient")
    rows = _scan_rows(source, header, typed_integers=False).with_row_index(_ROW)
    if excluded is not None and excluded.height:
        rows = rows.join(excluded.lazy().select(_ROW), on=_ROW, how="anti", maintain_order="left")
    ids = (
        rows.filter(~_blank_row(header) & (identifier != ""))
        .select(pl.col(_ROW), identifier.alias("id_patient"))
        .collect(engine="streaming")
        .sort(_ROW)  # "first" means first in the file
    )
    repeated = ids.filter(~pl.col("id_patient").is_first_distinct())
    first_rows = (
        ids.filter(pl.col("id_patient").is_in(repeated.head(limit)["id_patient"].implode()))
        .group_by("id_patient")
        .agg(pl.col(_ROW).min().alias("first_row"))
    )
    shown = repeated.head(limit).join(first_rows, on="id_patient", how="left").sort(_ROW)
    return repeated.height, shown


# --------------------------------------------------------------------------------------------------
# The pure-Python reference reader: exact rules and physical lines, for what Polars cannot map


def _reference_problems(source: Path, header: _Header, name: str, *, limit: int) -> tuple[list[Problem], Counter]:
    """Every rule, row by row (slow: only for files Polars cannot parse or whose quoted fields span lines)."""
    integer = re.compile(_INTEGER_RE)
    rpps_pattern = re.compile(_RPPS_RE)
    decimal = re.compile(_decimal_pattern(header.delimiter))
    two_places = re.compile(_decimal_pattern(header.delimiter, rf"{{1,{MONEY_PLACES}}}"))
    small = re.compile(rf"^-?0*[0-9]{{1,{MAX_EURO_DIGITS}}}([.,]|$)")
    problems: list[Problem] = []
    more: Counter = Counter()
    seen: dict[str, int] = {}

    def add(line, column, rule, reason):
        if len(problems) < limit:
            problems.append(Problem(name, line, column, reason, rule))
        else:
            more[rule] += 1

    with open(source, encoding="utf-8-sig", errors="replace", newline="") as handle:
        for _ in range(header.line):
            handle.readline()
        reader = csv.reader(handle, delimiter=header.delimiter, strict=True)
        previous = header.line
        try:
            for row in reader:
                line = previous + 1
                previous = header.line + reader.line_num
                if not any(cell.strip() for cell in row):
                    continue
                if len(row) != header.width:
                    add(line, None, "field_count", f"expected {header.width} fields, found {len(row)}")
                    continue
                values = {c: row[header.positions[c]].strip() for c in REQUIRED_COLUMNS}
                for column in REQUIRED_COLUMNS:
                    text = values[column]
                    rule = _reference_rule(column, text, integer, rpps_pattern, decimal, two_places, small)
                    if rule:
                        add(line, column, rule, _reason(column, rule, text, header.delimiter))
                identifier = values["id_patient"]
                if identifier:
                    if identifier in seen:
                        add(
                            line,
                            "id_patient",
                            "duplicate",
                            f"duplicate id_patient {identifier!r} (first on line {seen[identifier]})",
                        )
                    else:
                        seen[identifier] = line
        except csv.Error as exc:
            add(header.line + reader.line_num, None, "malformed", f"malformed CSV: {exc}")
    return problems, more


def _reference_rule(column, text, integer, rpps_pattern, decimal, two_places, small) -> str | None:
    if column == "rpps_mt":
        return "rpps" if text and not rpps_pattern.match(text) else None
    if not text:
        return "required"
    if column == "id_patient":
        return None
    if column in INTEGER_RANGES:
        if not integer.match(text):
            return "integer"
        low, high = INTEGER_RANGES[column]
        if not low <= int(text) <= high:
            return "boolean" if column in BOOLEAN_COLUMNS else "range"
        return None
    if not decimal.match(text):
        return "decimal"
    if text.startswith("-") and re.search("[1-9]", text):
        return "negative"
    if not two_places.match(text):
        return "decimal_places"
    if not small.match(text):
        return "range"
    return None


# --------------------------------------------------------------------------------------------------
# Assembling the report


def _exact_problems(
    result: _PassResult, duplicates: tuple[int, pl.DataFrame], header: _Header, name: str, line_of, *, limit: int
):
    """The first `limit` problems in file order (row, then field count, then columns, then duplicate)."""
    candidates: list[tuple[int, int, Problem]] = []
    column_order = {c: i for i, c in enumerate(REQUIRED_COLUMNS)}
    field_rows = result.field_rows.head(limit).iter_rows() if result.field_rows is not None else []
    for row, fields in field_rows:
        candidates.append(
            (
                row,
                -1,
                Problem(name, line_of(row), None, f"expected {header.width} fields, found {fields}", "field_count"),
            )
        )
    if result.failing is not None:
        for record in result.failing.iter_rows(named=True):
            for column, rule in result.flag_keys:
                if record[_flag_name((column, rule))]:
                    reason = _reason(column, rule, record[column], header.delimiter)
                    candidates.append(
                        (record[_ROW], column_order[column], Problem(name, line_of(record[_ROW]), column, reason, rule))
                    )
    duplicate_total, shown = duplicates
    for record in shown.iter_rows(named=True):
        reason = f"duplicate id_patient {record['id_patient']!r} (first on line {line_of(record['first_row'])})"
        candidates.append(
            (record[_ROW], len(column_order), Problem(name, line_of(record[_ROW]), "id_patient", reason, "duplicate"))
        )
    candidates.sort(key=lambda item: (item[0], item[1]))
    problems = [problem for _, _, problem in candidates[:limit]]
    totals = Counter(result.rule_counts)
    totals["duplicate"] += duplicate_total
    more = totals - Counter(p.rule for p in problems)
    return problems, more


def _profile_expressions() -> list[pl.Expr]:
    """Aggregates of the typed rows for the profile shown on the dataset's page."""
    band = (pl.col("age") // 10).clip(upper_bound=10)
    return [
        pl.len().alias("rows"),
        pl.col("depenses_cents").sum().alias("depenses_cents"),
        pl.col("rpps_mt").is_not_null().sum().alias("with_mt"),
        (pl.col("sexe") == 1).sum().alias("men"),
        (pl.col("sexe") == 2).sum().alias("women"),
        *(pl.col(c).cast(pl.Int64).sum().alias(c) for c in BOOLEAN_COLUMNS),
        pl.col("age").cast(pl.Int64).sum().alias("age_sum"),
        *((band == b).sum().alias(f"band{b}") for b in range(11)),
    ]


def _profile(row: dict) -> dict:
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
            {"band": f"{b * 10}–{b * 10 + 9}" if b < 10 else "100 et plus", "count": row[f"band{b}"]} for b in range(11)
        ],
    }


def _duplicate_count(target: Path) -> int:
    """How many written rows repeat an id, judged on a 64-bit hash of the id (a collision only costs
    an exact check). Hashing while reading, then counting in memory, is faster than a lazy n_unique."""
    hashes = pl.scan_parquet(target).select(pl.col("id_patient").hash()).collect().to_series()
    return hashes.len() - hashes.n_unique()


def _profile_of(target: Path) -> dict:
    return _profile(pl.scan_parquet(target).select(_profile_expressions()).collect().row(0, named=True))


# --------------------------------------------------------------------------------------------------
# Public API


@dataclass(frozen=True)
class ByteFacts:
    """One pass over the bytes: the SHA-256, and whether the data (after the first line) hold bytes
    the optimistic path does not handle (quotes, `+`, whitespace to trim, non-ASCII text), with the
    number of `;` and `,` in them (to prove field counts without reading lines)."""

    size: int
    sha256: str
    has_quotes: bool
    unusual: bool
    separators: dict


_UNUSUAL_BYTES = (b'"', b"+", b" ", b"\t", b"\x0b", b"\x0c")


def scan_bytes(path: Path, *, progress: Callable[[float, str], None] | None = None) -> ByteFacts:
    """Reads the file once in chunks (a few in memory at most): SHA-256 and the facts above. The hash
    runs in a second thread fed with the chunks (hashlib releases the GIL) while this one checks them."""
    path = Path(path)
    size = path.stat().st_size
    digest = hashlib.sha256()
    chunks: queue.Queue[bytes | None] = queue.Queue(maxsize=4)

    def hash_chunks() -> None:
        while (chunk := chunks.get()) is not None:
            digest.update(chunk)

    hasher = threading.Thread(target=hash_chunks, name="beneficiaries-sha256", daemon=True)
    hasher.start()
    has_quotes = unusual = False
    separators = {";": 0, ",": 0}
    done = 0
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(CHUNK_SIZE):
                chunks.put(chunk)
                data = chunk[chunk.find(b"\n") + 1 :] if done == 0 else chunk
                done += len(chunk)
                has_quotes = has_quotes or b'"' in data
                view = np.frombuffer(data, np.uint8)  # numpy counts bytes 5× faster than bytes.count
                separators[";"] += int(np.count_nonzero(view == ord(";")))
                separators[","] += int(np.count_nonzero(view == ord(",")))
                unusual = unusual or not data.isascii() or any(byte in data for byte in _UNUSUAL_BYTES)
                if progress:
                    progress(done / size, "empreinte SHA-256")
    finally:
        chunks.put(None)
        hasher.join()
    return ByteFacts(size, digest.hexdigest(), has_quotes, unusual, separators)


class _ByteScan:
    """`scan_bytes` in a thread (hashlib and numpy release the GIL) while Polars validates the file."""

    def __init__(self, path: Path, facts: ByteFacts | None = None):
        self.facts = facts
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(path,), name="beneficiaries-bytes", daemon=True)
        if facts is None:
            self.thread.start()

    def _run(self, path: Path) -> None:
        try:
            self.facts = scan_bytes(path)
        except BaseException as exc:  # re-raised by `wait`
            self.error = exc

    def wait(self) -> ByteFacts:
        if self.thread.is_alive() or self.thread.ident is not None:
            self.thread.join()
        if self.error is not None:
            raise self.error
        return self.facts

    def join(self) -> None:
        if self.thread.ident is not None:
            self.thread.join()


def _header_encoding(path: Path) -> str:
    """UTF-8 unless the first bytes are not; invalid UTF-8 further on is caught by the reader."""
    with open(path, "rb") as handle:
        head = handle.read(SNIFF_BYTES)
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head)  # a sequence cut by the sniff is not an error
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def validate_beneficiaries(
    path: Path,
    *,
    display_name: str | None = None,
    output: Path | None = None,
    output_dir: Path | None = None,
    progress: ProgressCallback | None = None,
    byte_facts: ByteFacts | None = None,
    limit: int = DEFAULT_LIMIT,
) -> ValidatedFile:
    """Checks a beneficiaries CSV against every rule of METHODOLOGY.md section 3 and writes its typed
    Parquet to `output`, or to `output_dir/<sha256>.parquet` (a temporary name, then an atomic rename;
    an existing file of that name is never rewritten).

    Raises `BeneficiariesError` (a `BundleError`) with the problems, as `file:line: column: reason`;
    nothing is written then. The file's SHA-256 is computed meanwhile, unless the caller already scanned
    the bytes (`byte_facts`, from `scan_bytes`): `ValidatedFile.facts`, or `facts` of the error.
    """
    path = Path(path)
    name = display_name or path.name
    report = _Progress(progress)
    size = path.stat().st_size
    destination_dir = Path(output).parent if output is not None else output_dir
    if destination_dir is not None:
        Path(destination_dir).mkdir(parents=True, exist_ok=True)
    scan = _ByteScan(path, byte_facts)
    encoding = "utf-8"
    try:
        with open(path, "rb") as handle:
            kind = binary_kind(handle.read(SNIFF_BYTES))
        if kind:
            raise BeneficiariesError(
                [Problem(name, 1, None, f"not a CSV text file: this looks like {kind}", "not_csv")]
            )
        # Scratch files live beside the output so that the final rename stays on one file system.
        with tempfile.TemporaryDirectory(prefix=".beneficiaires-", dir=destination_dir) as scratch:
            scratch = Path(scratch)
            encoding = _header_encoding(path)
            try:
                validated = _validate_text(path, name, encoding, size, scratch, scan, report, limit=limit)
            except _NotUtf8:
                encoding = "cp1252"
                validated = _validate_text(path, name, encoding, size, scratch, scan, report, limit=limit)
            sha256 = scan.wait().sha256
            validated.facts = FileFacts(size, sha256, encoding)
            if output is None and output_dir is not None:
                output = Path(output_dir) / f"{sha256}.parquet"
            if output is not None:
                _publish(scratch / "rows.parquet", Path(output))
                validated.parquet_path = Path(output)
    except BundleError as error:
        # The caller records a rejected file by its checksum too.
        error.facts = FileFacts(size, scan.wait().sha256, encoding)
        raise
    finally:
        scan.join()
    report(1.0, "terminé", force=True)
    return validated


class _NotUtf8(Exception):
    """Raised when the reader meets bytes that are not UTF-8: the file is Windows-1252 (section 3)."""


def _validate_text(path, name, encoding, size, scratch, scan, report, *, limit) -> ValidatedFile:
    source = path
    if encoding == "cp1252":
        source = scratch / "utf8.csv"
        _transcode_to_utf8(path, source, progress=report.part(0.0, 0.1))
    problems: list[Problem] = []
    warnings: list[Problem] = []
    header = _read_header(source, name, problems, warnings)
    if header is None:
        raise BeneficiariesError(problems, warnings)
    try:
        return _validate_rows(
            source,
            header,
            name,
            size,
            scratch / "rows.parquet",
            scan,
            report.part(0.1, 0.95),
            limit=limit,
            warnings=warnings,
        )
    except pl.exceptions.ComputeError as exc:
        if encoding == "utf-8" and "utf-8" in str(exc).lower():
            raise _NotUtf8 from exc
        raise


def _validate_rows(source, header, name, size, target, scan, report, *, limit, warnings) -> ValidatedFile:
    path_taken = "fast"
    try:
        # Clean rows have exactly width - 1 separators; when the last column may not be empty, a clean row
        # cannot be short, so the separators counted in the bytes prove every field count at once.
        by_separators = header.line == 1 and header.names[-1] in REQUIRED_COLUMNS and header.names[-1] != "rpps_mt"
        reads = (1 if by_separators else 2) + (0 if scan.facts else 1)  # rows, raw lines, bytes in the background
        result = _fast_pass(
            source, header, target, count_lines=not by_separators, expected_bytes=reads * size, report=report
        )
        facts = scan.wait()
        if by_separators and facts.separators[header.delimiter] != (header.width - 1) * result.rows:
            result.bad_fields = 1  # at least one: the exact path counts them
        if facts.unusual or result.suspect_rows or result.bad_fields:
            path_taken = "exact"
            result = _exact_pass(
                source, header, target, expected_bytes=2 * size, quotes=facts.has_quotes, limit=limit, report=report
            )
    except (pl.exceptions.ComputeError, pl.exceptions.SchemaError) as exc:
        if "utf-8" in str(exc).lower():
            raise
        # Polars could not read the file (an unbalanced quote, a quoted field that swallows lines and
        # shifts the columns…): the reference reader locates it.
        problems, more = _reference_problems(source, header, name, limit=limit)
        if not problems:
            problems = [Problem(name, None, None, f"malformed CSV: {str(exc).splitlines()[0]}", "malformed")]
        raise BeneficiariesError(problems, warnings, more) from exc
    if path_taken == "fast" and result.blank_rows:
        _drop_blank_rows(target)
    if result.odd_quote_lines:
        # Quoted line breaks: rows are not lines, and field counts of raw lines mean nothing.
        problems, more = _reference_problems(source, header, name, limit=limit)
        if problems:
            raise BeneficiariesError(problems, warnings, more)
        path_taken = "reference"
    else:
        duplicates = _duplicate_count(target) if result.rows else 0
        found = (
            _exact_duplicates(source, header, limit=limit, excluded=result.field_rows)
            if duplicates
            else (0, pl.DataFrame())
        )
        if result.suspect_rows or found[0]:
            problems, more = _exact_problems(
                result, found, header, name, lambda row: header.line + 1 + row, limit=limit
            )
            raise BeneficiariesError(problems, warnings, more)
    if result.rows == 0:
        raise BeneficiariesError(
            [Problem(name, header.line + 1, None, "no data rows after the header", "no_rows")], warnings
        )
    profile = result.profile if result.profile is not None else _profile_of(target)
    return ValidatedFile(name, result.rows, None, header.delimiter, warnings, profile, None, path_taken)


def _publish(target: Path, output: Path) -> None:
    """Moves the written Parquet to `output` atomically; content-addressed files are never rewritten."""
    output.parent.mkdir(parents=True, exist_ok=True)
    if output.exists():
        return
    temporary = output.with_name(f".{output.name}.{uuid.uuid4().hex}.tmp")
    try:
        os.replace(target, temporary)
    except OSError:  # another file system
        _copy(target, temporary)
    os.replace(temporary, output)


def _copy(source: Path, target: Path) -> None:
    with open(source, "rb") as reader, open(target, "wb") as writer:
        while chunk := reader.read(CHUNK_SIZE):
            writer.write(chunk)
        writer.flush()
        os.fsync(writer.fileno())


def convert_to_parquet(
    path: Path, output: Path, *, display_name: str | None = None, progress: ProgressCallback | None = None
) -> ValidatedFile:
    """Validates `path` and writes its typed Parquet to `output` (raises BeneficiariesError when rejected)."""
    return validate_beneficiaries(path, display_name=display_name, output=output, progress=progress)


def reference_problems(
    path: Path, *, display_name: str | None = None, limit: int = DEFAULT_LIMIT
) -> tuple[list[Problem], Counter]:
    """The problems of a UTF-8 file found by the slow row-by-row reference reader (the oracle the
    vectorised paths are tested against): the first `limit`, then a count per rule of the rest."""
    path = Path(path)
    name = display_name or path.name
    problems: list[Problem] = []
    header = _read_header(path, name, problems, [])
    if header is None:
        return problems, Counter()
    return _reference_problems(path, header, name, limit=limit)


def scan_beneficiaries(path: Path) -> pl.LazyFrame:
    """A lazy frame of validated beneficiaries (CONTRACT columns) from a Parquet file written by
    ingestion, or from a CSV, validated fully first (BundleError with every problem when it breaks a rule)."""
    path = Path(path)
    if path.suffix == ".parquet":
        return pl.scan_parquet(path)
    with tempfile.TemporaryDirectory(prefix="beneficiaires-scan-") as scratch:
        output = Path(scratch) / "beneficiaires.parquet"
        validate_beneficiaries(path, output=output)
        frame = pl.read_parquet(output)
    return frame.lazy()
