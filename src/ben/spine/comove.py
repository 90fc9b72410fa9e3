"""Which series moved together: mutual information over each series' recent buckets.

Every series keeps its last ``window`` (64) closed buckets (bucket number and value) in a ring.
``related(a, b)`` aligns two rings on the buckets they share and measures how much one tells
about the other: the Spearman rank correlation ``rho`` of the shared values, turned into the
mutual information of a Gaussian copula, ``MI = -1/2 ln(1 - rho^2)`` nats (ADR 0029). Ranks make
it robust to scale, units and outliers; the copula form makes it a true MI estimate that costs
one sort per pair. Too few shared buckets, or a constant series, give ``0.0``.

The rings are fed record by record, before that record's episodes are correlated, so what
``related`` sees is a function of the stored rows alone (replay reproduces it).
"""

from __future__ import annotations

import math

import numpy as np

WINDOW = 64       # recent buckets kept per series (ADR 0040: a calibrated episode closes once its evidence settled)
MIN_SHARED = 8    # shared buckets needed to say anything
#: MI (nats) from which two anomalous series are said to have moved together (|rho| about 0.6).
MIN_MI = 0.22


class CoMovement:
    """Per-series rings of recent bucket values, and the MI between two series."""

    def __init__(self, n_series: int = 0, window: int = WINDOW):
        self.window = window
        self.n = 0
        self._bucket = np.full((max(16, n_series), window), -1, dtype=np.int64)
        self._value = np.zeros((max(16, n_series), window))
        self._count = np.zeros(max(16, n_series), dtype=np.int64)
        self.grow(n_series)

    def grow(self, n: int) -> None:
        """Hold ``n`` series (capacity doubles: amortised O(1) per new series)."""
        cap = len(self._count)
        if n > cap:
            new = max(n, 2 * cap)
            b = np.full((new, self.window), -1, dtype=np.int64)
            v = np.zeros((new, self.window))
            c = np.zeros(new, dtype=np.int64)
            b[:self.n], v[:self.n], c[:self.n] = self._bucket[:self.n], self._value[:self.n], self._count[:self.n]
            self._bucket, self._value, self._count = b, v, c
        self.n = n

    def add(self, series: np.ndarray, bucket: np.ndarray, value: np.ndarray) -> None:
        """Append points (each series' points in time order); only the last ``window`` stay."""
        if not len(series):
            return
        order = np.argsort(series, kind="stable")
        s = series[order]
        first = np.r_[True, s[1:] != s[:-1]]
        heads = np.flatnonzero(first)
        sizes = np.diff(np.r_[heads, len(s)])
        rank = np.arange(len(s)) - np.repeat(heads, sizes)
        keep = rank >= np.repeat(sizes, sizes) - self.window  # later points would overwrite earlier ones
        o, k, rank = order[keep], s[keep], rank[keep]
        slot = (self._count[k] + rank) % self.window
        self._bucket[k, slot] = bucket[o]
        self._value[k, slot] = value[o]
        self._count[s[heads]] += sizes

    def related(self, a: int, b: int) -> float:
        """Mutual information (nats) between series ``a`` and ``b`` over their shared recent buckets."""
        if a == b or a >= self.n or b >= self.n:
            return 0.0
        shared, ia, ib = np.intersect1d(self._bucket[a], self._bucket[b], assume_unique=True, return_indices=True)
        ok = shared >= 0
        if ok.sum() < MIN_SHARED:
            return 0.0
        x, y = self._value[a, ia[ok]], self._value[b, ib[ok]]
        rho = _spearman(x, y)
        if not math.isfinite(rho):
            return 0.0
        rho = min(abs(rho), 0.999999)
        return -0.5 * math.log(1.0 - rho * rho)


def _ranks(x: np.ndarray) -> np.ndarray:
    """Ranks with ties averaged (deterministic)."""
    order = np.argsort(x, kind="stable")
    xs = x[order]
    edges = np.r_[0, np.flatnonzero(np.diff(xs)) + 1, len(xs)]
    avg = (edges[:-1] + edges[1:] - 1) / 2.0
    out = np.empty(len(x))
    out[order] = np.repeat(avg, np.diff(edges))
    return out


def _spearman(x: np.ndarray, y: np.ndarray) -> float:
    rx, ry = _ranks(x), _ranks(y)
    rx -= rx.mean()
    ry -= ry.mean()
    den = math.sqrt(float(rx @ rx) * float(ry @ ry))
    return float(rx @ ry) / den if den > 0 else float("nan")
