"""Reference data between files and the database: a bundle's reference files loaded as a whole (all
checked first, then written in one transaction, idempotently: the bundle is the authority for the
tables and years it contains), tables imported on their own (`reference_import`), and the database
written back as a bundle."""

from __future__ import annotations

import csv
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from calculations.bundle import reasons
from calculations.bundle.csvformat import Record
from calculations.bundle.problems import Problem
from calculations.bundle.reference import (
    GROUPEMENTS,
    INDICATORS,
    MEMBERS,
    PHASES,
    WAVES,
    YEARLY_PATTERN,
    ReferenceRecords,
    read_reference_records,
)
from calculations.engine.parameters import BUNDLE_SOURCE, ParameterError, Parameters
from groupements.models import (
    Groupement,
    Indicator,
    IndicatorResult,
    Member,
    PatientExperience,
    PhaseCalendar,
    Wave,
    YearlyDecile,
)
from groupements.models.reference import periods_overlap


@dataclass
class LoadSummary:
    """How many rows each table gained, changed, kept and lost."""

    counts: dict[str, Counter] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def count(self, table: str, outcome: str) -> None:
        self.counts.setdefault(table, Counter())[outcome] += 1

    @property
    def changed(self) -> bool:
        return any(c["created"] or c["updated"] or c["deleted"] for c in self.counts.values())

    def lines(self) -> list[str]:
        return [
            f"{table}: {c['created']} créé(s), {c['updated']} modifié(s), {c['unchanged']} inchangé(s), {c['deleted']} supprimé(s)"
            for table, c in self.counts.items()
        ]


@dataclass
class References:
    """Rows that other rows point to, by code: filled while a bundle is written, or read from the
    database when one table is imported on its own."""

    waves: dict[str, Wave] = field(default_factory=dict)
    groupements: dict[str, Groupement] = field(default_factory=dict)
    indicators: dict[str, Indicator] = field(default_factory=dict)

    @classmethod
    def stored(cls) -> References:
        return cls(
            waves=Wave.objects.in_bulk(field_name="code"),
            groupements=Groupement.objects.in_bulk(field_name="code"),
            indicators=Indicator.objects.in_bulk(field_name="code"),
        )


@dataclass(frozen=True)
class Table:
    """How the records of one bundle file become rows: the key that finds a stored row, the values
    written, and where the written row is kept for the rows that point to it."""

    model: type
    key: Callable[[Record, References, int | None], dict]
    values: Callable[[Record, References], dict]
    referenced_as: str | None = None


# Bundle file name (yearly files: their kind, the year given apart) -> Table.
TABLES: dict[str, Table] = {
    WAVES: Table(
        Wave,
        key=lambda r, refs, year: {"code": r["code"]},
        values=lambda r, refs: {
            "label": r["libelle"],
            "entry_year": r["annee_entree"],
            "reference_year": r["annee_reference"],
        },
        referenced_as="waves",
    ),
    PHASES: Table(
        PhaseCalendar,
        key=lambda r, refs, year: {"wave": refs.waves[r["vague"]], "year": r["annee"]},
        values=lambda r, refs: {"phase": r["phase"]},
    ),
    GROUPEMENTS: Table(
        Groupement,
        key=lambda r, refs, year: {"code": r["code"]},
        values=lambda r, refs: {"name": r["nom"], "wave": refs.waves[r["vague"]], "region": r["region"]},
        referenced_as="groupements",
    ),
    # An RPPS is in one place on a given day: (rpps, start) finds the period a row replaces.
    MEMBERS: Table(
        Member,
        key=lambda r, refs, year: {"rpps": r["rpps"], "start": r["date_debut"]},
        values=lambda r, refs: {"groupement": refs.groupements[r["code_groupement"]], "end": r["date_fin"]},
    ),
    INDICATORS: Table(
        Indicator,
        key=lambda r, refs, year: {"code": r["code"]},
        values=lambda r, refs: {"label": r["libelle"], "family": r["famille"], "direction": r["sens"]},
        referenced_as="indicators",
    ),
    "deciles": Table(
        YearlyDecile,
        key=lambda r, refs, year: {"year": year, "indicator": refs.indicators[r["code_indicateur"]]},
        values=lambda r, refs: {k: r[k] for k in ("d2", "d3", "d7", "d8")},
    ),
    "resultats_indicateurs": Table(
        IndicatorResult,
        key=lambda r, refs, year: {
            "year": year,
            "groupement": refs.groupements[r["code_groupement"]],
            "indicator": refs.indicators[r["code_indicateur"]],
        },
        values=lambda r, refs: {"value_n": r["valeur_n"], "value_n_1": r["valeur_n_1"]},
    ),
    "experience_patient": Table(
        PatientExperience,
        key=lambda r, refs, year: {"year": year, "groupement": refs.groupements[r["code_groupement"]]},
        values=lambda r, refs: {"points": r["points"]},
    ),
}
YEARLY_KINDS = ("deciles", "resultats_indicateurs", "experience_patient")


