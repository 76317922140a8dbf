"""Tiny hand-computable campaigns for the engine tests (no files, no database).

The toy campaign 2022 (wave W1, reference year 2021) has two groupements, G1 (doctor 11111111111)
and G2 (doctor 22222222222), and outsiders (doctor 99999999999). Every patient has the same risk cell
(sexe 1, age 40, no flag), so the risk model has a single column and DA = the national mean of d.

    year N = 2022: G1 spends 50, 150 · G2 300, 300 · outsiders 200, 200 → national mean 200
    year R = 2021: G1 120, 120      · G2 240, 240 · outsiders 180, 180 → national mean 180

One socle indicator S1 (hausse; d2 10, d3 20, d7 60, d8 80): G1 scores 50 (f = 0.5), G2 90 (f = 1).
Experience points: G1 10, G2 20.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from calculations.bundle.beneficiaries import BENEFICIARY_SCHEMA
from calculations.engine import CampaignInputs

G1_DOCTOR, G2_DOCTOR, OUTSIDE_DOCTOR = "11111111111", "22222222222", "99999999999"


def beneficiaries(rows: list[tuple]) -> pl.LazyFrame:
    """Rows of (rpps_mt, euros) or (rpps_mt, euros, age, sexe, ald, css, deces); ids are generated."""
    records = []
    for index, row in enumerate(rows):
        if len(row) == 2:
            row = (*row, 40, 1, 0, 0, 0)
        rpps, euros, age, sexe, ald, css, deces = row
        records.append(
            {
                "id_patient": f"P{index:06d}",
                "age": age,
                "sexe": sexe,
                "ald": ald,
                "css": css,
                "deces": deces,
                "rpps_mt": rpps,
                "depenses_cents": round(euros * 100),
            }
        )
    return pl.DataFrame(records, schema=BENEFICIARY_SCHEMA).lazy()


TOY_SPEND = {
    2022: [
        (G1_DOCTOR, 50),
        (G1_DOCTOR, 150),
        (G2_DOCTOR, 300),
        (G2_DOCTOR, 300),
        (OUTSIDE_DOCTOR, 200),
        (OUTSIDE_DOCTOR, 200),
    ],
    2021: [
        (G1_DOCTOR, 120),
        (G1_DOCTOR, 120),
        (G2_DOCTOR, 240),
        (G2_DOCTOR, 240),
        (OUTSIDE_DOCTOR, 180),
        (OUTSIDE_DOCTOR, 180),
    ],
}


def toy_inputs(
    *,
    phase: int = 2,
    spend: dict | None = None,
    results: list[dict] | None = None,
    experience: list[dict] | None = None,
    indicators: list[dict] | None = None,
    members: list[dict] | None = None,
) -> CampaignInputs:
    spend = TOY_SPEND if spend is None else spend
    if results is None:
        results = [
            {"groupement": "G1", "indicator": "S1", "value_n": 50.0, "value_n_1": 45.0},
            {"groupement": "G2", "indicator": "S1", "value_n": 90.0, "value_n_1": 85.0},
        ]
    if experience is None:
        experience = [{"groupement": "G1", "points": 10.0}, {"groupement": "G2", "points": 20.0}]
    if indicators is None:
        indicators = [{"code": "S1", "label": "Socle 1", "family": "socle", "direction": "hausse"}]
    if members is None:
        members = [
            {"groupement": "G1", "rpps": G1_DOCTOR, "start": date(2020, 1, 1), "end": None},
            {"groupement": "G2", "rpps": G2_DOCTOR, "start": date(2020, 1, 1), "end": None},
        ]
    return CampaignInputs.from_rows(
        year=2022,
        waves=[{"code": "W1", "label": "Vague 1", "entry_year": 2022, "reference_year": 2021}],
        phases=[{"wave": "W1", "year": 2022, "phase": phase}],
        groupements=[
            {"code": "G1", "name": "Un", "wave": "W1", "region": "R"},
            {"code": "G2", "name": "Deux", "wave": "W1", "region": "R"},
        ],
        members=members,
        indicators=indicators,
        deciles=[{"indicator": i["code"], "d2": 10.0, "d3": 20.0, "d7": 60.0, "d8": 80.0} for i in indicators],
        indicator_results=results,
        experience=experience,
    ).with_beneficiaries({year: beneficiaries(rows) for year, rows in spend.items()})


def rows_by_code(results) -> dict:
    """A campaign's groupement rows by code."""
    return {row.code: row for row in results.groupements}
