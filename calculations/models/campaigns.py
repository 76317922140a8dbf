"""A yearly campaign, its inputs, its stored results and the audit of its transitions."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pghistory
from django.conf import settings
from django.db import models
from django.db.models import Q

from common.errors import ActionRefused

MONEY = {"max_digits": 16, "decimal_places": 2}

# Progress and heartbeat change at every step of a computation: not worth an audit event each time.
PROGRESS_FIELDS = ["progress_step", "progress", "heartbeat_at"]


@dataclass(frozen=True)
class StatusProperties:
    """What a campaign status allows; `STATUS_TABLE` below is the one place where this is decided."""

    editable: bool = False  # its parameters may still change
    open: bool = False  # being prepared: a year has at most one open campaign
    has_results: bool = False  # its stored results are those of its parameters and inputs
    frozen: bool = False  # its results never change again (a correction is a new version; trigger 0005)
    in_force: bool = False  # the year's campaign in force: at most one per year
    portal_visible: bool = False  # groupements see it (a superseded one only if it had been published)
    final_statement: bool = False  # statements without the PROJET watermark
    contestable: bool = False  # a contestation may be filed (within the window)
    payable: bool = False  # its intéressement may be written to the ledger
    reportable: bool = False  # its figures may be reported (national report, break-even)


STATUS_TABLE: dict[str, StatusProperties] = {
    "draft": StatusProperties(editable=True, open=True),
    "computing": StatusProperties(open=True),
    "computed": StatusProperties(open=True, has_results=True, reportable=True),
    "validated": StatusProperties(open=True, has_results=True, frozen=True, final_statement=True, reportable=True),
    "published": StatusProperties(
        has_results=True,
        frozen=True,
        in_force=True,
        portal_visible=True,
        final_statement=True,
        contestable=True,
        payable=True,
        reportable=True,
    ),
    "paid": StatusProperties(
        has_results=True,
        frozen=True,
        in_force=True,
        portal_visible=True,
        final_statement=True,
        contestable=True,
        payable=True,
        reportable=True,
    ),
    "failed": StatusProperties(editable=True, open=True),
    "superseded": StatusProperties(has_results=True, frozen=True, portal_visible=True, final_statement=True),
}


def statuses_where(property_name: str) -> tuple[str, ...]:
    """The statuses that have `property_name` (a field of StatusProperties), in the table's order."""
    return tuple(status for status, properties in STATUS_TABLE.items() if getattr(properties, property_name))


OPEN_STATUSES = statuses_where("open")
IN_FORCE_STATUSES = statuses_where("in_force")


class FrozenResultsError(ActionRefused):
    """An attempt to change or delete the results of a validated (or later) campaign."""


