"""Validated yearly national files, stored as immutable checksummed Parquet in the project's storage
(`common.storage`: MEDIA_ROOT or an S3-compatible bucket)."""

import pghistory
from django.conf import settings
from django.db import models

from common.errors import ActionRefused


class DatasetFrozen(ActionRefused):
    """A valid dataset's content never changes; one used by a campaign is never deleted."""


# Written while the task runs: not worth an audit event each time.
LIVENESS_FIELDS = ["progress", "progress_step", "heartbeat_at", "updated_at"]


# Audited: who uploaded, relaunched or deleted a file, and when (PostgreSQL; the delete keeps the row's last state).
@pghistory.track(exclude=LIVENESS_FIELDS)
class Dataset(models.Model):
    class Kind(models.TextChoices):
        BENEFICIARIES = "beneficiaires", "Bénéficiaires"

    class Status(models.TextChoices):
        UPLOADED = "uploaded", "Déposé"
        VALIDATING = "validating", "En validation"
        VALID = "valid", "Valide"
        REJECTED = "rejected", "Rejeté"
        # The validation stopped (worker died, database connection lost, internal error): the file is
        # not at fault, its upload is kept and the validation can be relaunched.
        FAILED = "failed", "Échec"

    FINAL_STATUSES = (Status.VALID, Status.REJECTED, Status.FAILED)
    RELAUNCHABLE_STATUSES = (Status.UPLOADED, Status.FAILED)

    kind = models.CharField("type", max_length=20, choices=Kind.choices, default=Kind.BENEFICIARIES)
    year = models.PositiveIntegerField("année", db_index=True)
    original_name = models.CharField("fichier d'origine", max_length=255)
    size = models.BigIntegerField("taille (octets)", default=0)
    sha256 = models.CharField("SHA-256", max_length=64)
    row_count = models.BigIntegerField("lignes", null=True, blank=True)
    status = models.CharField("statut", max_length=12, choices=Status.choices, default=Status.UPLOADED, db_index=True)
    progress = models.FloatField("progression", default=0.0)  # 0..1 while validating
    progress_step = models.CharField("étape", max_length=100, blank=True)
    task_id = models.CharField("tâche Celery", max_length=100, blank=True)
    # The first problems as {file, line, column, reason, rule}; problem_counts has every problem per rule.
    problems = models.JSONField("problèmes", default=list, blank=True)
    problem_count = models.PositiveIntegerField("nombre de problèmes", default=0)
    problem_counts = models.JSONField("problèmes par règle", default=dict, blank=True)
    warnings = models.JSONField("avertissements", default=list, blank=True)
    profile = models.JSONField("profil", default=dict, blank=True)
    # Names in the project's storage: the raw bytes awaiting validation, then the typed Parquet.
    upload_file = models.FileField("fichier déposé", max_length=500, blank=True)
    parquet_file = models.FileField("fichier Parquet", max_length=500, blank=True)
    parquet_sha256 = models.CharField("SHA-256 du Parquet", max_length=64, blank=True)  # checked before every use
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="déposé par",
    )
    created_at = models.DateTimeField("déposé le", auto_now_add=True)
    updated_at = models.DateTimeField("mis à jour le", auto_now=True)
    validation_started_at = models.DateTimeField("validation commencée le", null=True, blank=True)
    heartbeat_at = models.DateTimeField("dernier signe de vie", null=True, blank=True)
    validated_at = models.DateTimeField("validé le", null=True, blank=True)

    class Meta:
        verbose_name = "jeu de données"
        verbose_name_plural = "jeux de données"
        ordering = ["-year", "-created_at"]
        permissions = [("upload_dataset", "Peut déposer un fichier national")]
        constraints = [models.UniqueConstraint(fields=["kind", "sha256"], name="dataset_unique_content")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.year} ({self.original_name})"

    def save(self, *args, **kwargs):
        # Invariant: once valid, the row is what campaigns rely on; it is written once, never updated.
        if self.pk is not None and Dataset.objects.filter(pk=self.pk, status=self.Status.VALID).exists():
            raise DatasetFrozen(f"le jeu de données {self.pk} est valide : il ne peut plus être modifié")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.pk is not None and self.campaign_uses.exists():
            raise DatasetFrozen(
                f"le jeu de données {self.pk} est utilisé par une campagne : il ne peut pas être supprimé"
            )
        return super().delete(*args, **kwargs)

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL_STATUSES

    @property
    def is_relaunchable(self) -> bool:
        return self.status in self.RELAUNCHABLE_STATUSES
