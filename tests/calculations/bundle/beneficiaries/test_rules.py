"""The rule table of the beneficiaries file: one broken file per rule (the messages are the spec), the
typed values, the money limit of METHODOLOGY v3.1, and the table checked value by value against the
oracle."""

from __future__ import annotations

import polars as pl
import pytest

from calculations.bundle.beneficiaries.rules import (
    REQUIRED_COLUMNS,
    Field,
    breaks_none,
    cents,
    first_broken,
    rule_table,
    rules_by_column,
)
from tests.calculations.bundle.beneficiaries import oracle
from tests.calculations.bundle.beneficiaries.files import GOOD_ROWS, NAME, accepted, lines, rejected


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        (";33;1;0;0;0;;1", "id_patient: valeur obligatoire"),
        ("P9;abc;1;0;0;0;;1", "age: ce n'est pas un nombre entier\u202f: «\u202fabc\u202f»"),
        ("P9;2.5;1;0;0;0;;1", "age: ce n'est pas un nombre entier\u202f: «\u202f2.5\u202f»"),
        ("P9;126;1;0;0;0;;1", "age: doit être compris entre 0 et 125, reçu «\u202f126\u202f»"),
        ("P9;-1;1;0;0;0;;1", "age: doit être compris entre 0 et 125, reçu «\u202f-1\u202f»"),
        ("P9;;1;0;0;0;;1", "age: valeur obligatoire"),
        ("P9;33;3;0;0;0;;1", "sexe: doit être compris entre 1 et 2, reçu «\u202f3\u202f»"),
        ("P9;33;0;0;0;0;;1", "sexe: doit être compris entre 1 et 2, reçu «\u202f0\u202f»"),
        ("P9;33;1;2;0;0;;1", "ald: doit valoir 0 ou 1, reçu «\u202f2\u202f»"),
        ("P9;33;1;0;oui;0;;1", "css: ce n'est pas un nombre entier\u202f: «\u202foui\u202f»"),
        ("P9;33;1;0;0;+1;;1", "deces: ce n'est pas un nombre entier\u202f: «\u202f+1\u202f»"),
        ("P9;33;1;0;0;0;1078304196;1", "rpps_mt: le RPPS doit comporter 11 chiffres, reçu «\u202f1078304196\u202f»"),
        ("P9;33;1;0;0;0;1078304196A;1", "rpps_mt: le RPPS doit comporter 11 chiffres, reçu «\u202f1078304196A\u202f»"),
        ("P9;33;1;0;0;0;;", "depenses: valeur obligatoire"),
        ("P9;33;1;0;0;0;;-5", "depenses: ne doit pas être négatif, reçu «\u202f-5\u202f»"),
        (
            "P9;33;1;0;0;0;;1,234",
            "depenses: au plus 2 décimales (un montant en euros et centimes), reçu «\u202f1,234\u202f»",
        ),
        (
            "P9;33;1;0;0;0;;100000000",
            "depenses: trop grand\u202f: doit être inférieur à 100\u00a0000\u00a0000 euros, reçu «\u202f100000000\u202f»",
        ),
    ],
)
def test_each_value_rule_rejects_the_file(tmp_path, row, problem):
    assert rejected(tmp_path, lines(GOOD_ROWS[0], row)) == [f"{NAME}:3: {problem}"]


@pytest.mark.parametrize("amount", ["1e5", "+5", "1 000,00", "1.000,00", "12,", ",5", "douze"])
def test_money_has_no_exponent_sign_or_thousands_separator(tmp_path, amount):
    problem = rejected(tmp_path, lines(GOOD_ROWS[0], f"P9;33;1;0;0;0;;{amount}"))
    assert problem == [
        f"{NAME}:3: depenses: ce n'est pas un nombre décimal (séparateur décimal «\u202f.\u202f» ou «\u202f,\u202f», sans exposant, signe ni séparateur de milliers)\u202f: «\u202f{amount}\u202f»"
    ]


def test_money_is_bounded_below_one_hundred_million_euros_line_by_line(tmp_path):
    """v3.1: 0 ≤ depenses < 100 000 000 €, so that 68 M rows of cents still sum inside an Int64
    (68e6 × 1e10 cents = 6.8e17 < 9.22e18)."""
    _, frame = accepted(tmp_path, lines("P1;33;1;0;0;0;;99999999,99", "P2;33;1;0;0;0;;0099999999.99"))
    assert frame["depenses_cents"].to_list() == [9_999_999_999, 9_999_999_999]
    too_large = ["100000000", "100000000,00", "9999999999999,99", "99999999999999999999999"]
    report = rejected(tmp_path, lines(*(f"P{i};33;1;0;0;0;;{amount}" for i, amount in enumerate(too_large))))
    assert report == [
        f"{NAME}:{line}: depenses: trop grand\u202f: doit être inférieur à 100\u00a0000\u00a0000 euros, reçu «\u202f{amount}\u202f»"
        for line, amount in enumerate(too_large, start=2)
    ]


