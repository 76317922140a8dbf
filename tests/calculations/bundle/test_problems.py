"""How problems print: `file:line: column: reason`, and `file: column: reason` for no line."""

from __future__ import annotations

from collections import Counter

from calculations.bundle.problems import BundleError, Problem, format_problems


def test_a_problem_prints_its_file_line_column_and_reason():
    assert str(
        Problem("beneficiaires_2018.csv", 12, "age", "ce n'est pas un nombre entier\u202f: «\u202fx\u202f»")
    ) == ("beneficiaires_2018.csv:12: age: ce n'est pas un nombre entier\u202f: «\u202fx\u202f»")


def test_a_file_level_problem_has_no_empty_line_number():
    """Issue 18 item 7: `beneficiaires_2018.csv: -: …`, not `beneficiaires_2018.csv:: -: …`."""
    assert str(Problem("beneficiaires_2018.csv", None, None, "required file is missing")) == (
        "beneficiaires_2018.csv: -: required file is missing"
    )
    assert (
        str(Problem("--param", None, "c_partage", "ce n'est ni un nombre"))
        == "--param: c_partage: ce n'est ni un nombre"
    )


def test_the_rest_is_counted_per_rule():
    problems = [Problem("f.csv", line, "age", "bad", "range") for line in range(2, 6)]
    assert format_problems(problems, limit=2, more=Counter(negative=3)) == [
        "f.csv:2: age: bad",
        "f.csv:3: age: bad",
        "… and 5 more (valeur négative\u202f: 3, hors bornes\u202f: 2)",
    ]


def test_a_combined_refusal_reports_each_file_as_its_own():
    first = BundleError([Problem("a.csv", 2, "age", "bad", "range")], more=Counter(range=150))
    second = BundleError([Problem("b.csv", None, None, "required file is missing", "missing_file")])
    combined = BundleError.combine([first, second])
    assert combined.lines() == [
        "a.csv:2: age: bad",
        "… and 150 more (hors bornes\u202f: 150)",
        "b.csv: -: required file is missing",
    ]
    assert combined.problem_count == 152
    assert str(combined) == "\n".join(combined.lines())
