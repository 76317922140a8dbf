"""django-import-export resources: the reference tables in the admin, with the bundle's French column
names so that a file exported from the admin can be loaded again with `load_bundle`."""
from collections import defaultdict

from django.core.exceptions import ValidationError
from import_export import fields, resources
from import_export.widgets import ForeignKeyWidget

from .models import Groupement, Indicator, IndicatorResult, Member, PatientExperience, PhaseCalendar, Wave, YearlyDecile


class BundleRulesMixin:
    """Checks an admin import with the rules of `load_bundle` (METHODOLOGY section 3) before any row
    is written, and refuses the whole file with the same `file:line: column: reason` messages."""

    bundle_file = ""  # e.g. "groupements.csv"; yearly tables use "deciles_{year}.csv"

    def before_import(self, dataset, **kwargs):
        from groupements.services.reference import check_reference_table

        display_name = kwargs.get("file_name") or self.bundle_file
        problems = []
        for file_name, table in self._tables_by_file(dataset).items():
            problems += check_reference_table(file_name=file_name, csv_text=table.export("csv", delimiter=";"), display_name=display_name)
        if problems:
            raise ValidationError(problems)

    def _tables_by_file(self, dataset):
        if "{year}" not in self.bundle_file:
            return {self.bundle_file: dataset}
        # A yearly table holds several years; each year is its own bundle file, checked without `annee`.
        import tablib

        names = [h.strip().lower() for h in dataset.headers]
        if "annee" not in names:
            raise ValidationError(f"{self.bundle_file.format(year='AAAA')}:1: annee: required column is missing from the header")
        year_index = names.index("annee")
        headers = [h for i, h in enumerate(dataset.headers) if i != year_index]
        tables = defaultdict(lambda: tablib.Dataset(headers=headers))
        for row in dataset:
            tables[self.bundle_file.format(year=str(row[year_index]).strip())].append([v for i, v in enumerate(row) if i != year_index])
        return dict(tables)


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
