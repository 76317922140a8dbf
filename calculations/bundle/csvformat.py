"""The CSV conventions of METHODOLOGY.md section 3, for every file of a bundle.

Header names are case-insensitive and trimmed, column order is free, unknown columns are warned.
Delimiter `;` when the header line contains `;`, else `,`. UTF-8 (BOM dropped) when the bytes decode
as UTF-8, else Windows-1252. Decimals use `.`, or `,` in `;` files; dates YYYY-MM-DD or DD/MM/YYYY;
blank lines skipped; values trimmed; standard quoting. Line numbers are physical, header = line 1.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from .problems import ProblemCollector
from .reasons import csv_error, file_kind, number, one_of, quoted, reason

SNIFF_BYTES = 64 * 1024

# Signatures of files people upload by mistake instead of a CSV export.
_BINARY_SIGNATURES = {
    b"PK\x03\x04": "zip",
    b"%PDF": "pdf",
    b"\xd0\xcf\x11\xe0": "ole",
    b"\x1f\x8b": "gzip",
    b"PAR1": "parquet",
}

_INTEGER = re.compile(r"-?[0-9]+")
_DECIMAL_POINT = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_DECIMAL_POINT_OR_COMMA = re.compile(r"-?[0-9]+([.,][0-9]+)?")
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_FR_DATE = re.compile(r"([0-9]{2})/([0-9]{2})/([0-9]{4})")
RPPS_PATTERN = re.compile(r"[0-9]{11}")
# The years the programme's files may speak of: national files, campaigns, payments.
MIN_YEAR, MAX_YEAR = 2000, 2100


def binary_kind(head: bytes) -> str | None:
    """What a file that is not CSV text looks like, or None when it may be text."""
    for signature, kind in _BINARY_SIGNATURES.items():
        if head.startswith(signature):
            return file_kind(kind)
    if b"\x00" in head:
        return file_kind("binary")
    return None


def header_delimiter(header_line: str) -> str:
    return ";" if ";" in header_line else ","


def normalise_header(name: str) -> str:
    return name.strip().lower()


def parse_int(text: str) -> int | None:
    return int(text) if _INTEGER.fullmatch(text) else None


def parse_decimal(text: str, decimal_comma: bool) -> Decimal | None:
    pattern = _DECIMAL_POINT_OR_COMMA if decimal_comma else _DECIMAL_POINT
    if not pattern.fullmatch(text):
        return None
    return Decimal(text.replace(",", "."))


def parse_date(text: str) -> date | None:
    try:
        if match := _ISO_DATE.fullmatch(text):
            return date(int(match[1]), int(match[2]), int(match[3]))
        if match := _FR_DATE.fullmatch(text):
            return date(int(match[3]), int(match[2]), int(match[1]))
    except ValueError:
        return None
    return None


@dataclass(frozen=True)
class Column:
    """One expected column: its header name, its type and the value rules of section 3."""

    name: str
    kind: str = "text"  # text | int | bool | decimal | date | rpps
    required: bool = True  # an empty value is a problem
    negative: bool = False  # decimals: a leading `-` is allowed
    minimum: int | Decimal | None = None
    maximum: int | Decimal | None = None
    places: int | None = None  # decimals: most digits after the separator (what the database keeps)


@dataclass
class Record:
    line: int
    values: dict = field(default_factory=dict)

    def __getitem__(self, key):
        return self.values[key]


class TableReader:
    """Reads one small CSV file (reference data) into typed records, collecting every problem."""

    def __init__(
        self,
        path: Path,
        columns: list[Column],
        collector: ProblemCollector,
        display_name: str | None = None,
        *,
        rows_required: bool = True,
    ):
        self.path = Path(path)
        self.columns = columns
        self.collector = collector
        self.name = display_name or self.path.name
        self.rows_required = rows_required  # False: a file with only its header is valid (and empty)

    def problem(self, line: int | None, column: str | None, reason: str, rule: str) -> None:
        self.collector.add(self.name, line, column, reason, rule)

    def _decoded_text(self) -> str | None:
        raw = self.path.read_bytes()
        kind = binary_kind(raw[:SNIFF_BYTES])
        if kind:
            self.problem(1, None, reason("not_csv", kind=kind), "not_csv")
            return None
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            return raw.decode("cp1252", errors="replace")

    def read(self) -> list[Record]:
        text = self._decoded_text()
        if text is None:
            return []
        if not text.strip():
            self.problem(1, None, reason("empty_file"), "empty_file")
            return []
        lines = text.splitlines(keepends=True)
        header_index = next(i for i, line in enumerate(lines) if line.strip())
        delimiter = header_delimiter(lines[header_index])
        reader = csv.reader(io.StringIO("".join(lines)), delimiter=delimiter, strict=True)
        records: list[Record] = []
        header: list[str] | None = None
        positions: dict[str, int] = {}
        previous_line = 0
        data_rows = 0
        try:
            for row in reader:
                start_line = previous_line + 1
                previous_line = reader.line_num
                if not any(cell.strip() for cell in row):
                    continue
                if header is None:
                    header = [normalise_header(cell) for cell in row]
                    positions = self._check_header(header, start_line)
                    if positions is None:
                        return []
                    continue
                data_rows += 1
                if len(row) != len(header):
                    self.problem(
                        start_line, None, reason("field_count", expected=len(header), found=len(row)), "field_count"
                    )
                    continue
                records.append(self._typed_record(start_line, row, positions, delimiter == ";"))
        except csv.Error as exc:
            self.problem(reader.line_num, None, reason("malformed", detail=csv_error(exc)), "malformed")
        if header is not None and not data_rows and self.rows_required:
            self.problem(2, None, reason("no_rows"), "no_rows")
        return records

    def _check_header(self, header: list[str], line: int) -> dict[str, int] | None:
        return check_header(header, [c.name for c in self.columns], file=self.name, line=line, collector=self.collector)

    def _typed_record(self, line: int, row: list[str], positions: dict[str, int], decimal_comma: bool) -> Record:
        values = {}
        for column in self.columns:
            text = row[positions[column.name]].strip()
            values[column.name] = self._typed_value(line, column, text, decimal_comma)
        return Record(line, values)

    def _typed_value(self, line: int, column: Column, text: str, decimal_comma: bool):
        if text == "":
            if column.required:
                self.problem(line, column.name, reason("required"), "required")
            return None
        kind = column.kind
        if kind == "text":
            return text
        if kind == "rpps":
            if not RPPS_PATTERN.fullmatch(text):
                self.problem(line, column.name, reason("rpps", value=quoted(text)), "rpps")
                return None
            return text
        if kind == "date":
            value = parse_date(text)
            if value is None:
                self.problem(line, column.name, reason("date", value=quoted(text)), "date")
            return value
        if kind in ("int", "bool"):
            value = parse_int(text)
            if value is None:
                self.problem(line, column.name, reason("integer", value=quoted(text)), "integer")
                return None
            if kind == "bool" and value not in (0, 1):
                self.problem(line, column.name, reason("boolean", value=quoted(text)), "boolean")
                return None
        elif kind == "decimal":
            value = parse_decimal(text, decimal_comma)
            if value is None:
                separators = one_of(".,") if decimal_comma else quoted(".")
                self.problem(line, column.name, reason("decimal", separators=separators, value=quoted(text)), "decimal")
                return None
            if value < 0 and not column.negative:
                self.problem(line, column.name, reason("negative", value=quoted(text)), "negative")
                return None
            if column.places is not None and -value.as_tuple().exponent > column.places:
                self.problem(
                    line,
                    column.name,
                    reason("decimal_places", places=column.places, value=quoted(text)),
                    "decimal_places",
                )
                return None
        else:  # pragma: no cover - a programming error in a column spec
            raise ValueError(f"unknown column kind {kind}")
        if (
            column.minimum is not None
            and value < column.minimum
            or column.maximum is not None
            and value > column.maximum
        ):
            self.problem(
                line,
                column.name,
                reason("range", low=number(column.minimum), high=number(column.maximum), value=quoted(text)),
                "range",
            )
            return None
        return value


def check_header(
    names: list[str], required: list[str], *, file: str, line: int, collector: ProblemCollector
) -> dict[str, int] | None:
    """The field index of each required column in a normalised header, or None when a column appears
    twice or a required one is missing (each collected as a problem); unknown columns are warned."""
    seen: dict[str, int] = {}
    for index, name in enumerate(names):
        if name in seen:
            collector.add(file, line, name, reason("duplicate_column"), "header")
        seen.setdefault(name, index)
    missing = [name for name in required if name not in seen]
    for name in missing:
        collector.add(file, line, name, reason("missing_column"), "header")
    for name in names:
        if name and name not in required:
            collector.warn(file, line, name, reason("unknown_column"), "unknown_column")
    if missing or len(seen) != len(names):
        return None
    return {name: seen[name] for name in required}
