"""Per-series buckets of event time for the spine's detection: the carried state and the closed buckets.

Each watched series (a gauge or a counter) is aggregated into fixed buckets of event time, one point per
closed bucket for the detection algorithm: a gauge's mean, a counter's sum per second. The row-by-row rule
(ADR 0012) runs compiled in :mod:`ben.spine._bucket_kernel`; here are its state (:class:`Columns`, per
series, with capacity doubling) and the call that feeds it a table's rows (:func:`close_buckets`).

A counter's bucket with no increment, after a bucket it was seen in, is a rate of 0 for up to
``COUNTER_FILL_NS`` of buckets: before, buckets without an increment gave no point at all, so errors
counted in bursts at 0.2 a second had a baseline of 1 per second (every point was a burst; ADR 0012,
2026-12-07 round 2). A longer silence is a gap: no points, which the detection takes as no evidence. So
a counter costs at most one point a bucket, as a gauge sampled every bucket does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: A seen counter's empty buckets are rates of 0 for up to this long after its last (then: a gap).
COUNTER_FILL_NS = 60 * 10**9


def fill_max(bucket_ns: int) -> int:
    """How many empty buckets in a row of a seen counter are rates of 0 (a minute's, at least one)."""
    return max(1, COUNTER_FILL_NS // bucket_ns)


class Columns:
    """Per-series arrays with capacity doubling: registering a series is amortised O(1)."""

    SPEC = {"open_bucket": (np.int64, -1), "sum": (np.float64, 0.0), "count": (np.int64, 0),
            "counter": (np.bool_, False)}

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


def close_buckets(cols: Columns, series: np.ndarray, bucket: np.ndarray, values: np.ndarray, record: np.ndarray,
                  bucket_ns: int) -> tuple[Closed, int]:
    """Feed rows (series index, bucket number, value, record) to the carried state ``cols``; return the
    buckets that closed, in (record, time, series) order, and how many rows were late.

    Per series, in row order: a point of the open bucket adds to it; a point of a later bucket closes
    the open one (one output point, at the closing row's record; a counter's empty buckets after it too)
    and opens its own; a point of an older bucket is late: counted and folded into the open bucket.
    """
    from ben.spine._bucket_kernel import bucket_rows

    n = len(series)
    most = fill_max(bucket_ns)
    series = np.ascontiguousarray(series, dtype=np.int64)
    bucket = np.ascontiguousarray(bucket, dtype=np.int64)
    values = np.ascontiguousarray(values, dtype=np.float64)
    record = np.ascontiguousarray(record, dtype=np.int64)
    out = [np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64), np.empty(n), np.empty(n, dtype=np.int64)]
    closed = late = at = 0
    while True:  # a counter's empty buckets are points too: the output grows when it is full
        closed, more, at = bucket_rows(series=series, bucket=bucket, values=values, record=record,
                                       open_bucket=cols.open_bucket, sums=cols.sum, counts=cols.count,
                                       counter=cols.counter, bucket_ns=bucket_ns, fill_max=most, start=at,
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
