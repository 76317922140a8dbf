"""Factories and helpers of the financing-ledger tests (campaigns with results, pilot projects, the
waves and groupements of the FISS fixture)."""
from decimal import Decimal

import factory

from calculations.models import Campaign, GroupementResult
from groupements.models import PilotProject
from tests.factories import GroupementFactory, WaveFactory


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    year = 2021
    version = 1
    status = Campaign.Status.PUBLISHED


class GroupementResultFactory(factory.django.DjangoModelFactory):
    """A result whose figures only matter where a test sets them."""

    class Meta:
        model = GroupementResult

    campaign = factory.SubFactory(CampaignFactory)
    groupement = factory.SubFactory(GroupementFactory)
    code = factory.LazyAttribute(lambda r: r.groupement.code)
    wave = factory.LazyAttribute(lambda r: r.groupement.wave.code)
    phase = 2
    reference_year = 2018
    n_patients = 1000
    n_patients_reference = 1000
    below_min_patients = True
    real_per_patient = 1000.0
    expected_per_patient = 1000.0
    real_per_patient_reference = 1000.0
    expected_per_patient_reference = 1000.0
    level_gap = 0.0
    level_gap_se = 0.0
    evolution_gap = 0.0
    amount_per_patient = 0.0
    efficiency_amount = 0.0
    quality_score = 0.0
    quality_ratio = 0.0
    drawing_right = 0.0
    quality_value = 0.0
    quality_amount = 0.0
    amount_before_cap = 0.0
    real_expenditure_total = 1_000_000.0
    cap = 20_000.0
    amount_after_cap = 0.0
    budget_guarantee = 1_000_000.0
    budget_guarantee_gain = 0.0
    final_amount = Decimal("0.00")


class PilotProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PilotProject
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"P{n + 1:02d}")
    name = factory.LazyAttribute(lambda p: f"Projet pilote {p.code}")
    start_year = 2018
    end_year = 2022


def make_fiss_groupements():
    """Wave 1 (2019, 18 groupements G001–G018) and wave 2 (2020, 10 groupements G019–G028), the
    codes of tests/groupements/data/versements.csv."""
    wave1 = WaveFactory(code="V1", label="Vague 1", entry_year=2019, reference_year=2018)
    wave2 = WaveFactory(code="V2", label="Vague 2", entry_year=2020, reference_year=2019)
    return [GroupementFactory(code=f"G{i:03d}", wave=wave1 if i <= 18 else wave2) for i in range(1, 29)]


