"""The national report of a campaign: one line per groupement, totals, national ceiling and
coefficient, charts; as HTML (admin), PDF, CSV and XLSX."""

from __future__ import annotations

import io
from decimal import Decimal

from calculations.engine.results import csv_cell
from calculations.models import Campaign, GroupementResult
from calculations.selectors.campaigns import campaign_results, campaign_totals
from common.formatting import format_level
from common.pdf import render_pdf
from common.spreadsheets import csv_writer, safe_row

# Exported columns, in order: GroupementResult fields (labelled with their verbose names) and the name.
COLUMNS = (
    "code",
    "name",
    "wave",
    "phase",
    "reference_year",
    "n_patients",
    "n_patients_reference",
    "below_min_patients",
    "real_per_patient",
    "expected_per_patient",
    "real_per_patient_reference",
    "expected_per_patient_reference",
    "level_gap",
    "level_gap_se",
    "evolution_gap",
    "level_gap_low",
    "level_gap_high",
    "evolution_gap_se",
    "evolution_gap_low",
    "evolution_gap_high",
    "efficiency_noise",
    "amount_per_patient",
    "efficiency_amount",
    "efficiency_amount_untruncated",
    "experience_points",
    "quality_score",
    "quality_ratio",
    "drawing_right",
    "quality_value",
    "quality_amount",
    "amount_before_cap",
    "real_expenditure_total",
    "cap",
    "amount_after_cap",
    "budget_guarantee",
    "budget_guarantee_gain",
    "final_amount",
)
SUMMED = (
    "n_patients",
    "n_patients_reference",
    "efficiency_amount",
    "efficiency_amount_untruncated",
    "drawing_right",
    "quality_value",
    "quality_amount",
    "amount_before_cap",
    "real_expenditure_total",
    "cap",
    "amount_after_cap",
    "budget_guarantee",
    "budget_guarantee_gain",
    "final_amount",
)
MONEY_COLUMNS = {
    "real_per_patient",
    "expected_per_patient",
    "real_per_patient_reference",
    "expected_per_patient_reference",
    "level_gap",
    "level_gap_se",
    "evolution_gap",
    "level_gap_low",
    "level_gap_high",
    "evolution_gap_se",
    "evolution_gap_low",
    "evolution_gap_high",
    "amount_per_patient",
    "efficiency_amount",
    "efficiency_amount_untruncated",
    "drawing_right",
    "quality_value",
    "quality_amount",
    "amount_before_cap",
    "real_expenditure_total",
    "cap",
    "amount_after_cap",
    "budget_guarantee",
    "budget_guarantee_gain",
    "final_amount",
}


def column_label(name: str) -> str:
    if name == "name":
        return "nom"
    return str(GroupementResult._meta.get_field(name).verbose_name)


def report_rows(campaign: Campaign) -> list[dict]:
    rows = []
    for result in campaign_results(campaign=campaign).select_related("groupement"):
        row = {name: getattr(result, name) for name in COLUMNS if name != "name"}
        row["name"] = result.groupement.name
        rows.append(row)
    return rows


def _sum(rows: list[dict], name: str):
    """Σ of a column; None when a result computed before step 13 has no figure for it."""
    values = [row[name] for row in rows]
    if any(value is None for value in values):
        return None
    return sum(values, Decimal(0) if name == "final_amount" else 0)


def total_row(rows: list[dict]) -> dict:
    total = {name: _sum(rows, name) for name in SUMMED}
    total["code"] = "TOTAL"
    total["count"] = len(rows)
    # Counts of flagged groupements stand in the flag columns of the total line.
    total["below_min_patients"] = sum(1 for row in rows if row["below_min_patients"])
    total["efficiency_noise"] = sum(1 for row in rows if row["efficiency_noise"])
    return total


COUNTED = ("below_min_patients", "efficiency_noise")


def forest_rows(rows: list[dict]) -> list[dict]:
    """Groupements with a step-13 interval, largest level gap first (the order of the forest plot)."""
    return sorted(
        (row for row in rows if row["level_gap_low"] is not None), key=lambda row: (-row["level_gap"], row["code"])
    )


def wave_rows(rows: list[dict]) -> list[dict]:
    waves = []
    for wave in sorted({row["wave"] for row in rows}):
        mine = [row for row in rows if row["wave"] == wave]
        waves.append(
            {
                "wave": wave,
                "count": len(mine),
                "phases": sorted({row["phase"] for row in mine}),
                "n_patients": sum(row["n_patients"] for row in mine),
                "efficiency_amount": sum(row["efficiency_amount"] for row in mine),
                "quality_amount": sum(row["quality_amount"] for row in mine),
                "final_amount": sum((row["final_amount"] for row in mine), Decimal(0)),
            }
        )
    return waves


