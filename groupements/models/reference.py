"""Reference data of the programme: waves, phase calendar, groupements, members, indicators and
the yearly quality inputs (deciles, indicator results, patient experience)."""

from datetime import date

import pghistory
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

rpps_validator = RegexValidator(r"^[0-9]{11}$", "Le RPPS doit comporter exactement 11 chiffres.")
# Section 3 limits the decimal places of `depenses` only: indicator values, deciles and experience points
# are kept to 15 places (beyond what a double, which the engine computes with, tells apart).
VALUE = {"max_digits": 27, "decimal_places": 15}


@pghistory.track()
class Wave(models.Model):
    code = models.CharField("code", max_length=20, unique=True)
    label = models.CharField("libellé", max_length=200)
    entry_year = models.PositiveIntegerField("année d'entrée")
    reference_year = models.PositiveIntegerField("année de référence")

    class Meta:
        verbose_name = "vague"
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(reference_year__lt=models.F("entry_year")), name="wave_reference_before_entry"
            )
        ]

    def __str__(self):
        return self.label or self.code

    def clean(self):
        if self.reference_year is not None and self.entry_year is not None and self.reference_year >= self.entry_year:
            raise ValidationError({"reference_year": "L'année de référence doit précéder l'année d'entrée."})


@pghistory.track()
class PhaseCalendar(models.Model):
    """A groupement takes part in campaign N iff its wave has a row for N."""

    wave = models.ForeignKey(Wave, on_delete=models.PROTECT, related_name="phases", verbose_name="vague")
    year = models.PositiveIntegerField("année")
    phase = models.PositiveSmallIntegerField("phase", choices=[(1, "Phase 1"), (2, "Phase 2"), (3, "Phase 3")])

    class Meta:
        verbose_name = "ligne du calendrier des phases"
        verbose_name_plural = "lignes du calendrier des phases"
        ordering = ["wave__code", "year"]
        constraints = [
            models.UniqueConstraint(fields=["wave", "year"], name="phase_unique_wave_year"),
            models.CheckConstraint(condition=Q(phase__in=[1, 2, 3]), name="phase_in_1_3"),
        ]

    def __str__(self):
        return f"{self.wave.code} {self.year} : phase {self.phase}"


@pghistory.track()
class Groupement(models.Model):
    code = models.CharField("code", max_length=20, unique=True)
    name = models.CharField("nom", max_length=200)
    wave = models.ForeignKey(Wave, on_delete=models.PROTECT, related_name="groupements", verbose_name="vague")
    region = models.CharField("région", max_length=100)
    legal_entity = models.CharField("structure juridique", max_length=200, blank=True)
    iban = models.CharField("IBAN", max_length=34, blank=True)
    active = models.BooleanField("actif", default=True)

    class Meta:
        verbose_name = "groupement"
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} – {self.name}"


def periods_overlap(start: date, end: date | None, other_start: date, other_end: date | None) -> bool:
    """Whether two membership periods share a day (dates inclusive; an end of None is still open)."""
    return start <= (other_end or date.max) and other_start <= (end or date.max)


@pghistory.track()
class Member(models.Model):
    """A professional (RPPS) in a groupement between two inclusive dates (end empty: still member)."""

    rpps = models.CharField("RPPS", max_length=11, validators=[rpps_validator], db_index=True)
    groupement = models.ForeignKey(
        Groupement, on_delete=models.PROTECT, related_name="members", verbose_name="groupement"
    )
    start = models.DateField("date de début")
    end = models.DateField("date de fin", null=True, blank=True)

    class Meta:
        verbose_name = "membre"
        ordering = ["groupement__code", "rpps", "start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gte=models.F("start")), name="member_end_after_start"
            )
        ]

    def __str__(self):
        return f"{self.rpps} ({self.groupement.code})"

    def clean(self):
        if self.end and self.start and self.end < self.start:
            raise ValidationError({"end": "La date de fin doit être postérieure ou égale à la date de début."})
        if self.start and self.rpps:
            overlapping = (
                Member.objects.filter(rpps=self.rpps)
                .exclude(pk=self.pk)
                .filter(Q(end__isnull=True) | Q(end__gte=self.start))
            )
            if self.end:
                overlapping = overlapping.filter(start__lte=self.end)
            other = overlapping.select_related("groupement").first()
            if other:
                raise ValidationError(
                    {
                        "rpps": f"Ce RPPS est déjà membre de {other.groupement.code} sur cette période ({other.start} – {other.end or '…'})."
                    }
                )


