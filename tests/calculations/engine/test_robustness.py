"""Step 13 — intervals, the noise flag and gate, and the efficiency amount without truncation, by hand.

z = NormalDist().inv_cdf(1 − (1 − 0.95)/2) = inv_cdf(0.975) = 1.9599639845400536 at the default level.
Toy campaigns (see builders): one risk cell, so DA = the national mean of d; p = 99 of 6 rows is rank 6,
the maximum, so nothing is truncated unless a test says otherwise.
"""

from __future__ import annotations

import math
from fractions import Fraction
from statistics import NormalDist

import pytest

from calculations.engine import Parameters, compute_campaign
from calculations.engine.steps.averages import YearAverages
from calculations.engine.steps.robustness import critical_value, efficiency_noise, evolution_gap_se
from tests.calculations.engine.builders import G1_DOCTOR, G2_DOCTOR, OUTSIDE_DOCTOR, rows_by_code, toy_inputs
from tests.golden import GOLDEN_DIR, golden_results

Z95 = 1.9599639845400536

# N: G1 50, 150 · G2 300, 300 · others 200, 200 → DA_N = 1200/6 = 200.
# R: G1 100, 140 · G2 240, 240 · others 190, 170 → DA_R = 1080/6 = 180.
SPREAD = {
    2022: [(G1_DOCTOR, 50), (G1_DOCTOR, 150), (G2_DOCTOR, 300), (G2_DOCTOR, 300)]
    + [(OUTSIDE_DOCTOR, 200), (OUTSIDE_DOCTOR, 200)],
    2021: [(G1_DOCTOR, 100), (G1_DOCTOR, 140), (G2_DOCTOR, 240), (G2_DOCTOR, 240)]
    + [(OUTSIDE_DOCTOR, 190), (OUTSIDE_DOCTOR, 170)],
}
# The flag at its boundary. N: G1 200, 200 (E = 200 − 200 = 0, no spread: se_N = 0) · G2 300, 100 · others 200, 200.
# R: G1 100, 300 · G2 170, 170 · others 170, 170 → DA_R = 1080/6 = 180; G1's DR̄_R = 200.
BOUNDARY = {
    2022: [(G1_DOCTOR, 200), (G1_DOCTOR, 200), (G2_DOCTOR, 300), (G2_DOCTOR, 100)]
    + [(OUTSIDE_DOCTOR, 200), (OUTSIDE_DOCTOR, 200)],
    2021: [(G1_DOCTOR, 100), (G1_DOCTOR, 300), (G2_DOCTOR, 170), (G2_DOCTOR, 170)]
    + [(OUTSIDE_DOCTOR, 170), (OUTSIDE_DOCTOR, 170)],
}


def averages(expected: float, se: float) -> YearAverages:
    return YearAverages(100, 0.0, expected, 0.0, 0, se)


def parameters(**values: str) -> Parameters:
    return Parameters.merge(("--param", values))


def test_critical_value():
    assert critical_value(Fraction("0.95")) == NormalDist().inv_cdf(0.975) == Z95
    assert critical_value(Fraction("0.9")) == NormalDist().inv_cdf(0.95)  # 1 − 0.1/2, exact before the double
    assert critical_value(Fraction(1, 2)) == NormalDist().inv_cdf(0.75)


def test_evolution_gap_se_in_both_forms():
    # se_N = 30, se_R = 40, DA̅_N / DA̅_R = 200 / 160 = 1.25.
    year_n, reference = averages(200.0, 30.0), averages(160.0, 40.0)
    # rate: √(1.25² · 40² + 30²) = √(2500 + 900) = √3400
    assert evolution_gap_se(year_n, reference, "rate") == math.sqrt(3400)
    # absolute: √(40² + 30²) = √2500 = 50
    assert evolution_gap_se(year_n, reference, "absolute") == 50.0


def test_intervals_in_a_toy_campaign():
    rows = rows_by_code(compute_campaign(toy_inputs(spend=SPREAD), Parameters()))
    g1 = rows["G1"]
    # N: d − DA = −150, −50 → variance ((−50)² + 50²)/1 = 5000 → se_N = √5000/√2 (= 50).
    se_n = math.sqrt(5000) / math.sqrt(2)
    # R: d − DA = −80, −40 → variance (20² + 20²)/1 = 800 → se_R = √800/√2 (= 20).
    se_r = math.sqrt(800) / math.sqrt(2)
    assert (g1.level_gap_se, g1.level_gap_se_reference) == (se_n, se_r)
    # E = 200 − 100 = 100: [100 − z·se_N ; 100 + z·se_N] ≈ [2.00 ; 198.00].
    assert g1.level_gap == 100.0
    assert (g1.level_gap_low, g1.level_gap_high) == (100.0 - Z95 * se_n, 100.0 + Z95 * se_n)
    # Ev = 120 · 200/180 − 100 = 33.33…; se = √((200/180)² · se_R² + se_N²) ≈ 54.72.
    evolution_se = math.sqrt((200.0 / 180.0) ** 2 * se_r**2 + se_n**2)
    assert g1.evolution_gap_se == evolution_se
    assert g1.evolution_gap_low == g1.evolution_gap - Z95 * evolution_se
    assert g1.evolution_gap_high == g1.evolution_gap + Z95 * evolution_se
    assert not g1.efficiency_noise  # the level interval stays above 0 (2.00)
    # absolute: Ev = (200 − 180) − (100 − 120) = 40, se = √(se_R² + se_N²) = √2900.
    absolute = rows_by_code(compute_campaign(toy_inputs(spend=SPREAD), parameters(evolution_form="absolute")))["G1"]
    assert absolute.evolution_gap == 40.0
    assert absolute.evolution_gap_se == math.sqrt(se_r**2 + se_n**2)
    assert absolute.evolution_gap_low == 40.0 - Z95 * absolute.evolution_gap_se


