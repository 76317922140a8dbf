"""Step 8 — the quality envelope and each groupement's drawing right on it."""

from __future__ import annotations

from ..parameters import Parameters


def quality_envelope(real_expenditure_total: float, parameters: Parameters) -> float:
    """Step 8: envelope = quality_envelope_rate · Σ_g DRtot_{g,N} over every participating groupement."""
    return parameters.as_float("quality_envelope_rate") * real_expenditure_total


def drawing_right(envelope: float, patients: int, total_patients: int) -> float:
    """Step 8: the groupement's share of the envelope, pro rata of its patients: envelope · n_g / Σ n."""
    return envelope * patients / total_patients


def quality_value(drawing_right_amount: float, quality_ratio: float) -> float:
    """Step 8: drawing_right · q (0 when S ≤ 0)."""
    return drawing_right_amount * quality_ratio
