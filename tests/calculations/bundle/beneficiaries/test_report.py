"""The report of a rejected file: the first problems in file order, then a count per rule."""

from __future__ import annotations

from collections import Counter

from calculations.bundle.beneficiaries.report import first_problems
from tests.calculations.bundle.beneficiaries.files import NAME, lines, rejected


def test_first_hundred_problems_then_a_count_per_rule(tmp_path):
    rows = [f"P{i};200;1;0;0;0;;1" for i in range(120)] + [f"Q{i};33;1;0;0;0;;-1" for i in range(30)]
    report = rejected(tmp_path, lines(*rows))
    assert len(report) == 101
    assert report[0] == f"{NAME}:2: age: doit être compris entre 0 et 125, reçu «\u202f200\u202f»"
    assert report[99] == f"{NAME}:101: age: doit être compris entre 0 et 125, reçu «\u202f200\u202f»"
    # 150 problems: 100 shown, the rest are 20 ages (rows 102-121) and 30 negative amounts.
    assert report[100] == "… and 50 more (valeur négative\u202f: 30, hors bornes\u202f: 20)"


def test_a_smaller_limit(tmp_path):
    report = rejected(tmp_path, lines(*(f"P{i};200;1;0;0;0;;1" for i in range(5))), limit=2)
    assert report == [
        f"{NAME}:2: age: doit être compris entre 0 et 125, reçu «\u202f200\u202f»",
        f"{NAME}:3: age: doit être compris entre 0 et 125, reçu «\u202f200\u202f»",
        "… and 3 more (hors bornes\u202f: 3)",
    ]


def test_problems_are_ordered_by_line_then_place_on_the_line():
    candidates = [
        (3, 8, "id_patient", "duplicate", "id_patient «\u202fP1\u202f» en double (déjà ligne 2)"),
        (3, 1, "age", "range", "doit être compris entre 0 et 125, reçu «\u202f200\u202f»"),
        (2, -1, None, "field_count", "8 champs attendus, 7 trouvés"),
    ]
    totals = Counter(duplicate=5, range=1, field_count=1)
    problems, more = first_problems("f.csv", candidates, totals, limit=2)
    assert [str(p) for p in problems] == [
        "f.csv:2: -: 8 champs attendus, 7 trouvés",
        "f.csv:3: age: doit être compris entre 0 et 125, reçu «\u202f200\u202f»",
    ]
    assert more == Counter(duplicate=5)


def test_the_first_problems_are_the_first_of_the_file_across_many_chunks(tmp_path, monkeypatch):
    """The failing rows are taken with a streaming `head`: they must be the first ones of the file
    even when the file is read in many chunks (here 64 KiB, about 80 of them)."""
    monkeypatch.setenv("POLARS_CSV_CHUNK_SIZE", str(64 << 10))
    rows = [f"P{i};{200 if i % 997 == 0 else 33};1;0;0;0;;1" for i in range(200_000)]
    report = rejected(tmp_path, lines(*rows))
    broken_lines = [i + 2 for i in range(0, 200_000, 997)]  # 201 of them, the 100th on line 98 705
    assert report[:100] == [
        f"{NAME}:{line}: age: doit être compris entre 0 et 125, reçu «\u202f200\u202f»" for line in broken_lines[:100]
    ]
    assert report[100] == "… and 101 more (hors bornes\u202f: 101)"
