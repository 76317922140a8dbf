"""Step 11 — turning amounts into cents, exactly as the payment order will show them."""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def round_half_up(amount: float) -> Decimal:
    """Half-up to the cent on the shortest decimal that round-trips the double (`Decimal(repr(x))`)."""
    return Decimal(repr(amount)).quantize(CENT, rounding=ROUND_HALF_UP)


def rounded_amounts(amounts: Sequence[float]) -> list[Decimal]:
    """Step 11 without scaling: each amount half-up to the cent."""
    return [round_half_up(amount) for amount in amounts]


def paid_amounts(
    codes: Sequence[str], amounts_after_cap: Sequence[float], coefficient: float, ceiling: float
) -> list[Decimal]:
    """Step 11: without scaling (k = 1) each amount half-up to the cent, unless those cents add up to more
    than floor(100·C) (Σ after_cap within a few cents of C, or equal to it): then, as with scaling, the
    scaled rule with k = 1, so that the national ceiling is never exceeded, by even a cent."""
    if coefficient == 1.0:
        rounded = rounded_amounts(amounts_after_cap)
        if sum(rounded) * 100 <= math.floor(100 * ceiling):
            return rounded
    return scaled_amounts(codes, amounts_after_cap, coefficient, ceiling)


def scaled_amounts(
    codes: Sequence[str], amounts_after_cap: Sequence[float], coefficient: float, ceiling: float
) -> list[Decimal]:
    """Step 11 with scaling: the paid total is floor(100·C) cents, shared by largest remainder.

    Each groupement gets floor(after_cap · k · 100) cents (doubles, in that order); the cents left go
    one each to the largest fractional parts, ties broken by groupement code ascending. When the floors
    already exceed the total (doubles can round up), the excess is taken back one cent each from the
    smallest fractional parts, ties broken by groupement code descending.
    """
    scaled = [amount * coefficient * 100 for amount in amounts_after_cap]
    cents = [math.floor(value) for value in scaled]
    remainders = [value - floor for value, floor in zip(scaled, cents, strict=True)]
    left = math.floor(100 * ceiling) - sum(cents)
    by_remainder = sorted(range(len(codes)), key=lambda i: (-remainders[i], codes[i]))
    for extra in range(max(0, left)):  # at most one each, unless doubles drifted by a whole cent per groupement
        cents[by_remainder[extra % len(codes)]] += 1
    if left < 0:
        # Only reachable when rounding in Σ after_cap·k·100 overshoots floor(100·C) (all remainders ≈ 0):
        # take the excess back from the smallest remainders so the total is still exactly floor(100·C).
        donors = [i for i in reversed(by_remainder) if cents[i] > 0]
        for i in donors[:-left]:
            cents[i] -= 1
    return [Decimal(c).scaleb(-2).quantize(CENT) for c in cents]
