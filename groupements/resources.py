"""django-import-export resources: the reference tables in the admin, with the bundle's French column
names so that a file exported from the admin can be loaded again with `load_bundle`."""
from import_export import fields, resources
from import_export.widgets import ForeignKeyWidget

from .models import Groupement, Indicator, IndicatorResult, Member, PatientExperience, PhaseCalendar, Wave, YearlyDecile


class WaveResource(resources.ModelResource):
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


class PhaseCalendarResource(resources.ModelResource):
    vague = fields.Field("wave", "vague", ForeignKeyWidget(Wave, "code"))
    annee = fields.Field("year", "annee")
    phase = fields.Field("phase", "phase")

    class Meta:
        model = PhaseCalendar
        import_id_fields = ("vague", "annee")
        fields = ("vague", "annee", "phase")
        skip_unchanged = True
        clean_model_instances = True


class GroupementResource(resources.ModelResource):
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


class MemberResource(resources.ModelResource):
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


class IndicatorResource(resources.ModelResource):
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


class YearlyDecileResource(resources.ModelResource):
    annee = fields.Field("year", "annee")
    code_indicateur = fields.Field("indicator", "code_indicateur", ForeignKeyWidget(Indicator, "code"))

    class Meta:
        model = YearlyDecile
        import_id_fields = ("annee", "code_indicateur")
        fields = ("annee", "code_indicateur", "d2", "d3", "d7", "d8")
        skip_unchanged = True
        clean_model_instances = True


class IndicatorResultResource(resources.ModelResource):
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


class PatientExperienceResource(resources.ModelResource):
    annee = fields.Field("year", "annee")
    code_groupement = fields.Field("groupement", "code_groupement", ForeignKeyWidget(Groupement, "code"))
    points = fields.Field("points", "points")

    class Meta:
        model = PatientExperience
        import_id_fields = ("annee", "code_groupement")
        fields = ("annee", "code_groupement", "points")
        skip_unchanged = True
        clean_model_instances = True
