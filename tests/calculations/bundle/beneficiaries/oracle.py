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

from calculations.bundle.reasons import csv_error  # the French words for the csv module's own errors

COLUMNS = ("id_patient", "age", "sexe", "ald", "css", "deces", "rpps_mt", "depenses")
RANGES = {"age": (0, 125), "sexe": (1, 2), "ald": (0, 1), "css": (0, 1), "deces": (0, 1)}
BOOLEANS = {"ald", "css", "deces"}


NB = "\u202f"  # French typography: a narrow no-break space inside « » and before a colon


def _shown(value: str) -> str:
    return f"«{NB}{value if len(value) <= 40 else value[:40] + '…'}{NB}»"


def _problem(column: str, text: str, delimiter: str) -> tuple[str, str] | None:
    """(rule, reason) of the first rule `text` breaks in `column`, or None."""
    if column == "rpps_mt":
        if text and not re.fullmatch(r"[0-9]{11}", text):
            return "rpps", f"le RPPS doit comporter 11 chiffres, reçu {_shown(text)}"
        return None
    if not text:
        return "required", "valeur obligatoire"
    if column == "id_patient":
        return None
    if column in RANGES:
        if not re.fullmatch(r"-?[0-9]+", text):
            return "integer", f"ce n'est pas un nombre entier{NB}: {_shown(text)}"
        low, high = RANGES[column]
        if low <= int(text) <= high:
            return None
        if column in BOOLEANS:
            return "boolean", f"doit valoir 0 ou 1, reçu {_shown(text)}"
        return "range", f"doit être compris entre {low} et {high}, reçu {_shown(text)}"
    separator = "[.,]" if delimiter == ";" else r"\."
    if not re.fullmatch(rf"-?[0-9]+({separator}[0-9]+)?", text):
        separators = f"{_shown('.')} ou {_shown(',')}" if delimiter == ";" else _shown(".")
        return "decimal", (
            f"ce n'est pas un nombre décimal (séparateur décimal {separators}, sans exposant, signe ni séparateur "
            f"de milliers){NB}: {_shown(text)}"
        )
    value = Decimal(text.replace(",", "."))
    if -value.as_tuple().exponent > 2:
        return "decimal_places", f"au plus 2 décimales (un montant en euros et centimes), reçu {_shown(text)}"
    if value < 0:
        return "negative", f"ne doit pas être négatif, reçu {_shown(text)}"
    if value >= 100_000_000:
        return "range", f"trop grand{NB}: doit être inférieur à 100\u00a0000\u00a0000 euros, reçu {_shown(text)}"
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
                    found.append(
                        ("field_count", f"{name}:{line}: -: {len(header)} champs attendus, {len(row)} trouvés")
                    )
                    continue
                values = {column: row[positions[column]].strip() for column in COLUMNS}
                for column in COLUMNS:
                    if broken := _problem(column, values[column], delimiter):
                        found.append((broken[0], f"{name}:{line}: {column}: {broken[1]}"))
                identifier = values["id_patient"]
                if identifier in seen:
                    reason = f"id_patient {_shown(identifier)} en double (déjà ligne {seen[identifier]})"
                    found.append(("duplicate", f"{name}:{line}: id_patient: {reason}"))
                elif identifier:
                    seen[identifier] = line
        except csv.Error as exc:
            found.append(("malformed", f"{name}:{reader.line_num}: -: CSV mal formé{NB}: {csv_error(exc)}"))
    return [text for _, text in found[:limit]], Counter(rule for rule, _ in found[limit:])
