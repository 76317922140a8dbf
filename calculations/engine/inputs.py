"""What a campaign computation reads: reference frames plus one lazy beneficiaries frame per year.

`simulate` builds it from a bundle directory, the Celery task from the database and stored Parquet
files; both hand it to the same `compute_campaign`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl


@dataclass
class CampaignInputs:
    """The data of campaign `year` (column names of `calculations.bundle.reference.ReferenceBundle`).

    waves: code, label, entry_year, reference_year · phases: wave, year, phase ·
    groupements: code, name, wave, region · members: groupement, rpps, start, end (null = still member) ·
    indicators: code, label, family (socle|carte), direction (hausse|baisse) · deciles (year N): indicator,
    d2, d3, d7, d8 · indicator_results (year N): groupement, indicator, value_n, value_n_1 (nullable) ·
    experience (year N): groupement, points (may be empty) · beneficiaries: year -> validated lazy frame
    (id_patient, age, sexe, ald, css, deces, rpps_mt, depenses_cents) for N and every reference year needed.
    """

    year: int
    waves: pl.DataFrame
    phases: pl.DataFrame
    groupements: pl.DataFrame
    members: pl.DataFrame
    indicators: pl.DataFrame
    deciles: pl.DataFrame
    indicator_results: pl.DataFrame
    experience: pl.DataFrame
    beneficiaries: dict[int, pl.LazyFrame] = field(default_factory=dict)

    @classmethod
    def from_reference(
        cls, reference, beneficiaries: dict[int, pl.LazyFrame], year: int | None = None
    ) -> CampaignInputs:
        """From a `ReferenceBundle` (or any object with the same frame attributes)."""
        return cls(
            year=reference.year if year is None else year,
            waves=reference.waves,
            phases=reference.phases,
            groupements=reference.groupements,
            members=reference.members,
            indicators=reference.indicators,
            deciles=reference.deciles,
            indicator_results=reference.indicator_results,
            experience=reference.experience,
            beneficiaries=dict(beneficiaries),
        )


def years_needed(waves: pl.DataFrame, phases: pl.DataFrame, groupements: pl.DataFrame, year: int) -> list[int]:
    """Year N and the reference year of every wave that has participating groupements in N."""
    participating_waves = set(phases.filter(pl.col("year") == year)["wave"].to_list())
    waves_with_groupements = participating_waves & set(groupements["wave"].to_list())
    reference_years = waves.filter(pl.col("code").is_in(list(waves_with_groupements)))["reference_year"].to_list()
    return sorted({year, *(int(y) for y in reference_years)})
