"""Step 13 — robustness and sensitivity: confidence intervals of the two gaps, the noise flag and gate,
and the efficiency amount without truncation.

A gain measured on a few thousand patients is partly chance: the intervals say how much, the flag marks
a paid gain that cannot be told apart from chance at the campaign's confidence level, and the gate
(`noise_gate = on`) pays nothing for it. Everything here derives from figures of steps 5 and 6, which
are exact before their final doubles, so a flag never flips on a last bit of accumulation order.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from fractions import Fraction
from statistics import NormalDist

from ..parameters import Parameters
from .averages import YearAverages
from .efficiency import Efficiency


@dataclass(frozen=True)
class Robustness:
    level_gap_se_reference: float  # se_R: level_gap_se of step 5 on the year-R list
    level_gap_low: float  # E − z·se_N
    level_gap_high: float  # E + z·se_N
    evolution_gap_se: float
    evolution_gap_low: float  # Ev − z·evolution_gap_se
    evolution_gap_high: float
    efficiency_noise: bool  # a paid gain not distinguishable from chance at the confidence level


def critical_value(confidence_level: Fraction) -> float:
    """z = NormalDist().inv_cdf(1 − (1 − confidence_level)/2): 1.959964 at 0.95 (probability exact, then one double)."""
    return NormalDist().inv_cdf(float(1 - (1 - Fraction(confidence_level)) / 2))


def evolution_gap_se(year_n: YearAverages, reference: YearAverages, evolution_form: str) -> float:
    """Standard error of Ev, the two years as independent samples and the expected values as known.

    rate: √((DA̅_N / DA̅_R)² · se_R² + se_N²) (DR̄_R is scaled by DA̅_N / DA̅_R in Ev); absolute: √(se_R² + se_N²).
    """
    se_n, se_r = year_n.level_gap_se, reference.level_gap_se
    if evolution_form == "rate":
        growth = year_n.expected_per_patient / reference.expected_per_patient
        return math.sqrt(growth**2 * se_r**2 + se_n**2)
    return math.sqrt(se_r**2 + se_n**2)


def efficiency_noise(efficiency_amount: float, level_gap_low: float, evolution_gap_low: float) -> bool:
    """A positive step-6 amount while both intervals reach 0: neither gap is distinguishable from chance."""
    return efficiency_amount > 0 and level_gap_low <= 0 and evolution_gap_low <= 0


def robustness(gain: Efficiency, year_n: YearAverages, reference: YearAverages, parameters: Parameters) -> Robustness:
    """Step 13's intervals and flag for one groupement, from its step-6 gain (before any gate)."""
    z = critical_value(parameters.confidence_level)
    level_low, level_high = gain.level_gap - z * year_n.level_gap_se, gain.level_gap + z * year_n.level_gap_se
    evolution_se = evolution_gap_se(year_n, reference, parameters.evolution_form)
    evolution_low, evolution_high = gain.evolution_gap - z * evolution_se, gain.evolution_gap + z * evolution_se
    return Robustness(
        level_gap_se_reference=reference.level_gap_se,
        level_gap_low=level_low,
        level_gap_high=level_high,
        evolution_gap_se=evolution_se,
        evolution_gap_low=evolution_low,
        evolution_gap_high=evolution_high,
        efficiency_noise=efficiency_noise(gain.efficiency_amount, level_low, evolution_low),
    )


def gated(gain: Efficiency, noise: bool, parameters: Parameters) -> Efficiency:
    """With `noise_gate = on`, a flagged groupement's amount per patient and efficiency amount are 0 from
    step 6 on (steps 9 to 11 use the zero); with `off` the gain is unchanged. The gaps stay as measured."""
    if parameters.noise_gate == "on" and noise:
        return dataclasses.replace(gain, amount_per_patient=0.0, efficiency_amount=0.0)
    return gain
