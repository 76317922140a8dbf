"""The catalogue of reasons (issue 15): every reason a person reads is French, values between « », numbers
grouped the French way; the `file:line: column: ` prefix of a problem stays as the spec writes it."""

from __future__ import annotations

import re
import string
from decimal import Decimal
from fractions import Fraction

import pytest

from calculations.bundle.problems import Problem, format_problems
from calculations.bundle.reasons import FILE_KINDS, REASONS, RULE_LABELS, STEPS, file_kind, number, quoted, reason

NB, NBSP = "\u202f", "\u00a0"
# English words that once appeared in these messages and have no business in a French one.
ENGLISH = {
    "must",
    "got",
    "not",
    "the",
    "is",
    "are",
    "missing",
    "file",
    "value",
    "expected",
    "found",
    "unknown",
    "line",
    "column",
    "required",
    "between",
    "and",
    "or",
    "more",
    "rows",
    "groupement's",
    "indicator",
    "year",
    "empty",
    "negative",
    "truncation",
    "members",
    "caps",
    "cents",
    "done",
    "risk",
    "model",
    "efficiency",
    "quality",
}


def rendered(template: str) -> str:
    fields = {name for _, name, _, _ in string.Formatter().parse(template) if name and name != "nb"}
    return template.format(nb=NB, **dict.fromkeys(fields, "X"))


@pytest.mark.parametrize("key", sorted(REASONS))
def test_every_reason_is_french(key):
    words = set(re.findall(r"[a-z']+", rendered(REASONS[key]).lower()))
    assert not words & ENGLISH, (key, words & ENGLISH)


@pytest.mark.parametrize("text", [*FILE_KINDS.values(), *RULE_LABELS.values(), *STEPS.values()])
def test_every_label_is_french(text):
    assert not set(re.findall(r"[a-z']+", rendered(text).lower())) & ENGLISH


def test_values_are_shown_between_french_quotes_and_cut_when_long():
    assert quoted("200") == f"«{NB}200{NB}»"
    assert quoted("9" * 45) == f"«{NB}{'9' * 40}…{NB}»"
    assert reason("negative", value=quoted("-5")) == f"ne doit pas être négatif, reçu «{NB}-5{NB}»"


def test_numbers_are_grouped_with_a_decimal_comma_and_fractions_stay_fractions():
    assert number(100_000_000) == f"100{NBSP}000{NBSP}000"
    assert number(Decimal("-1234.50")) == f"-1{NBSP}234,50"
    assert number(Fraction(-19, 20)) == "-19/20"
    assert number(Fraction(2)) == "2"
    assert number(52.3) == "52,3"


def test_the_prefix_stays_file_line_column_and_the_rest_is_counted_in_french():
    problems = [Problem("f.csv", line, "age", reason("required"), "required") for line in (2, 3, 4)]
    assert format_problems(problems, limit=1) == [
        "f.csv:2: age: valeur obligatoire",
        f"… and 2 more (valeur obligatoire{NB}: 2)",
    ]
    assert file_kind("pdf") == "un document PDF"


def test_every_rule_a_beneficiaries_file_can_break_has_a_french_label():
    """The admin's counts and problemes.csv's `libelle_regle` show the label; a rule without one would
    show its code instead."""
    from calculations.bundle.beneficiaries.rules import rule_table

    names = {rule.name for delimiter in ";," for rule in rule_table(delimiter)}
    # Problems of the whole file, raised outside the rule table (validation, reading, the dataset service).
    names |= {"duplicate", "not_csv", "line_length", "too_many_rows", "no_rows", "empty_file", "header", "malformed"}
    names |= {"internal", "interrupted"}
    assert sorted(name for name in names if name not in RULE_LABELS) == []
