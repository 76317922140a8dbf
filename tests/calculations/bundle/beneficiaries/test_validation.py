"""Validating whole files: the golden bundle, the CONTRACT frame, `scan_beneficiaries`."""

from __future__ import annotations

import csv
from decimal import Decimal

import polars as pl
import pytest

from calculations.bundle.beneficiaries import BENEFICIARY_SCHEMA, scan_beneficiaries, validate_beneficiaries
from calculations.bundle.problems import BundleError
from tests.calculations.bundle.beneficiaries.files import GOOD_ROWS, NAME, lines, write


def test_golden_files_are_valid_and_typed_as_the_contract(golden_dir, tmp_path):
    for year in (2018, 2019, 2022):
        source = golden_dir / f"beneficiaires_{year}.csv"
        validated = validate_beneficiaries(source, output=tmp_path / f"{year}.parquet")
        frame = pl.read_parquet(validated.parquet_path)
        assert dict(frame.schema) == BENEFICIARY_SCHEMA
        # Independent check with the csv module and Decimal: same ids, exact cents.
        with open(source, encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle, delimiter=";"))
        assert validated.rows == frame.height == len(rows) == 25_000
        assert frame["id_patient"].to_list() == [r["id_patient"] for r in rows]
        cents = [int(Decimal(r["depenses"].replace(",", ".")) * 100) for r in rows]
        assert frame["depenses_cents"].to_list() == cents
        assert validated.profile["depenses_total_cents"] == sum(cents)
        assert validated.profile["with_mt"] == sum(1 for r in rows if r["rpps_mt"])
        assert validated.path_taken == "fast"


def test_scan_beneficiaries_reads_parquet_or_validates_csv(tmp_path):
    path = write(tmp_path, lines(*GOOD_ROWS))
    assert scan_beneficiaries(path).collect()["depenses_cents"].to_list() == [885920, 109350, 0]
    validated = validate_beneficiaries(path, output=tmp_path / "b.parquet")
    assert scan_beneficiaries(validated.parquet_path).collect().equals(scan_beneficiaries(path).collect())
    with pytest.raises(BundleError):
        scan_beneficiaries(write(tmp_path, lines("P1;200;1;0;0;0;;1"), name="bad.csv"))


def test_scan_beneficiaries_hands_over_the_warnings(tmp_path):
    warnings = []
    path = write(tmp_path, lines(GOOD_ROWS[0] + ";x", header="id_patient;age;sexe;ald;css;deces;rpps_mt;depenses;note"))
    assert scan_beneficiaries(path, warnings=warnings).collect().height == 1
    assert [str(w) for w in warnings] == [f"{NAME}:1: note: colonne inconnue ignorée"]
