"""An independent row-by-row reading of section 3 for the beneficiaries file, in plain Python (the
`csv` module, `re`, `Decimal`): the oracle the property tests hold the vectorised validation to.

Deliberately written from the spec, not from the rule table: if both agree, the rule table says
what section 3 says.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from decimal import Decimal
from pathlib import Path

COLUMNS = ("id_patient", "age", "sexe", "ald", "css", "deces", "rpps_mt", "depenses")
RANGES = {"age": (0, 125), "sexe": (1, 2), "ald": (0, 1), "css": (0, 1), "deces": (0, 1)}
BOOLEANS = {"ald", "css", "deces"}


def _shown(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:40] + "…")


def _problem(column: str, text: str, delimiter: str) -> tuple[str, str] | None:
    """(rule, reason) of the first rule `text` breaks in `column`, or None."""
    if column == "rpps_mt":
        if text and not re.fullmatch(r"[0-9]{11}", text):
            return "rpps", f"RPPS must be 11 digits, got {_shown(text)}"
        return None
    if not text:
        return "required", "value is required"
    if column == "id_patient":
        return None
    if column in RANGES:
        if not re.fullmatch(r"-?[0-9]+", text):
            return "integer", f"not an integer: {_shown(text)}"
        low, high = RANGES[column]
        if low <= int(text) <= high:
            return None
        if column in BOOLEANS:
            return "boolean", f"must be 0 or 1, got {_shown(text)}"
        return "range", f"must be between {low} and {high}, got {_shown(text)}"
    separator = "[.,]" if delimiter == ";" else r"\."
    if not re.fullmatch(rf"-?[0-9]+({separator}[0-9]+)?", text):
        separators = "'.' or ','" if delimiter == ";" else "'.'"
        return "decimal", (
            f"not a decimal number (decimal separator {separators}, no exponent, sign or thousands separator): "
            f"{_shown(text)}"
        )
    value = Decimal(text.replace(",", "."))
    if -value.as_tuple().exponent > 2:
        return "decimal_places", f"at most 2 decimal places (an amount in euros and cents), got {_shown(text)}"
    if value < 0:
        return "negative", f"must not be negative, got {_shown(text)}"
    if value >= 100_000_000:
        return "range", f"too large: must be less than 100000000 euros, got {_shown(text)}"
    return None


def oracle_problems(path: Path, limit: int = 100) -> tuple[list[str], Counter]:
    """The problems of a UTF-8 file whose header is its first line, as `file:line: column: reason`:
    the first `limit` in file order, then a count per rule of the others."""
    name = Path(path).name
    found: list[tuple[str, str]] = []  # (rule, printed problem)
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, delimiter=";" if ";" in handle.readline() else ",", strict=True)
        handle.seek(0)
        header = [cell.strip().lower() for cell in next(reader)]
        delimiter = reader.dialect.delimiter
        positions = {column: header.index(column) for column in COLUMNS}
        seen: dict[str, int] = {}
        previous = 1
        try:
            for row in reader:
                line, previous = previous + 1, reader.line_num
                if not any(cell.strip() for cell in row):
                    continue
                if len(row) != len(header):
                    found.append(("field_count", f"{name}:{line}: -: expected {len(header)} fields, found {len(row)}"))
                    continue
                values = {column: row[positions[column]].strip() for column in COLUMNS}
                for column in COLUMNS:
                    if broken := _problem(column, values[column], delimiter):
                        found.append((broken[0], f"{name}:{line}: {column}: {broken[1]}"))
                identifier = values["id_patient"]
                if identifier in seen:
                    reason = f"duplicate id_patient {identifier!r} (first on line {seen[identifier]})"
                    found.append(("duplicate", f"{name}:{line}: id_patient: {reason}"))
                elif identifier:
                    seen[identifier] = line
        except csv.Error as exc:
            found.append(("malformed", f"{name}:{reader.line_num}: -: malformed CSV: {exc}"))
    return [text for _, text in found[:limit]], Counter(rule for rule, _ in found[limit:])
