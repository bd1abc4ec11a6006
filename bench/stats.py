"""Percentiles and the summaries the results hold (milliseconds, rounded for reading)."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of `values` (p in 0..100); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def summary_ms(seconds: Sequence[float]) -> dict[str, float | None]:
    """p50, p95, p99 and max in milliseconds (None where there is nothing to measure)."""
    out: dict[str, float | None] = {}
    for name, p in (("p50", 50.0), ("p95", 95.0), ("p99", 99.0), ("max", 100.0)):
        value = percentile(seconds, p)
        out[name] = None if math.isnan(value) else round(value * 1000, 1)
    out["n"] = len(seconds)
    return out


def ratio(ours: float | None, floor: float | None) -> float | None:
    if ours is None or floor is None or floor <= 0:
        return None
    return round(ours / floor, 2)


def ratios(ours: dict[str, float | None], floor: dict[str, float | None]) -> dict[str, float | None]:
    return {k: ratio(ours.get(k), floor.get(k)) for k in ("p50", "p95", "p99", "max")}
