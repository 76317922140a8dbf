"""The engine against the golden bundle's expected_2022.v3.json (steps 1–13) and expected_2022.json (v2,
steps 1–12): every figure to 1e-6, every cent exact (compare_results.py --exact-cents)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from calculations.bundle.beneficiaries import scan_beneficiaries
from calculations.bundle.reference import beneficiaries_path, read_reference_bundle
from calculations.engine import Parameters, compute_campaign
from tests.golden import GOLDEN_DIR, GOLDEN_EXPECTED_V2, exact_comparison, expected_golden


@pytest.fixture(scope="module")
def golden_run():
    reference = read_reference_bundle(GOLDEN_DIR, 2022)
    inputs = reference.with_beneficiaries(
        {y: scan_beneficiaries(beneficiaries_path(GOLDEN_DIR, y)) for y in reference.years_needed()}
    )
    parameters = Parameters.merge(("parametres.json", reference.parameters))
    steps = []
    results = compute_campaign(inputs, parameters, progress=lambda step, fraction: steps.append((step, fraction)))
    # A JSON round trip: what simulate writes is what is compared.
    return json.loads(json.dumps(results.to_json_dict())), steps


def test_golden_campaign_matches_expected_file_to_the_cent(golden_run):
    actual, _ = golden_run
    problems, passed, failed = exact_comparison(expected_golden(), actual)
    assert problems == [] and failed == 0, "\n".join(problems)
    # year, 3 thresholds, 7 totals and the 37 keys of 12 groupements: every figure, not an empty walk.
    assert passed == 1 + 3 + 7 + 12 * 37


def test_golden_campaign_still_matches_the_v2_file(golden_run):
    actual, _ = golden_run
    problems, passed, failed = exact_comparison(expected_golden(GOLDEN_EXPECTED_V2.name), actual)
    assert problems == [] and failed == 0, "\n".join(problems)
    assert passed == 1 + 3 + 7 + 12 * 28


def test_step_13_flags_g004_alone(golden_run):
    actual, _ = golden_run
    # G004 is paid on an evolution gap (Ev = 25,32 €, E < 0) whose interval reaches far below 0: chance.
    flagged = [g["code"] for g in actual["groupements"] if g["efficiency_noise"]]
    assert flagged == ["G004"]
    g004 = next(g for g in actual["groupements"] if g["code"] == "G004")
    assert g004["efficiency_amount"] > 0 and g004["level_gap_low"] <= 0 and g004["evolution_gap_low"] <= 0


def test_golden_output_has_the_expected_shape_and_parameters(golden_run):
    actual, _ = golden_run
    expected = expected_golden()
    assert list(actual) == list(expected)
    assert list(actual["totals"]) == list(expected["totals"])
    assert [list(g) for g in actual["groupements"]] == [list(g) for g in expected["groupements"]]
    # compare_results skips `parameters`; the merged set must still render exactly as in the file.
    assert actual["parameters"] == expected["parameters"]
    assert all(
        isinstance(g["final_amount"], str) and len(g["final_amount"].split(".")[1]) == 2 for g in actual["groupements"]
    )


def test_golden_paid_total_is_floor_of_the_national_ceiling_in_cents(golden_run):
    actual, _ = golden_run
    totals = actual["totals"]
    # The ceiling binds (k < 1): Σ final = floor(100·C) cents = floor(24452888.122) = 24452888 cents.
    assert totals["national_coefficient"] < 1
    assert sum(Decimal(g["final_amount"]) for g in actual["groupements"]) == Decimal("244528.88")
    assert Decimal(totals["final_amount"]) == Decimal("244528.88")


def test_progress_is_reported_for_every_step_in_order(golden_run):
    _, steps = golden_run
    fractions = [fraction for _, fraction in steps]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    names = [name for name, _ in steps]
    for number in range(1, 14):
        assert any(name.endswith(f"(étape {number})") for name in names), number
    assert names[-1] == "terminé"
