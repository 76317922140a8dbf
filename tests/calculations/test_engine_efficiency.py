"""Steps 1, 2, 5, 6 and 12 on the hand-computed toy campaign (see engine_builders), and their errors.

Toy figures (no truncation bites: p = 99 of 6 rows is rank 6, the maximum):
  N: DA = national mean 200 for everybody. G1: DR̄ = (50 + 150)/2 = 100, E = 200 − 100 = 100.
                                           G2: DR̄ = 300, E = −100.
  R: DA = 180. G1: DR̄_R = 120; G2: DR̄_R = 240.
  rate:     Ev_G1 = 120·200/180 − 100 = 100/3;   Ev_G2 = 240·200/180 − 300 = −100/3.
  absolute: Ev_G1 = (200 − 180) − (100 − 120) = 40;   Ev_G2 = 20 − 60 = −40.
"""

from __future__ import annotations

from datetime import date

import pytest

from calculations.engine import EngineError, Parameters, compute_campaign
from calculations.engine.steps.averages import YearAverages
from calculations.engine.steps.efficiency import efficiency, evolution_gap, level_gap
from calculations.engine.steps.flags import below_min_patients, budget_guarantee
from tests.calculations.engine_builders import G1_DOCTOR, G2_DOCTOR, OUTSIDE_DOCTOR, TOY_SPEND, toy_inputs


def averages(patients: int, real: float, expected: float) -> YearAverages:
    return YearAverages(patients, real, expected, 0.0, 0, 0.0)


def rows_by_code(results):
    return {row.code: row for row in results.groupements}


@pytest.fixture(scope="module")
def toy_rate():
    return rows_by_code(compute_campaign(toy_inputs(), Parameters()))


def test_patient_lists_and_averages(toy_rate):
    g1, g2 = toy_rate["G1"], toy_rate["G2"]
    assert (g1.n_patients, g1.n_patients_reference, g2.n_patients, g2.n_patients_reference) == (2, 2, 2, 2)
    assert (g1.real_per_patient, g1.expected_per_patient) == (100.0, 200.0)
    assert (g1.real_per_patient_reference, g1.expected_per_patient_reference) == (120.0, 180.0)
    assert g1.real_expenditure_total == 200.0 and g2.real_expenditure_total == 600.0
    # d − DA over G1 in N: −150, −50; mean −100; sample variance (50² + 50²)/1 = 5000; se = √5000/√2 = 50.
    assert g1.level_gap_se == pytest.approx(50.0, rel=1e-15)
    assert g2.level_gap_se == 0.0  # d − DA = 100, 100: no spread


def test_level_and_evolution_gaps_rate(toy_rate):
    g1, g2 = toy_rate["G1"], toy_rate["G2"]
    assert g1.level_gap == 100.0 and g2.level_gap == -100.0
    assert g1.evolution_gap == pytest.approx(100 / 3, rel=1e-14)
    assert g2.evolution_gap == pytest.approx(-100 / 3, rel=1e-14)
    # G1: 1/2 · (1/3 · 100 + 2/3 · 100/3) = 250/9 per patient, × 2 patients.
    assert g1.amount_per_patient == pytest.approx(250 / 9, rel=1e-14)
    assert g1.efficiency_amount == pytest.approx(500 / 9, rel=1e-14)
    # G2: both gaps negative, each floored at 0.
    assert g2.amount_per_patient == 0.0 and g2.efficiency_amount == 0.0


def test_evolution_gap_absolute_form():
    rows = rows_by_code(compute_campaign(toy_inputs(), Parameters.merge(("--param", {"evolution_form": "absolute"}))))
    assert rows["G1"].evolution_gap == pytest.approx(40.0, rel=1e-14)
    assert rows["G2"].evolution_gap == pytest.approx(-40.0, rel=1e-14)
    # G1: 1/2 · (1/3 · 100 + 2/3 · 40) = 1/2 · 60 = 30 per patient.
    assert rows["G1"].amount_per_patient == pytest.approx(30.0, rel=1e-14)


def test_efficiency_unit_cases():
    year_n, reference = averages(10, 140.0, 120.0), averages(9, 100.0, 80.0)
    assert level_gap(year_n) == -20.0  # 120 − 140
    assert evolution_gap(year_n, reference, "rate") == 10.0  # 100·120/80 − 140 = 150 − 140
    assert evolution_gap(year_n, reference, "absolute") == 0.0  # (120 − 80) − (140 − 100)
    gain = efficiency(year_n, reference, Parameters())
    # E < 0 floored at 0; 1/2 · 2/3 · 10 = 10/3 per patient, × 10 patients.
    assert gain.amount_per_patient == pytest.approx(10 / 3, rel=1e-15)
    assert gain.efficiency_amount == pytest.approx(100 / 3, rel=1e-15)
    weights = Parameters.merge(("--param", {"c_ecart": "1", "c_evolution": "0", "c_partage": "1"}))
    assert efficiency(averages(1, 90.0, 100.0), reference, weights).amount_per_patient == 10.0