def test_interval_widens_with_the_confidence_level():
    rows = rows_by_code(compute_campaign(toy_inputs(spend=SPREAD), parameters(confidence_level="0.99")))
    z99 = NormalDist().inv_cdf(0.995)  # 2.5758…
    se_n = math.sqrt(5000) / math.sqrt(2)
    assert rows["G1"].level_gap_low == 100.0 - z99 * se_n  # ≈ −28.79 ≤ 0
    # Ev's interval reaches 0 as well (33.33 − 2.58 × 54.72 < 0): at 99 % G1's gain is chance.
    assert rows["G1"].efficiency_noise


def test_flag_at_its_boundary_level_gap_low_exactly_zero():
    rows = rows_by_code(compute_campaign(toy_inputs(spend=BOUNDARY), Parameters()))
    g1, g2 = rows["G1"], rows["G2"]
    # G1: E = 0 and se_N = 0, so level_gap_low = 0 − z · 0 = 0 exactly: "≤ 0" holds.
    assert (g1.level_gap, g1.level_gap_se, g1.level_gap_low) == (0.0, 0.0, 0.0)
    # R: d − DA = −80, 120 → variance (100² + 100²)/1 = 20000, se_R = √20000/√2 (= 100).
    # Ev = 200 · 200/180 − 200 = 22.22; se = (200/180) · se_R ≈ 111.1; low ≈ 22.22 − 217.8 < 0.
    assert g1.evolution_gap_low == g1.evolution_gap - Z95 * math.sqrt(
        (200.0 / 180.0) ** 2 * (math.sqrt(20000) / math.sqrt(2)) ** 2 + 0.0
    )
    assert g1.evolution_gap_low < 0
    # Paid on Ev alone: 1/2 · 2/3 · 22.22 = 7.41 per patient > 0, so the flag is set.
    assert g1.efficiency_amount == pytest.approx(2 * (200 * 200 / 180 - 200) / 3, rel=1e-14)
    assert g1.efficiency_noise
    # G2: E = 200 − 200 = 0 too, but Ev = 170 · 200/180 − 200 < 0: nothing paid, nothing to flag.
    assert g2.efficiency_amount == 0.0 and not g2.efficiency_noise
    # One euro better in N (G1 199, 199; G2 301, 101): E = 1, se_N = 0, level_gap_low = 1 > 0: no flag.
    spend = {
        **BOUNDARY,
        2022: [(G1_DOCTOR, 199), (G1_DOCTOR, 199), (G2_DOCTOR, 301), (G2_DOCTOR, 101)] + BOUNDARY[2022][4:],
    }
    g1 = rows_by_code(compute_campaign(toy_inputs(spend=spend), Parameters()))["G1"]
    assert (g1.level_gap, g1.level_gap_low) == (1.0, 1.0)
    assert not g1.efficiency_noise


def test_flag_rule_by_hand():
    assert efficiency_noise(10.0, 0.0, 0.0)  # both intervals reach 0 exactly
    assert efficiency_noise(10.0, -5.0, -0.1)
    assert not efficiency_noise(10.0, 0.01, -5.0)  # the level gap alone is significant
    assert not efficiency_noise(10.0, -5.0, 1e-9)  # the evolution gap alone is significant
    assert not efficiency_noise(0.0, -5.0, -5.0)  # nothing paid: nothing to flag


