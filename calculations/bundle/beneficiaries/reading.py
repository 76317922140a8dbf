"""Reading a beneficiaries file into rows the rules can check.

Every reader gives `Rows`: a lazy frame with, per data row (blank lines included), `__blank`, one
column per required column and, but for the optimistic reading, `__line` (its physical line: the
header is line 1, or the first non-blank line), `__fields` (its number of fields) and `__odd_quotes`
(an odd number of `"` on the line); plus the `Field` of each column for the rules.

- `optimistic_rows`: one Polars scan, integers parsed by the CSV reader, no trimming: for the usual
  file (`optimistic_possible`), proven clean or sent to the diagnosis in one read.
- `text_rows`: every column as trimmed text, zipped with the raw lines for field counts and quotes.
  Row `i` is line `header + 1 + i` as long as no quoted field spans lines (`__odd_quotes` tells).
- `csv_module_rows`: the `csv` module reads the file into a clean intermediate (Parquet parts under
  a scratch directory, one row per record with its first physical line), for what Polars cannot read
  or cannot map to lines. Slow, but memory stays flat: rows are written a batch at a time.
"""

from __future__ import annotations

import csv
import shutil
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from ..csvformat import check_header, header_delimiter, normalise_header
from ..problems import Problem, ProblemCollector
from .rules import INTEGER_RANGES, REQUIRED_COLUMNS, Field

LINE = "__line"
BLANK = "__blank"
FIELDS = "__fields"
ODD_QUOTES = "__odd_quotes"
_EXTRA = "__extra"
# Reads each physical line as one text value (this byte never occurs in CSV text).
_RAW_SEPARATOR = "\x1f"
CSV_BATCH_ROWS = 100_000


@dataclass(frozen=True)
class Header:
    line: int  # physical line of the header
    delimiter: str
    names: list[str]  # normalised, in file order
    positions: dict[str, int]  # required column → field index

    @property
    def width(self) -> int:
        return len(self.names)


@dataclass(frozen=True)
class Rows:
    frame: pl.LazyFrame
    fields: dict[str, Field]
    numbered: bool = True  # the frame has `__line`, `__fields` and `__odd_quotes` (not the optimistic reading)


def read_header(path: Path, name: str) -> tuple[Header | None, list[Problem], list[Problem]]:
    """The first non-blank physical line, checked: required columns present once, unknown ones
    warned. Returns the header (None when unusable), the problems and the warnings."""
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as handle:
        line_number = 0
        for text in handle:
            line_number += 1
            if text.strip():
                break
        else:
            return None, [Problem(name, 1, None, "empty file: a header row is required", "empty_file")], []
    delimiter = header_delimiter(text)
    try:
        cells = next(csv.reader([text.rstrip("\r\n")], delimiter=delimiter, strict=True))
    except csv.Error as exc:
        return None, [Problem(name, line_number, None, f"malformed header: {exc}", "header")], []
    names = [normalise_header(cell) for cell in cells]
    collector = ProblemCollector()
    positions = check_header(names, list(REQUIRED_COLUMNS), file=name, line=line_number, collector=collector)
    header = None if positions is None else Header(line_number, delimiter, names, positions)
    return header, collector.problems, collector.warnings


def _scan_fields(source: Path, header: Header, *, optimistic: bool) -> pl.LazyFrame:
    """One column `c<i>` per header field. Optimistic: integers typed by the reader, and a row with
    more fields than the header makes the reader fail; else every field as text, plus `__extra` (the
    first field past the header's, further ones dropped)."""
    typed = {header.positions[c]: pl.Int64 for c in INTEGER_RANGES} if optimistic else {}
    schema = {f"c{i}": typed.get(i, pl.String) for i in range(header.width)}
    if not optimistic:
        schema[_EXTRA] = pl.String
    return pl.scan_csv(
        source,
        separator=header.delimiter,
        has_header=False,
        skip_lines=header.line,
        schema=schema,
        missing_columns="insert",
        truncate_ragged_lines=not optimistic,
        empty_string_is_null=False,
        ignore_errors=optimistic,  # an unparsable integer becomes null, which fails the row
        quote_char='"',
        encoding="utf8",
        raise_if_empty=False,
    )


def _with_lines(frame: pl.LazyFrame, header: Header) -> pl.LazyFrame:
    return frame.with_row_index(LINE, offset=header.line + 1).with_columns(pl.col(LINE).cast(pl.Int64))


def optimistic_possible(header: Header, facts) -> bool:
    """Whether the optimistic reading can prove a file clean: bytes without quotes, `+`, whitespace or
    non-ASCII text, and a last column that may not be empty (so that a short row breaks a rule; a
    long one makes the reader fail)."""
    last = header.names[-1]
    return not facts.unusual and last in REQUIRED_COLUMNS and last != "rpps_mt"


