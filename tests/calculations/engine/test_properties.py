"""Properties that hold for any input: no negative payment, the ceiling and caps are respected, row order is irrelevant."""

from __future__ import annotations

import math
import random
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calculations.engine import Parameters, compute_campaign
from calculations.engine.steps.caps import national_coefficient
from calculations.engine.steps.cents import rounded_amounts, scaled_amounts
from tests.calculations.engine.builders import G1_DOCTOR, G2_DOCTOR, OUTSIDE_DOCTOR, toy_inputs

CENT = Decimal("0.01")
HALF_CENT = Decimal("0.005")

money = st.integers(min_value=0, max_value=10**9).map(lambda cents: cents / 100)


@settings(max_examples=300, deadline=None)
@given(
    amounts=st.lists(money, min_size=1, max_size=30),
    ceiling=money,
)
def test_cents_respect_the_ceiling(amounts, ceiling):
    codes = [f"G{i:03d}" for i in range(len(amounts))]
    total, coefficient = national_coefficient(amounts, ceiling)
    if coefficient != 1.0:
        paid = scaled_amounts(codes, amounts, coefficient, ceiling)
        assert sum(paid) == Decimal(math.floor(100 * ceiling)) / 100
        for amount, cents in zip(amounts, paid, strict=True):
            assert Decimal(0) <= cents <= Decimal(repr(amount)) + CENT  # scaled down, at most one leftover cent
    else:
        paid = rounded_amounts(amounts)
        for amount, cents in zip(amounts, paid, strict=True):
            assert cents >= 0 and abs(cents - Decimal(repr(amount))) <= HALF_CENT
        # Half-up rounding of each amount may exceed C by at most half a cent per groupement.
        assert sum(paid) <= Decimal(repr(ceiling)) + HALF_CENT * len(amounts)


spend_list = st.lists(st.integers(min_value=0, max_value=5_000_000).map(lambda c: c / 100), min_size=1, max_size=8)
# Outsiders spend at least 1 € in every cell, so that every cell's expected spend (DA̅_R divides Ev) is positive.
outsider_list = st.lists(st.integers(min_value=100, max_value=5_000_000).map(lambda c: c / 100), min_size=1, max_size=8)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    g1=spend_list,
    g2=spend_list,
    outsiders=outsider_list,
    g1_ref=spend_list,
    g2_ref=spend_list,
    phase=st.sampled_from([1, 2, 3]),
    ceiling_rate=st.sampled_from(["0.0001", "0.001", "0.01", "0.1"]),
    cap_rate=st.sampled_from(["0.001", "0.02", "0.5"]),
    value_n=st.floats(min_value=0, max_value=100),
)
def test_campaign_payments_are_bounded(g1, g2, outsiders, g1_ref, g2_ref, phase, ceiling_rate, cap_rate, value_n):
    ages = [3, 40, 97]  # several cells so the model has several columns (all 'sexe 1, no flag')
    spend = {
        2022: [(G1_DOCTOR, d, ages[i % 3], 1, 0, 0, 0) for i, d in enumerate(g1)]
        + [(G2_DOCTOR, d, ages[i % 3], 1, 0, 0, 0) for i, d in enumerate(g2)]
        + [(OUTSIDE_DOCTOR, d, age, 1, 0, 0, 0) for d in outsiders for age in ages],
        2021: [(G1_DOCTOR, d, ages[i % 3], 1, 0, 0, 0) for i, d in enumerate(g1_ref)]
        + [(G2_DOCTOR, d, ages[i % 3], 1, 0, 0, 0) for i, d in enumerate(g2_ref)]
        + [(OUTSIDE_DOCTOR, d, age, 1, 0, 0, 0) for d in outsiders for age in ages],
    }
    results_rows = [
        {"groupement": "G1", "indicator": "S1", "value_n": value_n, "value_n_1": 50.0},
        {"groupement": "G2", "indicator": "S1", "value_n": 100 - value_n, "value_n_1": None},
    ]
    parameters = Parameters.merge(("--param", {"national_ceiling_rate": ceiling_rate, "group_cap_rate": cap_rate}))
    results = compute_campaign(toy_inputs(phase=phase, spend=spend, results=results_rows), parameters)
    ceiling = results.totals.national_ceiling
    paid_total = sum(row.final_amount for row in results.groupements)
    assert results.totals.final_amount == paid_total
    for row in results.groupements:
        assert row.final_amount >= 0
        assert row.amount_after_cap <= row.cap
        assert row.final_amount <= Decimal(repr(row.cap)) + HALF_CENT
        assert 0.0 <= row.quality_ratio <= 1.0
    if results.totals.national_coefficient < 1:
        assert paid_total == Decimal(math.floor(100 * ceiling)) / 100
    else:
        assert paid_total <= Decimal(repr(ceiling)) + HALF_CENT * len(results.groupements)


def test_row_order_does_not_change_any_figure():
    rng = random.Random(5)
    ages = [3, 17, 40, 66, 97]
    doctors = [G1_DOCTOR, G2_DOCTOR, OUTSIDE_DOCTOR]
    spend = {
        year: [
            (
                doctors[i % 3],
                rng.randrange(0, 10**6) / 100,
                rng.choice(ages),
                rng.choice([1, 2]),
                int(rng.random() < 0.3),
                int(rng.random() < 0.1),
                int(rng.random() < 0.05),
            )
            for i in range(300)
        ]
        for year in (2021, 2022)
    }
    first = compute_campaign(toy_inputs(spend=spend), Parameters()).to_json_dict()
    for rows in spend.values():
        rng.shuffle(rows)
    assert compute_campaign(toy_inputs(spend=spend), Parameters()).to_json_dict() == first
