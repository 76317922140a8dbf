"""One file of a reference table uploaded in the admin, read by the rules of `load_bundle`
(METHODOLOGY section 3): refused as a whole with every problem named after the upload and its
physical lines, the database unchanged; or its rows added and updated with the same typed values as
`load_bundle` writes (nothing deleted: the file need not be the whole table). A file of a yearly
table (deciles, indicator results, patient experience) has an `annee` column and may hold several
years: each year is read as that year's bundle file."""

from __future__ import annotations

import csv
import datetime
import io
import re
from dataclasses import replace
from decimal import Decimal

from django.db import transaction

from calculations.bundle import BundleError, Problem
from calculations.bundle.csvformat import SNIFF_BYTES, binary_kind, header_delimiter
from calculations.bundle.reasons import quoted, reason
from calculations.bundle.reference import COLUMNS, GROUPEMENTS, INDICATORS, MEMBERS, PHASES, WAVES
from common.errors import require_permission

from .reference import LoadSummary, References, read_reference_tables, write_table

# Admin model name -> bundle file name, or the kind of a yearly file (imported with its `annee` column).
REFERENCE_TABLES = {
    "wave": WAVES,
    "phasecalendar": PHASES,
    "groupement": GROUPEMENTS,
    "member": MEMBERS,
    "indicator": INDICATORS,
    "yearlydecile": "deciles",
    "indicatorresult": "resultats_indicateurs",
    "patientexperience": "experience_patient",
}
YEAR_COLUMN = "annee"
XLSX_SUFFIX = ".xlsx"


def import_permission(model_name: str) -> str:
    """Importing a table changes its rows: the role needs the change permission of its model."""
    return f"groupements.change_{model_name}"


def is_yearly(model_name: str) -> bool:
    return not REFERENCE_TABLES[model_name].endswith(".csv")


def expected_columns(model_name: str) -> list[str]:
    """The header of an importable file, as the export of the table writes it."""
    names = [column.name for column in COLUMNS[REFERENCE_TABLES[model_name]]]
    return [YEAR_COLUMN, *names] if is_yearly(model_name) else names


def import_reference_table(
    *, model_name: str, file_name: str, content: bytes, user, dry_run: bool = False
) -> LoadSummary:
    """Check the uploaded file `file_name` of table `model_name` (see REFERENCE_TABLES), then write it
    in one transaction; `dry_run` checks and counts without writing anything.

    Raises `BundleError` (problems `file_name:line: column: reason`) when the file breaks a rule,
    `PermissionRefused` when `user` may not change the table.
    """
    table = REFERENCE_TABLES[model_name]
    require_permission(user, import_permission(model_name), "importer cette table de référence")
    if file_name.lower().endswith(XLSX_SUFFIX):
        content = _first_sheet_as_csv(content, file_name)
    # bundle file name -> (year or None, content, physical line of the upload for each line of the file)
    files = _yearly_files(content, table, file_name) if is_yearly(model_name) else {table: (None, content, None)}
    read = read_reference_tables({name: data for name, (_, data, _) in files.items()})

    def named_after_upload(problem: Problem) -> Problem:
        lines = files[problem.file][2]
        line = lines[problem.line] if lines is not None and problem.line is not None else problem.line
        return replace(problem, file=file_name, line=line)

    warnings = [named_after_upload(w) for w in read.warnings]
    if read.problems:
        problems = sorted((named_after_upload(p) for p in read.problems), key=lambda p: p.line or 0)
        raise BundleError(problems, warnings)
    summary = LoadSummary(warnings=[str(w) for w in warnings])
    with transaction.atomic():
        refs = References.stored()
        for name, (year, _, _) in sorted(files.items()):
            write_table(table, read.records[name], refs, summary, year=year)
        if dry_run:
            transaction.set_rollback(True)
    return summary


def _decoded(content: bytes, file_name: str) -> str:
    kind = binary_kind(content[:SNIFF_BYTES])
    if kind:
        raise BundleError([Problem(file_name, 1, None, reason("not_csv", kind=kind), "not_csv")])
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("cp1252", errors="replace")


def _yearly_files(content: bytes, kind: str, file_name: str) -> dict[str, tuple[int, bytes, list[int]]]:
    """Each year of an upload with an `annee` column as that year's bundle file, without `annee`,
    with the physical line of the upload for each of its lines (header = lines 0 and 1). These files
    are read by the bundle reader only: their cells are written as uploaded."""
    text = _decoded(content, file_name)
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = header_delimiter(first_line)
    rows = _physical_rows(text, delimiter, file_name)
    if not rows:
        raise BundleError([Problem(file_name, 1, None, reason("empty_file"), "empty_file")])
    if len(rows) == 1:
        raise BundleError([Problem(file_name, 2, None, reason("no_rows"), "no_rows")])
    header_line, header = rows[0]
    names = [h.strip().lower() for h in header]
    if YEAR_COLUMN not in names:
        raise BundleError([Problem(file_name, header_line, YEAR_COLUMN, reason("missing_column"), "header")])
    year_index = names.index(YEAR_COLUMN)
    problems = []
    years: dict[int, tuple[list[list[str]], list[int]]] = {}
    for line, row in rows[1:]:
        if len(row) != len(header):
            problems.append(
                Problem(
                    file_name, line, None, reason("field_count", expected=len(header), found=len(row)), "field_count"
                )
            )
            continue
        year = row[year_index].strip()
        if not re.fullmatch(r"[0-9]{4}", year):
            text = reason("required") if not year else reason("year", value=quoted(year))
            problems.append(Problem(file_name, line, YEAR_COLUMN, text, "year"))
            continue
        table, lines = years.setdefault(
            int(year), ([[h for i, h in enumerate(header) if i != year_index]], [header_line, header_line])
        )
        table.append([v for i, v in enumerate(row) if i != year_index])
        lines.append(line)
    if problems:
        raise BundleError(problems)
    files = {}
    for year, (table, lines) in years.items():
        buffer = io.StringIO()
        csv.writer(buffer, delimiter=delimiter, lineterminator="\n").writerows(table)
        files[f"{kind}_{year}.csv"] = (year, buffer.getvalue().encode("utf-8"), lines)
    return files


def _physical_rows(text: str, delimiter: str, file_name: str) -> list[tuple[int, list[str]]]:
    """(physical line, cells) of every non-blank row, the header first (lines as the bundle reader counts them)."""
    reader = csv.reader(io.StringIO("".join(text.splitlines(keepends=True))), delimiter=delimiter, strict=True)
    rows, previous = [], 0
    try:
        for row in reader:
            start, previous = previous + 1, reader.line_num
            if any(cell.strip() for cell in row):
                rows.append((start, row))
    except csv.Error as exc:
        raise BundleError([Problem(file_name, reader.line_num, None, f"malformed CSV: {exc}", "malformed")]) from None
    return rows


def _first_sheet_as_csv(content: bytes, file_name: str) -> bytes:
    """The first sheet of a workbook (the admin's XLSX export, edited) as a `;` file, one line per row."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a damaged or foreign file
        raise BundleError(
            [Problem(file_name, None, None, f"not a readable XLSX workbook: {exc}", "not_xlsx")]
        ) from None
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
    for row in workbook.worksheets[0].iter_rows(values_only=True):
        writer.writerow([_cell_text(value) for value in row])
    workbook.close()
    return buffer.getvalue().encode("utf-8")


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float):
        # A spreadsheet stores 2023 as 2023.0 and 0.00001 as 1e-05: written as the bundle's decimals.
        return str(int(value)) if value.is_integer() else format(Decimal(repr(value)), "f")
    return str(value)
