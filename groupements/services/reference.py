"""Loading a bundle's reference files into the database: all files checked first, then written in
one transaction, idempotently (the bundle is the authority for the tables and years it contains)."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from calculations.bundle.problems import Problem
from calculations.bundle.reference import (
    GROUPEMENTS,
    INDICATORS,
    MEMBERS,
    PHASES,
    WAVES,
    YEARLY_PATTERN,
    ReferenceRecords,
    periods_overlap,
    read_reference_records,
)

from ..models import (
    Groupement,
    Indicator,
    IndicatorResult,
    Member,
    PatientExperience,
    PhaseCalendar,
    Wave,
    YearlyDecile,
)


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


def _delete_missing(queryset, kept_ids: set[int], summary: LoadSummary, table: str) -> None:
    stale = queryset.exclude(pk__in=kept_ids)
    for _ in range(stale.count()):
        summary.count(table, "deleted")
    stale.delete()


def _write(records: ReferenceRecords, summary: LoadSummary) -> None:
    waves = {
        r["code"]: _upsert(
            Wave,
            {"code": r["code"]},
            {"label": r["libelle"], "entry_year": r["annee_entree"], "reference_year": r["annee_reference"]},
            summary,
            "vagues",
        )
        for r in records.waves
    }
    kept = {
        _upsert(
            PhaseCalendar,
            {"wave": waves[r["vague"]], "year": r["annee"]},
            {"phase": r["phase"]},
            summary,
            "calendrier_phases",
        ).pk
        for r in records.phases
    }
    _delete_missing(PhaseCalendar.objects.filter(wave__in=waves.values()), kept, summary, "calendrier_phases")
    groupements = {
        r["code"]: _upsert(
            Groupement,
            {"code": r["code"]},
            {"name": r["nom"], "wave": waves[r["vague"]], "region": r["region"]},
            summary,
            "groupements",
        )
        for r in records.groupements
    }
    # Members are replaced as a whole: the file is the complete list, end dates included.
    kept = {
        _upsert(
            Member,
            {"rpps": r["rpps"], "groupement": groupements[r["code_groupement"]], "start": r["date_debut"]},
            {"end": r["date_fin"]},
            summary,
            "membres",
        ).pk
        for r in records.members
    }
    _delete_missing(Member.objects.filter(groupement__in=groupements.values()), kept, summary, "membres")
    indicators = {
        r["code"]: _upsert(
            Indicator,
            {"code": r["code"]},
            {"label": r["libelle"], "family": r["famille"], "direction": r["sens"]},
            summary,
            "indicateurs",
        )
        for r in records.indicators
    }
    for year, yearly in sorted(records.years.items()):
        if yearly.deciles is not None:
            kept = {
                _upsert(
                    YearlyDecile,
                    {"year": year, "indicator": indicators[r["code_indicateur"]]},
                    {k: r[k] for k in ("d2", "d3", "d7", "d8")},
                    summary,
                    f"deciles_{year}",
                ).pk
                for r in yearly.deciles
            }
            _delete_missing(YearlyDecile.objects.filter(year=year), kept, summary, f"deciles_{year}")
        if yearly.indicator_results is not None:
            kept = {
                _upsert(
                    IndicatorResult,
                    {
                        "year": year,
                        "groupement": groupements[r["code_groupement"]],
                        "indicator": indicators[r["code_indicateur"]],
                    },
                    {"value_n": r["valeur_n"], "value_n_1": r["valeur_n_1"]},
                    summary,
                    f"resultats_indicateurs_{year}",
                ).pk
                for r in yearly.indicator_results
            }
            _delete_missing(IndicatorResult.objects.filter(year=year), kept, summary, f"resultats_indicateurs_{year}")
        if yearly.experience is not None:
            kept = {
                _upsert(
                    PatientExperience,
                    {"year": year, "groupement": groupements[r["code_groupement"]]},
                    {"points": r["points"]},
                    summary,
                    f"experience_patient_{year}",
                ).pk
                for r in yearly.experience
            }
            _delete_missing(PatientExperience.objects.filter(year=year), kept, summary, f"experience_patient_{year}")


def load_reference_bundle(*, directory: Path, user=None) -> LoadSummary:
    """Check every reference file of `directory` (METHODOLOGY section 3) and load them atomically.

    Raises `calculations.bundle.BundleError` listing every problem; then nothing is written.
    """
    records, collector = read_reference_records(Path(directory))
    collector.raise_if_any()
    summary = LoadSummary(warnings=[str(w) for w in records.warnings])
    with transaction.atomic():
        _write(records, summary)
    return summary


# --- the database as a bundle ---------------------------------------------------------------------


def _write_csv(path: Path, header: list[str], rows) -> None:
    import csv

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


def read_reference_table(*, file_name: str, csv_text: str) -> tuple[list, list]:
    """One reference table imported on its own (admin import) read by the rules of the bundle: its
    problems (`calculations.bundle.Problem`, named `file_name`) and its typed records.

    The rest of the bundle is taken from the database. An admin import adds to and updates the
    stored rows without deleting any, so a member row is also checked against the stored periods
    of its RPPS that the file does not replace (no RPPS in two places on the same day).
    """
    import tempfile

    with tempfile.TemporaryDirectory(prefix="ipep-import-") as tmp:
        directory = Path(tmp)
        export_reference_bundle(directory=directory)
        (directory / file_name).write_text(csv_text, encoding="utf-8")
        records, collector = read_reference_records(directory)
    problems = [
        problem for problem in collector.problems if problem.file == file_name and problem.rule != "missing_socle"
    ]
    table = _table_records(records, file_name)
    if file_name == MEMBERS and not problems:
        problems = _stored_member_overlaps(table)
    return problems, table


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
                        f"RPPS {record['rpps']} is already a member of {member.groupement.code} on that date "
                        f"(stored period {member.start} – {member.end or '…'})",
                        "member_overlap",
                    )
                )
                break
    return problems
