"""Step 11: half-up on the shortest decimal, and largest-remainder cents under the national ceiling."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from calculations.engine.steps.cents import paid_amounts, round_half_up, rounded_amounts, scaled_amounts


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


def test_floors_above_floor_100_c_give_back_one_cent_from_the_smallest_fractional_part():
    """Issue 18 item 6: 208.83 + 835.32 = 1 044.15 = 5 × 208.83; C = 288.4 → k = 288.4 / 1 044.15, so the
    scaled amounts are exactly 288.4 / 5 = 57.68 € and 4 × 57.68 = 230.72 €: floors 5 768 + 23 072 = 28 840
    cents, but 100 · C is 28 839.999999999996 in doubles → floor 28 839. The cent too many is taken back
    from the smallest fractional part: 0 and 0, a tie broken by code descending (B before A)."""
    amounts = [208.83, 835.32]
    coefficient = 288.4 / math.fsum(amounts)
    assert [math.floor(a * coefficient * 100) for a in amounts] == [5768, 23072]
    assert math.floor(100 * 288.4) == 28839
    assert scaled_amounts(["A", "B"], amounts, coefficient, 288.4) == [Decimal("57.68"), Decimal("230.71")]
    assert scaled_amounts(["B", "A"], amounts, coefficient, 288.4) == [Decimal("57.67"), Decimal("230.72")]


def test_half_up_is_kept_while_its_cents_stay_within_the_ceiling():
    # Σ after_cap = 5.004 + 5.004 = 10.008 ≤ C = 10.01: half-up pays 5.00 + 5.00 = 1 000 ≤ floor(1 001) cents.
    assert paid_amounts(["A", "B"], [5.004, 5.004], 1.0, 10.01) == [Decimal("5.00"), Decimal("5.00")]


def test_half_up_cents_above_the_ceiling_switch_to_the_scaled_rule_with_k_1():
    """Σ after_cap = 5.005 + 4.999 = 10.004 ≤ C = 10.004 (k = 1), but half-up pays 5.01 + 5.00 = 1 001 cents
    > floor(100 · 10.004) = 1 000. Scaled rule with k = 1: floors 500 + 499 = 999 (5.005 · 100 = 500.5 and
    4.999 · 100 = 499.9 in doubles), one cent left, to the larger fractional part 0.9 (B): 5.00 + 5.00."""
    assert [math.floor(a * 100) for a in (5.005, 4.999)] == [500, 499]
    assert paid_amounts(["A", "B"], [5.005, 4.999], 1.0, 10.004) == [Decimal("5.00"), Decimal("5.00")]
