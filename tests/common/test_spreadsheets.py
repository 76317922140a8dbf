"""Cells safe for spreadsheets (common.spreadsheets): formulas neutralised, numbers kept numbers."""

import csv
import io
from decimal import Decimal

import pytest

from common.spreadsheets import csv_writer, safe_cell


@pytest.mark.parametrize(
    "text",
    [
        '=HYPERLINK("https://example.org","x")',
        "+33 6 12 34 56 78",
        "-2+3+cmd|' /C calc'!A0",
        "@SUM(A1:A2)",
        "\t=1+1",
        "\r=1+1",
        "-",
        "=",
    ],
)
def test_a_text_a_spreadsheet_would_read_as_a_formula_gets_an_apostrophe(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize(
    "value",
    [
        -12,
        -0.5,
        Decimal("-1234.56"),
        "-1234,56",
        "-239,7165240776651",
        "-1,5e-05",
        "+12.5",
        "MSP de Saint-Amand",
        "G001",
        "",
        None,
        True,
    ],
)
def test_numbers_and_harmless_text_are_kept(value):
    assert safe_cell(value) is value


def test_the_csv_writer_neutralises_every_cell():
    buffer = io.StringIO()
    writer = csv_writer(buffer, delimiter=";", lineterminator="\n")
    writer.writerow(["=1+1", -3, "-3,50"])
    writer.writerows([["@x", "ok"]])
    assert list(csv.reader(io.StringIO(buffer.getvalue()), delimiter=";")) == [
        ["'=1+1", "-3", "-3,50"],
        ["'@x", "ok"],
    ]
