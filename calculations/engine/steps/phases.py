"""Step 9 — the phase rule: how efficiency and quality combine into the amount before cap."""

from __future__ import annotations

from ..errors import EngineError, engine_problem
from ..parameters import Parameters


def amounts_for_phase(
    phase: int, efficiency_amount: float, quality_value: float, quality_ratio: float, parameters: Parameters
) -> tuple[float, float]:
    """Step 9: (quality_amount, amount_before_cap) for the groupement's phase in year N.

    phase 1: efficiency only (quality is shown, not paid); phase 2: efficiency + quality_value;
    phase 3: quality weighted by `phase3_quality_weight`, efficiency modulated by the quality ratio,
    from −μ at q = 0 to +μ at q = 1.
    """
    if phase == 1:
        return 0.0, efficiency_amount
    if phase == 2:
        return quality_value, efficiency_amount + quality_value
    if phase == 3:
        modulation = parameters.as_float("phase3_modulation")
        quality_amount = parameters.as_float("phase3_quality_weight") * quality_value
        return quality_amount, efficiency_amount * (1 - modulation + 2 * modulation * quality_ratio) + quality_amount
    raise EngineError([engine_problem("calendrier_phases", f"phase {phase} is not 1, 2 or 3", "phase")])