@pghistory.track(exclude=PROGRESS_FIELDS)
class Campaign(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Brouillon"
        COMPUTING = "computing", "En calcul"
        COMPUTED = "computed", "Calculée"
        VALIDATED = "validated", "Validée"
        PUBLISHED = "published", "Publiée"
        PAID = "paid", "Payée"
        FAILED = "failed", "Échec"
        SUPERSEDED = "superseded", "Remplacée"

    OPEN_STATUSES = OPEN_STATUSES
    IN_FORCE_STATUSES = IN_FORCE_STATUSES
    statuses_where = staticmethod(statuses_where)

    year = models.PositiveIntegerField("année N", db_index=True)
    version = models.PositiveIntegerField("version", default=1)
    status = models.CharField("statut", max_length=12, choices=Status.choices, default=Status.DRAFT, db_index=True)
    # Parameters as given (section 6), merged over the defaults; read-only once computed.
    parameters = models.JSONField("paramètres", default=dict, blank=True)
    reference_snapshot = models.JSONField("référentiel utilisé", default=dict, blank=True)
    datasets = models.ManyToManyField(
        "calculations.Dataset", through="CampaignDataset", related_name="campaigns", verbose_name="jeux de données"
    )
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by", verbose_name="remplace"
    )
    contestation_days = models.PositiveIntegerField("délai de contestation (jours)", default=30)

    # Progress while computing, and the last error.
    progress_step = models.CharField("étape", max_length=100, blank=True)
    progress = models.FloatField("progression", default=0.0)
    task_id = models.CharField("tâche Celery", max_length=100, blank=True)
    heartbeat_at = models.DateTimeField("dernier signe de vie", null=True, blank=True)
    error = models.TextField("erreur", blank=True)

    # Totals (section 5).
    truncation_thresholds = models.JSONField("seuils d'écrêtement", default=dict, blank=True)
    real_expenditure_total = models.FloatField("dépenses réelles totales", null=True, blank=True)
    n_patients = models.BigIntegerField("patients", null=True, blank=True)
    quality_envelope = models.FloatField("enveloppe qualité", null=True, blank=True)
    national_ceiling = models.FloatField("plafond national", null=True, blank=True)
    amount_after_cap = models.FloatField("montant après plafond (non modulé)", null=True, blank=True)
    national_coefficient = models.FloatField("coefficient national", null=True, blank=True)
    final_amount = models.DecimalField("montant final", null=True, blank=True, **MONEY)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="créée par",
    )
    launched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="lancée par",
    )
    validated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="validée par",
    )
    created_at = models.DateTimeField("créée le", auto_now_add=True)
    launched_at = models.DateTimeField("lancée le", null=True, blank=True)
    computed_at = models.DateTimeField("calculée le", null=True, blank=True)
    validated_at = models.DateTimeField("validée le", null=True, blank=True)
    published_at = models.DateTimeField("publiée le", null=True, blank=True)
    paid_at = models.DateTimeField("payée le", null=True, blank=True)

    class Meta:
        verbose_name = "campagne"
        ordering = ["-year", "-version"]
        permissions = [
            ("launch_campaign", "Peut lancer le calcul d'une campagne"),
            ("reject_campaign", "Peut rejeter une campagne calculée"),
            ("validate_campaign", "Peut valider une campagne"),
            ("publish_campaign", "Peut publier une campagne"),
            ("pay_campaign", "Peut marquer une campagne payée"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["year", "version"], name="campaign_unique_year_version"),
            models.UniqueConstraint(
                fields=["year"], condition=Q(status__in=OPEN_STATUSES), name="campaign_one_open_per_year"
            ),
            models.UniqueConstraint(
                fields=["year"], condition=Q(status__in=IN_FORCE_STATUSES), name="campaign_one_in_force_per_year"
            ),
        ]

    def __str__(self):
        return f"Campagne {self.year} v{self.version} ({self.get_status_display()})"

    @property
    def status_properties(self) -> StatusProperties:
        return STATUS_TABLE[self.status]

    @property
    def parameters_editable(self) -> bool:
        return self.status_properties.editable

    @property
    def has_results(self) -> bool:
        return self.status_properties.has_results


class CampaignDataset(models.Model):
    """The dataset a campaign uses for one year, with the checksum it had when chosen.

    Chosen when the campaign is created (by default the latest valid file of the year), changeable while
    the campaign is a draft; a later upload never changes it. A year still without a choice at launch
    (no valid file when the campaign was created) gets the latest valid file then, recorded here.
    """

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="campaign_datasets", verbose_name="campagne"
    )
    dataset = models.ForeignKey(
        "calculations.Dataset", on_delete=models.PROTECT, related_name="campaign_uses", verbose_name="jeu de données"
    )
    year = models.PositiveIntegerField("année")
    sha256 = models.CharField("SHA-256", max_length=64)
    chosen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="choisi par",
    )
    chosen_at = models.DateTimeField("choisi le", null=True, blank=True)

    class Meta:
        verbose_name = "jeu de données de la campagne"
        verbose_name_plural = "jeux de données de la campagne"
        constraints = [models.UniqueConstraint(fields=["campaign", "year"], name="campaign_dataset_unique_year")]

    def __str__(self):
        return f"{self.campaign} ← {self.dataset}"


