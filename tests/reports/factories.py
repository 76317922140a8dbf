"""Campaigns and results with the figures of the golden 2022 bundle (expected_2022.json), stored
directly in the database as the campaigns service would have stored them."""

from __future__ import annotations

import csv
import datetime
import hashlib
import json
from decimal import Decimal
from fractions import Fraction
from functools import cache

import factory
from django.utils import timezone

from calculations.models import Campaign, CampaignDataset, Dataset, GroupementResult
from groupements.models import PortalAccess
from reports.models import Contestation
from tests.conftest import GOLDEN_DIR, GOLDEN_EXPECTED
from tests.factories import CampaignFactory, GroupementFactory, UserFactory, WaveFactory

COMPUTED_AT = datetime.datetime(2023, 3, 14, 10, 30, tzinfo=datetime.UTC)
VALIDATED_AT = datetime.datetime(2023, 3, 20, 9, 0, tzinfo=datetime.UTC)


@cache
def golden() -> dict:
    return json.loads(GOLDEN_EXPECTED.read_text(encoding="utf-8"))


def golden_row(code: str) -> dict:
    return next(row for row in golden()["groupements"] if row["code"] == code)


@cache
def _golden_csv(name: str) -> list[dict]:
    with (GOLDEN_DIR / name).open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream, delimiter=";"))


def golden_quality_details(code: str) -> tuple[list[dict], float]:
    """The statement's quality table for `code` (METHODOLOGY step 7) and its experience points.

    Points are p·f with p = 100 / socle count, or 70 / socle and 30 / carte when carte indicators exist.
    """
    indicators = {row["code"]: row for row in _golden_csv("indicateurs.csv")}
    deciles = {
        row["code_indicateur"]: {k: float(v) for k, v in row.items() if k != "code_indicateur"}
        for row in _golden_csv("deciles_2022.csv")
    }
    rows = [row for row in _golden_csv("resultats_indicateurs_2022.csv") if row["code_groupement"] == code]
    socle = sum(indicators[r["code_indicateur"]]["famille"] == "socle" for r in rows)
    carte = len(rows) - socle
    socle_points = Fraction(100, socle) if carte == 0 else Fraction(70, socle)
    carte_points = Fraction(30, carte) if carte else Fraction(0)
    details = []
    for row in rows:
        indicator = indicators[row["code_indicateur"]]
        d = deciles[row["code_indicateur"]]
        x, previous = float(row["valeur_n"]), (float(row["valeur_n_1"]) if row["valeur_n_1"] else None)
        if indicator["sens"] == "hausse":
            target, threshold, progress = d["d8"], d["d3"], (None if previous is None else x - previous)
            reached, between = x >= target, x >= threshold
            share = (x - threshold) / (target - threshold)
        else:
            target, threshold, progress = d["d2"], d["d7"], (None if previous is None else previous - x)
            reached, between = x <= target, x <= threshold
            share = (threshold - x) / (threshold - target)
        if reached:
            fraction = 1.0
        elif between:
            fraction = share
        elif progress is None:
            fraction = 0.0
        else:
            fraction = max(-1.0, min(1.0, progress / abs(target - threshold)))
        max_points = float(socle_points if indicator["famille"] == "socle" else carte_points)
        details.append(
            {
                "code": row["code_indicateur"],
                "label": indicator["libelle"],
                "family": indicator["famille"],
                "direction": indicator["sens"],
                "value_n": x,
                "value_n_1": previous,
                **d,
                "points": max_points * fraction,
                "max_points": max_points,
            }
        )
    experience = next(
        (float(r["points"]) for r in _golden_csv("experience_patient_2022.csv") if r["code_groupement"] == code), 0.0
    )
    return details, experience


def golden_wave(code: str):
    entry, reference = {"V1": (2019, 2018), "V2": (2020, 2019)}[code]
    return WaveFactory(code=code, label=f"Vague {code[1:]}", entry_year=entry, reference_year=reference)


def golden_groupement(code: str):
    names = {row["code"]: row for row in _golden_csv("groupements.csv")}
    row = names[code]
    return GroupementFactory(code=code, name=row["nom"], region=row["region"], wave=golden_wave(row["vague"]))


class GoldenCampaignFactory(CampaignFactory):
    """A campaign of 2022 holding the golden totals (computed unless told otherwise)."""

    year = 2022
    version = factory.Sequence(lambda n: n + 1)
    status = Campaign.Status.COMPUTED
    parameters = factory.LazyFunction(lambda: dict(golden()["parameters"]))
    truncation_thresholds = factory.LazyFunction(lambda: dict(golden()["truncation_thresholds"]))
    real_expenditure_total = factory.LazyFunction(lambda: golden()["totals"]["real_expenditure_total"])
    n_patients = factory.LazyFunction(lambda: golden()["totals"]["n_patients"])
    quality_envelope = factory.LazyFunction(lambda: golden()["totals"]["quality_envelope"])
    national_ceiling = factory.LazyFunction(lambda: golden()["totals"]["national_ceiling"])
    amount_after_cap = factory.LazyFunction(lambda: golden()["totals"]["amount_after_cap"])
    national_coefficient = factory.LazyFunction(lambda: golden()["totals"]["national_coefficient"])
    final_amount = factory.LazyFunction(lambda: Decimal(golden()["totals"]["final_amount"]))
    computed_at = COMPUTED_AT
    validated_at = factory.LazyAttribute(
        lambda c: VALIDATED_AT if c.status in ("validated", "published", "paid", "superseded") else None
    )
    published_at = None


def golden_result(campaign: Campaign, code: str) -> GroupementResult:
    row = dict(golden_row(code))
    details, experience = golden_quality_details(code)
    row["final_amount"] = Decimal(row["final_amount"])
    return GroupementResult.objects.create(
        campaign=campaign,
        groupement=golden_groupement(code),
        quality_details=details,
        experience_points=experience,
        **row,
    )


def golden_datasets(campaign: Campaign) -> None:
    for year in (2018, 2019, 2022):
        path = GOLDEN_DIR / f"beneficiaires_{year}.csv"
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        dataset, _ = Dataset.objects.get_or_create(
            kind="beneficiaires",
            sha256=sha,
            defaults={"year": year, "original_name": path.name, "size": path.stat().st_size, "status": "valid"},
        )
        CampaignDataset.objects.create(campaign=campaign, dataset=dataset, year=year, sha256=sha)


def golden_campaign(*, codes=None, datasets=True, **campaign_fields) -> Campaign:
    """A campaign of 2022 with the golden results of `codes` (all twelve by default)."""
    if campaign_fields.get("status") in ("published", "paid", "superseded") and "published_at" not in campaign_fields:
        campaign_fields["published_at"] = timezone.now() - datetime.timedelta(days=1)
    campaign = GoldenCampaignFactory(**campaign_fields)
    for code in codes or [row["code"] for row in golden()["groupements"]]:
        golden_result(campaign, code)
    if datasets:
        golden_datasets(campaign)
    return campaign


def portal_user(code: str, **user_fields):
    """A groupement user with portal access to groupement `code`."""
    user = UserFactory(role="Utilisateur groupement", **user_fields)
    PortalAccess.objects.create(user=user, groupement=golden_groupement(code))
    return user


class ContestationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contestation

    message = "Le nombre de patients nous paraît sous-estimé."
