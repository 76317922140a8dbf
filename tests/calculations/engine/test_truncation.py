"""Step 3: nearest-rank percentile of national spend, exact in cents, and its use in the campaign."""

from __future__ import annotations

import random
from contextlib import contextmanager
from fractions import Fraction

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calculations.engine import Parameters, compute_campaign
from calculations.engine.steps import truncation
from calculations.engine.steps.truncation import nearest_rank, truncation_threshold_cents
from tests.calculations.engine.builders import toy_inputs


def spend_frame(cents: list[int]) -> pl.LazyFrame:
    return pl.DataFrame({"depenses_cents": cents}, schema={"depenses_cents": pl.Int64}).lazy()


def by_definition(cents: list[int], percentile: Fraction) -> int:
    """Sort ascending, take the value at 1-based rank ceil(p·rows/100): the oracle."""
    return sorted(cents)[nearest_rank(percentile, len(cents)) - 1]


@pytest.mark.parametrize(
    ("percentile", "rows", "rank"),
    [
        ("99", 250, 248),  # 247.5 → 248
        ("99.5", 1000, 995),  # exactly 995
        ("99.5", 1001, 996),  # 995.995 → 996
        ("100", 7, 7),  # p = 100 is the maximum
        ("0.0001", 10, 1),  # 0.00001 → 1
        # 16.1 × 1000 / 100 is exactly 161; in doubles it is 161.00000000000003 and would give 162.
        ("16.1", 1000, 161),
    ],
)
def test_nearest_rank_is_exact(percentile, rows, rank):
    assert nearest_rank(Fraction(percentile), rows) == rank


@pytest.mark.parametrize(
    ("percentile", "threshold"),
    [("99", 100_000), ("95", 100_000), ("90", 90_000), ("50", 50_000), ("10", 10_000), ("100", 100_000)],
)
def test_threshold_of_ten_values(percentile, threshold):
    # 1 000 € … 10 000 €: rank ceil(p·10/100): 99 → 10, 95 → 10 (9.5), 90 → 9, 50 → 5, 10 → 1.
    cents = [k * 10_000 for k in (7, 3, 10, 1, 9, 5, 2, 8, 4, 6)]
    assert truncation_threshold_cents(spend_frame(cents), Fraction(percentile), 10) == threshold


def test_threshold_with_ties_and_a_decimal_percentile():
    # 200 rows: 1 € … 200 €; p = 99.5 → rank ceil(199) = 199 → 199 €.
    cents = [k * 100 for k in range(200, 0, -1)]
    assert truncation_threshold_cents(spend_frame(cents), Fraction("99.5"), 200) == 19_900
    # 5, 5, 5, 7 (€): p = 75 → rank 3 → 5 €.
    assert truncation_threshold_cents(spend_frame([500, 700, 500, 500]), Fraction(75), 4) == 500


@settings(max_examples=40, deadline=None)
@given(
    cents=st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=300),
    percentile=st.fractions(min_value=Fraction(1, 1000), max_value=100).filter(lambda p: p > 0),
)
def test_threshold_equals_the_definition(cents, percentile):
    expected = by_definition(cents, percentile)
    assert truncation_threshold_cents(spend_frame(cents), percentile, len(cents)) == expected
    with refined_buckets():
        assert truncation_threshold_cents(spend_frame(cents), percentile, len(cents)) == expected


@contextmanager
def refined_buckets():
    """The streaming path (as for a national file), with tiny buckets and selection limit, so that small
    inputs go through every refinement pass."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(truncation, "IN_MEMORY_SELECTION_ROWS", 0)
        patch.setattr(truncation, "FIRST_BUCKET_WIDTH_CENTS", 1 << 20)
        patch.setattr(truncation, "REFINEMENT_FACTOR", 4)
        patch.setattr(truncation, "EXACT_SELECTION_LIMIT", 3)
        yield


def test_threshold_on_many_equal_values_with_refinement():
    cents = [123_456] * 50 + [1] * 10 + [10**8] * 5
    random.Random(3).shuffle(cents)
    for percentile in (Fraction(50), Fraction(99), Fraction(1)):
        with refined_buckets():
            assert truncation_threshold_cents(spend_frame(cents), percentile, len(cents)) == by_definition(
                cents, percentile
            )


def test_truncation_in_a_campaign():
    # p = 50. Year N spends 50, 150, 300, 300, 200, 200 €: sorted 50, 150, 200, 200, 300, 300, rank 3 → 200 €.
    # Year R spends 120, 120, 240, 240, 180, 180 €: sorted 120, 120, 180, 180, 240, 240, rank 3 → 180 €.
    parameters = Parameters.merge(("--param", {"truncation_percentile": "50"}))
    results = compute_campaign(toy_inputs(), parameters)
    assert results.truncation_thresholds == {2021: 180.0, 2022: 200.0}
    g2 = next(row for row in results.groupements if row.code == "G2")
    # G2's 300 € patients count d = 200 €; its money total DRtot stays untruncated (600 €).
    assert g2.real_per_patient == 200.0
    assert g2.real_expenditure_total == 600.0
    assert g2.real_per_patient_reference == 180.0  # 240 € truncated to 180 €
    # Every d is now 50, 150, 200 × 4 → national mean 1000 / 6, and the model has a single column.
    assert g2.expected_per_patient == pytest.approx(1000 / 6, rel=1e-15)


def test_percentile_100_disables_truncation():
    results = compute_campaign(toy_inputs(), Parameters.merge(("--param", {"truncation_percentile": "100"})))
    assert results.truncation_thresholds == {2021: 240.0, 2022: 300.0}  # the maxima
    g2 = next(row for row in results.groupements if row.code == "G2")
    assert g2.real_per_patient == 300.0
