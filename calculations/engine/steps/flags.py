"""Step 12 — eligibility flag and the Belgian budget-guarantee view (information only, never paid)."""

from __future__ import annotations

from .averages import YearAverages


def below_min_patients(patients: int, min_patients: int) -> bool:
    """Step 12: flagged on the statement (not excluded) when n_{g,N} < min_patients."""
    return patients < min_patients


def budget_guarantee(year_n: YearAverages, reference: YearAverages) -> tuple[float, float, float]:
    """Step 12: (garantie, n_N · DR̄_N, gain) with garantie = n_N · DR̄_R · DA̅_N / DA̅_R and
    gain = garantie − n_N · DR̄_N (signed)."""
    guarantee = (
        year_n.patients * reference.real_per_patient * year_n.expected_per_patient / reference.expected_per_patient
    )
    truncated_total = year_n.patients * year_n.real_per_patient
    return guarantee, truncated_total, guarantee - truncated_total
