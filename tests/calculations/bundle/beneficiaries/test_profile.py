"""The profile of a validated file, computed while it is written."""

from __future__ import annotations

from tests.calculations.bundle.beneficiaries.files import GOOD_ROWS, accepted, lines


def test_profile_of_a_small_file(tmp_path):
    validated, _ = accepted(tmp_path, lines(*GOOD_ROWS, "P4;100;2;1;0;0;;0,01", "", "P5;99;2;0;1;0;;1"))
    profile = validated.profile
    # 885 920 + 109 350 + 0 + 1 + 100 = 995 371 cents over 5 patients (the blank line is no patient).
    assert profile["rows"] == 5
    assert profile["depenses_total_cents"] == 995_371 and profile["depenses_total"] == "9953.71"
    assert profile["depenses_mean"] == round(9953.71 / 5, 2)
    assert (profile["with_mt"], profile["with_mt_share"]) == (2, 2 / 5)
    assert (profile["men"], profile["women"]) == (2, 3)
    assert (profile["ald"], profile["css"], profile["deces"]) == (2, 2, 1)
    assert profile["age_mean"] == (33 + 25 + 0 + 100 + 99) / 5
    counts = {band["band"]: band["count"] for band in profile["age_bands"]}
    assert counts == {
        "0–9": 1, "10–19": 0, "20–29": 1, "30–39": 1, "40–49": 0, "50–59": 0, "60–69": 0, "70–79": 0,
        "80–89": 0, "90–99": 1, "100 et plus": 1,
    }  # fmt: skip


def test_the_same_profile_whichever_reading_decided(tmp_path):
    fast, _ = accepted(tmp_path, lines(*GOOD_ROWS))
    exact, _ = accepted(tmp_path, lines(*(row.replace(";", " ; ") for row in GOOD_ROWS)))
    assert (fast.path_taken, exact.path_taken) == ("fast", "exact")
    assert fast.profile == exact.profile
