"""The financing ledger (METHODOLOGY section 7): every payment of the programme is one `LedgerLine`.

One source of truth: the ledger table. `SeedCredit` (crédits d'amorçage) and `InnovativeActionClaim`
(actions innovantes of a pilot project) are proxy models of `LedgerLine` restricted to their nature:
recording a seed credit or a claim *is* recording its ledger line, so the FISS report, the admin
lists and the imports can never disagree. Intéressement lines are written only by
`financing.services.ledger.record_campaign_payments`, when a campaign is paid (`financing.receivers`).

Amounts are money paid to a beneficiary, so a line is never negative, except when it records money
taken back (METHODOLOGY section 3: only `montant` in `versements.csv` may carry a leading `-`, for a
recovery). Two writers record such a line, each explicitly, and no one else may:
- a paid campaign's superseding version, whose line is the difference with what the earlier versions
  paid (it has its campaign);
- the import of `versements.csv`, whose negative `montant` is a *recovery* (`LedgerLine.recovery`):
  a paid line of that groupement, payment year and nature, outside any campaign.
Manual entries (ledger admin, seed credits, pilot projects, their imports) stay non-negative: the
database refuses a negative line that is neither a campaign's nor flagged as a recovery, and the
forms and services say so in French first.

The models were born in the `groupements` app: their tables (and those of their pghistory events)
keep the `groupements_` names they have in every database migrated before the move
(financing/migrations/0001_move_from_groupements.py).
"""

from decimal import Decimal

import pghistory
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

MONEY = {"max_digits": 14, "decimal_places": 2}

# Belgian integrated-care pilot projects: two fixed annual lines (METHODOLOGY sections 1 and 7).
COORDINATION_AMOUNT = Decimal("152520.00")
# Split of a coordination line created without one (and of the lines recorded before the split existed):
# all salaries until the data manager records the real split of the year.
DEFAULT_COORDINATION_SALARIES = COORDINATION_AMOUNT
INNOVATIVE_ACTIONS_CEILING = Decimal("208333.00")


def innovative_actions_room_left(used: Decimal) -> Decimal:
    """What a pilot project may still claim for innovative actions in a year (never below zero)."""
    return max(Decimal("0.00"), INNOVATIVE_ACTIONS_CEILING - used)


class Nature(models.TextChoices):
    SEED = "amorcage", "crédits d'amorçage"
    INCENTIVE = "interessement", "intéressement"
    COORDINATION = "coordination", "coordination"
    INNOVATIVE_ACTIONS = "actions_innovantes", "actions innovantes"


GROUPEMENT_NATURES = (Nature.SEED, Nature.INCENTIVE)
PILOT_NATURES = (Nature.COORDINATION, Nature.INNOVATIVE_ACTIONS)


@pghistory.track(meta={"db_table": "groupements_pilotprojectevent"})
class PilotProject(models.Model):
    """A Belgian integrated-care pilot project: paid a fixed coordination line and its innovative
    actions each year; its garantie budgétaire is followed for information only (never paid)."""

    code = models.CharField("code", max_length=20, unique=True)
    name = models.CharField("nom", max_length=200)
    start_year = models.PositiveIntegerField("première année")
    end_year = models.PositiveIntegerField("dernière année")
    # Optional: the groupement whose campaign results give the project's garantie budgétaire.
    groupement = models.ForeignKey(
        "groupements.Groupement",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="pilot_projects",
        verbose_name="groupement suivi",
    )

    class Meta:
        db_table = "groupements_pilotproject"
        verbose_name = "projet pilote"
        verbose_name_plural = "projets pilotes"
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(end_year__gte=models.F("start_year")), name="pilot_end_after_start")
        ]

    def __str__(self):
        return f"{self.code} – {self.name}"

    def clean(self):
        if self.start_year is not None and self.end_year is not None and self.end_year < self.start_year:
            raise ValidationError({"end_year": "La dernière année doit être postérieure ou égale à la première."})

    def covers(self, year: int) -> bool:
        return self.start_year <= year <= self.end_year