def optimistic_rows(source: Path, header: Header) -> Rows:
    """Integers parsed by the reader, text as written, no line numbers: only where
    `optimistic_possible`; a row that breaks nothing is then certainly clean, and any other row
    sends the file to the diagnosis."""
    integers = {header.positions[c] for c in INTEGER_RANGES}
    blank = pl.all_horizontal(
        *(pl.col(f"c{i}").is_null() if i in integers else pl.col(f"c{i}") == "" for i in range(header.width))
    )
    frame = _scan_fields(source, header, optimistic=True).select(
        blank.alias(BLANK), *(pl.col(f"c{header.positions[c]}").alias(c) for c in REQUIRED_COLUMNS)
    )
    fields = {
        c: Field.of_reader_integer(pl.col(c)) if c in INTEGER_RANGES else Field.of_text(pl.col(c))
        for c in REQUIRED_COLUMNS
    }
    return Rows(frame, fields, numbered=False)


def _scan_lines(source: Path, header: Header) -> pl.LazyFrame:
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


def text_rows(source: Path, header: Header, *, quotes: bool) -> Rows:
    """Every field as text, zipped with its raw line: field count (quoted separators aside), blank
    lines, odd quotes."""
    line = pl.col("line")
    unquoted = line.str.replace_all(r'"[^"]*"', "") if quotes else line
    counts = _scan_lines(source, header).select(
        (unquoted.str.count_matches(header.delimiter, literal=True) + 1).cast(pl.Int64).alias(FIELDS),
        line.str.contains(r'^[\s"' + header.delimiter + "]*$").alias("__blank_line"),
        (line.str.count_matches('"', literal=True) % 2 == 1 if quotes else pl.lit(False)).alias(ODD_QUOTES),
    )
    cells = [pl.col(f"c{i}").str.strip_chars() for i in range(header.width)]
    parsed_blank = pl.all_horizontal(*(cell == "" for cell in cells), pl.col(_EXTRA).str.strip_chars() == "")
    frame = pl.concat([_with_lines(_scan_fields(source, header, optimistic=False), header), counts], how="horizontal")
    frame = frame.select(
        pl.col(LINE),
        # Past the header's fields plus one, the reader drops fields: the raw line says if they are blank.
        (parsed_blank & ((pl.col(FIELDS) <= header.width + 1) | pl.col("__blank_line"))).alias(BLANK),
        pl.col(FIELDS),
        pl.col(ODD_QUOTES),
        *(pl.col(f"c{header.positions[c]}").alias(c) for c in REQUIRED_COLUMNS),
    )
    return Rows(frame, _text_fields())


def _text_fields() -> dict[str, Field]:
    return {c: Field.of_text(pl.col(c).str.strip_chars()) for c in REQUIRED_COLUMNS}


def csv_module_rows(source: Path, header: Header, scratch: Path, name: str) -> tuple[Rows, list[Problem]]:
    """The records as the `csv` module reads them (quoted line breaks, stray quotes), written a batch at
    a time to Parquet parts; a record is numbered by its first physical line. A malformed record ends
    the reading, as a problem."""
    shutil.rmtree(scratch, ignore_errors=True)  # parts of an earlier reading (as UTF-8) are not these
    scratch.mkdir(parents=True)
    columns = {c: header.positions[c] for c in REQUIRED_COLUMNS}
    batch: dict[str, list] = {}
    parts = 0

    def flush() -> None:
        nonlocal batch, parts
        if batch and batch[LINE]:
            frame = pl.DataFrame(batch, schema=_CSV_SCHEMA).with_columns(pl.lit(False).alias(ODD_QUOTES))
            frame.write_parquet(scratch / f"part-{parts:06d}.parquet", compression="lz4")
            parts += 1
        batch = {column: [] for column in _CSV_SCHEMA}

    flush()
    problems: list[Problem] = []
    with open(source, encoding="utf-8-sig", errors="replace", newline="") as handle:
        for _ in range(header.line):
            handle.readline()
        reader = csv.reader(handle, delimiter=header.delimiter, strict=True)
        previous = header.line
        try:
            for record in reader:
                batch[LINE].append(previous + 1)
                previous = header.line + reader.line_num
                batch[BLANK].append(not any(cell.strip() for cell in record))
                batch[FIELDS].append(len(record))
                complete = len(record) == header.width
                for column, position in columns.items():
                    batch[column].append(record[position] if complete else "")
                if len(batch[LINE]) >= CSV_BATCH_ROWS:
                    flush()
        except csv.Error as exc:
            line = header.line + reader.line_num
            problems.append(Problem(name, line, None, f"malformed CSV: {exc}", "malformed"))
    flush()
    if parts == 0:
        pl.DataFrame(schema=_CSV_SCHEMA).with_columns(pl.lit(False).alias(ODD_QUOTES)).write_parquet(
            scratch / "part-000000.parquet"
        )
    frame = pl.scan_parquet(scratch / "part-*.parquet").select(LINE, BLANK, FIELDS, ODD_QUOTES, *REQUIRED_COLUMNS)
    return Rows(frame, _text_fields()), problems


_CSV_SCHEMA = {LINE: pl.Int64, BLANK: pl.Boolean, FIELDS: pl.Int64, **dict.fromkeys(REQUIRED_COLUMNS, pl.String)}
