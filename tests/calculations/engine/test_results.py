"""The results object: the section-5 JSON keeps exactly its keys (statement figures stay out of it), and
the CSV rows have one column per JSON key."""

from __future__ import annotations

from calculations.engine import GroupementResultRow
from calculations.engine.results import STATEMENT_FIELDS
from tests.golden import expected_golden, golden_results


def test_json_keys_are_those_of_the_expected_file_and_statement_figures_are_kept_apart():
    expected_keys = list(expected_golden()["groupements"][0])
    assert GroupementResultRow.json_keys() == expected_keys
    row = golden_results().groupements[0]
    assert list(row.to_json_dict()) == expected_keys
    assert not set(STATEMENT_FIELDS) & set(expected_keys)
    # The row still carries them, for the statement.
    assert row.score_max == 120.0 and len(row.quality_details) == 7


def test_csv_has_one_column_per_json_key():
    lines = golden_results().csv_rows()
    assert lines[0] == GroupementResultRow.json_keys()
    assert len(lines) == 13
    g001 = dict(zip(lines[0], lines[1], strict=True))
    assert g001["final_amount"] == "3553,13" and g001["below_min_patients"] == "0"
