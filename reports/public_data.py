"""The public results file (METHODOLOGY section 9): one row per groupement and campaign year, from the
latest published version of each year, as CSV, XLSX and a Frictionless Table Schema.

Building the files is pure (results in, bytes out); which results go in is `selectors.public_results`,
where they are stored is `services.refresh_public_file`.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from calculations.models import GroupementResult
from common.formatting import to_decimal
from common.spreadsheets import csv_writer, safe_row

# Statistical secrecy: a row of fewer patients keeps its identity columns and blanks every figure.
SECRECY_THRESHOLD = 11
CSV_NAME, XLSX_NAME, SCHEMA_NAME = "ipep_resultats.csv", "ipep_resultats.xlsx", "schema.json"


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # Table Schema type: integer, number, string, boolean
    title: str
    description: str
    source: str  # GroupementResult field, or campaign./groupement. attribute
    identity: bool = False
    places: int | None = None  # decimals after half-up rounding (numbers)


COLUMNS: tuple[Column, ...] = (
    Column("annee", "integer", "Année", "Année N de la campagne.", "campaign.year", identity=True),
    Column("version", "integer", "Version", "Version publiée de la campagne de l'année.", "campaign.version", True),
    Column("code_groupement", "string", "Code du groupement", "Identifiant du groupement.", "code", identity=True),
    Column("nom", "string", "Nom", "Nom du groupement.", "groupement.name", identity=True),
    Column("vague", "string", "Vague", "Vague d'entrée dans l'expérimentation.", "wave", identity=True),
    Column("phase", "integer", "Phase", "Phase du groupement l'année N (1, 2 ou 3).", "phase", identity=True),
    Column("n_patients", "integer", "Patients", "Patients dont le médecin traitant est membre, année N.", "n_patients"),
    Column(
        "depense_reelle_par_patient",
        "number",
        "Dépense réelle par patient (€)",
        "Dépense moyenne par patient de l'année N, écrêtée (DR).",
        "real_per_patient",
        places=2,
    ),
    Column(
        "depense_attendue_par_patient",
        "number",
        "Dépense attendue par patient (€)",
        "Dépense moyenne que le modèle de risque national attend pour ces patients (DA).",
        "expected_per_patient",
        places=2,
    ),
    Column(
        "ecart_niveau",
        "number",
        "Écart de niveau (€ par patient)",
        "E = dépense attendue − dépense réelle ; positif : économie.",
        "level_gap",
        places=2,
    ),
    Column(
        "ecart_niveau_bas",
        "number",
        "Écart de niveau, borne basse (€)",
        "Borne basse de l'intervalle de confiance de E, au niveau de confiance de la campagne.",
        "level_gap_low",
        places=2,
    ),
    Column(
        "ecart_niveau_haut",
        "number",
        "Écart de niveau, borne haute (€)",
        "Borne haute de l'intervalle de confiance de E.",
        "level_gap_high",
        places=2,
    ),
    Column(
        "ecart_evolution",
        "number",
        "Différence d'évolution (€ par patient)",
        "Ev : dépense évitée par rapport à l'évolution attendue depuis l'année de référence ; positif : économie.",
        "evolution_gap",
        places=2,
    ),
    Column(
        "ecart_evolution_bas",
        "number",
        "Différence d'évolution, borne basse (€)",
        "Borne basse de l'intervalle de confiance de Ev.",
        "evolution_gap_low",
        places=2,
    ),
    Column(
        "ecart_evolution_haut",
        "number",
        "Différence d'évolution, borne haute (€)",
        "Borne haute de l'intervalle de confiance de Ev.",
        "evolution_gap_high",
        places=2,
    ),
    Column(
        "gain_non_significatif",
        "boolean",
        "Gain non distinguable du hasard",
        "true : gain d'efficience positif alors que les deux intervalles atteignent 0 ou moins.",
        "efficiency_noise",
    ),
    Column(
        "montant_efficience",
        "number",
        "Montant d'efficience (€)",
        "Part du gain d'efficience reversée au groupement, sur dépenses écrêtées, avant plafonds.",
        "efficiency_amount",
        places=2,
    ),
    Column(
        "montant_efficience_sans_ecretement",
        "number",
        "Montant d'efficience sans écrêtement (€)",
        "Le même calcul sur les dépenses non écrêtées, pour information (non versé).",
        "efficiency_amount_untruncated",
        places=2,
    ),
    Column(
        "score_qualite",
        "number",
        "Score qualité",
        "Score S des indicateurs de qualité et de l'expérience patient (sur 120).",
        "quality_score",
        places=2,
    ),
    Column(
        "montant_qualite",
        "number",
        "Montant qualité (€)",
        "Montant qualité retenu selon la phase.",
        "quality_amount",
        places=2,
    ),
    Column(
        "montant_verse",
        "number",
        "Montant versé (€)",
        "Intéressement versé au titre de l'année N, après plafonds et coefficient national.",
        "final_amount",
        places=2,
    ),
    Column(
        "sous_seuil_patients",
        "boolean",
        "Sous le seuil de patients",
        "true : patientèle inférieure au seuil de la campagne (signalée, non exclue).",
        "below_min_patients",
    ),
)
NAMES = [column.name for column in COLUMNS]


def _value(result: GroupementResult, source: str):
    owner, _, attribute = source.rpartition(".")
    target = getattr(result, owner) if owner else result
    return getattr(target, attribute)


def cell(value, column: Column):
    """One value as the file holds it: half-up decimals for numbers, `true`/`false`, None when blank."""
    if value is None:
        return None
    if column.type == "boolean":
        return "true" if value else "false"
    if column.type == "number":
        return to_decimal(value).quantize(Decimal(1).scaleb(-column.places), rounding=ROUND_HALF_UP)
    if column.type == "integer":
        return int(value)
    return str(value)


def public_row(result: GroupementResult) -> dict:
    """One groupement and year; below SECRECY_THRESHOLD patients, its identity only."""
    secret = result.n_patients < SECRECY_THRESHOLD
    return {
        column.name: None if secret and not column.identity else cell(_value(result, column.source), column)
        for column in COLUMNS
    }


def public_rows(results: Iterable[GroupementResult]) -> list[dict]:
    """Rows ordered by year, then groupement code."""
    rows = [public_row(result) for result in results]
    return sorted(rows, key=lambda row: (row["annee"], row["code_groupement"]))


def csv_bytes(rows: list[dict]) -> bytes:
    """UTF-8, `,` delimiter, `.` decimal, header row; a blank cell for a blanked or missing figure."""
    buffer = io.StringIO()
    writer = csv_writer(buffer, delimiter=",", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(NAMES)
    for row in rows:
        writer.writerow(["" if row[name] is None else str(row[name]) for name in NAMES])
    return buffer.getvalue().encode("utf-8")


def table_schema() -> dict:
    """The Frictionless Table Schema the CSV validates against."""
    fields = []
    for column in COLUMNS:
        field = {"name": column.name, "type": column.type, "title": column.title, "description": column.description}
        if column.type == "boolean":
            field["trueValues"], field["falseValues"] = ["true"], ["false"]
        if column.identity:
            field["constraints"] = {"required": True}
        fields.append(field)
    return {"fields": fields, "missingValues": [""], "primaryKey": ["annee", "code_groupement"]}


def schema_bytes() -> bytes:
    return (json.dumps(table_schema(), ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def xlsx_bytes(rows: list[dict]) -> bytes:
    """One sheet per year (numbers as numbers, booleans as text `true`/`false` as in the CSV), then a sheet
    « Colonnes » that defines every column."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    workbook.remove(workbook.active)
    bold = Font(bold=True)
    for year in sorted({row["annee"] for row in rows}):
        sheet = workbook.create_sheet(str(year))
        sheet.append(NAMES)
        for row in rows:
            if row["annee"] == year:
                sheet.append(safe_row(row[name] for name in NAMES))
        for header in sheet[1]:
            header.font = bold
        sheet.freeze_panes = "D2"
    definitions = workbook.create_sheet("Colonnes")
    definitions.append(["colonne", "intitulé", "type", "définition"])
    for column in COLUMNS:
        definitions.append(safe_row([column.name, column.title, column.type, column.description]))
    for header in definitions[1]:
        header.font = bold
    definitions.append([])
    definitions.append(
        [
            "secret statistique",
            f"Une ligne de moins de {SECRECY_THRESHOLD} patients garde son identité et n'affiche aucun chiffre.",
        ]
    )
    for letter, width in zip("ABCD", (34, 40, 10, 90), strict=True):
        definitions.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def public_files(results: Iterable[GroupementResult]) -> dict[str, bytes]:
    """The three files by name."""
    rows = public_rows(results)
    return {CSV_NAME: csv_bytes(rows), XLSX_NAME: xlsx_bytes(rows), SCHEMA_NAME: schema_bytes()}
