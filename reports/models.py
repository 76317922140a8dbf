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