def test_gate_off_and_on():
    # Phase 2, BOUNDARY: DRtot G1 400, G2 400 → envelope 0.005 × 800 = 4, drawing rights 2 each; q = 0.5 and 1 →
    # quality values 1 and 2; caps 0.02 × 400 = 8 each; national ceiling C = 0.01 × 800 = 8.
    off = rows_by_code(compute_campaign(toy_inputs(spend=BOUNDARY), parameters(noise_gate="off")))
    default = rows_by_code(compute_campaign(toy_inputs(spend=BOUNDARY), Parameters()))
    assert off == default  # off is the default and changes nothing
    # off: G1 14.81 + 1 = 15.81 → capped at 8; G2 0 + 2 = 2; Σ 10 > C = 8 → k = 0.8 → 6.40 and 1.60.
    assert (off["G1"].amount_after_cap, off["G2"].amount_after_cap) == (8.0, 2.0)
    assert (str(off["G1"].final_amount), str(off["G2"].final_amount)) == ("6.40", "1.60")
    on = rows_by_code(compute_campaign(toy_inputs(spend=BOUNDARY), parameters(noise_gate="on")))
    # on: G1's flagged gain is 0 from step 6 on; the flag stays, the gaps and intervals are unchanged.
    g1 = on["G1"]
    assert (g1.amount_per_patient, g1.efficiency_amount) == (0.0, 0.0)
    assert g1.efficiency_noise and g1.level_gap_low == off["G1"].level_gap_low
    # G1 0 + 1 = 1; G2 2; Σ 3 ≤ 8 → k = 1 → 1.00 and 2.00.
    assert (g1.amount_before_cap, g1.amount_after_cap, str(g1.final_amount)) == (1.0, 1.0, "1.00")
    assert str(on["G2"].final_amount) == "2.00"
    # The sensitivity figures are never gated: the step-6 amount before the gate (no truncation here).
    assert g1.amount_per_patient_untruncated == off["G1"].amount_per_patient
    assert g1.efficiency_amount_untruncated == off["G1"].efficiency_amount


def test_untruncated_sensitivity_by_hand():
    # p = 80 of 6 rows: rank ceil(4.8) = 5. N sorted 50, 200, 200, 300, 300, 450 → s_N = 300; R: s_R = 240 (no bite).
    spend = {
        2022: [(G1_DOCTOR, 50), (G1_DOCTOR, 450), (G2_DOCTOR, 300), (G2_DOCTOR, 300)]
        + [(OUTSIDE_DOCTOR, 200), (OUTSIDE_DOCTOR, 200)],
        2021: [(G1_DOCTOR, 120), (G1_DOCTOR, 120), (G2_DOCTOR, 240), (G2_DOCTOR, 240)]
        + [(OUTSIDE_DOCTOR, 180), (OUTSIDE_DOCTOR, 180)],
    }
    rows = rows_by_code(compute_campaign(toy_inputs(spend=spend), parameters(truncation_percentile="80")))
    g1, g2 = rows["G1"], rows["G2"]
    # Truncated: G1 50, 300 → DR̄ = 175; DA_N = (50 + 300 + 300 + 300 + 200 + 200)/6 = 225; E = 50;
    # Ev = 120 · 225/180 − 175 = −25 → 1/2 · 1/3 · 50 = 25/3 per patient.
    assert (g1.real_per_patient, g1.expected_per_patient, g1.level_gap) == (175.0, 225.0, 50.0)
    assert g1.amount_per_patient == pytest.approx(25 / 3, rel=1e-15)
    # Untruncated, model refitted on raw spend: DA_N = 1500/6 = 250; G1 DR̄ = 250, E = 0;
    # Ev = 120 · 250/180 − 250 = −83.3 → 0: truncation alone made G1's outlier year look efficient.
    assert (g1.amount_per_patient_untruncated, g1.efficiency_amount_untruncated) == (0.0, 0.0)
    # G2: truncated E = 225 − 300 < 0, Ev = 240 · 225/180 − 300 = 0 → 0. Untruncated: E = 250 − 300 < 0,
    # Ev = 240 · 250/180 − 300 = 33.33 → 1/2 · 2/3 · 33.33 = 100/9 per patient, × 2 patients.
    assert g2.amount_per_patient == 0.0
    assert g2.amount_per_patient_untruncated == pytest.approx(100 / 9, rel=1e-14)
    assert g2.efficiency_amount_untruncated == g2.amount_per_patient_untruncated * 2


def test_percentile_100_untruncated_figures_are_the_step_6_figures_before_any_gate():
    from calculations.management.commands.simulate import simulate

    untruncated = simulate(GOLDEN_DIR, 2022, ["truncation_percentile=100"])
    gated = simulate(GOLDEN_DIR, 2022, ["truncation_percentile=100", "noise_gate=on"])
    flagged = [row.code for row in untruncated.groupements if row.efficiency_noise]
    assert flagged  # the gate has something to change
    for row, gated_row in zip(untruncated.groupements, gated.groupements, strict=True):
        assert row.amount_per_patient_untruncated == row.amount_per_patient
        assert row.efficiency_amount_untruncated == row.efficiency_amount
        # Gated or not, the sensitivity keeps the step-6 figure before the gate.
        assert gated_row.amount_per_patient_untruncated == row.amount_per_patient
        assert gated_row.efficiency_amount_untruncated == row.efficiency_amount
        if row.code in flagged:
            assert (gated_row.amount_per_patient, gated_row.efficiency_amount) == (0.0, 0.0)
        else:
            assert gated_row.efficiency_amount == row.efficiency_amount
    # At the golden's p = 99 truncation bites, and the two figures differ (G011: 292 867 € vs 1 174 517 €).
    g011 = rows_by_code(golden_results())["G011"]
    assert g011.efficiency_amount_untruncated > 4 * g011.efficiency_amount