@pghistory.track()
class ApprovedInnovativeAction(models.Model):
    """An innovative action listed in a pilot project's convention (its annex 7), for the years the
    convention approves it: the only actions an innovative-action claim may pay."""

    pilot_project = models.ForeignKey(
        PilotProject, on_delete=models.PROTECT, related_name="approved_actions", verbose_name="projet pilote"
    )
    code = models.CharField("code", max_length=30, help_text="Tel que dans l'annexe 7 de la convention, ex. « A7-03 ».")
    label = models.CharField("intitulé", max_length=300)
    convention_reference = models.CharField(
        "référence de la convention", max_length=100, help_text="Ex. « Convention 2018-P01, annexe 7 »."
    )
    first_year = models.PositiveIntegerField("première année")
    last_year = models.PositiveIntegerField("dernière année")

    class Meta:
        verbose_name = "action innovante approuvée"
        verbose_name_plural = "actions innovantes approuvées"
        ordering = ["pilot_project__code", "code"]
        constraints = [
            models.UniqueConstraint(fields=["pilot_project", "code"], name="approved_action_unique_code"),
            models.CheckConstraint(
                condition=Q(last_year__gte=models.F("first_year")), name="approved_action_last_after_first"
            ),
        ]

    def __str__(self):
        return f"{self.code} – {self.label} ({self.convention_reference}, {self.first_year}–{self.last_year})"

    def clean(self):
        if self.first_year is not None and self.last_year is not None and self.last_year < self.first_year:
            raise ValidationError({"last_year": "La dernière année doit être postérieure ou égale à la première."})

    def covers(self, year: int) -> bool:
        return self.first_year <= year <= self.last_year


@pghistory.track(meta={"db_table": "groupements_ledgerlineevent"})
class LedgerLine(models.Model):
    class Status(models.TextChoices):
        PLANNED = "planned", "prévu"
        PAID = "paid", "payé"

    groupement = models.ForeignKey(
        "groupements.Groupement",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_lines",
        verbose_name="groupement",
    )
    pilot_project = models.ForeignKey(
        PilotProject,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_lines",
        verbose_name="projet pilote",
    )
    year = models.PositiveIntegerField("année de paiement", db_index=True)
    nature = models.CharField("nature", max_length=20, choices=Nature.choices)
    amount = models.DecimalField("montant", **MONEY)
    campaign = models.ForeignKey(
        "calculations.Campaign",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_lines",
        verbose_name="campagne",
    )
    status = models.CharField("statut", max_length=10, choices=Status.choices, default=Status.PLANNED)
    label = models.CharField("libellé", max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="enregistrée par",
    )
    recorded_at = models.DateTimeField("enregistrée le", auto_now_add=True)
    paid_at = models.DateTimeField("payée le", null=True, blank=True)
    # Innovative actions: the approved action of the project's convention that the claim pays.
    approved_action = models.ForeignKey(
        ApprovedInnovativeAction,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="claims",
        verbose_name="action approuvée",
    )
    # Money taken back from the groupement (a trop-perçu), imported from versements.csv with a negative
    # `montant`; never set by a form. See the module docstring and the constraints below.
    recovery = models.BooleanField(
        "récupération",
        default=False,
        editable=False,
        help_text="Somme récupérée auprès du groupement (montant négatif), importée de versements.csv.",
    )
    # Coordination: what of the fixed amount goes to salaries and to running costs (they sum to it).
    salaries = models.DecimalField("dont salaires", null=True, blank=True, **MONEY)
    running_costs = models.DecimalField("dont frais de fonctionnement", null=True, blank=True, **MONEY)

    class Meta:
        db_table = "groupements_ledgerline"
        verbose_name = "ligne du grand livre"
        verbose_name_plural = "lignes du grand livre"
        ordering = ["year", "nature", "groupement__code", "pilot_project__code", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(groupement__isnull=False, pilot_project__isnull=True, nature__in=GROUPEMENT_NATURES))
                | Q(groupement__isnull=True, pilot_project__isnull=False, nature__in=PILOT_NATURES),
                name="ledger_beneficiary_matches_nature",
                violation_error_message="Une ligne concerne soit un groupement (amorçage, intéressement), soit un projet pilote (coordination, actions innovantes).",
            ),
            models.CheckConstraint(
                condition=Q(campaign__isnull=True) | Q(nature=Nature.INCENTIVE),
                name="ledger_campaign_only_for_incentive",
                violation_error_message="Seule une ligne d'intéressement provient d'une campagne.",
            ),
            # A negative line exists only as what its writer explicitly records (module docstring): the
            # correction of an already paid campaign (superseding version, it has its campaign) or a
            # recovery imported from versements.csv (`recovery`). A manual entry has neither: never negative.
            models.CheckConstraint(
                condition=Q(amount__gte=0) | Q(campaign__isnull=False) | Q(recovery=True),
                name="ledger_amount_not_negative",
                violation_error_message="Le montant ne peut pas être négatif.",
            ),
            # A recovery is money that came back: negative, paid (the FISS report counts paid lines), from a
            # groupement (versements.csv knows no pilot project), outside campaigns (a campaign's own
            # correction is its line, not a recovery).
            models.CheckConstraint(
                condition=Q(recovery=False)
                | Q(amount__lt=0, status="paid", groupement__isnull=False, campaign__isnull=True),
                name="ledger_recovery_is_paid_negative_outside_campaigns",
                violation_error_message="Une récupération est une ligne payée d'un groupement, hors campagne, de montant négatif.",
            ),
            models.UniqueConstraint(
                fields=["campaign", "groupement", "nature"], name="ledger_unique_campaign_groupement_nature"
            ),
            # Outside campaigns, one payment and one recovery at most per groupement, payment year and nature
            # (as versements.csv lists them). They coexist: `annee` is the year the money moved, so a
            # recovery of an earlier overpayment shares its year with that year's payment, and the two are
            # different movements the report nets. Several recoveries of a year are one line (their sum).
            models.UniqueConstraint(
                fields=["groupement", "year", "nature"],
                condition=Q(campaign__isnull=True, groupement__isnull=False, recovery=False),
                name="ledger_unique_groupement_year_nature",
                violation_error_message="Une ligne de même nature existe déjà pour ce groupement et cette année.",
            ),
            models.UniqueConstraint(
                fields=["groupement", "year", "nature"],
                condition=Q(campaign__isnull=True, groupement__isnull=False, recovery=True),
                name="ledger_unique_recovery_groupement_year_nature",
                violation_error_message="Une récupération de même nature existe déjà pour ce groupement et cette année.",
            ),
            models.CheckConstraint(
                condition=(Q(nature=Nature.INNOVATIVE_ACTIONS) & Q(approved_action__isnull=False))
                | (~Q(nature=Nature.INNOVATIVE_ACTIONS) & Q(approved_action__isnull=True)),
                name="ledger_innovative_action_is_approved",
                violation_error_message="Une demande d'actions innovantes nomme une action approuvée du projet (et elle seule).",
            ),
            models.CheckConstraint(
                condition=(
                    Q(nature=Nature.COORDINATION, salaries__gte=0, running_costs__gte=0)
                    & Q(amount=models.F("salaries") + models.F("running_costs"))
                )
                | (~Q(nature=Nature.COORDINATION) & Q(salaries__isnull=True, running_costs__isnull=True)),
                name="ledger_coordination_split",
                violation_error_message="Une ligne de coordination se répartit entre salaires et frais de fonctionnement, dont la somme fait le montant.",
            ),
            models.UniqueConstraint(
                fields=["pilot_project", "year"],
                condition=Q(nature=Nature.COORDINATION),
                name="ledger_unique_pilot_coordination_year",
                violation_error_message="La ligne de coordination de ce projet existe déjà pour cette année.",
            ),
        ]

    def __str__(self):
        beneficiary = self.groupement.code if self.groupement_id else self.pilot_project.code
        return f"{beneficiary} {self.year} {self.get_nature_display()} : {self.amount} €"

    def save(self, *args, **kwargs):
        # However a line becomes paid (admin, import, service), it carries the day it was.
        if self.status == self.Status.PAID and self.paid_at is None:
            self.paid_at = timezone.now()
        super().save(*args, **kwargs)


