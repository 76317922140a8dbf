"""A what-if simulation of a stored campaign version (METHODOLOGY.md section 10): who asked, when, with
which parameters, on which inputs (their checksums), its progress and its result. It never changes the
campaign: it only points to it."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from .campaigns import Campaign


class Simulation(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "En attente"
        RUNNING = "running", "En cours"
        DONE = "done", "Terminée"
        FAILED = "failed", "Échec"

    FINAL_STATUSES = (Status.DONE, Status.FAILED)

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="simulations", verbose_name="campagne simulée"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="demandée par",
    )
    created_at = models.DateTimeField("demandée le", auto_now_add=True)
    # The parameters changed from the campaign's, and the whole merged set the engine used.
    overrides = models.JSONField("paramètres modifiés", default=dict, blank=True)
    parameters = models.JSONField("paramètres simulés", default=dict, blank=True)
    # Per year the CSV's and the Parquet's SHA-256, and the reference snapshot's (what was read).
    input_checksums = models.JSONField("empreintes des données lues", default=dict, blank=True)
    status = models.CharField("statut", max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    progress = models.FloatField("progression", default=0.0)
    progress_step = models.CharField("étape", max_length=100, blank=True)
    started_at = models.DateTimeField("commencée le", null=True, blank=True)
    finished_at = models.DateTimeField("terminée le", null=True, blank=True)
    # The JSON of `simulate_campaign`: year, version, parameters, simulation, differences.
    result = models.JSONField("résultat", null=True, blank=True)
    error = models.TextField("erreur", blank=True)

    class Meta:
        verbose_name = "simulation"
        verbose_name_plural = "simulations"
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"Simulation {self.pk} de la campagne {self.campaign.year} v{self.campaign.version}"

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL_STATUSES
