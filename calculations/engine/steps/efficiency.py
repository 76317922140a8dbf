"""Step 6 — efficiency gains: level gap, evolution gap and the amount per patient."""

from __future__ import annotations

from dataclasses import dataclass

from ..parameters import Parameters
from .averages import YearAverages


@dataclass(frozen=True)
class Efficiency:
    level_gap: float  # E
    evolution_gap: float  # Ev
    positive_level_gap: float  # max(0, E)
    positive_evolution_gap: float  # max(0, Ev)
    amount_per_patient: float
    efficiency_amount: float


def level_gap(year_n: YearAverages) -> float:
    """E = DA̅_N − DR̄_N: positive when the groupement's patients cost less than the model expects."""
    return year_n.expected_per_patient - year_n.real_per_patient


def evolution_gap(year_n: YearAverages, reference: YearAverages, evolution_form: str) -> float:
    """Ev, the growth avoided since the reference year R.

    rate (default): Ev = DR̄_R · DA̅_N / DA̅_R − DR̄_N (real spend of R grown at the expected rate);
    absolute: Ev = (DA̅_N − DA̅_R) − (DR̄_N − DR̄_R).
    """
    if evolution_form == "rate":
        return (
            reference.real_per_patient * year_n.expected_per_patient / reference.expected_per_patient
            - year_n.real_per_patient
        )
    return (year_n.expected_per_patient - reference.expected_per_patient) - (
        year_n.real_per_patient - reference.real_per_patient
    )


def efficiency(year_n: YearAverages, reference: YearAverages, parameters: Parameters) -> Efficiency:
    """Step 6: amount_per_patient = C_partage·(C_écart·max(0, E) + C_évolution·max(0, Ev)); × n_{g,N}."""
    gap = level_gap(year_n)
    evolution = evolution_gap(year_n, reference, parameters.evolution_form)
    return efficiency_of_gaps(gap, evolution, year_n.patients, parameters)


def efficiency_of_gaps(gap: float, evolution: float, patients: int, parameters: Parameters) -> Efficiency:
    """Step 6 from the two gaps (also how a stored result's gain before any gate is found again).

    Negative gaps are floored at 0 separately: a good evolution is rewarded even when the level is poor.
    """
    positive_gap, positive_evolution = max(0.0, gap), max(0.0, evolution)
    per_patient = parameters.as_float("c_partage") * (
        parameters.as_float("c_ecart") * positive_gap + parameters.as_float("c_evolution") * positive_evolution
    )
    return Efficiency(gap, evolution, positive_gap, positive_evolution, per_patient, per_patient * patients)
