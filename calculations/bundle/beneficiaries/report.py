"""The report of a rejected file: its first problems in file order, then a count per rule of the rest."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator

import polars as pl

from ..problems import Problem
from ..reasons import quoted, reason
from .checking import PassResult, column_code, text_column
from .reading import FIELDS, LINE
from .rules import REQUIRED_COLUMNS, Rule, rules_by_column

# (line, order on the line, column, rule name, reason): a wrong field count first, then the columns
# in REQUIRED_COLUMNS order, then a duplicate id.
Candidate = tuple[int, int, str | None, str, str]
_DUPLICATE_ORDER = len(REQUIRED_COLUMNS)


def failing_row_problems(result: PassResult, rules: tuple[Rule, ...], *, width: int) -> Iterator[Candidate]:
    """The problems of the failing rows a diagnosis kept: a wrong field count alone, or at most one
    problem per column (its first broken rule)."""
    by_column = rules_by_column(rules)
    for record in result.failing.iter_rows(named=True):
        line, fields = record[LINE], record[FIELDS]
        if fields is not None and fields != width:
            yield line, -1, None, "field_count", reason("field_count", expected=width, found=fields)
            continue
        for order, column in enumerate(REQUIRED_COLUMNS):
            code = record[column_code(column)]
            if code:
                rule = by_column[column][code - 1]
                yield line, order, column, rule.name, rule.explain(record[text_column(column)])


def duplicate_problems(duplicates: pl.DataFrame) -> Iterator[Candidate]:
    for record in duplicates.iter_rows(named=True):
        text = reason("duplicate_id", value=quoted(record["id_patient"]), first=record["first_line"])
        yield record[LINE], _DUPLICATE_ORDER, "id_patient", "duplicate", text


def malformed_problem(problem: Problem) -> Candidate:
    """A record the `csv` module could not read: the last problem of its line."""
    return problem.line, _DUPLICATE_ORDER + 1, None, problem.rule, problem.reason


def first_problems(
    name: str, candidates: Iterable[Candidate], totals: Counter, *, limit: int
) -> tuple[list[Problem], Counter]:
    """The first `limit` problems in file order, and a count per rule of the others (`totals` counts
    every problem found, shown or not)."""
    ordered = sorted(candidates, key=lambda candidate: candidate[:2])[:limit]
    problems = [Problem(name, line, column, reason, rule) for line, _, column, rule, reason in ordered]
    return problems, Counter(totals) - Counter(problem.rule for problem in problems)
