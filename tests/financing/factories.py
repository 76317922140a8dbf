"""Factories and helpers of the financing-ledger tests (campaigns with results, pilot projects, the
waves and groupements of the FISS fixture)."""

import factory

from financing.models import PilotProject
from tests.factories import GroupementFactory, WaveFactory


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
    codes of tests/financing/data/versements.csv."""
    wave1 = WaveFactory(code="V1", label="Vague 1", entry_year=2019, reference_year=2018)
    wave2 = WaveFactory(code="V2", label="Vague 2", entry_year=2020, reference_year=2019)
    return [GroupementFactory(code=f"G{i:03d}", wave=wave1 if i <= 18 else wave2) for i in range(1, 29)]
