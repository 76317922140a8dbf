"""Step 8 — the quality envelope, each groupement's drawing right on it and its quality value."""

from __future__ import annotations

from calculations.engine import Parameters, compute_campaign
from calculations.engine.steps.envelope import drawing_right, quality_envelope, quality_value
from tests.calculations.engine.builders import rows_by_code, toy_inputs


def test_envelope_and_drawing_right():
    # 0.005 × 800 = 4; drawing right of 2 patients out of 4 = 2; quality value at q = 0.25 = 0.5.
    envelope = quality_envelope(800.0, Parameters())
    assert envelope == 4.0
    assert drawing_right(envelope, 2, 4) == 2.0
    assert quality_value(2.0, 0.25) == 0.5


def test_quality_in_the_toy_campaign():
    # G1: S1 = 50 → f = 0.5 → 50 points + 10 experience = 60, q = 0.5. G2: S1 = 90 → 100 + 20 = 120, q = 1.
    # Envelope 0.005 × (200 + 600) = 4; drawing rights 4 × 2/4 = 2 each; values 1 and 2.
    rows = rows_by_code(compute_campaign(toy_inputs(), Parameters()))
    assert (rows["G1"].quality_score, rows["G1"].quality_ratio) == (60.0, 0.5)
    assert (rows["G2"].quality_score, rows["G2"].quality_ratio) == (120.0, 1.0)
    assert rows["G1"].drawing_right == 2.0 and rows["G2"].drawing_right == 2.0
    assert rows["G1"].quality_value == 1.0 and rows["G2"].quality_value == 2.0
