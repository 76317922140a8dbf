"""django-import-export resources: the reference tables in the admin, with the bundle's French column
names so that a file exported from the admin can be loaded again with `load_bundle`."""

import csv
import dataclasses
import datetime
import io
import re

from django.core.exceptions import ValidationError
from import_export import fields, resources
from import_export.widgets import ForeignKeyWidget

from calculations.bundle.problems import Problem, format_problems

from .models import Groupement, Indicator, IndicatorResult, Member, PatientExperience, PhaseCalendar, Wave, YearlyDecile


class BundleRulesMixin:
    """Reads an admin import with the rules of `load_bundle` (METHODOLOGY section 3) before any row
    is written: the whole file is refused with the same `file:line: column: reason` messages, or its
    rows are replaced by the typed values the bundle rules read (trimmed values, case-insensitive
    headers, dates `DD/MM/YYYY`, decimal comma, empty optional values), so that what load_bundle
    accepts the admin accepts too, with the same meaning."""

    bundle_file = ""  # e.g. "groupements.csv"; yearly tables use "deciles_{year}.csv"

    def before_import(self, dataset, **kwargs):
        from calculations.bundle.reference import COLUMNS, YEARLY_PATTERN
        from groupements.services.reference import read_reference_table

        display_name = kwargs.get("file_name") or self.bundle_file
        yearly = "{year}" in self.bundle_file
        text, delimiter = _source_text(dataset)
        problems, rows = [], []
        try:
            files = (
                self._bundle_files(text, delimiter)
                if yearly
                else {self.bundle_file: (None, text, list(range(len(text.splitlines()) + 2)))}
            )
        except _FileProblems as error:
            files, problems = {}, [dataclasses.replace(p, file=display_name) for p in error.problems]
        for file_name, (year, file_text, original_line) in files.items():
            found, records = read_reference_table(file_name=file_name, csv_text=file_text)

            def upload_line(line, original_line=original_line):
                return original_line[line] if line is not None and line < len(original_line) else line

            problems += [dataclasses.replace(p, file=display_name, line=upload_line(p.line)) for p in found]
            match = YEARLY_PATTERN.fullmatch(file_name)
            columns = [c.name for c in COLUMNS[match[1] if match else file_name]]
            rows += [(upload_line(r.line), ([year] if yearly else []) + [r[c] for c in columns]) for r in records]
        if problems:
            if yearly:
                problems.sort(key=lambda p: p.line or 0)
            del dataset[0 : len(dataset)]  # no row is then imported one by one (noise after a refusal)
            raise ValidationError(format_problems(problems))
        match = YEARLY_PATTERN.fullmatch(self.bundle_file.format(year="0000"))
        headers = (["annee"] if yearly else []) + [c.name for c in COLUMNS[match[1] if match else self.bundle_file]]
        dataset.wipe()
        dataset.headers = headers
        for _, row in sorted(rows, key=lambda item: item[0]):
            dataset.append(row)

    def _bundle_files(self, text, delimiter):
        """A yearly table holds several years: each year is its own bundle file, without `annee`.
        Returns {file name: (year, text, physical line of the upload for each line of that file)}."""
        name = self.bundle_file.format(year="AAAA")
        rows = _physical_rows(text, delimiter, name)
        if not rows:
            raise _FileProblems([Problem(name, 1, None, "empty file: a header row is required", "empty_file")])
        if len(rows) == 1:
            raise _FileProblems([Problem(name, 2, None, "no data rows after the header", "no_rows")])
        header_line, header = rows[0]
        names = [h.strip().lower() for h in header]
        if "annee" not in names:
            raise _FileProblems(
                [Problem(name, header_line, "annee", "required column is missing from the header", "header")]
            )
        year_index = names.index("annee")
        problems = []
        files: dict[str, tuple] = {}
        for line, row in rows[1:]:
            if len(row) != len(header):
                problems.append(
                    Problem(name, line, None, f"expected {len(header)} fields, found {len(row)}", "field_count")
                )
                continue
            year = row[year_index].strip()
            if not re.fullmatch(r"[0-9]{4}", year):
                reason = "value is required" if not year else f"not a year (4 digits): {year!r}"
                problems.append(Problem(name, line, "annee", reason, "year"))
                continue
            file_name = self.bundle_file.format(year=year)
            if file_name not in files:
                files[file_name] = (
                    int(year),
                    [[h for i, h in enumerate(header) if i != year_index]],
                    [header_line, header_line],
                )
            files[file_name][1].append([v for i, v in enumerate(row) if i != year_index])
            files[file_name][2].append(line)
        if problems:
            raise _FileProblems(problems)
        result = {}
        for file_name, (year, table, lines) in files.items():
            buffer = io.StringIO()
            csv.writer(buffer, delimiter=delimiter, lineterminator="\n").writerows(table)
            result[file_name] = (year, buffer.getvalue(), lines)
        return result


class _FileProblems(Exception):
    def __init__(self, problems):
        self.problems = problems


