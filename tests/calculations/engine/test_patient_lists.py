"""Step 2 — patient lists: each row goes to its médecin traitant's groupement (or to none), summed per
risk cell in integer cents in one pass; an empty list in N or R is an error naming the groupement."""

from __future__ import annotations

import polars as pl
import pytest

from calculations.bundle.beneficiaries.rules import MAX_SUMMABLE_ROWS, MONEY_LIMIT_CENTS
from calculations.engine import EngineError, Parameters, compute_campaign
from calculations.engine.steps.patient_lists import (
    aggregate_patient_lists,
    check_patient_lists,
    check_spend_bounds,
    count_rows,
)
from tests.calculations.engine.builders import G1_DOCTOR, G2_DOCTOR, OUTSIDE_DOCTOR, beneficiaries, toy_inputs

MEMBERS = pl.DataFrame({"rpps": [G1_DOCTOR, G2_DOCTOR], "groupement": ["G1", "G2"]})
# Risk cells: ((sexe − 1)·20 + min(age // 5, 19))·8 + ald·4 + css·2 + deces.
CELL_MAN_40 = (0 * 20 + 8) * 8  # 64
CELL_WOMAN_97_ALD = (1 * 20 + 19) * 8 + 4  # 316


@pytest.fixture
def aggregate():
    rows = [
        (G1_DOCTOR, 10.00, 40, 1, 0, 0, 0),
        (G1_DOCTOR, 250.50, 42, 1, 0, 0, 0),  # above the threshold of 100 €: d = 100
        (G1_DOCTOR, 99.99, 97, 2, 1, 0, 0),
        (G2_DOCTOR, 30.00, 40, 1, 0, 0, 0),
        (OUTSIDE_DOCTOR, 500.00, 40, 1, 0, 0, 0),  # a doctor of no groupement
        (None, 7.25, 40, 1, 0, 0, 0),  # no médecin traitant
    ]
    frame = beneficiaries(rows)
    return aggregate_patient_lists(2022, frame, MEMBERS, 10_000, count_rows(frame))


def cell_sums(aggregate, groupement):
    cells = aggregate.cells.filter(
        pl.col("groupement").is_null() if groupement is None else pl.col("groupement") == groupement
    )
    return {
        row["cell"]: (row["patients"], row["spend_cents"], row["truncated_cents"], row["truncated_cents_squared"])
        for row in cells.iter_rows(named=True)
    }


def test_rows_are_summed_by_groupement_and_risk_cell_in_cents(aggregate):
    assert aggregate.rows == 6 and aggregate.truncation_threshold == 100.0
    # G1, men of 40–44: spend 1000 + 25050 cents; truncated 1000 + 10000; squares 1000² + 10000².
    assert cell_sums(aggregate, "G1") == {
        CELL_MAN_40: (2, 26_050, 11_000, 1_000**2 + 10_000**2),
        CELL_WOMAN_97_ALD: (1, 9_999, 9_999, 9_999**2),
    }
    assert cell_sums(aggregate, "G2") == {CELL_MAN_40: (1, 3_000, 3_000, 3_000**2)}
    # The outsider's patient and the patient without a médecin traitant belong to no groupement.
    assert cell_sums(aggregate, None) == {CELL_MAN_40: (2, 50_725, 10_725, 10_000**2 + 725**2)}


def test_counts_per_groupement_and_national_cells(aggregate):
    assert aggregate.patient_counts() == {"G1": 3, "G2": 1}
    patients, truncated = aggregate.national_cells()
    # The national model sees every row, in a groupement or not.
    assert patients == {CELL_MAN_40: 5, CELL_WOMAN_97_ALD: 1}
    assert truncated == {CELL_MAN_40: 11_000 + 3_000 + 10_725, CELL_WOMAN_97_ALD: 9_999}
    # The untruncated refit of step 13 reads raw spend from the same sums: no second pass over the rows.
    patients, raw = aggregate.national_cells("spend_cents")
    assert raw == {CELL_MAN_40: 26_050 + 3_000 + 50_725, CELL_WOMAN_97_ALD: 9_999}


def test_an_empty_list_in_n_or_in_r_names_the_groupement_and_the_year(aggregate):
    only_g1 = beneficiaries([(G1_DOCTOR, 10.0)])
    reference = aggregate_patient_lists(2021, only_g1, MEMBERS, 10_000, 1)
    check_patient_lists({2022: aggregate, 2021: aggregate}, {"G1": 2021, "G2": 2021}, 2022)  # both present
    with pytest.raises(EngineError) as caught:
        check_patient_lists({2022: aggregate, 2021: reference}, {"G1": 2021, "G2": 2021}, 2022)
    assert [str(p) for p in caught.value.problems] == [
        "beneficiaires_2021.csv: rpps_mt: groupement G2\u202f: patientèle vide en 2021 "
        "(aucune ligne n'a pour médecin traitant un membre au 31/12/2022)"
    ]


def test_empty_list_in_a_campaign():
    spend = {2022: [(G1_DOCTOR, 50), (G2_DOCTOR, 300)], 2021: [(G1_DOCTOR, 120), (OUTSIDE_DOCTOR, 180)]}
    with pytest.raises(EngineError) as caught:
        compute_campaign(toy_inputs(spend=spend), Parameters())
    assert len(caught.value.problems) == 1
    message = str(caught.value.problems[0])
    assert "groupement G2" in message and "2021" in message and message.startswith("beneficiaires_2021")


def test_spend_out_of_the_section_3_bounds_is_an_error_before_any_sum_is_used():
    """A frame that skipped validation (a Parquet file, a frame built in code) with a negative spend."""
    frame = beneficiaries([(G1_DOCTOR, -0.01), (G2_DOCTOR, 10.0)])
    with pytest.raises(EngineError) as caught:
        aggregate_patient_lists(2022, frame, MEMBERS, 10_000, count_rows(frame))
    assert [str(p) for p in caught.value.problems] == [
        "beneficiaires_2022.csv: depenses: les dépenses doivent être comprises entre 0 et 100\u00a0000\u00a0000 euros "
        "exclus, trouvé de -0,01 à 10,00"
    ]


def test_a_sum_of_cents_that_could_pass_an_int64_fails_loudly():
    """(10¹⁰ − 1) cents × 922 337 203 rows = 9 223 372 029 077 662 797 ≤ 2⁶³ − 1 = 9 223 372 036 854 775 807;
    one row more could pass it, and Polars would wrap the sum without a word."""
    largest = MONEY_LIMIT_CENTS - 1
    assert MAX_SUMMABLE_ROWS == 922_337_203 and largest * MAX_SUMMABLE_ROWS == 9_223_372_029_077_662_797
    check_spend_bounds(2022, 0, largest, MAX_SUMMABLE_ROWS)
    with pytest.raises(EngineError, match="pourrait dépasser un entier de 64 bits"):
        check_spend_bounds(2022, 0, largest, MAX_SUMMABLE_ROWS + 1)