def _upsert(model, lookup: dict, values: dict, summary: LoadSummary, table: str):
    instance = model.objects.filter(**lookup).first()
    if instance is None:
        instance = model.objects.create(**lookup, **values)
        summary.count(table, "created")
        return instance
    changed = [name for name, value in values.items() if getattr(instance, name) != value]
    if changed:
        for name in changed:
            setattr(instance, name, values[name])
        instance.save(update_fields=changed)
        summary.count(table, "updated")
    else:
        summary.count(table, "unchanged")
    return instance


def write_table(
    name: str, records: list[Record], refs: References, summary: LoadSummary, *, year: int | None = None
) -> set[int]:
    """Create or update the rows of one checked file (`name`: a bundle file name, or the kind of a
    yearly file with its `year`); returns the primary keys written. Nothing is deleted here."""
    table = TABLES[name]
    label = name.removesuffix(".csv") if year is None else f"{name}_{year}"
    kept = set()
    for record in records:
        instance = _upsert(table.model, table.key(record, refs, year), table.values(record, refs), summary, label)
        if table.referenced_as:
            getattr(refs, table.referenced_as)[instance.code] = instance
        kept.add(instance.pk)
    return kept


def _delete_missing(queryset, kept_ids: set[int], summary: LoadSummary, table: str) -> None:
    stale = queryset.exclude(pk__in=kept_ids)
    for _ in range(stale.count()):
        summary.count(table, "deleted")
    stale.delete()


def _write(records: ReferenceRecords, summary: LoadSummary) -> None:
    refs = References()
    write_table(WAVES, records.waves, refs, summary)
    kept = write_table(PHASES, records.phases, refs, summary)
    _delete_missing(PhaseCalendar.objects.filter(wave__in=refs.waves.values()), kept, summary, "calendrier_phases")
    write_table(GROUPEMENTS, records.groupements, refs, summary)
    # Members are replaced as a whole: the file is the complete list, end dates included.
    kept = write_table(MEMBERS, records.members, refs, summary)
    _delete_missing(Member.objects.filter(groupement__in=refs.groupements.values()), kept, summary, "membres")
    write_table(INDICATORS, records.indicators, refs, summary)
    for year, yearly in sorted(records.years.items()):
        for kind, rows in zip(YEARLY_KINDS, (yearly.deciles, yearly.indicator_results, yearly.experience), strict=True):
            if rows is not None:
                kept = write_table(kind, rows, refs, summary, year=year)
                _delete_missing(TABLES[kind].model.objects.filter(year=year), kept, summary, f"{kind}_{year}")


def load_reference_bundle(*, directory: Path, user=None) -> LoadSummary:
    """Check every reference file of `directory` (METHODOLOGY section 3) and load them atomically.

    Raises `calculations.bundle.BundleError` listing every problem; then nothing is written.
    """
    records, collector = read_reference_records(Path(directory))
    try:  # the parameters a campaign would take from parametres.json are checked with the files
        Parameters.merge((BUNDLE_SOURCE, records.parameters))
    except ParameterError as error:
        collector.problems.extend(error.problems)
    collector.raise_if_any()
    summary = LoadSummary(warnings=[str(w) for w in records.warnings])
    with transaction.atomic():
        _write(records, summary)
    return summary


# --- the database as a bundle ---------------------------------------------------------------------


def _write_csv(path: Path, header: list[str], rows) -> None:
    # A bundle for the bundle reader, never handed to a spreadsheet: values are written as stored.
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(header)
        writer.writerows(["" if value is None else value for value in row] for row in rows)