def test_flags_and_budget_guarantee(toy_rate):
    g1, g2 = toy_rate["G1"], toy_rate["G2"]
    assert g1.below_min_patients and g2.below_min_patients  # 2 < 5000
    assert not below_min_patients(5000, 5000) and below_min_patients(4999, 5000)
    # G1: 2 · 120 · 200/180 = 800/3; gain = 800/3 − 2·100 = 200/3. G2: 2·240·200/180 − 600 = −200/3.
    assert g1.budget_guarantee == pytest.approx(800 / 3, rel=1e-14)
    assert g1.budget_guarantee_gain == pytest.approx(200 / 3, rel=1e-13)
    assert g2.budget_guarantee_gain == pytest.approx(-200 / 3, rel=1e-13)
    assert budget_guarantee(averages(3, 10.0, 20.0), averages(1, 5.0, 10.0)) == (30.0, 0.0)


def test_members_are_taken_at_31_december_of_n():
    members = [
        {"groupement": "G1", "rpps": G1_DOCTOR, "start": date(2020, 1, 1), "end": None},
        {"groupement": "G2", "rpps": G2_DOCTOR, "start": date(2022, 12, 31), "end": None},  # joins on the date: in
        # left before 31/12/2022: the outsider's patients are not G1's
        {"groupement": "G1", "rpps": OUTSIDE_DOCTOR, "start": date(2019, 1, 1), "end": date(2022, 12, 30)},
    ]
    rows = rows_by_code(compute_campaign(toy_inputs(members=members), Parameters()))
    assert rows["G1"].n_patients == 2 and rows["G2"].n_patients == 2
    members[2]["end"] = date(2022, 12, 31)  # still a member on the date (inclusive): G1 gains 2 patients in N and R
    rows = rows_by_code(compute_campaign(toy_inputs(members=members), Parameters()))
    assert rows["G1"].n_patients == 4 and rows["G1"].n_patients_reference == 4


def test_empty_patient_list_names_the_groupement_and_year():
    spend = {2022: [(G1_DOCTOR, 50), (G2_DOCTOR, 300)], 2021: [(G1_DOCTOR, 120), (OUTSIDE_DOCTOR, 180)]}
    with pytest.raises(EngineError) as caught:
        compute_campaign(toy_inputs(spend=spend), Parameters())
    assert len(caught.value.problems) == 1
    message = str(caught.value.problems[0])
    assert "groupement G2" in message and "2021" in message and message.startswith("beneficiaires_2021")


def test_missing_beneficiaries_year_is_an_error():
    inputs = toy_inputs()
    del inputs.beneficiaries[2021]
    with pytest.raises(EngineError, match="2021"):
        compute_campaign(inputs, Parameters())


def test_groupements_outside_the_calendar_take_no_part():
    inputs = toy_inputs()
    inputs.phases = inputs.phases.clear()
    with pytest.raises(EngineError, match="no groupement takes part"):
        compute_campaign(inputs, Parameters())


def test_zero_expected_spend_in_reference_year_is_an_error():
    # Everybody spends 0 € in 2021: DA̅_R = 0 and DR̄_R · DA̅_N / DA̅_R is undefined.
    spend = {2022: TOY_SPEND[2022], 2021: [(G1_DOCTOR, 0), (G2_DOCTOR, 0), (OUTSIDE_DOCTOR, 0)]}
    with pytest.raises(EngineError) as caught:
        compute_campaign(toy_inputs(spend=spend), Parameters())
    assert [p.file for p in caught.value.problems] == ["beneficiaires_2021", "beneficiaires_2021"]
    assert "groupement G1" in str(caught.value) and "groupement G2" in str(caught.value)


def test_a_doctor_in_two_groupements_at_once_is_an_error():
    members = [
        {"groupement": "G1", "rpps": G1_DOCTOR, "start": date(2020, 1, 1), "end": None},
        {"groupement": "G2", "rpps": G2_DOCTOR, "start": date(2020, 1, 1), "end": None},
        {"groupement": "G2", "rpps": G1_DOCTOR, "start": date(2021, 1, 1), "end": None},
    ]
    with pytest.raises(EngineError) as caught:
        compute_campaign(toy_inputs(members=members), Parameters())
    assert str(caught.value) == f"membres:: rpps: RPPS {G1_DOCTOR} is a member of G1, G2 on 31/12/2022"
