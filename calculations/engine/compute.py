"""`compute_campaign`: METHODOLOGY.md section 4, steps 1 to 13, in order.

This module only sequences the steps (one function each, in `steps/`) and gathers their figures; it
reads nothing from disk or database itself, so `simulate` and the Celery task share it unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import polars as pl

from calculations.bundle.inputs import CampaignInputs
from calculations.bundle.reasons import number, reason, step

from .errors import EngineError, engine_problem
from .parameters import Parameters
from .results import CampaignResults, CampaignTotals, GroupementResultRow
from .steps.averages import YearAverages, groupement_averages, untruncated_averages
from .steps.caps import groupement_cap, national_ceiling
from .steps.efficiency import efficiency
from .steps.envelope import drawing_right, quality_envelope, quality_value
from .steps.flags import below_min_patients, budget_guarantee
from .steps.members import active_members
from .steps.patient_lists import YearAggregate, aggregate_patient_lists, check_patient_lists, count_rows
from .steps.payment import PaymentInput, payments
from .steps.quality import IndicatorResult, quality_score
from .steps.risk_model import RiskModel, fit_risk_model
from .steps.robustness import gated, robustness
from .steps.truncation import truncation_threshold_cents

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class Participant:
    """A groupement taking part in campaign N: its wave has a row for N in the phase calendar."""

    code: str
    wave: str
    phase: int
    reference_year: int


def compute_campaign(
    inputs: CampaignInputs, parameters: Parameters | None = None, progress: Progress | None = None
) -> CampaignResults:
    """Compute campaign `inputs.year`; raises EngineError listing every problem that prevents it.

    `progress(step_name, fraction)` is called as each step starts (fraction of the work done, 0 to 1).
    """
    parameters = parameters or Parameters()
    report = progress or (lambda step, fraction: None)
    year = inputs.year

    participants = participating_groupements(inputs)
    indicator_results = gather_indicator_results(inputs, participants)
    years = inputs.years_needed()
    missing_years = [y for y in years if y not in inputs.beneficiaries]
    if missing_years:
        raise EngineError(
            [
                engine_problem(
                    f"beneficiaires_{y}.csv",
                    reason("missing_national_file", needed=y, year=year),
                )
                for y in missing_years
            ]
        )

    report(step("members"), 0.0)
    members = active_members(inputs.members, [p.code for p in participants], year)

    aggregates: dict[int, YearAggregate] = {}
    for index, y in enumerate(years):
        report(step("truncation", year=y), 0.02 + 0.9 * index / len(years))
        rows = count_rows(inputs.beneficiaries[y])
        if rows == 0:
            raise EngineError([engine_problem(f"beneficiaires_{y}.csv", reason("empty_national_file"))])
        threshold = truncation_threshold_cents(inputs.beneficiaries[y], parameters.truncation_percentile, rows)
        report(step("patient_lists", year=y), 0.02 + 0.9 * (index + 0.3) / len(years))
        aggregates[y] = aggregate_patient_lists(y, inputs.beneficiaries[y], members, threshold, rows)
    check_patient_lists(aggregates, {p.code: p.reference_year for p in participants}, year)

    report(step("risk_model"), 0.92)
    models: dict[int, RiskModel] = {y: fit_risk_model(y, *aggregates[y].national_cells()) for y in years}
    # Step 13's sensitivity: the same design refitted on untruncated spend, from the same cell sums.
    untruncated_models = {y: fit_risk_model(y, *aggregates[y].national_cells("spend_cents")) for y in years}

    report(step("averages"), 0.94)
    averages: dict[tuple[str, int], YearAverages] = {}
    untruncated: dict[tuple[str, int], YearAverages] = {}
    for p in participants:
        for y in {year, p.reference_year}:
            cells = aggregates[y].groupement_cells(p.code)
            averages[p.code, y] = groupement_averages(cells, models[y])
            untruncated[p.code, y] = untruncated_averages(cells, untruncated_models[y])
    check_reference_expectations(participants, averages)
    check_reference_expectations(participants, untruncated, reason("zero_expected_spend_untruncated"))
    real_expenditure_cents = sum(averages[p.code, year].real_expenditure_cents for p in participants)
    real_expenditure_total = real_expenditure_cents / 100
    total_patients = sum(averages[p.code, year].patients for p in participants)

    report(step("efficiency"), 0.95)
    measured = {
        p.code: efficiency(averages[p.code, year], averages[p.code, p.reference_year], parameters) for p in participants
    }
    report(step("robustness"), 0.955)
    robust = {
        p.code: robustness(measured[p.code], averages[p.code, year], averages[p.code, p.reference_year], parameters)
        for p in participants
    }
    sensitivity = {
        p.code: efficiency(untruncated[p.code, year], untruncated[p.code, p.reference_year], parameters)
        for p in participants
    }
    # With noise_gate = on, a flagged gain is 0 from step 6 on.
    efficiencies = {p.code: gated(measured[p.code], robust[p.code].efficiency_noise, parameters) for p in participants}

    report(step("quality"), 0.96)
    experience = dict(
        zip(inputs.experience["groupement"].to_list(), inputs.experience["points"].to_list(), strict=True)
    )
    qualities = {
        p.code: quality_score(p.code, indicator_results[p.code], float(experience.get(p.code) or 0.0), parameters)
        for p in participants
    }

    report(step("envelope"), 0.97)
    envelope = quality_envelope(real_expenditure_total, parameters)
    drawing_rights = {
        p.code: drawing_right(envelope, averages[p.code, year].patients, total_patients) for p in participants
    }
    quality_values = {p.code: quality_value(drawing_rights[p.code], qualities[p.code].ratio) for p in participants}

    caps = {p.code: groupement_cap(averages[p.code, year].real_expenditure_total, parameters) for p in participants}
    ceiling = national_ceiling(real_expenditure_total, parameters)
    paid = payments(
        [
            PaymentInput(
                p.code,
                p.phase,
                efficiencies[p.code].efficiency_amount,
                quality_values[p.code],
                qualities[p.code].ratio,
                caps[p.code],
            )
            for p in participants
        ],
        ceiling,
        parameters,
        report,
    )
    phase_amounts = dict(zip([p.code for p in participants], paid.phase_amounts, strict=True))
    after_cap, after_cap_total, coefficient, final_amounts = (
        paid.after_cap,
        paid.after_cap_total,
        paid.coefficient,
        paid.final_amounts,
    )

    report(step("flags"), 0.995)
    rows = []
    for p, amount_after_cap, final_amount in zip(participants, after_cap, final_amounts, strict=True):
        year_n, reference = averages[p.code, year], averages[p.code, p.reference_year]
        gain, quality, phase_amount = efficiencies[p.code], qualities[p.code], phase_amounts[p.code]
        intervals, untruncated_gain = robust[p.code], sensitivity[p.code]
        guarantee, truncated_total, guarantee_gain = budget_guarantee(year_n, reference)
        rows.append(
            GroupementResultRow(
                code=p.code,
                wave=p.wave,
                phase=p.phase,
                reference_year=p.reference_year,
                n_patients=year_n.patients,
                n_patients_reference=reference.patients,
                below_min_patients=below_min_patients(year_n.patients, int(parameters.min_patients)),
                real_per_patient=year_n.real_per_patient,
                expected_per_patient=year_n.expected_per_patient,
                real_per_patient_reference=reference.real_per_patient,
                expected_per_patient_reference=reference.expected_per_patient,
                level_gap=gain.level_gap,
                level_gap_se=year_n.level_gap_se,
                evolution_gap=gain.evolution_gap,
                level_gap_se_reference=intervals.level_gap_se_reference,
                level_gap_low=intervals.level_gap_low,
                level_gap_high=intervals.level_gap_high,
                evolution_gap_se=intervals.evolution_gap_se,
                evolution_gap_low=intervals.evolution_gap_low,
                evolution_gap_high=intervals.evolution_gap_high,
                efficiency_noise=intervals.efficiency_noise,
                amount_per_patient_untruncated=untruncated_gain.amount_per_patient,
                efficiency_amount_untruncated=untruncated_gain.efficiency_amount,
                amount_per_patient=gain.amount_per_patient,
                efficiency_amount=gain.efficiency_amount,
                quality_score=quality.score,
                quality_ratio=quality.ratio,
                drawing_right=drawing_rights[p.code],
                quality_value=quality_values[p.code],
                quality_amount=phase_amount.quality_amount,
                amount_before_cap=phase_amount.amount_before_cap,
                real_expenditure_total=year_n.real_expenditure_total,
                cap=caps[p.code],
                amount_after_cap=amount_after_cap,
                budget_guarantee=guarantee,
                budget_guarantee_gain=guarantee_gain,
                final_amount=final_amount,
                quality_details=quality.indicators,
                indicator_points=quality.indicator_points,
                experience_points=quality.experience_points,
                score_max=quality.score_max,
                phase3_factor=phase_amount.phase3_factor,
                positive_level_gap=gain.positive_level_gap,
                positive_evolution_gap=gain.positive_evolution_gap,
                truncated_expenditure_total=truncated_total,
                amount_after_coefficient=amount_after_cap * coefficient,
            )
        )
    report(step("done"), 1.0)
    totals = CampaignTotals(
        real_expenditure_total=real_expenditure_total,
        n_patients=total_patients,
        quality_envelope=envelope,
        national_ceiling=ceiling,
        amount_after_cap=after_cap_total,
        national_coefficient=coefficient,
        final_amount=sum(final_amounts, Decimal("0.00")),
    )
    thresholds = {y: aggregates[y].truncation_threshold for y in years}
    return CampaignResults(year, parameters, thresholds, totals, rows)


def check_reference_expectations(
    participants: list[Participant], averages: dict[tuple[str, int], YearAverages], which: str = ""
) -> None:
    """DA̅_R divides the rate-form evolution gap (step 6) and the budget guarantee (step 12): it may not be 0."""
    problems = [
        engine_problem(
            f"beneficiaires_{p.reference_year}.csv",
            reason("zero_expected_spend", groupement=p.code, reference_year=p.reference_year, which=which),
        )
        for p in participants
        if averages[p.code, p.reference_year].expected_per_patient == 0
    ]
    if problems:
        raise EngineError(problems)


def participating_groupements(inputs: CampaignInputs) -> list[Participant]:
    """Groupements whose wave has a phase-calendar row for N, by code ascending (the order of every output)."""
    year = inputs.year
    phase_of_wave = dict(inputs.phases.filter(pl.col("year") == year).select("wave", "phase").iter_rows())
    reference_year_of_wave = dict(inputs.waves.select("code", "reference_year").iter_rows())
    participants, problems = [], []
    for code, wave in sorted(inputs.groupements.select("code", "wave").iter_rows()):
        if wave not in phase_of_wave:
            continue
        if wave not in reference_year_of_wave:
            problems.append(
                engine_problem(
                    "groupements.csv", reason("unknown_wave_of_groupement", groupement=code, wave=wave), "vague"
                )
            )
            continue
        participants.append(Participant(code, wave, int(phase_of_wave[wave]), int(reference_year_of_wave[wave])))
    if problems:
        raise EngineError(problems)
    if not participants:
        raise EngineError(
            [
                engine_problem(
                    "calendrier_phases.csv",
                    reason("no_participant", year=year),
                    "annee",
                )
            ]
        )
    return participants


def gather_indicator_results(
    inputs: CampaignInputs, participants: list[Participant]
) -> dict[str, list[IndicatorResult]]:
    """Each participant's indicator results with family, direction and deciles; every gap reported at once."""
    indicators = {row["code"]: row for row in inputs.indicators.iter_rows(named=True)}
    deciles = {row["indicator"]: row for row in inputs.deciles.iter_rows(named=True)}
    socle_codes = sorted(code for code, row in indicators.items() if row["family"] == "socle")
    by_groupement: dict[str, list[IndicatorResult]] = {p.code: [] for p in participants}
    problems = []
    results_file = f"resultats_indicateurs_{inputs.year}.csv"
    for row in inputs.indicator_results.sort("groupement", "indicator").iter_rows(named=True):
        code, indicator = row["groupement"], row["indicator"]
        if code not in by_groupement:
            continue
        if indicator not in indicators:
            problems.append(
                engine_problem(
                    results_file,
                    reason("result_unknown_indicator", groupement=code, indicator=indicator),
                    "code_indicateur",
                )
            )
            continue
        if indicator not in deciles:
            problems.append(
                engine_problem(
                    f"deciles_{inputs.year}.csv",
                    reason("result_without_deciles", indicator=indicator, groupement=code),
                    "code_indicateur",
                )
            )
            continue
        definition, bounds = indicators[indicator], deciles[indicator]
        # Rates are never negative (section 3); the files refuse them, this guards other sources.
        negative = [
            (results_file, f"valeur_{k[6:]}", row[k]) for k in ("value_n", "value_n_1") if (row[k] or 0) < 0
        ] + [(f"deciles_{inputs.year}.csv", k, bounds[k]) for k in ("d2", "d3", "d7", "d8") if bounds[k] < 0]
        problems.extend(
            engine_problem(
                file,
                reason(
                    "negative_indicator_value", groupement=code, indicator=indicator, column=name, value=number(value)
                ),
                name,
            )
            for file, name, value in negative
        )
        by_groupement[code].append(
            IndicatorResult(
                code=indicator,
                family=definition["family"],
                direction=definition["direction"],
                value_n=row["value_n"],
                value_n_1=row["value_n_1"],
                d2=bounds["d2"],
                d3=bounds["d3"],
                d7=bounds["d7"],
                d8=bounds["d8"],
                label=definition["label"],
            )
        )
    if not socle_codes:
        problems.append(engine_problem("indicateurs.csv", reason("no_socle_indicator"), "famille"))
    for code, results in by_groupement.items():
        present = {r.code for r in results}
        problems.extend(
            engine_problem(
                results_file, reason("missing_socle_result", groupement=code, indicator=indicator), "code_indicateur"
            )
            for indicator in socle_codes
            if indicator not in present
        )
    if problems:
        raise EngineError(problems)
    return by_groupement
