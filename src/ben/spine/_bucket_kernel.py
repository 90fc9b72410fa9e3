"""Compiled bucketing of the spine's detection (numba): the row-by-row rule of ADR 0012 in one pass.

Per series, in row order: a point of the open bucket adds to it; a point of a later bucket closes
the open one (one output point, at the closing row's record) and opens its own; a point of an
older bucket is late: counted and folded into the open bucket. Sums are sequential, so a bucket's
value does not depend on how rows were grouped into tables (replay gives the same bits).

A counter's buckets with no increment between two of its points are rates of 0 (up to ``fill_max``
of them after the closed bucket, each one output point of value 0 at the closing row's record): an
empty bucket of a counter that has been seen is no increment, not no data (ADR 0012, 2026-12-07
round 2). A gauge's empty bucket is no reading and gives no point.
"""

from __future__ import annotations

from numba import njit

__all__ = ["bucket_rows"]


@njit(cache=True)
def bucket_rows(series, bucket, values, record, open_bucket, sums, counts, counter, bucket_ns, fill_max,
                start, n_out, out_series, out_bucket, out_value, out_record):
    """Feed rows from ``start``; write the buckets that closed into the ``out_*`` arrays from ``n_out``;
    return (outputs written so far, late rows, the row it stopped at: ``len(series)`` when done, less when
    the ``out_*`` arrays are full: call again from there with larger ones).

    ``open_bucket`` (-1: none yet), ``sums``, ``counts`` are each series' carried state, updated in
    place; a closed bucket's value is its mean, or for a counter (``counter``) its sum per second.
    """
    late = 0
    cap = len(out_series)
    for i in range(start, len(series)):
        s = series[i]
        b = bucket[i]
        ob = open_bucket[s]
        if b > ob:
            if ob >= 0:
                empty = 0
                if counter[s]:
                    empty = min(b - ob - 1, fill_max)
                if n_out + 1 + empty > cap:
                    return n_out, late, i
                out_series[n_out] = s
                out_bucket[n_out] = ob
                if counter[s]:
                    out_value[n_out] = sums[s] * 1e9 / bucket_ns
                else:
                    out_value[n_out] = sums[s] / max(1, counts[s])
                out_record[n_out] = record[i]
                n_out += 1
                for k in range(empty):
                    out_series[n_out] = s
                    out_bucket[n_out] = ob + 1 + k
                    out_value[n_out] = 0.0
                    out_record[n_out] = record[i]
                    n_out += 1
            open_bucket[s] = b
            sums[s] = values[i]
            counts[s] = 1
        else:
            if b < ob:
                late += 1
            sums[s] += values[i]
            counts[s] += 1
    return n_out, late, len(series)
