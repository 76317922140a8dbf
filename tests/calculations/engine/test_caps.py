"""Step 10 — the groupement cap and the national ceiling, by hand and on the toy campaign (see builders:
phase-2 amounts G1 4 after its cap of 0.02 × 200, G2 2)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from calculations.engine import Parameters, compute_campaign
from calculations.engine.steps.caps import groupement_cap, national_ceiling, national_coefficient
from tests.calculations.engine.builders import rows_by_code, toy_inputs


def test_national_ceiling_binds_in_the_toy_campaign():
    # Ceiling rate 0.005 → C = 4; phase 2 amounts 4 + 2 = 6 > 4 → k = 4/6.
    # Cents: floor(4·k·100) = floor(266.67) = 266, floor(2·k·100) = floor(133.33) = 133; 399 of floor(400) → the
    # leftover cent goes to the larger remainder (G1, 0.67): 2.67 + 1.33 = 4.00.
    results = compute_campaign(toy_inputs(phase=2), Parameters.merge(("--param", {"national_ceiling_rate": "0.005"})))
    rows = rows_by_code(results)
    assert results.totals.national_coefficient == pytest.approx(2 / 3, rel=1e-15)
    assert (rows["G1"].final_amount, rows["G2"].final_amount) == (Decimal("2.67"), Decimal("1.33"))
    assert rows["G1"].amount_after_cap == 4.0  # shown unscaled
    assert rows["G1"].amount_after_coefficient == 4.0 * results.totals.national_coefficient  # 8/3 before the cents
    assert results.totals.final_amount == Decimal("4.00") and results.totals.amount_after_cap == 6.0


def test_caps_by_hand():
    defaults = Parameters()
    assert groupement_cap(5_000.0, defaults) == 100.0
    assert national_ceiling(10_000.0, defaults) == 100.0
    assert national_coefficient([30.0, 20.0], 100.0) == (50.0, 1.0)
    assert national_coefficient([80.0, 40.0], 60.0) == (120.0, 0.5)
    # Σ after_cap is correctly rounded (fsum): 0.1 + 0.2 + 0.3 is exactly 0.6 here, not 0.6000000000000001.
    assert national_coefficient([0.1, 0.2, 0.3], 1.0)[0] == 0.6
