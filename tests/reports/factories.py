"""Campaigns and results of the golden 2022 bundle, stored directly in the database as the campaigns
service would have stored them: every figure is the engine's own (`tests.golden.golden_results`), so a
statement or a portal page reads exactly what a computation stores."""

from __future__ import annotations

import csv
import datetime
import hashlib
from functools import cache

import factory
from django.utils import timezone

from calculations.models import Campaign, CampaignDataset, Dataset, GroupementResult
from groupements.models import PortalAccess
from reports.models import Contestation
from tests.factories import CampaignFactory, GroupementFactory, UserFactory, WaveFactory
from tests.golden import GOLDEN_DIR, expected_golden, golden_results

COMPUTED_AT = datetime.datetime(2023, 3, 14, 10, 30, tzinfo=datetime.UTC)
VALIDATED_AT = datetime.datetime(2023, 3, 20, 9, 0, tzinfo=datetime.UTC)


@cache
def golden() -> dict:
    """expected_2022.json, what the figures must be."""
    return expected_golden()


def golden_row(code: str) -> dict:
    return next(row for row in golden()["groupements"] if row["code"] == code)


def engine_row(code: str):
    """The engine's result row of groupement `code` for the golden bundle."""
    return next(row for row in golden_results().groupements if row.code == code)


@cache
def _golden_csv(name: str) -> list[dict]:
    with (GOLDEN_DIR / name).open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream, delimiter=";"))


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
    parameters = factory.LazyFunction(lambda: golden_results().parameters.to_json_dict())
    truncation_thresholds = factory.LazyFunction(
        lambda: {str(year): value for year, value in sorted(golden_results().truncation_thresholds.items())}
    )
    real_expenditure_total = factory.LazyFunction(lambda: golden_results().totals.real_expenditure_total)
    n_patients = factory.LazyFunction(lambda: golden_results().totals.n_patients)
    quality_envelope = factory.LazyFunction(lambda: golden_results().totals.quality_envelope)
    national_ceiling = factory.LazyFunction(lambda: golden_results().totals.national_ceiling)
    amount_after_cap = factory.LazyFunction(lambda: golden_results().totals.amount_after_cap)
    national_coefficient = factory.LazyFunction(lambda: golden_results().totals.national_coefficient)
    final_amount = factory.LazyFunction(lambda: golden_results().totals.final_amount)
    computed_at = COMPUTED_AT
    validated_at = factory.LazyAttribute(
        lambda c: VALIDATED_AT if c.status in ("validated", "published", "paid", "superseded") else None
    )
    published_at = None


def golden_result(campaign: Campaign, code: str, **changes) -> GroupementResult:
    result = GroupementResult.from_engine_row(engine_row(code), campaign=campaign, groupement=golden_groupement(code))
    for name, value in changes.items():
        setattr(result, name, value)
    result.save()
    return result


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


def golden_campaign(*, codes=None, datasets=True, changes=None, **campaign_fields) -> Campaign:
    """A campaign of 2022 with the golden results of `codes` (all twelve by default), `changes` (code ->
    field values) written at creation: results of a validated campaign are frozen afterwards (PostgreSQL
    trigger)."""
    if campaign_fields.get("status") in ("published", "paid", "superseded") and "published_at" not in campaign_fields:
        campaign_fields["published_at"] = timezone.now() - datetime.timedelta(days=1)
    campaign = GoldenCampaignFactory(**campaign_fields)
    for code in codes or [row["code"] for row in golden()["groupements"]]:
        golden_result(campaign, code, **(changes or {}).get(code, {}))
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
