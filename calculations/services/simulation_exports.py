"""The difference table of a simulation as files: `;`-separated CSV (decimal comma, UTF-8 with BOM, opens
as is in a French spreadsheet) and XLSX (numbers as numbers), totals first, then one line per groupement.
Every cell goes through `common.spreadsheets`."""

from __future__ import annotations

import io
from decimal import Decimal

from calculations.engine.results import csv_cell
from calculations.selectors.simulations import COMPARED_FIGURES, FIGURE_LABELS
from common.spreadsheets import csv_writer, safe_row

TOTAL_LABEL = "Total"
SIDES = (("campaign", "campagne"), ("simulated", "simulation"), ("difference", "écart (€)"), ("percent", "écart (%)"))
TABLE_FIGURES = (*COMPARED_FIGURES, "national_coefficient")


def table_header() -> list[str]:
    return ["Groupement"] + [
        f"{FIGURE_LABELS[name]} – {side}"
        if name != "national_coefficient" or key != "difference"
        else f"{FIGURE_LABELS[name]} – écart"
        for name in TABLE_FIGURES
        for key, side in SIDES
    ]


def table_rows(differences: dict) -> list[list]:
    """Totals first, then groupements by code; each figure as (campaign, simulated, difference, percent),
    numbers as numbers (money of `final_amount` as Decimal), None where there is nothing."""

    def cells(line: dict) -> list:
        values = []
        for name in TABLE_FIGURES:
            figure = line.get(name)
            for key, _side in SIDES:
                value = None if figure is None else figure[key]
                values.append(Decimal(value) if isinstance(value, str) else value)
        return values

    return [[TOTAL_LABEL, *cells(differences["totals"])]] + [
        [line["code"], *cells(line)] for line in differences["groupements"]
    ]


def differences_csv(report: dict) -> bytes:
    buffer = io.StringIO()
    writer = csv_writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(table_header())
    for row in table_rows(report["differences"]):
        writer.writerow([csv_cell(value) for value in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def differences_xlsx(report: dict, *, title: str) -> bytes:
    """One sheet « Écarts » (totals in bold, first) and one « Paramètres » (the merged set)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Écarts"
    bold = Font(bold=True)
    sheet.append(safe_row([title]))
    sheet["A1"].font = bold
    sheet.append(safe_row(table_header()))
    for cell in sheet[2]:
        cell.font, cell.alignment = bold, Alignment(wrap_text=True, vertical="top")
    for row in table_rows(report["differences"]):
        sheet.append(safe_row(float(v) if isinstance(v, Decimal) else v for v in row))
    for cell in sheet[3]:
        cell.font = bold
    for column, name_side in enumerate(((n, k) for n in TABLE_FIGURES for k, _ in SIDES), start=2):
        name, key = name_side
        number_format = "0.00" if key == "percent" else "0.000000" if name == "national_coefficient" else "#,##0.00"
        for (cell,) in sheet.iter_rows(min_row=3, min_col=column, max_col=column):
            cell.number_format = number_format
    sheet.freeze_panes = "B3"

    parameters = workbook.create_sheet("Paramètres")
    parameters.append(["Paramètre", "Valeur"])
    for name, value in report["parameters"].items():
        parameters.append(safe_row([name, str(value)]))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