def _physical_rows(text: str, delimiter: str, name: str) -> list[tuple[int, list[str]]]:
    """(physical line, cells) of every non-blank row, the header first (lines as TableReader counts them)."""
    reader = csv.reader(io.StringIO("".join(text.splitlines(keepends=True))), delimiter=delimiter, strict=True)
    rows, previous = [], 0
    try:
        for row in reader:
            start, previous = previous + 1, reader.line_num
            if any(cell.strip() for cell in row):
                rows.append((start, row))
    except csv.Error as exc:
        raise _FileProblems([Problem(name, reader.line_num, None, f"malformed CSV: {exc}", "malformed")]) from None
    return rows


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def _source_text(dataset) -> tuple[str, str]:
    """The uploaded CSV text as it was (BundleCSV keeps it), else the dataset (XLSX) written as CSV."""
    source = getattr(dataset, "ipep_source", None)
    if source is not None:
        return source
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
    writer.writerow([_cell_text(h) for h in dataset.headers or []])
    writer.writerows([_cell_text(v) for v in row] for row in dataset)
    return buffer.getvalue(), ";"


class WaveResource(BundleRulesMixin, resources.ModelResource):
    bundle_file = "vagues.csv"
    code = fields.Field("code", "code")
    libelle = fields.Field("label", "libelle")
    annee_entree = fields.Field("entry_year", "annee_entree")
    annee_reference = fields.Field("reference_year", "annee_reference")

    class Meta:
        model = Wave
        import_id_fields = ("code",)
        fields = ("code", "libelle", "annee_entree", "annee_reference")
        skip_unchanged = True
        clean_model_instances = True


class PhaseCalendarResource(BundleRulesMixin, resources.ModelResource):
    bundle_file = "calendrier_phases.csv"
    vague = fields.Field("wave", "vague", ForeignKeyWidget(Wave, "code"))
    annee = fields.Field("year", "annee")
    phase = fields.Field("phase", "phase")

    class Meta:
        model = PhaseCalendar
        import_id_fields = ("vague", "annee")
        fields = ("vague", "annee", "phase")
        skip_unchanged = True
        clean_model_instances = True


class GroupementResource(BundleRulesMixin, resources.ModelResource):
    bundle_file = "groupements.csv"
    code = fields.Field("code", "code")
    nom = fields.Field("name", "nom")
    vague = fields.Field("wave", "vague", ForeignKeyWidget(Wave, "code"))
    region = fields.Field("region", "region")

    class Meta:
        model = Groupement
        import_id_fields = ("code",)
        fields = ("code", "nom", "vague", "region")
        skip_unchanged = True
        clean_model_instances = True


class MemberResource(BundleRulesMixin, resources.ModelResource):
    bundle_file = "membres.csv"
    code_groupement = fields.Field("groupement", "code_groupement", ForeignKeyWidget(Groupement, "code"))
    rpps = fields.Field("rpps", "rpps")
    date_debut = fields.Field("start", "date_debut")
    date_fin = fields.Field("end", "date_fin")

    class Meta:
        model = Member
        import_id_fields = ("rpps", "date_debut")
        fields = ("code_groupement", "rpps", "date_debut", "date_fin")
        skip_unchanged = True
        clean_model_instances = True


class IndicatorResource(BundleRulesMixin, resources.ModelResource):
    bundle_file = "indicateurs.csv"
    code = fields.Field("code", "code")
    libelle = fields.Field("label", "libelle")
    famille = fields.Field("family", "famille")
    sens = fields.Field("direction", "sens")

    class Meta:
        model = Indicator
        import_id_fields = ("code",)
        fields = ("code", "libelle", "famille", "sens")
        skip_unchanged = True
        clean_model_instances = True


class YearlyDecileResource(BundleRulesMixin, resources.ModelResource):
    bundle_file = "deciles_{year}.csv"
    annee = fields.Field("year", "annee")
    code_indicateur = fields.Field("indicator", "code_indicateur", ForeignKeyWidget(Indicator, "code"))

    class Meta:
        model = YearlyDecile
        import_id_fields = ("annee", "code_indicateur")
        fields = ("annee", "code_indicateur", "d2", "d3", "d7", "d8")
        skip_unchanged = True
        clean_model_instances = True


class IndicatorResultResource(BundleRulesMixin, resources.ModelResource):
    bundle_file = "resultats_indicateurs_{year}.csv"
    annee = fields.Field("year", "annee")
    code_groupement = fields.Field("groupement", "code_groupement", ForeignKeyWidget(Groupement, "code"))
    code_indicateur = fields.Field("indicator", "code_indicateur", ForeignKeyWidget(Indicator, "code"))
    valeur_n = fields.Field("value_n", "valeur_n")
    valeur_n_1 = fields.Field("value_n_1", "valeur_n_1")

    class Meta:
        model = IndicatorResult
        import_id_fields = ("annee", "code_groupement", "code_indicateur")
        fields = ("annee", "code_groupement", "code_indicateur", "valeur_n", "valeur_n_1")
        skip_unchanged = True
        clean_model_instances = True


class PatientExperienceResource(BundleRulesMixin, resources.ModelResource):
    bundle_file = "experience_patient_{year}.csv"
    annee = fields.Field("year", "annee")
    code_groupement = fields.Field("groupement", "code_groupement", ForeignKeyWidget(Groupement, "code"))
    points = fields.Field("points", "points")

    class Meta:
        model = PatientExperience
        import_id_fields = ("annee", "code_groupement")
        fields = ("annee", "code_groupement", "points")
        skip_unchanged = True
        clean_model_instances = True
