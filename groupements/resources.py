"""django-import-export resources of the reference tables, for EXPORT: the bundle's French column
names, so that a file exported from the admin can be loaded again with `load_bundle` or the table's
upload page (yearly tables carry their `annee` column)."""

from import_export import fields, resources

from .models import Groupement, Indicator, IndicatorResult, Member, PatientExperience, PhaseCalendar, Wave, YearlyDecile


class WaveResource(resources.ModelResource):
    code = fields.Field("code", "code")
    libelle = fields.Field("label", "libelle")
    annee_entree = fields.Field("entry_year", "annee_entree")
    annee_reference = fields.Field("reference_year", "annee_reference")

    class Meta:
        model = Wave
        fields = ("code", "libelle", "annee_entree", "annee_reference")


class PhaseCalendarResource(resources.ModelResource):
    vague = fields.Field("wave__code", "vague")
    annee = fields.Field("year", "annee")
    phase = fields.Field("phase", "phase")

    class Meta:
        model = PhaseCalendar
        fields = ("vague", "annee", "phase")


class GroupementResource(resources.ModelResource):
    code = fields.Field("code", "code")
    nom = fields.Field("name", "nom")
    vague = fields.Field("wave__code", "vague")
    region = fields.Field("region", "region")

    class Meta:
        model = Groupement
        fields = ("code", "nom", "vague", "region")


class MemberResource(resources.ModelResource):
    code_groupement = fields.Field("groupement__code", "code_groupement")
    rpps = fields.Field("rpps", "rpps")
    date_debut = fields.Field("start", "date_debut")
    date_fin = fields.Field("end", "date_fin")

    class Meta:
        model = Member
        fields = ("code_groupement", "rpps", "date_debut", "date_fin")


class IndicatorResource(resources.ModelResource):
    code = fields.Field("code", "code")
    libelle = fields.Field("label", "libelle")
    famille = fields.Field("family", "famille")
    sens = fields.Field("direction", "sens")

    class Meta:
        model = Indicator
        fields = ("code", "libelle", "famille", "sens")


class YearlyDecileResource(resources.ModelResource):
    annee = fields.Field("year", "annee")
    code_indicateur = fields.Field("indicator__code", "code_indicateur")

    class Meta:
        model = YearlyDecile
        fields = ("annee", "code_indicateur", "d2", "d3", "d7", "d8")


class IndicatorResultResource(resources.ModelResource):
    annee = fields.Field("year", "annee")
    code_groupement = fields.Field("groupement__code", "code_groupement")
    code_indicateur = fields.Field("indicator__code", "code_indicateur")
    valeur_n = fields.Field("value_n", "valeur_n")
    valeur_n_1 = fields.Field("value_n_1", "valeur_n_1")

    class Meta:
        model = IndicatorResult
        fields = ("annee", "code_groupement", "code_indicateur", "valeur_n", "valeur_n_1")


class PatientExperienceResource(resources.ModelResource):
    annee = fields.Field("year", "annee")
    code_groupement = fields.Field("groupement__code", "code_groupement")
    points = fields.Field("points", "points")

    class Meta:
        model = PatientExperience
        fields = ("annee", "code_groupement", "points")
