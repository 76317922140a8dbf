"""Publishing the typed Parquet: content-addressed, atomic, never rewritten; nothing on refusal."""

from __future__ import annotations

import pytest

from calculations.bundle.beneficiaries import BeneficiariesError, validate_beneficiaries
from calculations.bundle.beneficiaries.publishing import publish
from tests.calculations.bundle.beneficiaries.files import GOOD_ROWS, lines, write


def test_content_addressed_output(tmp_path):
    validated = validate_beneficiaries(write(tmp_path, lines(*GOOD_ROWS)), output_dir=tmp_path / "store")
    assert validated.parquet_path == tmp_path / "store" / f"{validated.facts.sha256}.parquet"
    assert [p.name for p in (tmp_path / "store").iterdir()] == [validated.parquet_path.name]  # no scratch left


def test_an_existing_file_is_never_rewritten(tmp_path):
    (tmp_path / "written").write_bytes(b"new")
    (tmp_path / "published").write_bytes(b"old")
    publish(tmp_path / "written", tmp_path / "published")
    assert (tmp_path / "published").read_bytes() == b"old"
    publish(tmp_path / "written", tmp_path / "elsewhere" / "new")
    assert (tmp_path / "elsewhere" / "new").read_bytes() == b"new"


def test_error_counts_and_rejection_leave_no_file(tmp_path):
    directory = tmp_path / "store"
    with pytest.raises(BeneficiariesError) as caught:
        validate_beneficiaries(write(tmp_path, lines("P1;200;1;0;0;0;;1", "P1;33;1;0;0;0;;1")), output_dir=directory)
    assert caught.value.problem_count == 2
    assert list(directory.iterdir()) == []  # no Parquet, no scratch directory
