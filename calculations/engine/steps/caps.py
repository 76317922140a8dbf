"""Step 10 — the groupement cap and the national ceiling."""

from __future__ import annotations

import math
from collections.abc import Sequence

from ..parameters import Parameters


def groupement_cap(real_expenditure_total: float, parameters: Parameters) -> float:
    """Step 10: cap = group_cap_rate · DRtot_{g,N}."""
    return parameters.as_float("group_cap_rate") * real_expenditure_total


def national_ceiling(real_expenditure_total: float, parameters: Parameters) -> float:
    """Step 10: C = national_ceiling_rate · Σ_g DRtot_{g,N} (the same Σ as the quality envelope)."""
    return parameters.as_float("national_ceiling_rate") * real_expenditure_total


def national_coefficient(amounts_after_cap: Sequence[float], ceiling: float) -> tuple[float, float]:
    """Step 10: (Σ after_cap correctly rounded, k) with k = C / Σ when Σ exceeds C, else 1."""
    total = math.fsum(amounts_after_cap)
    return total, (ceiling / total if total > ceiling else 1.0)
