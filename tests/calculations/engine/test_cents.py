"""Step 11: half-up on the shortest decimal, and largest-remainder cents under the national ceiling."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from calculations.engine.steps.cents import round_half_up, rounded_amounts, scaled_amounts


@pytest.mark.parametrize(
    ("amount", "cents"),
    [
        (2.675, "2.68"),  # the double is 2.67499999…, but its shortest decimal 2.675 rounds half-up
        (1.005, "1.01"),
        (0.125, "0.13"),
        (0.124999, "0.12"),
        (4192.767936946817, "4192.77"),
        (0.0, "0.00"),
        (1e-20, "0.00"),
        (123456789.995, "123456790.00"),
    ],
)
def test_half_up_on_the_shortest_round_trip_decimal(amount, cents):
    assert round_half_up(amount) == Decimal(cents)
    assert str(round_half_up(amount)) == cents


def test_unscaled_amounts_are_rounded_one_by_one():
    assert rounded_amounts([1.005, 2.004]) == [Decimal("1.01"), Decimal("2.00")]


def test_leftover_cents_go_to_largest_remainders():
    # C = 4, amounts 3.333, 2.222, 2.445 (Σ 8) → k ≈ 0.5. Scaled cents: 166.65, 111.1, 122.25 → floors 166, 111, 122
    # = 399 of floor(400) = 400 → 1 cent left, to the largest remainder 0.65 (A).
    paid = scaled_amounts(["A", "B", "C"], [3.333, 2.222, 2.445], 4 / math.fsum([3.333, 2.222, 2.445]), 4.0)
    assert paid == [Decimal("1.67"), Decimal("1.11"), Decimal("1.22")]
    assert sum(paid) == Decimal("4.00")


def test_ties_are_broken_by_groupement_code_ascending():
    # Three equal amounts 1 with C = 2: k = 2/3, each gets floor(66.67) = 66 cents, 198 of 200: the two cents
    # left go to equal remainders → codes G1 and G2 (ascending), whatever the input order.
    paid = scaled_amounts(["G3", "G1", "G2"], [1.0, 1.0, 1.0], 2 / 3, 2.0)
    assert paid == [Decimal("0.66"), Decimal("0.67"), Decimal("0.67")]


def test_paid_total_is_floor_of_100_c_even_with_fractional_cents():
    # C = 10.009 → floor(1000.9) = 1000 cents; amounts 6 and 6 → k = 10.009/12.
    # Scaled: 6·k·100 = 500.45 each → 500 + 500 = 1000: nothing left.
    paid = scaled_amounts(["A", "B"], [6.0, 6.0], 10.009 / 12, 10.009)
    assert paid == [Decimal("5.00"), Decimal("5.00")]
    # C = 10.019 → 1001 cents; 500.95 each → 1000 + 1 left → the tie goes to A.
    assert scaled_amounts(["B", "A"], [6.0, 6.0], 10.019 / 12, 10.019) == [Decimal("5.00"), Decimal("5.01")]


def test_amounts_keep_two_decimal_places():
    paid = scaled_amounts(["A"], [100.0], 0.5, 50.0)
    assert paid == [Decimal("50.00")] and str(paid[0]) == "50.00"
