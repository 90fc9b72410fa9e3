"""Compiled bucketing of the spine's detection (numba): the row-by-row rule of ADR 0012 in one pass.

Per series, in row order: a point of the open bucket adds to it; a point of a later bucket closes
the open one (one output point, at the closing row's record) and opens its own; a point of an
older bucket is late: counted and folded into the open bucket. Sums are sequential, so a bucket's
value does not depend on how rows were grouped into tables (replay gives the same bits).

A counter's point is an increment measured over an interval: from the counter's previous point to
its own time (an OTLP exporter's minute, a batch of a ben SDK). It is a rate over that interval, and
every bucket the interval covers gets its share (the increment times the bucket's part of the interval):
the open bucket before it closes, the buckets between (each one output point at the closing row's
record) and the point's own bucket, which it opens. Of the buckets between, at most the last
``fill_max`` are points (an interval longer than that: the ones before are a gap, no points, their
share not watched). The first point of a counter has no interval: it starts the counter (its increment
is stored, not watched). ADR 0012, 2026-12-07 round 3; before, a counter exported once a minute was
one bucket at 240 times its rate (at 250 ms buckets) and a minute of rates of 0.
"""

from __future__ import annotations

from numba import njit

__all__ = ["bucket_rows"]


@njit(cache=True)
def bucket_rows(series, ts, values, record, open_bucket, sums, counts, counter, last_ts, bucket_ns, fill_max,
                start, n_out, out_series, out_bucket, out_value, out_record):
    """Feed rows from ``start``; write the buckets that closed into the ``out_*`` arrays from ``n_out``;
    return (outputs written so far, late rows, the row it stopped at: ``len(series)`` when done, less when
    the ``out_*`` arrays are full: call again from there with larger ones).

    ``open_bucket`` (-1: none yet), ``sums``, ``counts``, ``last_ts`` (a counter's latest point, -1: none
    yet) are each series' carried state, updated in place; a closed bucket's value is its mean, or for a
    counter (``counter``) its sum per second.
    """
    late = 0
    cap = len(out_series)
    for i in range(start, len(series)):
        s = series[i]
        t = ts[i]
        b = t // bucket_ns
        ob = open_bucket[s]
        v = values[i]
        if not counter[s]:
            if b > ob:
                if ob >= 0:
                    if n_out + 1 > cap:
                        return n_out, late, i
                    out_series[n_out] = s
                    out_bucket[n_out] = ob
                    out_value[n_out] = sums[s] / max(1, counts[s])
                    out_record[n_out] = record[i]
                    n_out += 1
                open_bucket[s] = b
                sums[s] = v
                counts[s] = 1
            else:
                if b < ob:
                    late += 1
                sums[s] += v
                counts[s] += 1
            continue
        last = last_ts[s]
        if b <= ob:  # within the open bucket, or late: folded into it
            if b < ob:
                late += 1
            sums[s] += v
            counts[s] += 1
            if t > last:
                last_ts[s] = t
            continue
        # a later bucket: the increment is a rate over (last, t], each bucket of it gets its share
        known = 0 <= last < t  # (last < 0: the counter's first point, whose interval is not known)
        first = max(ob + 1, b - fill_max)  # the buckets between: at most the last fill_max are points
        between = b - first if known else 0
        if n_out + (1 if ob >= 0 else 0) + between > cap:
            return n_out, late, i
        span = t - last
        if ob >= 0:
            if known:
                sums[s] += v * ((ob + 1) * bucket_ns - last) / span
            out_series[n_out] = s
            out_bucket[n_out] = ob
            out_value[n_out] = sums[s] * 1e9 / bucket_ns
            out_record[n_out] = record[i]
            n_out += 1
        whole = v * bucket_ns / span * 1e9 / bucket_ns  # a bucket wholly inside the interval
        for k in range(first, first + between):
            out_series[n_out] = s
            out_bucket[n_out] = k
            out_value[n_out] = whole
            out_record[n_out] = record[i]
            n_out += 1
        open_bucket[s] = b
        sums[s] = v * (t - b * bucket_ns) / span if known else 0.0
        counts[s] = 1
        last_ts[s] = t
    return n_out, late, len(series)