def test_negative_zero_is_zero_and_places_come_before_the_sign(tmp_path):
    _, frame = accepted(tmp_path, lines("P1;33;1;0;0;0;;-0,00", "P2;33;1;0;0;-0;;0"))
    assert frame["depenses_cents"].to_list() == [0, 0]
    assert rejected(tmp_path, lines("P1;33;1;0;0;0;;-0,001")) == [
        f"{NAME}:2: depenses: au plus 2 décimales (un montant en euros et centimes), reçu «\u202f-0,001\u202f»"
    ]


def test_every_problem_of_a_row_is_reported_in_column_order(tmp_path):
    assert rejected(tmp_path, lines("P1;x;9;2;0;0;12;1,999")) == [
        f"{NAME}:2: age: ce n'est pas un nombre entier\u202f: «\u202fx\u202f»",
        f"{NAME}:2: sexe: doit être compris entre 1 et 2, reçu «\u202f9\u202f»",
        f"{NAME}:2: ald: doit valoir 0 ou 1, reçu «\u202f2\u202f»",
        f"{NAME}:2: rpps_mt: le RPPS doit comporter 11 chiffres, reçu «\u202f12\u202f»",
        f"{NAME}:2: depenses: au plus 2 décimales (un montant en euros et centimes), reçu «\u202f1,999\u202f»",
    ]


def test_a_long_value_is_shown_cut(tmp_path):
    assert rejected(tmp_path, lines("P1;" + "9" * 60 + ";1;0;0;0;;1")) == [
        f"{NAME}:2: age: doit être compris entre 0 et 125, reçu «\u202f{'9' * 40}…\u202f»"
    ]


def test_values_are_typed_exactly(tmp_path):
    validated, frame = accepted(tmp_path, lines(*GOOD_ROWS))
    assert frame.rows() == [
        ("P1", 33, 1, 0, 0, 0, "10783041963", 885920),  # 8859,20 € = 885 920 cents
        ("P2", 25, 2, 1, 1, 0, None, 109350),  # 1093,5 € = 109 350 cents; empty rpps_mt is null
        ("P3", 0, 1, 0, 0, 1, "10783041963", 0),
    ]


def test_comma_delimited_file_uses_the_decimal_point(tmp_path):
    header = "id_patient,age,sexe,ald,css,deces,rpps_mt,depenses"
    _, frame = accepted(tmp_path, lines("P1,33,1,0,0,0,10783041963,8859.20", header=header))
    assert frame["depenses_cents"].to_list() == [885920]


# --- the table, value by value, against the oracle ----------------------------------------------------

VALUES = {
    "id_patient": ["P1", "", "Pé7", "x" * 50],
    "age": ["0", "33", "125", "126", "-1", "x", "", "2.5", "+1", "007", "-0", "99999999999999999999"],
    "sexe": ["1", "2", "0", "3", "", "01"],
    "ald": ["0", "1", "2", "", "+1", "1e0"],
    "css": ["0", "1", "-0", "a"],
    "deces": ["0", "1", "01", "-1"],
    "rpps_mt": ["", "10783041963", "1078304196", "107830419630", "x0783041963", "+0783041963"],
    "depenses": [
        *("0", "12,5", "12.50", "1,234", "-3", "-0,00", "-0,001", "1e5", "", "12,", ",5", "+5", "1.000,00"),
        *("99999999,99", "100000000", "0000000000000000000000012,5", "99999999999999999999", "-99999999999999999999"),
    ],
}


@pytest.mark.parametrize("delimiter", [";", ","])
def test_the_rule_table_names_the_first_broken_rule_as_the_oracle_does(delimiter):
    by_column = rules_by_column(rule_table(delimiter))
    for column in REQUIRED_COLUMNS:
        values = pl.DataFrame({"text": VALUES[column]})
        field = Field.of_text(pl.col("text"), cents=cents(pl.col("text"), delimiter))
        codes = values.select(first_broken(by_column[column], field))
        for text, code in zip(VALUES[column], codes.to_series(), strict=True):
            expected = oracle._problem(column, text, delimiter)
            if expected is None:
                assert code == 0, (column, text)
            else:
                rule = by_column[column][code - 1]
                assert (rule.name, rule.explain(text)) == expected, (column, text)


def test_the_reader_typed_integers_give_the_verdict_of_the_text():
    """Where the optimistic reading applies (no `+`, no whitespace), an integer column typed by the CSV
    reader breaks no rule exactly when its text breaks none."""
    rules = rule_table(";")
    texts = [t for t in VALUES["age"] if "+" not in t]
    source = ("age\n" + "\n".join(texts) + "\n").encode()
    typed = pl.read_csv(source, schema={"age": pl.Int64}, ignore_errors=True)["age"]
    frame = pl.DataFrame({"text": texts, "typed": typed})
    age_rules = tuple(rule for rule in rules if rule.column == "age")
    verdicts = frame.select(
        breaks_none(age_rules, {"age": Field.of_text(pl.col("text"))}).alias("text"),
        breaks_none(age_rules, {"age": Field.of_reader_integer(pl.col("typed"))}).alias("typed"),
    )
    assert verdicts["text"].to_list() == verdicts["typed"].to_list()
    assert verdicts["text"].to_list() == [oracle._problem("age", t, ";") is None for t in texts]
