"""Step 9 (phase rule), by hand and on the toy campaign (with the caps of step 10 it leads to).

Toy figures (builders): efficiency G1 = 500/9 ≈ 55.56, G2 = 0; quality value G1 = 1 (q = 0.5),
G2 = 2 (q = 1); DRtot G1 = 200, G2 = 600 → caps 0.02 × DRtot = 4 and 12; C = 0.01 × 800 = 8.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from calculations.engine import EngineError, Parameters, compute_campaign
from calculations.engine.steps.phases import PhaseAmounts, amounts_for_phase
from tests.calculations.engine.builders import rows_by_code, toy_inputs


def test_phase_rule_by_hand():
    defaults = Parameters()
    # phase 1: quality shown, not paid.
    assert amounts_for_phase(1, 100.0, 40.0, 0.5, defaults) == PhaseAmounts(0.0, 100.0, None)
    # phase 2: efficiency + quality value.
    assert amounts_for_phase(2, 100.0, 40.0, 0.5, defaults) == PhaseAmounts(40.0, 140.0, None)
    # phase 3: quality 1/2 × 40 = 20; efficiency × (1 − 0.2 + 2·0.2·q).
    at_zero = amounts_for_phase(3, 100.0, 40.0, 0.0, defaults)  # −20 % at q = 0: factor 0.8
    assert (at_zero.quality_amount, at_zero.phase3_factor) == (20.0, 0.8)
    assert at_zero.amount_before_cap == pytest.approx(80.0 + 20.0)
    at_one = amounts_for_phase(3, 100.0, 40.0, 1.0, defaults)  # +20 % at q = 1: 1 − 0.2 + 0.4 = 1.2
    assert at_one.phase3_factor == pytest.approx(1.2) and at_one.amount_before_cap == pytest.approx(120.0 + 20.0)
    half = amounts_for_phase(3, 100.0, 40.0, 0.5, defaults)  # 1 − 0.2 + 2 × 0.2 × 0.5 = 1
    assert half.phase3_factor == 1.0 and half.amount_before_cap == pytest.approx(100.0 + 20.0)
    with pytest.raises(EngineError):
        amounts_for_phase(4, 1.0, 1.0, 1.0, defaults)


@pytest.mark.parametrize(
    ("phase", "quality_amounts", "before_cap", "after_cap", "final"),
    [
        # G1 is capped at 4 in every phase; G2's amount is its quality alone.
        (1, (0.0, 0.0), (500 / 9, 0.0), (4.0, 0.0), ("4.00", "0.00")),
        (2, (1.0, 2.0), (500 / 9 + 1, 2.0), (4.0, 2.0), ("4.00", "2.00")),
        # phase 3: G1 quality 1/2 × 1 = 0.5, efficiency × (0.8 + 0.4 × 0.5) = × 1; G2 1/2 × 2 = 1.
        (3, (0.5, 1.0), (500 / 9 + 0.5, 1.0), (4.0, 1.0), ("4.00", "1.00")),
    ],
)
def test_toy_campaign_by_phase(phase, quality_amounts, before_cap, after_cap, final):
    results = compute_campaign(toy_inputs(phase=phase), Parameters())
    rows = rows_by_code(results)
    for code, quality, before, after, paid in zip(
        ("G1", "G2"), quality_amounts, before_cap, after_cap, final, strict=True
    ):
        assert rows[code].phase == phase
        assert rows[code].quality_amount == pytest.approx(quality, rel=1e-15)
        assert rows[code].amount_before_cap == pytest.approx(before, rel=1e-14)
        assert rows[code].amount_after_cap == after
        assert rows[code].final_amount == Decimal(paid)
        # phase 3: G1 at q = 0.5 → 1 − 0.2 + 0.2 = 1; G2 at q = 1 → 1.2. None outside phase 3.
        assert rows[code].phase3_factor == ({"G1": 1.0, "G2": pytest.approx(1.2)}[code] if phase == 3 else None)
    assert rows["G1"].cap == 4.0 and rows["G2"].cap == 12.0  # the cap binds for G1
    assert results.totals.national_ceiling == 8.0
    assert results.totals.national_coefficient == 1.0  # Σ after_cap ≤ 8: no scaling
    assert results.totals.amount_after_cap == sum(after_cap)