class CampaignTransition(models.Model):
    """Audit record of one status change: who, when, from, to, why. Written by the transition service."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="transitions", verbose_name="campagne"
    )
    from_status = models.CharField("de", max_length=12, choices=Campaign.Status.choices)
    to_status = models.CharField("vers", max_length=12, choices=Campaign.Status.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="par"
    )
    # Who acted when no user did (the computation task, the command line, the interruption check).
    actor = models.CharField("acteur", max_length=100, blank=True)
    reason = models.TextField("motif", blank=True)
    at = models.DateTimeField("le", auto_now_add=True)

    class Meta:
        verbose_name = "transition de campagne"
        verbose_name_plural = "historique des transitions"
        ordering = ["campaign", "at", "pk"]

    def __str__(self):
        return f"{self.campaign}: {self.from_status} → {self.to_status}"


class GroupementResult(models.Model):
    """One groupement's figures for one campaign: every intermediate of section 4 (keys of section 5)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="results", verbose_name="campagne")
    groupement = models.ForeignKey(
        "groupements.Groupement", on_delete=models.PROTECT, related_name="results", verbose_name="groupement"
    )
    code = models.CharField("code", max_length=20)
    wave = models.CharField("vague", max_length=20)
    phase = models.PositiveSmallIntegerField("phase")
    reference_year = models.PositiveIntegerField("année de référence")
    n_patients = models.PositiveIntegerField("patients N")
    n_patients_reference = models.PositiveIntegerField("patients R")
    below_min_patients = models.BooleanField("sous le seuil de patients")
    real_per_patient = models.FloatField("DR moyenne N")
    expected_per_patient = models.FloatField("DA moyenne N")
    real_per_patient_reference = models.FloatField("DR moyenne R")
    expected_per_patient_reference = models.FloatField("DA moyenne R")
    level_gap = models.FloatField("écart des dépenses E")
    level_gap_se = models.FloatField("erreur type de E")
    evolution_gap = models.FloatField("différence d'évolution Ev")
    # Step 13 (null for results computed before it existed).
    level_gap_se_reference = models.FloatField("erreur type de E en R", null=True, blank=True)
    level_gap_low = models.FloatField("E, borne basse de l'intervalle", null=True, blank=True)
    level_gap_high = models.FloatField("E, borne haute de l'intervalle", null=True, blank=True)
    evolution_gap_se = models.FloatField("erreur type de Ev", null=True, blank=True)
    evolution_gap_low = models.FloatField("Ev, borne basse de l'intervalle", null=True, blank=True)
    evolution_gap_high = models.FloatField("Ev, borne haute de l'intervalle", null=True, blank=True)
    efficiency_noise = models.BooleanField("gain non distinguable du hasard", null=True, blank=True)
    amount_per_patient_untruncated = models.FloatField("montant par patient sans écrêtement", null=True, blank=True)
    efficiency_amount_untruncated = models.FloatField("montant efficience sans écrêtement", null=True, blank=True)
    amount_per_patient = models.FloatField("montant par patient")
    efficiency_amount = models.FloatField("montant efficience")
    quality_score = models.FloatField("score qualité S")
    quality_ratio = models.FloatField("ratio qualité q")
    drawing_right = models.FloatField("droit de tirage")
    quality_value = models.FloatField("valeur qualité")
    quality_amount = models.FloatField("montant qualité")
    amount_before_cap = models.FloatField("montant avant plafond")
    real_expenditure_total = models.FloatField("dépenses réelles N")
    cap = models.FloatField("plafond")
    amount_after_cap = models.FloatField("montant après plafond")
    budget_guarantee = models.FloatField("garantie budgétaire")
    budget_guarantee_gain = models.FloatField("gain sur garantie budgétaire")
    final_amount = models.DecimalField("montant final", **MONEY)
    # What the statement shows besides the section-5 figures, as the engine computed it (never recomputed).
    # Step 7, one line per indicator: [{code, label, family, direction, value_n, value_n_1, d2, d3, d7, d8,
    # fraction, points, max_points}].
    quality_details = models.JSONField("détail qualité", default=list, blank=True)
    indicator_points = models.FloatField("points des indicateurs")
    experience_points = models.FloatField("points expérience patient", default=0.0)
    score_max = models.FloatField("score qualité maximal")
    phase3_factor = models.FloatField("modulation de l'efficience (phase 3)", null=True, blank=True)
    positive_level_gap = models.FloatField("max(0 ; E)")
    positive_evolution_gap = models.FloatField("max(0 ; Ev)")
    truncated_expenditure_total = models.FloatField("dépenses réelles écrêtées N")
    amount_after_coefficient = models.FloatField("montant après plafond × k")

    class Meta:
        verbose_name = "résultat par groupement"
        verbose_name_plural = "résultats par groupement"
        ordering = ["campaign", "code"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "groupement"], name="result_unique_campaign_groupement")
        ]

    def __str__(self):
        return f"{self.code} – {self.campaign}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            self._check_not_frozen()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self._check_not_frozen()
        return super().delete(*args, **kwargs)

    def _check_not_frozen(self) -> None:
        if Campaign.objects.filter(pk=self.campaign_id, status__in=statuses_where("frozen")).exists():
            raise FrozenResultsError(
                f"Les résultats de {self.campaign} sont figés : publiez une nouvelle version pour les corriger."
            )

    @classmethod
    def from_engine_row(cls, row, **extra) -> GroupementResult:
        """An unsaved result holding one row of the engine (`calculations.engine.GroupementResultRow`)."""
        values = {f.name: getattr(row, f.name) for f in dataclasses.fields(row)}
        values["quality_details"] = [line.to_json_dict() for line in row.quality_details]
        return cls(**values, **extra)
