"""Rendered statements (one PDF per groupement and campaign) and the contestations groupements file."""

from django.conf import settings
from django.db import models


class Statement(models.Model):
    """The current PDF of one groupement's statement for one campaign.

    The file is a name in the project's storage (`common.storage`), named after its content, so the row
    switches from one complete file to another in a single update (re-rendering replaces atomically);
    `sha256` is checked before every download.
    """

    campaign = models.ForeignKey(
        "calculations.Campaign", on_delete=models.CASCADE, related_name="statements", verbose_name="campagne"
    )
    groupement = models.ForeignKey(
        "groupements.Groupement", on_delete=models.PROTECT, related_name="statements", verbose_name="groupement"
    )
    draft = models.BooleanField("projet (non validé)", default=True)
    file = models.FileField("fichier", max_length=500)
    sha256 = models.CharField("SHA-256", max_length=64)
    size = models.PositiveIntegerField("taille (octets)", default=0)
    rendered_at = models.DateTimeField("généré le")

    class Meta:
        verbose_name = "relevé"
        ordering = ["-campaign__year", "-campaign__version", "groupement__code"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "groupement"], name="statement_unique_campaign_groupement")
        ]

    def __str__(self):
        return f"Relevé {self.groupement.code} – {self.campaign.year} v{self.campaign.version}"

    @property
    def download_name(self) -> str:
        return f"releve_{self.campaign.year}_{self.groupement.code}_v{self.campaign.version}.pdf"


class Contestation(models.Model):
    """A groupement's objection to its published statement, filed within the contestation window."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", "Déposée"
        IN_REVIEW = "in_review", "En cours d'examen"
        ACCEPTED = "accepted", "Acceptée"
        REJECTED = "rejected", "Rejetée"

    campaign = models.ForeignKey(
        "calculations.Campaign", on_delete=models.PROTECT, related_name="contestations", verbose_name="campagne"
    )
    groupement = models.ForeignKey(
        "groupements.Groupement", on_delete=models.PROTECT, related_name="contestations", verbose_name="groupement"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="contestations", verbose_name="déposée par"
    )
    message = models.TextField("message")
    created_at = models.DateTimeField("déposée le", auto_now_add=True)
    status = models.CharField("statut", max_length=12, choices=Status.choices, default=Status.SUBMITTED, db_index=True)
    answer = models.TextField("réponse", blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="répondue par",
    )
    answered_at = models.DateTimeField("répondue le", null=True, blank=True)

    class Meta:
        verbose_name = "contestation"
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"Contestation {self.groupement.code} – {self.campaign.year} v{self.campaign.version}"


class StatementRendering(models.Model):
    """One fan-out of a campaign's statements (drafts at computation, final ones at validation): one
    Celery task per groupement, on any worker. The campaign's statements are rendered when the last
    job ends (`finished_at`), whichever worker ran it; a job whose worker died is redelivered by the
    broker (acks late) and counted once."""

    campaign = models.ForeignKey(
        "calculations.Campaign",
        on_delete=models.CASCADE,
        related_name="statement_renderings",
        verbose_name="campagne",
    )
    final = models.BooleanField("relevés définitifs")
    started_at = models.DateTimeField("lancée le", auto_now_add=True)
    finished_at = models.DateTimeField("terminée le", null=True, blank=True)

    class Meta:
        verbose_name = "génération des relevés"
        verbose_name_plural = "générations des relevés"
        ordering = ["-started_at", "-pk"]

    def __str__(self):
        kind = "définitifs" if self.final else "projets"
        return f"Relevés {kind} – {self.campaign}"


class StatementJob(models.Model):
    """One groupement's statement within a rendering: who took it, how many times, how it ended."""

    rendering = models.ForeignKey(
        StatementRendering, on_delete=models.CASCADE, related_name="jobs", verbose_name="génération"
    )
    groupement = models.ForeignKey(
        "groupements.Groupement", on_delete=models.CASCADE, related_name="+", verbose_name="groupement"
    )
    attempts = models.PositiveSmallIntegerField("tentatives", default=0)
    # The task's message came back from the broker (its first worker died before acknowledging it).
    redelivered = models.BooleanField("redistribuée", default=False)
    workers = models.JSONField("workers", default=list, blank=True)  # every worker that took it, in order
    finished_at = models.DateTimeField("terminé le", null=True, blank=True)
    sha256 = models.CharField("SHA-256", max_length=64, blank=True)
    error = models.TextField("erreur", blank=True)

    class Meta:
        verbose_name = "relevé à générer"
        verbose_name_plural = "relevés à générer"
        ordering = ["rendering", "groupement__code"]
        constraints = [models.UniqueConstraint(fields=["rendering", "groupement"], name="statement_job_unique")]

    def __str__(self):
        return f"{self.groupement.code} – {self.rendering}"

    @property
    def retried(self) -> bool:
        return self.attempts > 1 or self.redelivered
