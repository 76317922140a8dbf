"""Steps 9 to 11 together — from each groupement's efficiency and quality to the cents paid: the phase
rule, the caps, the national coefficient and the cents. One function, so that the campaign and any
recomputation of its payments (what the noise gate would change) run the same arithmetic."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from calculations.bundle.reasons import step

from ..parameters import Parameters
from .caps import national_coefficient
from .cents import paid_amounts
from .phases import PhaseAmounts, amounts_for_phase


@dataclass(frozen=True)
class PaymentInput:
    """What steps 9 to 11 read of one groupement."""

    code: str
    phase: int
    efficiency_amount: float  # step 6, after the noise gate
    quality_value: float
    quality_ratio: float
    cap: float  # step 10: group_cap_rate · DRtot_{g,N}


@dataclass(frozen=True)
class Payments:
    phase_amounts: list[PhaseAmounts]
    after_cap: list[float]
    after_cap_total: float  # Σ after_cap, correctly rounded
    coefficient: float  # k
    final_amounts: list[Decimal]


def payments(
    groupements: Sequence[PaymentInput],
    ceiling: float,
    parameters: Parameters,
    progress: Callable[[str, float], None] | None = None,
) -> Payments:
    """Steps 9 (phase rule), 10 (caps and k) and 11 (cents), in the order of `groupements` (code ascending).

    `progress` is the campaign's progress report (compute_campaign), called as each step starts."""
    report = progress or (lambda step, fraction: None)
    report(step("phases"), 0.975)
    phase_amounts = [
        amounts_for_phase(g.phase, g.efficiency_amount, g.quality_value, g.quality_ratio, parameters)
        for g in groupements
    ]
    report(step("caps"), 0.98)
    after_cap = [min(amounts.amount_before_cap, g.cap) for amounts, g in zip(phase_amounts, groupements, strict=True)]
    after_cap_total, coefficient = national_coefficient(after_cap, ceiling)
    report(step("cents"), 0.99)
    final_amounts = paid_amounts([g.code for g in groupements], after_cap, coefficient, ceiling)
    return Payments(phase_amounts, after_cap, after_cap_total, coefficient, final_amounts)
