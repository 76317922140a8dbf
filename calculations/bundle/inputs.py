"""What a campaign computation reads: the reference frames of year N plus one lazy beneficiaries frame
per year needed. One type for every caller: `read_reference_bundle` fills it from a bundle directory
(`simulate`), the campaigns service from the snapshot a launch recorded (the Celery task); both attach
the national files with `with_beneficiaries` and hand it to the engine's `compute_campaign`.

It lives with the bundle readers (pure Python + Polars, no Django) so that the engine may import it
without the bundle ever importing the engine.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import polars as pl

from .problems import Problem

WAVE_SCHEMA = {"code": pl.String, "label": pl.String, "entry_year": pl.Int64, "reference_year": pl.Int64}
PHASE_SCHEMA = {"wave": pl.String, "year": pl.Int64, "phase": pl.Int64}
GROUPEMENT_SCHEMA = {"code": pl.String, "name": pl.String, "wave": pl.String, "region": pl.String}
MEMBER_SCHEMA = {"groupement": pl.String, "rpps": pl.String, "start": pl.Date, "end": pl.Date}
INDICATOR_SCHEMA = {"code": pl.String, "label": pl.String, "family": pl.String, "direction": pl.String}
DECILE_SCHEMA = {"indicator": pl.String, "d2": pl.Float64, "d3": pl.Float64, "d7": pl.Float64, "d8": pl.Float64}
RESULT_SCHEMA = {"groupement": pl.String, "indicator": pl.String, "value_n": pl.Float64, "value_n_1": pl.Float64}
EXPERIENCE_SCHEMA = {"groupement": pl.String, "points": pl.Float64}


@dataclass
class CampaignInputs:
    """The data of campaign `year` as Polars frames (English column names).

    waves: code, label, entry_year, reference_year · phases: wave, year, phase ·
    groupements: code, name, wave, region · members: groupement, rpps, start, end (null = still member) ·
    indicators: code, label, family (socle|carte), direction (hausse|baisse) · deciles (year N): indicator,
    d2, d3, d7, d8 · indicator_results (year N): groupement, indicator, value_n, value_n_1 (nullable) ·
    experience (year N): groupement, points (may be empty) · beneficiaries: year -> validated lazy frame
    (id_patient, age, sexe, ald, css, deces, rpps_mt, depenses_cents) for N and every reference year needed ·
    parameters: the bundle's parametres.json (raw values) · warnings: what reading the files noticed.
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
    parameters: dict = field(default_factory=dict)
    warnings: list[Problem] = field(default_factory=list)

    @classmethod
    def from_rows(
        cls,
        *,
        year: int,
        waves,
        phases,
        groupements,
        members,
        indicators,
        deciles,
        indicator_results,
        experience,
        parameters=None,
        warnings=None,
    ) -> CampaignInputs:
        """Build the frames from plain dicts (English keys), whether they come from files or the database."""
        return cls(
            year=year,
            waves=pl.DataFrame(waves, schema=WAVE_SCHEMA),
            phases=pl.DataFrame(phases, schema=PHASE_SCHEMA),
            groupements=pl.DataFrame(groupements, schema=GROUPEMENT_SCHEMA),
            members=pl.DataFrame(members, schema=MEMBER_SCHEMA),
            indicators=pl.DataFrame(indicators, schema=INDICATOR_SCHEMA),
            deciles=pl.DataFrame(deciles, schema=DECILE_SCHEMA),
            indicator_results=pl.DataFrame(indicator_results, schema=RESULT_SCHEMA),
            experience=pl.DataFrame(experience, schema=EXPERIENCE_SCHEMA),
            parameters=dict(parameters or {}),
            warnings=list(warnings or []),
        )

    def with_beneficiaries(self, beneficiaries: dict[int, pl.LazyFrame]) -> CampaignInputs:
        """The same reference data with these national files attached (year -> lazy frame)."""
        return dataclasses.replace(self, beneficiaries=dict(beneficiaries))

    def years_needed(self) -> list[int]:
        """Year N and the reference year of every wave that has participating groupements in N."""
        participating_waves = set(self.phases.filter(pl.col("year") == self.year)["wave"].to_list())
        waves_with_groupements = participating_waves & set(self.groupements["wave"].to_list())
        reference_years = self.waves.filter(pl.col("code").is_in(list(waves_with_groupements)))[
            "reference_year"
        ].to_list()
        return sorted({self.year, *(int(y) for y in reference_years)})