@pghistory.track()
class Indicator(models.Model):
    FAMILY_CHOICES = [("socle", "Socle"), ("carte", "À la carte")]
    DIRECTION_CHOICES = [("hausse", "Hausse"), ("baisse", "Baisse")]

    code = models.CharField("code", max_length=40, unique=True)
    label = models.CharField("libellé", max_length=300)
    family = models.CharField("famille", max_length=10, choices=FAMILY_CHOICES)
    direction = models.CharField("sens", max_length=10, choices=DIRECTION_CHOICES)

    class Meta:
        verbose_name = "indicateur"
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} – {self.label}"


@pghistory.track()
class YearlyDecile(models.Model):
    year = models.PositiveIntegerField("année")
    indicator = models.ForeignKey(
        Indicator, on_delete=models.PROTECT, related_name="deciles", verbose_name="indicateur"
    )
    d2 = models.DecimalField("D2", **VALUE)
    d3 = models.DecimalField("D3", **VALUE)
    d7 = models.DecimalField("D7", **VALUE)
    d8 = models.DecimalField("D8", **VALUE)

    class Meta:
        verbose_name = "déciles annuels"
        verbose_name_plural = "déciles annuels"
        ordering = ["-year", "indicator__code"]
        constraints = [
            models.UniqueConstraint(fields=["year", "indicator"], name="decile_unique_year_indicator"),
            models.CheckConstraint(
                condition=Q(d2__lt=models.F("d3")) & Q(d3__lte=models.F("d7")) & Q(d7__lt=models.F("d8")),
                name="decile_order",
            ),
        ]

    def __str__(self):
        return f"{self.indicator.code} {self.year}"

    def clean(self):
        values = (self.d2, self.d3, self.d7, self.d8)
        if None not in values and not (self.d2 < self.d3 <= self.d7 < self.d8):
            raise ValidationError("Les déciles doivent vérifier D2 < D3 ≤ D7 < D8.")


@pghistory.track()
class IndicatorResult(models.Model):
    year = models.PositiveIntegerField("année")
    groupement = models.ForeignKey(
        Groupement, on_delete=models.PROTECT, related_name="indicator_results", verbose_name="groupement"
    )
    indicator = models.ForeignKey(
        Indicator, on_delete=models.PROTECT, related_name="results", verbose_name="indicateur"
    )
    value_n = models.DecimalField("valeur N", **VALUE)
    value_n_1 = models.DecimalField("valeur N-1", null=True, blank=True, **VALUE)

    class Meta:
        verbose_name = "résultat d'indicateur"
        verbose_name_plural = "résultats d'indicateurs"
        ordering = ["-year", "groupement__code", "indicator__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["year", "groupement", "indicator"], name="result_unique_year_groupement_indicator"
            )
        ]

    def __str__(self):
        return f"{self.groupement.code} {self.indicator.code} {self.year}"


@pghistory.track()
class PatientExperience(models.Model):
    year = models.PositiveIntegerField("année")
    groupement = models.ForeignKey(
        Groupement, on_delete=models.PROTECT, related_name="experience_points", verbose_name="groupement"
    )
    points = models.DecimalField(
        "points", max_digits=17, decimal_places=15, validators=[MinValueValidator(0), MaxValueValidator(20)]
    )

    class Meta:
        verbose_name = "points d'expérience patient"
        verbose_name_plural = "points d'expérience patient"
        ordering = ["-year", "groupement__code"]
        constraints = [
            models.UniqueConstraint(fields=["year", "groupement"], name="experience_unique_year_groupement"),
            models.CheckConstraint(condition=Q(points__gte=0) & Q(points__lte=20), name="experience_points_0_20"),
        ]

    def __str__(self):
        return f"{self.groupement.code} {self.year} : {self.points}"


class PortalAccess(models.Model):
    """Links a groupement user (portal only) to the one groupement whose statements they may see."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="portal_access", verbose_name="utilisateur"
    )
    groupement = models.ForeignKey(
        Groupement, on_delete=models.PROTECT, related_name="portal_users", verbose_name="groupement"
    )

    class Meta:
        verbose_name = "droit d'accès au portail"
        verbose_name_plural = "droits d'accès au portail"

    def __str__(self):
        return f"{self.user} → {self.groupement.code}"
