"""What the noise gate (step 13) changes to a computed campaign: steps 6 and 9 to 11 run again from the
campaign's stored figures, once with `noise_gate = off` and once with `on`, through the engine's own step
functions (so the side matching the campaign's parameter gives back its cents exactly).

Nothing before step 6 depends on the gate, so the gaps, quality values, caps and the national ceiling
stored with the campaign are all the inputs needed: no patient file is read.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from .parameters import Parameters
from .steps.efficiency import efficiency_of_gaps
from .steps.payment import PaymentInput, payments
from .steps.robustness import gated


@dataclass(frozen=True)
class StoredFigures:
    """One groupement's stored figures that steps 6 and 9 to 11 read."""

    code: str
    phase: int
    n_patients: int
    level_gap: float  # E
    evolution_gap: float  # Ev
    efficiency_noise: bool
    quality_value: float
    quality_ratio: float
    cap: float


@dataclass(frozen=True)
class GateLine:
    code: str
    efficiency_noise: bool
    final_amount_off: Decimal
    final_amount_on: Decimal


@dataclass(frozen=True)
class GateEffect:
    lines: list[GateLine]  # every groupement, code ascending
    coefficient_off: float
    coefficient_on: float

    @property
    def flagged(self) -> list[GateLine]:
        return [line for line in self.lines if line.efficiency_noise]

    @property
    def changed(self) -> list[GateLine]:
        return [line for line in self.lines if line.final_amount_off != line.final_amount_on]

    @property
    def paid_total_off(self) -> Decimal:
        return sum((line.final_amount_off for line in self.lines), Decimal("0.00"))

    @property
    def paid_total_on(self) -> Decimal:
        return sum((line.final_amount_on for line in self.lines), Decimal("0.00"))


def _final_amounts(figures: Sequence[StoredFigures], ceiling: float, parameters: Parameters):
    inputs = []
    for g in figures:
        gain = gated(
            efficiency_of_gaps(g.level_gap, g.evolution_gap, g.n_patients, parameters), g.efficiency_noise, parameters
        )
        inputs.append(PaymentInput(g.code, g.phase, gain.efficiency_amount, g.quality_value, g.quality_ratio, g.cap))
    return payments(inputs, ceiling, parameters)


def noise_gate_effect(figures: Sequence[StoredFigures], ceiling: float, parameters: Parameters) -> GateEffect:
    """The final amounts with the gate off and on, for the campaign whose figures (code ascending), national
    ceiling C and parameters are given."""
    ordered = sorted(figures, key=lambda g: g.code)
    off = _final_amounts(ordered, ceiling, dataclasses.replace(parameters, noise_gate="off"))
    on = _final_amounts(ordered, ceiling, dataclasses.replace(parameters, noise_gate="on"))
    lines = [
        GateLine(g.code, g.efficiency_noise, amount_off, amount_on)
        for g, amount_off, amount_on in zip(ordered, off.final_amounts, on.final_amounts, strict=True)
    ]
    return GateEffect(lines, off.coefficient, on.coefficient)
