"""Step 9 — the phase rule: how efficiency and quality combine into the amount before cap."""

from __future__ import annotations

from dataclasses import dataclass

from calculations.bundle.reasons import reason

from ..errors import EngineError, engine_problem
from ..parameters import Parameters


@dataclass(frozen=True)
class PhaseAmounts:
    quality_amount: float  # 0 in phase 1, quality_value in 2, weighted in 3
    amount_before_cap: float
    phase3_factor: float | None  # 1 − μ + 2μq, the efficiency modulation (phase 3 only)


def phase3_factor(quality_ratio: float, parameters: Parameters) -> float:
    """Step 9, phase 3: 1 − μ + 2μq, from −μ at q = 0 to +μ at q = 1 (μ = phase3_modulation)."""
    modulation = parameters.as_float("phase3_modulation")
    return 1 - modulation + 2 * modulation * quality_ratio


def amounts_for_phase(
    phase: int, efficiency_amount: float, quality_value: float, quality_ratio: float, parameters: Parameters
) -> PhaseAmounts:
    """Step 9: quality amount and amount before cap for the groupement's phase in year N.

    phase 1: efficiency only (quality is shown, not paid); phase 2: efficiency + quality_value;
    phase 3: quality weighted by `phase3_quality_weight`, efficiency modulated by the quality ratio.
    """
    if phase == 1:
        return PhaseAmounts(0.0, efficiency_amount, None)
    if phase == 2:
        return PhaseAmounts(quality_value, efficiency_amount + quality_value, None)
    if phase == 3:
        factor = phase3_factor(quality_ratio, parameters)
        quality_amount = parameters.as_float("phase3_quality_weight") * quality_value
        return PhaseAmounts(quality_amount, efficiency_amount * factor + quality_amount, factor)
    raise EngineError([engine_problem("calendrier_phases.csv", reason("unknown_phase", phase=phase), "phase")])
