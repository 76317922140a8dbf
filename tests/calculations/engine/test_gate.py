"""What the noise gate changes, recomputed from stored figures through the engine's steps 6 and 9 to 11:
a hand-computed case, and the golden bundle against two full engine runs (gate off and on)."""

from decimal import Decimal

import pytest

from calculations.engine.gate import StoredFigures, noise_gate_effect
from calculations.engine.parameters import Parameters
from calculations.management.commands.simulate import simulate
from tests.golden import GOLDEN_DIR, golden_results


def figures(code, *, n, level_gap, evolution_gap, noise, phase=1, cap=10_000.0):
    return StoredFigures(code, phase, n, level_gap, evolution_gap, noise, 0.0, 0.0, cap)


# Defaults: C_partage 1/2, C_écart 1/3, C_évolution 2/3; phase 1: amount before cap = efficiency.
# A (flagged): 1/2 × (1/3 × 30 + 2/3 × 60) = 25 € per patient × 100 = 2 500 € (0 with the gate on).
# B: 1/2 × (1/3 × max(0, −5) + 2/3 × 15) = 5 € per patient × 200 = 1 000 €.
HAND = [
    figures("A", n=100, level_gap=30.0, evolution_gap=60.0, noise=True),
    figures("B", n=200, level_gap=-5.0, evolution_gap=15.0, noise=False),
]


def test_below_the_national_ceiling_the_gate_takes_back_exactly_the_flagged_gain():
    effect = noise_gate_effect(HAND, 100_000.0, Parameters())
    assert [(line.code, line.final_amount_off, line.final_amount_on) for line in effect.lines] == [
        ("A", Decimal("2500.00"), Decimal("0.00")),
        ("B", Decimal("1000.00"), Decimal("1000.00")),
    ]
    assert effect.paid_total_off == Decimal("3500.00") and effect.paid_total_on == Decimal("1000.00")
    assert [line.code for line in effect.flagged] == ["A"] and [line.code for line in effect.changed] == ["A"]
    assert effect.coefficient_off == effect.coefficient_on == 1.0


def test_above_the_ceiling_what_is_not_paid_to_one_goes_to_the_others():
    # C = 1 750 €: off, Σ after cap 3 500 > C so k = 1 750 / 3 500 = 0,5 → A 1 250, B 500 (total C);
    # on, Σ = 1 000 ≤ C so k = 1 → B is paid in full.
    effect = noise_gate_effect(HAND, 1750.0, Parameters())
    assert effect.coefficient_off == 0.5 and effect.coefficient_on == 1.0
    assert [(line.final_amount_off, line.final_amount_on) for line in effect.lines] == [
        (Decimal("1250.00"), Decimal("0.00")),
        (Decimal("500.00"), Decimal("1000.00")),
    ]
    assert effect.paid_total_off == Decimal("1750.00") and effect.paid_total_on == Decimal("1000.00")


def stored(rows):
    return [
        StoredFigures(
            r.code,
            r.phase,
            r.n_patients,
            r.level_gap,
            r.evolution_gap,
            r.efficiency_noise,
            r.quality_value,
            r.quality_ratio,
            r.cap,
        )  # fmt: skip
        for r in rows
    ]


@pytest.fixture(scope="module")
def gated_run():
    return simulate(GOLDEN_DIR, 2022, ["noise_gate=on"])


def test_golden_both_sides_equal_full_engine_runs_to_the_cent(gated_run):
    off_run = golden_results()
    for run in (off_run, gated_run):  # whichever side the campaign was computed with, the same comparison
        effect = noise_gate_effect(stored(run.groupements), run.totals.national_ceiling, run.parameters)
        assert [line.final_amount_off for line in effect.lines] == [r.final_amount for r in off_run.groupements]
        assert [line.final_amount_on for line in effect.lines] == [r.final_amount for r in gated_run.groupements]
        assert effect.coefficient_off == off_run.totals.national_coefficient
        assert effect.coefficient_on == gated_run.totals.national_coefficient
        assert [line.code for line in effect.flagged] == ["G004"]
    # The ceiling binds either way (Σ after cap ≈ 288 549 € > C = 244 528,88 €): the total is C, G004 loses
    # its efficiency and the others share it through k.
    assert effect.paid_total_off == effect.paid_total_on == Decimal("244528.88")
    assert effect.coefficient_on > effect.coefficient_off
    assert len(effect.changed) == 12
