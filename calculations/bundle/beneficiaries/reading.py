"""Reading a beneficiaries file into rows the rules can check.

Every reader gives `Rows`: a lazy frame with, per data row (blank lines included), `__blank`, one
column per required column and, but for the optimistic reading, `__line` (its physical line: the
header is line 1, or the first non-blank line) and `__fields` (its number of fields); plus the
`Field` of each column for the rules. Each is one streaming scan: nothing grows with the file.

- `optimistic_rows`: integers parsed by the CSV reader, no trimming, no line numbers: for the usual
  file (`optimistic_possible`), proven clean or sent to the diagnosis in one read.
- `split_rows`: a file without quotes, each physical line split at the delimiter (the diagnosis).
- `quoted_rows`: a file with quotes, read by Polars once `quotes_keep_lines` has shown that rows
  are lines and field counts are right.
- `csv_module_rows`: the `csv` module reads the file into a clean intermediate (Parquet parts under
  a scratch directory, one row per record with its first physical line), for what Polars cannot read
  or cannot map to lines. Slow, but memory stays flat: rows are written a batch at a time.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from ..csvformat import check_header, header_delimiter, normalise_header
from ..problems import Problem, ProblemCollector
from ..reasons import csv_error, reason
from .rules import INTEGER_RANGES, REQUIRED_COLUMNS

LINE = "__line"
BLANK = "__blank"
FIELDS = "__fields"
# Reads each physical line as one text value (this byte never occurs in CSV text).
_RAW_SEPARATOR = "\x1f"
CSV_BATCH_ROWS = 100_000
# Polars' CSV reader reads ahead four chunks; with its default chunk size that is a few hundred MB
# held per scan, with 4 MiB chunks a few dozen, at the same speed. Read per scan; a deployment may set
# its own.
os.environ.setdefault("POLARS_CSV_CHUNK_SIZE", str(4 << 20))


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
    frame: pl.LazyFrame  # the required columns are trimmed text, or integers typed by the reader
    numbered: bool = True  # the frame has `__line` and `__fields` (all but the optimistic reading)

    @property
    def reader_integers(self) -> bool:
        return not self.numbered


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
            return None, [Problem(name, 1, None, reason("empty_file"), "empty_file")], []
    delimiter = header_delimiter(text)
    try:
        cells = next(csv.reader([text.rstrip("\r\n")], delimiter=delimiter, strict=True))
    except csv.Error as exc:
        return None, [Problem(name, line_number, None, reason("malformed_header", detail=csv_error(exc)), "header")], []
    names = [normalise_header(cell) for cell in cells]
    collector = ProblemCollector()
    positions = check_header(names, list(REQUIRED_COLUMNS), file=name, line=line_number, collector=collector)
    header = None if positions is None else Header(line_number, delimiter, names, positions)
    return header, collector.problems, collector.warnings


def _scan_fields(source: Path, header: Header, *, optimistic: bool) -> pl.LazyFrame:
    """One column `c<i>` per header field; a row with more fields makes the reader fail. Optimistic:
    integers typed by the reader; else every field as text."""
    typed = {header.positions[c]: pl.Int64 for c in INTEGER_RANGES} if optimistic else {}
    schema = {f"c{i}": typed.get(i, pl.String) for i in range(header.width)}
    return pl.scan_csv(
        source,
        separator=header.delimiter,
        has_header=False,
        skip_lines=header.line,
        schema=schema,
        missing_columns="insert",
        truncate_ragged_lines=False,
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
    return Rows(frame, numbered=False)


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


def split_rows(source: Path, header: Header) -> Rows:
    """A file without quotes: each physical line split at the delimiter. One scan gives the exact field
    count and the fields, trimmed by the rules."""
    cells = pl.col("__cells")
    frame = (
        _with_lines(_scan_lines(source, header), header)
        .with_columns(pl.col("line").str.split(header.delimiter).alias("__cells"))
        .select(
            pl.col(LINE),
            pl.col("line").str.contains(rf"^[\s{re.escape(header.delimiter)}]*$").alias(BLANK),
            cells.list.len().cast(pl.Int64).alias(FIELDS),
            *(
                cells.list.get(header.positions[c], null_on_oob=True).fill_null("").str.strip_chars().alias(c)
                for c in REQUIRED_COLUMNS
            ),
        )
    )
    return Rows(frame)


def quotes_keep_lines(source: Path, header: Header) -> bool:
    """Whether a file with quotes can be read by Polars with physical line numbers: no line holds an
    odd number of `"` (no quoted field spans lines) and every non-blank line has the header's number of
    fields, quoted separators aside. Otherwise the `csv` module must read it. One scan of the lines,
    nothing kept but two counts."""
    line = pl.col("line")
    fields = line.str.replace_all(r'"[^"]*"', "").str.count_matches(header.delimiter, literal=True) + 1
    blank = line.str.contains(r'^[\s"' + re.escape(header.delimiter) + "]*$")
    counts = _scan_lines(source, header).select(
        (line.str.count_matches('"', literal=True) % 2 == 1).sum().alias("odd_quotes"),
        (~blank & (fields != header.width)).sum().alias("wrong_counts"),
    )
    odd_quotes, wrong_counts = counts.collect(engine="streaming").row(0)
    return odd_quotes == 0 and wrong_counts == 0


def quoted_rows(source: Path, header: Header) -> Rows:
    """A file with quotes where `quotes_keep_lines`: Polars reads the fields (quotes undone), every
    row has the header's number of fields and row `i` is line `header + 1 + i`."""
    cells = [f"c{i}" for i in range(header.width)]
    frame = (
        _with_lines(_scan_fields(source, header, optimistic=False), header)
        .with_columns(pl.col(cells).str.strip_chars())
        .select(
            pl.col(LINE),
            pl.all_horizontal(pl.col(cell) == "" for cell in cells).alias(BLANK),
            pl.lit(header.width, pl.Int64).alias(FIELDS),
            *(pl.col(f"c{header.positions[c]}").alias(c) for c in REQUIRED_COLUMNS),
        )
    )
    return Rows(frame)


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
            pl.DataFrame(batch, schema=_CSV_SCHEMA).write_parquet(
                scratch / f"part-{parts:06d}.parquet", compression="lz4"
            )
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
            problems.append(Problem(name, line, None, reason("malformed", detail=csv_error(exc)), "malformed"))
    flush()
    if parts == 0:
        pl.DataFrame(schema=_CSV_SCHEMA).write_parquet(scratch / "part-000000.parquet")
    frame = pl.scan_parquet(scratch / "part-*.parquet").select(
        LINE, BLANK, FIELDS, *(pl.col(c).str.strip_chars() for c in REQUIRED_COLUMNS)
    )
    return Rows(frame), problems


_CSV_SCHEMA = {LINE: pl.Int64, BLANK: pl.Boolean, FIELDS: pl.Int64, **dict.fromkeys(REQUIRED_COLUMNS, pl.String)}
