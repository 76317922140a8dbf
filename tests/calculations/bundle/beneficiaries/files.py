"""Small beneficiaries files written by the tests, and what the validation makes of them."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from calculations.bundle.beneficiaries import validate_beneficiaries
from calculations.bundle.problems import BundleError

HEADER = "id_patient;age;sexe;ald;css;deces;rpps_mt;depenses"
GOOD_ROWS = ["P1;33;1;0;0;0;10783041963;8859,20", "P2;25;2;1;1;0;;1093,5", "P3;0;1;0;0;1;10783041963;0"]
NAME = "beneficiaires_2022.csv"


def write(directory: Path, content: str | bytes, name: str = NAME) -> Path:
    path = directory / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def lines(*rows: str, header: str = HEADER, end: str = "\n") -> str:
    return end.join([header, *rows]) + end


def rejected(directory: Path, content: str | bytes, **options) -> list[str]:
    """The report of a file that must be refused; a refusal stores nothing."""
    store = directory / "rejected"
    with pytest.raises(BundleError) as caught:
        validate_beneficiaries(write(directory, content), output_dir=store, **options)
    assert not store.exists() or not any(store.iterdir()), "a rejected file must store nothing"
    return caught.value.report().splitlines()


def accepted(directory: Path, content: str | bytes):
    """Validated into `out/<sha256>.parquet` (content-addressed: each content its own file)."""
    validated = validate_beneficiaries(write(directory, content), output_dir=directory / "out")
    return validated, pl.read_parquet(validated.parquet_path)