def export_reference_bundle(*, directory: Path, years: list[int] | None = None) -> None:
    """Write the reference tables in the bundle format of section 3 (`;`, UTF-8, decimal point)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    _write_csv(
        directory / "vagues.csv",
        ["code", "libelle", "annee_entree", "annee_reference"],
        Wave.objects.values_list("code", "label", "entry_year", "reference_year"),
    )
    _write_csv(
        directory / "calendrier_phases.csv",
        ["vague", "annee", "phase"],
        PhaseCalendar.objects.values_list("wave__code", "year", "phase"),
    )
    _write_csv(
        directory / "groupements.csv",
        ["code", "nom", "vague", "region"],
        Groupement.objects.values_list("code", "name", "wave__code", "region"),
    )
    _write_csv(
        directory / "membres.csv",
        ["code_groupement", "rpps", "date_debut", "date_fin"],
        Member.objects.values_list("groupement__code", "rpps", "start", "end"),
    )
    _write_csv(
        directory / "indicateurs.csv",
        ["code", "libelle", "famille", "sens"],
        Indicator.objects.values_list("code", "label", "family", "direction"),
    )
    all_years = sorted(
        set(YearlyDecile.objects.values_list("year", flat=True))
        | set(IndicatorResult.objects.values_list("year", flat=True))
        | set(PatientExperience.objects.values_list("year", flat=True))
    )
    for year in years if years is not None else all_years:
        _write_csv(
            directory / f"deciles_{year}.csv",
            ["code_indicateur", "d2", "d3", "d7", "d8"],
            YearlyDecile.objects.filter(year=year).values_list("indicator__code", "d2", "d3", "d7", "d8"),
        )
        _write_csv(
            directory / f"resultats_indicateurs_{year}.csv",
            ["code_groupement", "code_indicateur", "valeur_n", "valeur_n_1"],
            IndicatorResult.objects.filter(year=year).values_list(
                "groupement__code", "indicator__code", "value_n", "value_n_1"
            ),
        )
        _write_csv(
            directory / f"experience_patient_{year}.csv",
            ["code_groupement", "points"],
            PatientExperience.objects.filter(year=year).values_list("groupement__code", "points"),
        )


# --- tables imported on their own (the admin upload, see reference_import) -------------------------


@dataclass
class TablesRead:
    """Reference files read on their own: their problems and warnings, and each file's typed records."""

    problems: list[Problem]
    warnings: list[Problem]
    records: dict[str, list[Record]]


def read_reference_tables(files: dict[str, bytes]) -> TablesRead:
    """Reference files imported on their own (`files`: bundle file name -> content, e.g.
    "groupements.csv" or "deciles_2023.csv") read by the rules of the bundle, the rest of the bundle
    being taken from the database.

    An import adds to and updates the stored rows without deleting any, so a member row is also
    checked against the stored periods of its RPPS that the file does not replace (no RPPS in two
    places on the same day); a file need not hold every socle indicator of every groupement.
    """
    with tempfile.TemporaryDirectory(prefix="ipep-import-") as tmp:
        directory = Path(tmp)
        export_reference_bundle(directory=directory)
        for name, content in files.items():
            (directory / name).write_bytes(content)
        records, collector = read_reference_records(directory)
    problems = [problem for problem in collector.problems if problem.file in files and problem.rule != "missing_socle"]
    tables = {name: _table_records(records, name) for name in files}
    if MEMBERS in tables and not problems:
        problems = _stored_member_overlaps(tables[MEMBERS])
    warnings = [warning for warning in collector.warnings if warning.file in files]
    return TablesRead(problems=problems, warnings=warnings, records=tables)


def _table_records(records: ReferenceRecords, file_name: str) -> list:
    by_name = {
        WAVES: records.waves,
        PHASES: records.phases,
        GROUPEMENTS: records.groupements,
        MEMBERS: records.members,
        INDICATORS: records.indicators,
    }
    if file_name in by_name:
        return by_name[file_name]
    match = YEARLY_PATTERN.fullmatch(file_name)
    yearly = records.years.get(int(match[2])) if match else None
    if yearly is None:
        return []
    return {
        "deciles": yearly.deciles,
        "resultats_indicateurs": yearly.indicator_results,
        "experience_patient": yearly.experience,
    }[match[1]] or []


def _stored_member_overlaps(members: list) -> list:
    """Rows of an imported membres.csv that overlap a stored period of the same RPPS kept by the
    import (a stored row with the same RPPS and start date is the one the row replaces)."""
    replaced = {(r["rpps"], r["date_debut"]) for r in members}
    stored = defaultdict(list)
    for member in (
        Member.objects.filter(rpps__in={r["rpps"] for r in members}).select_related("groupement").order_by("start")
    ):
        if (member.rpps, member.start) not in replaced:
            stored[member.rpps].append(member)
    problems = []
    for record in members:
        for member in stored[record["rpps"]]:
            if periods_overlap(record["date_debut"], record["date_fin"], member.start, member.end):
                problems.append(
                    Problem(
                        MEMBERS,
                        record.line,
                        "rpps",
                        reasons.reason(
                            "stored_member_overlap",
                            rpps=record["rpps"],
                            groupement=member.groupement.code,
                            start=reasons.french_date(member.start),
                            end=reasons.french_date(member.end) if member.end else "…",
                        ),
                        "member_overlap",
                    )
                )
                break
    return problems
