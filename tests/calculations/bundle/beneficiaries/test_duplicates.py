"""Duplicate ids: named with the line of their first occurrence, found in bounded memory (buckets),
and a hash collision is not a duplicate."""

from __future__ import annotations

import polars as pl

from calculations.bundle.beneficiaries import duplicates
from calculations.bundle.beneficiaries.checking import HASH
from calculations.bundle.beneficiaries.reading import LINE
from tests.calculations.bundle.beneficiaries.files import GOOD_ROWS, NAME, lines, rejected


def test_duplicate_ids_name_the_first_line(tmp_path):
    content = lines(GOOD_ROWS[0], GOOD_ROWS[1], "P1;40;2;0;0;0;;3")
    assert rejected(tmp_path, content) == [
        f"{NAME}:4: id_patient: id_patient «\u202fP1\u202f» en double (déjà ligne 2)"
    ]


def test_ids_are_compared_trimmed_and_rows_with_a_wrong_field_count_are_not_compared(tmp_path):
    content = lines(GOOD_ROWS[0], " P1 ;40;2;0;0;0;;3", "P2;1", "P2;40;2;0;0;0;;3", ";40;2;0;0;0;;3", ";1;1;0;0;0;;1")
    assert rejected(tmp_path, content) == [
        f"{NAME}:3: id_patient: id_patient «\u202fP1\u202f» en double (déjà ligne 2)",
        f"{NAME}:4: -: 8 champs attendus, 2 trouvés",
        f"{NAME}:6: id_patient: valeur obligatoire",
        f"{NAME}:7: id_patient: valeur obligatoire",
    ]


def test_many_duplicates_are_counted_and_the_first_shown_in_file_order(tmp_path, monkeypatch):
    monkeypatch.setattr(duplicates, "HASH_BUCKET_ROWS", 7)
    monkeypatch.setattr(duplicates, "ID_BUCKET_ROWS", 5)  # many buckets: the same answer
    rows = [f"P{i % 40};33;1;0;0;0;;1" for i in range(300)]  # each id 7 or 8 times: 260 repeats
    report = rejected(tmp_path, lines(*rows))
    assert len(report) == 101
    assert report[0] == f"{NAME}:42: id_patient: id_patient «\u202fP0\u202f» en double (déjà ligne 2)"
    # Row i (line i + 2) repeats P{i % 40}, first on line i % 40 + 2: the 100th repeat is row 139.
    assert report[99] == f"{NAME}:141: id_patient: id_patient «\u202fP19\u202f» en double (déjà ligne 21)"
    assert report[100] == "… and 160 more (doublon\u202f: 160)"


def _hashes(tmp_path, ids, hashes):
    target, side = tmp_path / "rows.parquet", tmp_path / "hashes.parquet"
    pl.DataFrame({"id_patient": ids}).write_parquet(target)
    frame = pl.DataFrame({LINE: range(2, 2 + len(ids)), HASH: hashes}, schema={LINE: pl.Int64, HASH: pl.UInt64})
    frame.write_parquet(side)
    return target, side


def test_a_hash_collision_is_not_a_duplicate(tmp_path):
    target, side = _hashes(tmp_path, ["A", "B", "A", "C"], [7, 7, 7, None])
    assert duplicates.may_have_duplicates(side, 4)  # A, B, A share a hash
    total, shown = duplicates.find_duplicates(target, side, 4, limit=10)
    assert total == 1  # only the second A
    assert shown.rows() == [(4, "A", 2)]


def test_no_repeated_hash_proves_there_is_no_duplicate(tmp_path, monkeypatch):
    monkeypatch.setattr(duplicates, "HASH_BUCKET_ROWS", 2)
    _, side = _hashes(tmp_path, ["A", "B", "C", "D", "E"], [1, 2, 3, None, 5])
    assert not duplicates.may_have_duplicates(side, 5)


def test_a_bucket_crowded_by_one_hash_is_not_held_to_be_counted(tmp_path, monkeypatch):
    monkeypatch.setattr(duplicates, "HASH_BUCKET_ROWS", 2)
    _, side = _hashes(tmp_path, ["A"] * 9, [1] * 9)
    collect = pl.LazyFrame.collect
    heights = []

    def spy(self, *args, **kwargs):
        frame = collect(self, *args, **kwargs)
        heights.append(frame.height)
        return frame

    monkeypatch.setattr(pl.LazyFrame, "collect", spy)
    assert duplicates.may_have_duplicates(side, 9)
    assert max(heights) <= 1  # counts, never the crowded bucket itself
