"""`CampaignInputs`: the one type the engine reads, built from rows (files or the database), with the years
whose national files a campaign needs."""

from __future__ import annotations

from datetime import date

import polars as pl

from calculations.bundle.inputs import CampaignInputs
from calculations.bundle.reference import read_reference_bundle
from tests.golden import GOLDEN_DIR


def inputs(phases: list[dict], groupements: list[dict]) -> CampaignInputs:
    return CampaignInputs.from_rows(
        year=2022,
        waves=[
            {"code": "V1", "label": "Vague 1", "entry_year": 2019, "reference_year": 2018},
            {"code": "V2", "label": "Vague 2", "entry_year": 2020, "reference_year": 2019},
            {"code": "V3", "label": "Vague 3", "entry_year": 2021, "reference_year": 2020},
        ],
        phases=phases,
        groupements=groupements,
        members=[{"groupement": "G1", "rpps": "10000000001", "start": date(2019, 1, 1), "end": None}],
        indicators=[],
        deciles=[],
        indicator_results=[],
        experience=[],
    )


def test_years_needed_are_n_and_the_reference_years_of_waves_taking_part_with_groupements():
    phases = [
        {"wave": "V1", "year": 2022, "phase": 3},
        {"wave": "V2", "year": 2021, "phase": 2},  # V2 has no row for 2022: it takes no part
        {"wave": "V3", "year": 2022, "phase": 2},  # V3 takes part but has no groupement
    ]
    groupements = [
        {"code": "G1", "name": "Un", "wave": "V1", "region": "R"},
        {"code": "G2", "name": "Deux", "wave": "V2", "region": "R"},
    ]
    assert inputs(phases, groupements).years_needed() == [2018, 2022]


def test_frames_are_typed_and_beneficiaries_attached_without_changing_the_reference():
    reference = inputs([], [])
    assert reference.members.schema["start"] == pl.Date and reference.deciles.schema["d2"] == pl.Float64
    assert reference.indicator_results.height == 0 and reference.beneficiaries == {}
    national = {2022: pl.LazyFrame({"id_patient": ["P1"]})}
    attached = reference.with_beneficiaries(national)
    assert attached.beneficiaries == national and reference.beneficiaries == {}
    assert attached.waves is reference.waves


def test_golden_bundle_reads_into_campaign_inputs():
    golden = read_reference_bundle(GOLDEN_DIR, 2022)
    assert isinstance(golden, CampaignInputs)
    assert golden.years_needed() == [2018, 2019, 2022]
    assert golden.parameters == {"min_patients": 300, "national_ceiling_rate": "0.0065"}
    assert golden.groupements.height == 12
