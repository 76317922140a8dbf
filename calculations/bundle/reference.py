"""Reference files of a bundle (everything but the national beneficiaries files), with every rule
of METHODOLOGY.md section 3, read into typed records (for the database) or Polars frames (for the
engine: `CampaignInputs`).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from .csvformat import Column, Record, TableReader
from .inputs import CampaignInputs
from .problems import Problem, ProblemCollector
from .reasons import french_date, number, one_of, quoted, reason

WAVES = "vagues.csv"
PHASES = "calendrier_phases.csv"
GROUPEMENTS = "groupements.csv"
MEMBERS = "membres.csv"
INDICATORS = "indicateurs.csv"
PARAMETERS = "parametres.json"
YEARLY_PATTERN = re.compile(r"(deciles|resultats_indicateurs|experience_patient)_([0-9]{4})\.csv")

COLUMNS: dict[str, list[Column]] = {
    WAVES: [
        Column("code"),
        Column("libelle"),
        Column("annee_entree", "int", minimum=1900, maximum=2200),
        Column("annee_reference", "int", minimum=1900, maximum=2200),
    ],
    PHASES: [
        Column("vague"),
        Column("annee", "int", minimum=1900, maximum=2200),
        Column("phase", "int", minimum=1, maximum=3),
    ],
    GROUPEMENTS: [Column("code"), Column("nom"), Column("vague"), Column("region")],
    MEMBERS: [
        Column("code_groupement"),
        Column("rpps", "rpps"),
        Column("date_debut", "date"),
        Column("date_fin", "date", required=False),
    ],
    INDICATORS: [Column("code"), Column("libelle"), Column("famille"), Column("sens")],
    # Section 3 limits the decimal places of `depenses` only: values are never negative (no sign).
    "deciles": [Column("code_indicateur"), *(Column(name, "decimal") for name in ("d2", "d3", "d7", "d8"))],
    "resultats_indicateurs": [
        Column("code_groupement"),
        Column("code_indicateur"),
        Column("valeur_n", "decimal"),
        Column("valeur_n_1", "decimal", required=False),
    ],
    "experience_patient": [Column("code_groupement"), Column("points", "decimal", minimum=0, maximum=20)],
}
# Files whose header alone is valid: no experience row means 0 points for every groupement.
MAY_HAVE_NO_ROWS = {"experience_patient"}

FAMILIES = ("socle", "carte")
DIRECTIONS = ("hausse", "baisse")


@dataclass
class YearlyRecords:
    deciles: list[Record] | None = None
    indicator_results: list[Record] | None = None
    experience: list[Record] | None = None


@dataclass
class ReferenceRecords:
    """Every reference file of a bundle as typed records (line numbers kept for messages)."""

    waves: list[Record]
    phases: list[Record]
    groupements: list[Record]
    members: list[Record]
    indicators: list[Record]
    years: dict[int, YearlyRecords] = field(default_factory=dict)
    parameters: dict = field(default_factory=dict)
    warnings: list[Problem] = field(default_factory=list)


def _read(
    directory: Path, name: str, spec: str, collector: ProblemCollector, required: bool = True
) -> list[Record] | None:
    path = directory / name
    if not path.is_file():
        if required:
            collector.add(name, None, None, reason("missing_file"), "missing_file")
        return None
    return TableReader(
        path, COLUMNS[spec], collector, display_name=name, rows_required=spec not in MAY_HAVE_NO_ROWS
    ).read()


def _unique(records: list[Record], keys: tuple[str, ...], name: str, collector: ProblemCollector) -> dict:
    seen: dict = {}
    for record in records:
        key = tuple(record[k] for k in keys)
        if None in key:
            continue
        if key in seen:
            label = ", ".join(f"{k}={record[k]}" for k in keys)
            collector.add(
                name, record.line, keys[-1], reason("duplicate", key=label, first=seen[key].line), "duplicate"
            )
        else:
            seen[key] = record
    return seen


def _must_exist(
    records: list[Record], column: str, known: set, what: str, name: str, collector: ProblemCollector
) -> None:
    for record in records:
        value = record[column]
        if value is not None and value not in known:
            collector.add(
                name, record.line, column, reason(f"unknown_{what}", value=quoted(value)), "unknown_reference"
            )


def _one_of(
    records: list[Record], column: str, allowed: tuple[str, ...], name: str, collector: ProblemCollector
) -> None:
    for record in records:
        if record[column] is not None and record[column] not in allowed:
            collector.add(
                name,
                record.line,
                column,
                reason("choice", allowed=one_of(allowed), value=quoted(record[column])),
                "choice",
            )


def check_waves(waves, collector):
    _unique(waves, ("code",), WAVES, collector)
    for record in waves:
        entry, reference = record["annee_entree"], record["annee_reference"]
        if entry is not None and reference is not None and not reference < entry:
            collector.add(
                WAVES,
                record.line,
                "annee_reference",
                reason("wave_years", reference=reference, entry=entry),
                "wave_years",
            )


def check_members(members, collector):
    """RPPS rows may not overlap in time, within a groupement or across groupements (dates inclusive)."""
    by_rpps: dict[str, list[Record]] = defaultdict(list)
    for record in members:
        start, end = record["date_debut"], record["date_fin"]
        if start is not None and end is not None and end < start:
            collector.add(
                MEMBERS,
                record.line,
                "date_fin",
                reason("member_dates", end=french_date(end), start=french_date(start)),
                "member_dates",
            )
            continue
        if record["rpps"] is not None and start is not None:
            by_rpps[record["rpps"]].append(record)
    for rpps, rows in by_rpps.items():
        rows.sort(key=lambda r: r["date_debut"])
        for earlier, later in zip(rows, rows[1:], strict=False):
            earlier_end = earlier["date_fin"] or date.max
            if later["date_debut"] <= earlier_end:
                collector.add(
                    MEMBERS,
                    later.line,
                    "rpps",
                    reason("member_overlap", rpps=rpps, groupement=earlier["code_groupement"], line=earlier.line),
                    "member_overlap",
                )


def check_deciles(deciles, name, known_indicators, collector):
    _unique(deciles, ("code_indicateur",), name, collector)
    _must_exist(deciles, "code_indicateur", known_indicators, "indicator", name, collector)
    for record in deciles:
        d2, d3, d7, d8 = (record[k] for k in ("d2", "d3", "d7", "d8"))
        if None in (d2, d3, d7, d8):
            continue
        if not (d2 < d3 <= d7 < d8):
            collector.add(
                name,
                record.line,
                "d2",
                reason("decile_order", values=" ; ".join(number(d) for d in (d2, d3, d7, d8))),
                "decile_order",
            )


def check_indicator_results(results, name, year, records: ReferenceRecords, deciles, collector):
    """Socle indicators complete for every participating groupement; every indicator used has deciles."""
    _unique(results, ("code_groupement", "code_indicateur"), name, collector)
    groupement_codes = {r["code"] for r in records.groupements}
    indicator_codes = {r["code"] for r in records.indicators}
    _must_exist(results, "code_groupement", groupement_codes, "groupement", name, collector)
    _must_exist(results, "code_indicateur", indicator_codes, "indicator", name, collector)
    decile_codes = {r["code_indicateur"] for r in deciles or []}
    if deciles is not None:
        for record in results:
            code = record["code_indicateur"]
            if code in indicator_codes and code not in decile_codes:
                collector.add(
                    name,
                    record.line,
                    "code_indicateur",
                    reason("missing_deciles", indicator=code, file=f"deciles_{year}.csv"),
                    "missing_deciles",
                )
    socle = sorted(r["code"] for r in records.indicators if r["famille"] == "socle")
    participating_waves = {r["vague"] for r in records.phases if r["annee"] == year}
    present = {(r["code_groupement"], r["code_indicateur"]) for r in results}
    for groupement in records.groupements:
        if groupement["vague"] not in participating_waves:
            continue
        for code in socle:
            if (groupement["code"], code) not in present:
                collector.add(
                    name,
                    None,
                    "code_indicateur",
                    reason("missing_socle", indicator=code, groupement=groupement["code"]),
                    "missing_socle",
                )


def read_reference_records(
    directory: Path, years: list[int] | None = None
) -> tuple[ReferenceRecords, ProblemCollector]:
    """Read and check every reference file; `years` limits the yearly files read (None: all found).

    Returns the records and the collector; callers decide whether to raise (`collector.raise_if_any()`).
    """
    directory = Path(directory)
    collector = ProblemCollector()
    if not directory.is_dir():
        collector.add(str(directory), None, None, reason("missing_directory"), "missing_file")
        return ReferenceRecords([], [], [], [], []), collector
    records = ReferenceRecords(
        waves=_read(directory, WAVES, WAVES, collector) or [],
        phases=_read(directory, PHASES, PHASES, collector) or [],
        groupements=_read(directory, GROUPEMENTS, GROUPEMENTS, collector) or [],
        members=_read(directory, MEMBERS, MEMBERS, collector) or [],
        indicators=_read(directory, INDICATORS, INDICATORS, collector) or [],
    )
    check_waves(records.waves, collector)
    wave_codes = {r["code"] for r in records.waves}
    _unique(records.phases, ("vague", "annee"), PHASES, collector)
    _must_exist(records.phases, "vague", wave_codes, "wave", PHASES, collector)
    _unique(records.groupements, ("code",), GROUPEMENTS, collector)
    _must_exist(records.groupements, "vague", wave_codes, "wave", GROUPEMENTS, collector)
    groupement_codes = {r["code"] for r in records.groupements}
    _must_exist(records.members, "code_groupement", groupement_codes, "groupement", MEMBERS, collector)
    check_members(records.members, collector)
    _unique(records.indicators, ("code",), INDICATORS, collector)
    _one_of(records.indicators, "famille", FAMILIES, INDICATORS, collector)
    _one_of(records.indicators, "sens", DIRECTIONS, INDICATORS, collector)
    indicator_codes = {r["code"] for r in records.indicators}

    found_years = sorted({int(m[2]) for p in directory.iterdir() if (m := YEARLY_PATTERN.fullmatch(p.name))})
    for year in years if years is not None else found_years:
        yearly = YearlyRecords()
        deciles_name = f"deciles_{year}.csv"
        results_name = f"resultats_indicateurs_{year}.csv"
        experience_name = f"experience_patient_{year}.csv"
        required = years is not None  # a campaign year needs its deciles and results
        yearly.indicator_results = _read(directory, results_name, "resultats_indicateurs", collector, required=required)
        # Results are scored against that year's deciles: each indicator used needs a deciles row.
        deciles_required = required or yearly.indicator_results is not None
        yearly.deciles = _read(directory, deciles_name, "deciles", collector, required=deciles_required)
        yearly.experience = _read(directory, experience_name, "experience_patient", collector, required=False)
        if yearly.deciles is not None:
            check_deciles(yearly.deciles, deciles_name, indicator_codes, collector)
        if yearly.indicator_results is not None:
            check_indicator_results(yearly.indicator_results, results_name, year, records, yearly.deciles, collector)
        if yearly.experience is not None:
            _unique(yearly.experience, ("code_groupement",), experience_name, collector)
            _must_exist(
                yearly.experience, "code_groupement", groupement_codes, "groupement", experience_name, collector
            )
        records.years[year] = yearly

    parameters_path = directory / PARAMETERS
    if parameters_path.is_file():
        try:
            # Numbers keep their literal text (section 6: "read from their literal text").
            parsed = json.loads(parameters_path.read_text(encoding="utf-8-sig"), parse_float=str, parse_int=int)
        except (ValueError, UnicodeDecodeError) as exc:
            line, column = getattr(exc, "lineno", None), getattr(exc, "colno", None)
            collector.add(PARAMETERS, line, None, reason("json", line=line or 1, column=column or 1), "json")
        else:
            if isinstance(parsed, dict):
                records.parameters = parsed
            else:
                collector.add(PARAMETERS, 1, None, reason("json_object"), "json")
    records.warnings = collector.warnings
    return records, collector


def _float(value):
    return None if value is None else float(value)


def bundle_from_records(records: ReferenceRecords, year: int) -> CampaignInputs:
    """The campaign inputs of `year` from checked records (without the national files, attached later)."""
    yearly = records.years.get(year) or YearlyRecords()
    return CampaignInputs.from_rows(
        year=year,
        waves=[
            {
                "code": r["code"],
                "label": r["libelle"],
                "entry_year": r["annee_entree"],
                "reference_year": r["annee_reference"],
            }
            for r in records.waves
        ],
        phases=[{"wave": r["vague"], "year": r["annee"], "phase": r["phase"]} for r in records.phases],
        groupements=[
            {"code": r["code"], "name": r["nom"], "wave": r["vague"], "region": r["region"]}
            for r in records.groupements
        ],
        members=[
            {"groupement": r["code_groupement"], "rpps": r["rpps"], "start": r["date_debut"], "end": r["date_fin"]}
            for r in records.members
        ],
        indicators=[
            {"code": r["code"], "label": r["libelle"], "family": r["famille"], "direction": r["sens"]}
            for r in records.indicators
        ],
        deciles=[
            {"indicator": r["code_indicateur"], **{k: _float(r[k]) for k in ("d2", "d3", "d7", "d8")}}
            for r in yearly.deciles or []
        ],
        indicator_results=[
            {
                "groupement": r["code_groupement"],
                "indicator": r["code_indicateur"],
                "value_n": _float(r["valeur_n"]),
                "value_n_1": _float(r["valeur_n_1"]),
            }
            for r in yearly.indicator_results or []
        ],
        experience=[
            {"groupement": r["code_groupement"], "points": _float(r["points"])} for r in yearly.experience or []
        ],
        parameters=records.parameters,
        warnings=records.warnings,
    )


def read_reference_bundle(directory: Path, year: int) -> CampaignInputs:
    """The reference data of campaign `year` from a bundle directory (national files not attached yet);
    raises BundleError listing every problem."""
    records, collector = read_reference_records(Path(directory), years=[year])
    collector.raise_if_any()
    return bundle_from_records(records, year)


def beneficiaries_path(directory: Path, year: int) -> Path:
    """`beneficiaires_Y.parquet` when present (already validated), else `beneficiaires_Y.csv`."""
    directory = Path(directory)
    parquet = directory / f"beneficiaires_{year}.parquet"
    return parquet if parquet.is_file() else directory / f"beneficiaires_{year}.csv"
