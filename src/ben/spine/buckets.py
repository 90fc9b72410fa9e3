"""Per-series buckets of event time for the spine's detection: the carried state and the closed buckets.

Each watched series (a gauge or a counter) is aggregated into fixed buckets of event time, one point per
closed bucket for the detection algorithm: a gauge's mean, a counter's sum per second. The row-by-row rule
(ADR 0012) runs compiled in :mod:`ben.spine._bucket_kernel`; here are its state (:class:`Columns`, per
series, with capacity doubling) and the call that feeds it a table's rows (:func:`close_buckets`).

A counter's point is an increment measured over an interval, from the counter's previous point to its own
time: a rate over that interval, shared among the buckets it covers (ADR 0012, 2026-12-07 round 3). An OTLP
exporter sends a counter once a minute by default; a steady 10 a second read as one bucket of 2,400 a
second (at 250 ms buckets) then a minute of rates of 0, spikes and drops that were not there. Of the buckets
between two points of a counter, the last ``COUNTER_FILL_NS`` of them are points, at the rate of the whole
interval (those before: a gap, no points, which the detection takes as no evidence); so a counter costs at
most one point a bucket, as a gauge sampled every bucket does. The first point of a counter has no interval:
it starts the counter, its increment stored and not watched. Before round 3 the buckets between two points
were rates of 0 (round 2: before that they gave no point at all, so errors counted in bursts at 0.2 a second
had a baseline of 1 per second).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Of the buckets between two points of a counter, the last this long of them are points (the rest: a gap).
COUNTER_FILL_NS = 60 * 10**9


def fill_max(bucket_ns: int) -> int:
    """How many buckets between two points of a counter are points, at most (a minute's, at least one)."""
    return max(1, COUNTER_FILL_NS // bucket_ns)


class Columns:
    """Per-series arrays with capacity doubling: registering a series is amortised O(1)."""

    SPEC = {"open_bucket": (np.int64, -1), "sum": (np.float64, 0.0), "count": (np.int64, 0),
            "counter": (np.bool_, False), "last_ts": (np.int64, -1)}

    def __init__(self, n: int = 0):
        self.n = 0
        self._cap = {k: np.full(max(16, n), fill, dtype=dt) for k, (dt, fill) in self.SPEC.items()}
        self.grow(n)

    def grow(self, n: int) -> None:
        cap = len(self._cap["sum"])
        if n > cap:
            new = max(n, 2 * cap)
            for k, (dt, fill) in self.SPEC.items():
                arr = np.full(new, fill, dtype=dt)
                arr[:self.n] = self._cap[k][:self.n]
                self._cap[k] = arr
        self.n = n
        for k in self.SPEC:
            setattr(self, k, self._cap[k][:n])


@dataclass
class Closed:
    """Closed buckets of a table, in feed order (record, time, series): one detection point each."""

    series: np.ndarray
    ts: np.ndarray
    value: np.ndarray
    record: np.ndarray


def warm_up(bucket_ns: int) -> None:
    """Compile (or load) the kernel now (see ``Detection.warm_up``)."""
    one = np.zeros(1, dtype=np.int64)
    close_buckets(Columns(1), one, one, np.zeros(1), one, bucket_ns)


def close_buckets(cols: Columns, series: np.ndarray, ts: np.ndarray, values: np.ndarray, record: np.ndarray,
                  bucket_ns: int) -> tuple[Closed, int]:
    """Feed rows (series index, time in ns, value, record) to the carried state ``cols``; return the
    buckets that closed, in (record, time, series) order, and how many rows were late.

    Per series, in row order: a point of the open bucket adds to it; a point of a later bucket closes
    the open one (one output point, at the closing row's record; for a counter, the buckets its interval
    covers after it too) and opens its own; a point of an older bucket is late: counted and folded into
    the open bucket.
    """
    from ben.spine._bucket_kernel import bucket_rows

    n = len(series)
    most = fill_max(bucket_ns)
    series = np.ascontiguousarray(series, dtype=np.int64)
    ts = np.ascontiguousarray(ts, dtype=np.int64)
    values = np.ascontiguousarray(values, dtype=np.float64)
    record = np.ascontiguousarray(record, dtype=np.int64)
    out = [np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64), np.empty(n), np.empty(n, dtype=np.int64)]
    closed = late = at = 0
    while True:  # a counter's buckets between two points are points too: the output grows when it is full
        closed, more, at = bucket_rows(series=series, ts=ts, values=values, record=record,
                                       open_bucket=cols.open_bucket, sums=cols.sum, counts=cols.count,
                                       counter=cols.counter, last_ts=cols.last_ts, bucket_ns=bucket_ns,
                                       fill_max=most, start=at,
                                       n_out=closed, out_series=out[0], out_bucket=out[1], out_value=out[2],
                                       out_record=out[3])
        late += more
        if at >= n:
            break
        grown = max(2 * len(out[0]), closed + most + 1)
        out = [np.resize(a, grown) for a in out]
    cs, c_ts, c_val, c_rec = out[0][:closed], out[1][:closed] * bucket_ns, out[2][:closed], out[3][:closed]
    by = np.lexsort((cs, c_ts, c_rec))  # record, then time, then series
    return Closed(cs[by], c_ts[by], c_val[by], c_rec[by]), int(late)
