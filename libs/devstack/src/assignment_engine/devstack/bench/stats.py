"""Pure helpers of the benchmarks: percentiles, latency summaries, slopes, medians."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

PERCENTILES = (50.0, 95.0, 99.0)


def percentile(values: Sequence[float], rank: float) -> float:
    """Return the `rank` percentile (0-100) of `values` by linear interpolation.

    This is the interpolation of numpy's default ("linear") method. Returns NaN
    for no values.
    """
    if not 0.0 <= rank <= 100.0:
        raise ValueError(f"percentile rank {rank} is outside 0..100")
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * rank / 100.0
    lower = math.floor(position)
    upper = math.ceil(position)
    if lower == upper:
        return ordered[lower]
    fraction = position - lower
    return ordered[lower] + (ordered[upper] - ordered[lower]) * fraction


def summarize_ms(latencies_s: Sequence[float]) -> dict[str, float]:
    """Return count, p50, p95, p99, max and mean of latencies in seconds, as ms."""
    if not latencies_s:
        return {
            "count": 0,
            "p50_ms": math.nan,
            "p95_ms": math.nan,
            "p99_ms": math.nan,
            "max_ms": math.nan,
            "mean_ms": math.nan,
        }
    summary: dict[str, float] = {"count": len(latencies_s)}
    for rank in PERCENTILES:
        summary[f"p{rank:g}_ms"] = percentile(latencies_s, rank) * 1000.0
    summary["max_ms"] = max(latencies_s) * 1000.0
    summary["mean_ms"] = statistics.fmean(latencies_s) * 1000.0
    return summary


def slope(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Return the least-squares slope of ys over xs, or NaN for fewer than 2 points."""
    if len(xs) != len(ys):
        raise ValueError(f"{len(xs)} x values but {len(ys)} y values")
    if len(xs) < 2:
        return math.nan
    mean_x = statistics.fmean(xs)
    mean_y = statistics.fmean(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    if spread == 0:
        return math.nan
    return (
        sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread
    )


def median_of(values: Sequence[float]) -> float:
    """Return the median of the finite values, or NaN when there are none."""
    finite = [value for value in values if not math.isnan(value)]
    return statistics.median(finite) if finite else math.nan


def ratio(numerator: float, denominator: float) -> float:
    """Return numerator / denominator, NaN when either is NaN or the divisor is 0."""
    if math.isnan(numerator) or math.isnan(denominator) or denominator == 0:
        return math.nan
    return numerator / denominator
