"""Compiled bucketing of the spine's detection (numba): the row-by-row rule of ADR 0012 in one pass.

Per series, in row order: a point of the open bucket adds to it; a point of a later bucket closes
the open one (one output point, at the closing row's record) and opens its own; a point of an
older bucket is late: counted and folded into the open bucket. Sums are sequential, so a bucket's
value does not depend on how rows were grouped into tables (replay gives the same bits).
"""

from __future__ import annotations

from numba import njit

__all__ = ["bucket_rows"]


@njit(cache=True)
def bucket_rows(series, bucket, values, record, open_bucket, sums, counts, counter, bucket_ns,
                out_series, out_bucket, out_value, out_record):
    """Feed rows; fill the ``out_*`` arrays with the buckets that closed; return (closed, late rows).

    ``open_bucket`` (-1: none yet), ``sums``, ``counts`` are each series' carried state, updated in
    place; a closed bucket's value is its mean, or for a counter (``counter``) its sum per second.
    """
    n_out = 0
    late = 0
    for i in range(len(series)):
        s = series[i]
        b = bucket[i]
        ob = open_bucket[s]
        if b > ob:
            if ob >= 0:
                out_series[n_out] = s
                out_bucket[n_out] = ob
                if counter[s]:
                    out_value[n_out] = sums[s] * 1e9 / bucket_ns
                else:
                    out_value[n_out] = sums[s] / max(1, counts[s])
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
    return n_out, late
