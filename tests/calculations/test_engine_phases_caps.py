"""Steps 9 (phase rule) and 10 (caps, national ceiling), by hand and on the toy campaign.

Toy figures (engine_builders): efficiency G1 = 500/9 ≈ 55.56, G2 = 0; quality value G1 = 1 (q = 0.5),
G2 = 2 (q = 1); DRtot G1 = 200, G2 = 600 → caps 0.02 × DRtot = 4 and 12; C = 0.01 × 800 = 8.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from calculations.engine import EngineError, Parameters, compute_campaign
from calculations.engine.steps.caps import groupement_cap, national_ceiling, national_coefficient
from calculations.engine.steps.phases import amounts_for_phase
from tests.calculations.engine_builders import toy_inputs


def rows_by_code(results):
    return {row.code: row for row in results.groupements}


def test_phase_rule_by_hand():
    defaults = Parameters()
    # phase 1: quality shown, not paid.
    assert amounts_for_phase(1, 100.0, 40.0, 0.5, defaults) == (0.0, 100.0)
    # phase 2: efficiency + quality value.
    assert amounts_for_phase(2, 100.0, 40.0, 0.5, defaults) == (40.0, 140.0)
    # phase 3: quality 1/2 × 40 = 20; efficiency × (1 − 0.2 + 2·0.2·q).
    assert amounts_for_phase(3, 100.0, 40.0, 0.0, defaults) == (20.0, pytest.approx(80.0 + 20.0))  # −20 % at q = 0
    assert amounts_for_phase(3, 100.0, 40.0, 1.0, defaults) == (20.0, pytest.approx(120.0 + 20.0))  # +20 % at q = 1
    assert amounts_for_phase(3, 100.0, 40.0, 0.5, defaults) == (20.0, pytest.approx(100.0 + 20.0))
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
    assert rows["G1"].cap == 4.0 and rows["G2"].cap == 12.0  # the cap binds for G1
    assert results.totals.national_ceiling == 8.0
    assert results.totals.national_coefficient == 1.0  # Σ after_cap ≤ 8: no scaling
    assert results.totals.amount_after_cap == sum(after_cap)


def test_national_ceiling_binds_in_the_toy_campaign():
    # Ceiling rate 0.005 → C = 4; phase 2 amounts 4 + 2 = 6 > 4 → k = 4/6.
    # Cents: floor(4·k·100) = floor(266.67) = 266, floor(2·k·100) = floor(133.33) = 133; 399 of floor(400) → the
    # leftover cent goes to the larger remainder (G1, 0.67): 2.67 + 1.33 = 4.00.
    results = compute_campaign(toy_inputs(phase=2), Parameters.merge(("--param", {"national_ceiling_rate": "0.005"})))
    rows = rows_by_code(results)
    assert results.totals.national_coefficient == pytest.approx(2 / 3, rel=1e-15)
    assert (rows["G1"].final_amount, rows["G2"].final_amount) == (Decimal("2.67"), Decimal("1.33"))
    assert rows["G1"].amount_after_cap == 4.0  # shown unscaled
    assert results.totals.final_amount == Decimal("4.00") and results.totals.amount_after_cap == 6.0


def test_caps_by_hand():
    defaults = Parameters()
    assert groupement_cap(5_000.0, defaults) == 100.0
    assert national_ceiling(10_000.0, defaults) == 100.0
    assert national_coefficient([30.0, 20.0], 100.0) == (50.0, 1.0)
    assert national_coefficient([80.0, 40.0], 60.0) == (120.0, 0.5)
    # Σ after_cap is correctly rounded (fsum): 0.1 + 0.2 + 0.3 is exactly 0.6 here, not 0.6000000000000001.
    assert national_coefficient([0.1, 0.2, 0.3], 1.0)[0] == 0.6