class SeedCreditManager(models.Manager):
    def get_queryset(self):
        return super().get_queryset().filter(nature=Nature.SEED, recovery=False)


class SeedCredit(LedgerLine):
    """Crédits d'amorçage of a groupement for a year: its `amorcage` ledger line (the wave is the
    groupement's wave). A recovery of seed credits is not a seed credit: it is listed with the ledger
    lines only, never by this proxy (its admin, service and import)."""

    objects = SeedCreditManager()

    class Meta:
        proxy = True
        verbose_name = "crédit d'amorçage"
        verbose_name_plural = "crédits d'amorçage"
        ordering = ["year", "groupement__code"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not args:
            self.nature = Nature.SEED

    def __str__(self):
        return f"Amorçage {self.groupement.code if self.groupement_id else '?'} {self.year}"

    @property
    def wave(self):
        return self.groupement.wave if self.groupement_id else None


class InnovativeActionClaimManager(models.Manager):
    def get_queryset(self):
        return super().get_queryset().filter(nature=Nature.INNOVATIVE_ACTIONS)


class InnovativeActionClaim(LedgerLine):
    """Declared costs of innovative actions of a pilot project, charged against the annual room
    (INNOVATIVE_ACTIONS_CEILING). Recorded only through `financing.services.pilots`, which locks the
    project row while checking the room."""

    objects = InnovativeActionClaimManager()

    class Meta:
        proxy = True
        verbose_name = "demande d'actions innovantes"
        verbose_name_plural = "demandes d'actions innovantes"
        ordering = ["pilot_project__code", "year", "pk"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not args:
            self.nature = Nature.INNOVATIVE_ACTIONS

    def __str__(self):
        return f"Actions innovantes {self.pilot_project.code if self.pilot_project_id else '?'} {self.year} : {self.amount} €"
