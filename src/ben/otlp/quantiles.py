"""Quantiles of OTLP histograms (explicit bounds and exponential buckets), as series to watch.

A histogram is read as intervals ``(lower, upper, count)`` in increasing order; a quantile is
interpolated linearly inside the interval that holds its rank (as Prometheus'
``histogram_quantile`` does). Open ends are closed with the recorded min/max when the point has
them, else with the nearest bound.
"""

from __future__ import annotations

import math

#: The quantiles of every histogram that become series (``<name>.p50``, ``<name>.p99``).
QUANTILES = (0.5, 0.99)


def quantile(intervals, q: float) -> float:
    """The q-quantile of sorted ``(lower, upper, count)`` intervals; NaN when they hold nothing."""
    total = float(sum(c for _, _, c in intervals))
    if total <= 0:
        return math.nan
    rank = q * total
    seen = 0.0
    for lower, upper, count in intervals:
        if count <= 0:
            continue
        if seen + count >= rank:
            return lower + (upper - lower) * ((rank - seen) / count)
        seen += count
    return intervals[-1][1]


def explicit(bounds, counts, lo: float | None = None, hi: float | None = None) -> list[tuple]:
    """Intervals of an explicit-bounds histogram: (-inf, b0], (b0, b1], ..., (b_last, +inf); none when it has
    neither bounds nor counts."""
    bounds = [float(b) for b in bounds]
    counts = [float(c) for c in counts]
    if not counts and not bounds:  # no distribution, only count and sum (metrics.proto allows it): no intervals
        return []
    if len(counts) != len(bounds) + 1:
        raise ValueError(f"bucket_counts has {len(counts)} entries, expected {len(bounds) + 1} "
                         "(one more than explicit_bounds)")
    if not bounds:
        low = lo if lo is not None else 0.0
        return [(low, hi if hi is not None else low, counts[0])]
    edges = [min(lo, bounds[0]) if lo is not None else bounds[0]] + bounds + \
            [max(hi, bounds[-1]) if hi is not None else bounds[-1]]
    return [(edges[i], edges[i + 1], counts[i]) for i in range(len(counts))]


def exponential(scale: int, zero_count: float, positive, negative, zero_threshold: float = 0.0) -> list[tuple]:
    """Intervals of an exponential histogram: bucket ``i`` of a side covers
    (base**(offset+i), base**(offset+i+1)] with base = 2**(2**-scale), mirrored for negatives (scale -10 to 20,
    as OTLP allows: an edge past the largest float is infinite)."""
    width = 2.0 ** -scale  # log2 of the base; the base itself, 2**1024 at scale -10, is past a float

    def edge(index: int) -> float:
        try:
            return 2.0 ** (index * width)
        except OverflowError:
            return math.inf

    out = []
    neg = list(negative.bucket_counts)
    for k in range(len(neg) - 1, -1, -1):
        index = negative.offset + k
        out.append((-edge(index + 1), -edge(index), float(neg[k])))
    out.append((-zero_threshold, zero_threshold, float(zero_count)))
    for k, c in enumerate(positive.bucket_counts):
        index = positive.offset + k
        out.append((edge(index), edge(index + 1), float(c)))
    return out
