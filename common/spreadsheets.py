"""Cells of every CSV and XLSX file the project writes, safe to open in a spreadsheet.

Excel and LibreOffice read a cell that begins with `=`, `+`, `-` or `@` (or a tab or a carriage
return before one) as a formula: a groupement named `=HYPERLINK(…)` would be a live link in a report
(« CSV injection », OWASP). Such a text is written with a leading apostrophe, so that it shows as the
text it is. Numbers stay numbers: a Python number is never touched, nor is a text that is a plain
number (`-1234,56`, a negative amount already formatted).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[-+]?(?:[0-9]+(?:[.,][0-9]*)?|[.,][0-9]+)(?:[eE][-+]?[0-9]+)?")


def safe_cell(value):
    """`value`, or for a text a spreadsheet would read as a formula, that text after an apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def safe_row(row: Iterable) -> list:
    return [safe_cell(value) for value in row]


class SafeCSVWriter:
    """`csv.writer` whose every cell goes through `safe_cell`."""

    def __init__(self, handle, **options):
        self._writer = csv.writer(handle, **options)

    def writerow(self, row: Iterable):
        return self._writer.writerow(safe_row(row))

    def writerows(self, rows: Iterable[Iterable]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(handle, **options) -> SafeCSVWriter:
    """The CSV writer of the project: `csv.writer`'s options, cells safe for spreadsheets."""
    return SafeCSVWriter(handle, **options)
