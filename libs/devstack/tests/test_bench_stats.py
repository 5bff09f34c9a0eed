"""Tests of the benchmark's statistics helpers."""

from __future__ import annotations

import math

import pytest

from assignment_engine.devstack.bench.stats import (
    median_of,
    percentile,
    ratio,
    slope,
    summarize_ms,
)


def test_percentile_interpolates_like_numpy() -> None:
    values = [1.0, 2.0, 3.0, 4.0]
    # numpy.percentile([1, 2, 3, 4], q) with the default linear method.
    assert percentile(values, 0) == 1.0
    assert percentile(values, 50) == 2.5
    assert percentile(values, 99) == pytest.approx(3.97)
    assert percentile(values, 100) == 4.0


def test_percentile_ignores_input_order() -> None:
    assert percentile([9.0, 1.0, 5.0], 50) == 5.0


def test_percentile_of_one_value() -> None:
    assert percentile([7.0], 99) == 7.0


def test_percentile_of_nothing_is_nan() -> None:
    assert math.isnan(percentile([], 50))


def test_percentile_rejects_rank_outside_range() -> None:
    with pytest.raises(ValueError, match=r"outside 0\.\.100"):
        percentile([1.0], 101)


def test_summarize_ms_converts_seconds() -> None:
    summary = summarize_ms([0.001, 0.002, 0.003])
    assert summary["count"] == 3
    assert summary["p50_ms"] == pytest.approx(2.0)
    assert summary["max_ms"] == pytest.approx(3.0)
    assert summary["mean_ms"] == pytest.approx(2.0)
    assert summary["p99_ms"] == pytest.approx(2.98)


def test_summarize_ms_of_nothing() -> None:
    summary = summarize_ms([])
    assert summary["count"] == 0
    assert math.isnan(summary["p99_ms"])


def test_slope_of_a_line() -> None:
    assert slope([0.0, 1.0, 2.0, 3.0], [5.0, 7.0, 9.0, 11.0]) == pytest.approx(2.0)


def test_slope_needs_two_distinct_points() -> None:
    assert math.isnan(slope([1.0], [1.0]))
    assert math.isnan(slope([2.0, 2.0], [1.0, 3.0]))


def test_slope_rejects_unequal_lengths() -> None:
    with pytest.raises(ValueError, match="2 x values but 1 y values"):
        slope([1.0, 2.0], [1.0])


def test_median_skips_nan() -> None:
    assert median_of([3.0, math.nan, 1.0, 2.0]) == 2.0
    assert math.isnan(median_of([math.nan]))


def test_ratio_of_missing_figures_is_nan() -> None:
    assert ratio(6.0, 3.0) == 2.0
    assert math.isnan(ratio(1.0, 0.0))
    assert math.isnan(ratio(math.nan, 2.0))
