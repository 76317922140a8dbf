"""Step 1 — the members of each groupement on 31/12/N: start ≤ 31/12/N and (no end, or end ≥ 31/12/N)."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from calculations.bundle.inputs import MEMBER_SCHEMA
from calculations.engine import EngineError, Parameters, compute_campaign
from calculations.engine.steps.members import active_members
from tests.calculations.engine.builders import G1_DOCTOR, G2_DOCTOR, OUTSIDE_DOCTOR, rows_by_code, toy_inputs


def members(*rows: tuple) -> pl.DataFrame:
    """Rows of (groupement, rpps, start, end)."""
    return pl.DataFrame(
        [{"groupement": g, "rpps": r, "start": s, "end": e} for g, r, s, e in rows], schema=MEMBER_SCHEMA
    )


def pairs(frame: pl.DataFrame) -> set[tuple[str, str]]:
    return set(frame.select("rpps", "groupement").iter_rows())


def test_membership_is_judged_on_31_december_dates_inclusive():
    table = members(
        ("G1", "10000000001", date(2010, 1, 1), None),  # open-ended: in
        ("G1", "10000000002", date(2022, 12, 31), None),  # joins on the day: in
        ("G1", "10000000003", date(2023, 1, 1), None),  # joins the day after: out
        ("G1", "10000000004", date(2015, 1, 1), date(2022, 12, 31)),  # leaves on the day: in
        ("G1", "10000000005", date(2015, 1, 1), date(2022, 12, 30)),  # left the day before: out
        ("G2", "10000000006", date(2015, 1, 1), date(2030, 6, 30)),  # leaves later: in
    )
    assert pairs(active_members(table, ["G1", "G2"], 2022)) == {
        ("10000000001", "G1"),
        ("10000000002", "G1"),
        ("10000000004", "G1"),
        ("10000000006", "G2"),
    }
    # The same table on 31/12/2023: the doctor who left in 2022 is out, the one who joined in 2023 is in.
    assert pairs(active_members(table, ["G1", "G2"], 2023)) == {
        ("10000000001", "G1"),
        ("10000000002", "G1"),
        ("10000000003", "G1"),
        ("10000000006", "G2"),
    }


def test_only_the_groupements_asked_for_and_each_pair_once():
    table = members(
        ("G1", "10000000001", date(2010, 1, 1), date(2012, 12, 31)),
        ("G1", "10000000001", date(2013, 1, 1), None),  # two periods of one doctor: one pair
        ("G9", "10000000009", date(2010, 1, 1), None),  # a groupement taking no part in the campaign
    )
    result = active_members(table, ["G1"], 2022)
    assert result.columns == ["rpps", "groupement"]
    assert result.rows() == [("10000000001", "G1")]


def test_a_doctor_in_two_groupements_on_the_date_is_an_error():
    table = members(
        ("G2", "10000000001", date(2021, 1, 1), None),
        ("G1", "10000000001", date(2020, 1, 1), None),
        ("G1", "10000000002", date(2020, 1, 1), date(2021, 12, 31)),  # overlapped in 2021 only: not on 31/12/2022
        ("G2", "10000000002", date(2021, 6, 1), None),
    )
    with pytest.raises(EngineError) as caught:
        active_members(table, ["G1", "G2"], 2022)
    assert str(caught.value) == "membres.csv: rpps: le RPPS 10000000001 est membre de G1, G2 au 31/12/2022"


def test_the_members_of_n_also_make_the_reference_year_list():
    table = [
        {"groupement": "G1", "rpps": G1_DOCTOR, "start": date(2020, 1, 1), "end": None},
        {"groupement": "G2", "rpps": G2_DOCTOR, "start": date(2022, 12, 31), "end": None},  # joins on the date: in
        # left before 31/12/2022: the outsider's patients are not G1's
        {"groupement": "G1", "rpps": OUTSIDE_DOCTOR, "start": date(2019, 1, 1), "end": date(2022, 12, 30)},
    ]
    rows = rows_by_code(compute_campaign(toy_inputs(members=table), Parameters()))
    assert rows["G1"].n_patients == 2 and rows["G2"].n_patients == 2
    # G2's doctor joined only on 31/12/2022, yet its 2021 patients are G2's reference list.
    assert rows["G2"].n_patients_reference == 2
    table[2]["end"] = date(2022, 12, 31)  # still a member on the date (inclusive): G1 gains 2 patients in N and R
    rows = rows_by_code(compute_campaign(toy_inputs(members=table), Parameters()))
    assert rows["G1"].n_patients == 4 and rows["G1"].n_patients_reference == 4