def report_context(campaign: Campaign, *, charts_as: str = "inline") -> dict:
    """Everything the HTML and PDF reports show. `charts_as`: "inline" (SVG markup) or "uri" (data: URIs)."""
    from . import charts  # matplotlib: imported by the processes that draw, not by every command

    rows = report_rows(campaign)
    waves = wave_rows(rows)
    confidence_level = (campaign.parameters or {}).get("confidence_level", "0.95")
    forest = forest_rows(rows)
    drawn = (
        {
            "forest": charts.forest_chart(forest, format_level(confidence_level)) if forest else None,
            "amounts": charts.amounts_chart(rows),
            "quality_efficiency": charts.quality_efficiency_chart(rows),
            "waves": charts.waves_chart(waves),
        }
        if rows
        else {}
    )
    if charts_as == "uri":
        drawn = {name: charts.svg_data_uri(svg) for name, svg in drawn.items() if svg}
    return {
        "campaign": campaign,
        "rows": rows,
        "total": total_row(rows),
        "waves": waves,
        "charts": drawn,
        "confidence_level": confidence_level,
        "noise_gate_on": (campaign.parameters or {}).get("noise_gate") == "on",
        "totals": campaign_totals(campaign),
        "scaled": bool(campaign.national_coefficient is not None and campaign.national_coefficient < 1),
        "parameters": sorted((campaign.parameters or {}).items()),
    }


def national_report_pdf(campaign: Campaign) -> bytes:
    return render_pdf("reports/national_report_pdf.html", report_context(campaign, charts_as="uri"))


def national_report_csv(campaign: Campaign) -> bytes:
    """`;`-separated, UTF-8 with BOM (opens as is in a French spreadsheet), full precision."""
    rows = report_rows(campaign)
    buffer = io.StringIO()
    writer = csv_writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([column_label(name) for name in COLUMNS])
    for row in rows:
        writer.writerow([csv_cell(row[name]) for name in COLUMNS])
    total = total_row(rows)
    writer.writerow([csv_cell(total.get(name, "")) if name not in COUNTED else str(total[name]) for name in COLUMNS])
    writer.writerow([])
    for label, value, _kind in campaign_totals(campaign):
        writer.writerow([label, csv_cell(value)])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def national_report_xlsx(campaign: Campaign) -> bytes:
    """Two sheets: "Groupements" (one line each and a total) and "Synthèse" (campaign figures, parameters)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    rows = report_rows(campaign)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Groupements"
    bold, header_fill = Font(bold=True), PatternFill("solid", fgColor="E8EEF5")
    sheet.append(safe_row(column_label(name) for name in COLUMNS))
    for cell in sheet[1]:
        cell.font, cell.fill, cell.alignment = bold, header_fill, Alignment(wrap_text=True, vertical="top")
    for row in rows:
        sheet.append(safe_row(row[name] for name in COLUMNS))
    total = total_row(rows)
    sheet.append(safe_row(total.get(name) for name in COLUMNS))
    for cell in sheet[sheet.max_row]:
        cell.font = bold
    for index, name in enumerate(COLUMNS, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = 30 if name == "name" else 14
        if name in MONEY_COLUMNS:
            for cell in sheet[letter][1:]:
                cell.number_format = "#,##0.00"
    sheet.freeze_panes = "C2"

    summary = workbook.create_sheet("Synthèse")
    summary.append(safe_row([f"Campagne {campaign.year} version {campaign.version}", campaign.get_status_display()]))
    summary["A1"].font = bold
    for label, value, kind in campaign_totals(campaign):
        summary.append(safe_row([label, value]))
        summary.cell(summary.max_row, 2).number_format = {"money": "#,##0.00", "integer": "#,##0", "ratio": "0.000000"}[
            kind
        ]
    summary.append([])
    summary.append(["Paramètre", "Valeur"])
    summary.cell(summary.max_row, 1).font = summary.cell(summary.max_row, 2).font = bold
    for name, value in sorted((campaign.parameters or {}).items()):
        summary.append(safe_row([name, str(value)]))
    summary.column_dimensions["A"].width = 38
    summary.column_dimensions["B"].width = 22

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
