"""django-import-export resources of the financing ledger: seed credits (import and export, columns
of versements.csv style) and ledger lines (export only: lines are imported with `import_payments`)."""

from django.core.exceptions import ValidationError
from import_export import fields, resources
from import_export.widgets import DecimalWidget, ForeignKeyWidget, IntegerWidget

from groupements.models import Groupement

from .models import LedgerLine, SeedCredit
from .services.ledger import paid_seed_credit_refusal


class SeedCreditResource(resources.ModelResource):
    """One row per groupement and payment year: `code_groupement;annee;montant[;statut;libelle]`.
    `vague` is exported for reading; on import the wave is always the groupement's own."""

    code_groupement = fields.Field("groupement", "code_groupement", ForeignKeyWidget(Groupement, "code"))
    vague = fields.Field("groupement__wave__code", "vague", readonly=True)
    annee = fields.Field("year", "annee", IntegerWidget())
    montant = fields.Field("amount", "montant", DecimalWidget())
    statut = fields.Field("status", "statut")
    libelle = fields.Field("label", "libelle")

    class Meta:
        model = SeedCredit
        import_id_fields = ("code_groupement", "annee")
        fields = ("code_groupement", "vague", "annee", "montant", "statut", "libelle")
        skip_unchanged = True
        clean_model_instances = True

    def import_data(self, dataset, *args, rollback_on_validation_errors=True, **kwargs):
        # All or nothing, as every file of the programme: one refused row cancels the import.
        return super().import_data(
            dataset, *args, rollback_on_validation_errors=rollback_on_validation_errors, **kwargs
        )

    def before_import_row(self, row, **kwargs):
        if not row.get("statut"):
            row["statut"] = LedgerLine.Status.PLANNED

    def before_save_instance(self, instance, row, **kwargs):
        if instance.pk:
            stored = LedgerLine.objects.get(pk=instance.pk)
            if stored.status == LedgerLine.Status.PAID and (
                stored.amount != instance.amount or instance.status != stored.status
            ):
                raise ValidationError(paid_seed_credit_refusal(stored))
        elif kwargs.get("user") is not None:
            instance.recorded_by = kwargs["user"]


class LedgerLineResource(resources.ModelResource):
    code_groupement = fields.Field("groupement__code", "code_groupement", readonly=True)
    projet_pilote = fields.Field("pilot_project__code", "projet_pilote", readonly=True)
    vague = fields.Field("groupement__wave__code", "vague", readonly=True)
    annee = fields.Field("year", "annee", readonly=True)
    nature = fields.Field("nature", "nature", readonly=True)
    montant = fields.Field("amount", "montant", readonly=True)
    statut = fields.Field("status", "statut", readonly=True)
    campagne = fields.Field("campaign", "campagne", readonly=True)
    libelle = fields.Field("label", "libelle", readonly=True)

    class Meta:
        model = LedgerLine
        fields = (
            "code_groupement",
            "projet_pilote",
            "vague",
            "annee",
            "nature",
            "montant",
            "statut",
            "campagne",
            "libelle",
        )
