"""The elementwise primitives every bank detector is built from, and the checks of its input.

Status codes of a point (``OK``, ``NOT_FINITE``, ``OUT_OF_ORDER``), the statistic's cap ``BIG``
and the sigma floor's refresh period ``FLOOR_EVERY`` are owned here; the compiled kernels
(:mod:`ben.detect._kernels`) import them from this module, so both paths use one value.
"""

from __future__ import annotations

import math

import numpy as np

from ben.detect.errors import DetectorError
from ben.detect.inputs import as_arrays

__all__ = ["OK", "NOT_FINITE", "OUT_OF_ORDER", "STATUS", "TS_NONE", "BIG", "MEANAD_SIGMA", "FLOOR_EVERY", "score_of",
           "scale_floor", "sigma_of", "held", "block_runs", "last_runs", "check_param", "check_points", "rounds"]

OK, NOT_FINITE, OUT_OF_ORDER = 0, 1, 2
STATUS = {OK: "ok", NOT_FINITE: "not_finite", OUT_OF_ORDER: "out_of_order"}
TS_NONE = np.iinfo(np.int64).min
BIG = 1e12  # statistics are clipped here so scores stay finite
MEANAD_SIGMA = 1.2533  # sigma / E|x - mean| for Gaussian noise (sqrt(pi / 2))


def score_of(stat: np.ndarray, threshold: float, warm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Map a non-negative statistic to (score in [0, 1], flag): 0.5 exactly at the threshold."""
    np.minimum(stat, BIG, out=stat)
    flag = stat >= threshold
    flag &= warm
    score = stat / (stat + threshold)
    score *= warm
    return score, flag


def scale_floor(center: np.ndarray, rel_scale: float, min_scale: float) -> np.ndarray:
    """The smallest scale (sigma) trusted around ``center``: ``max(min_scale, rel_scale*|center|)``."""
    floor = np.abs(center)
    floor *= rel_scale
    np.maximum(floor, min_scale, out=floor)
    return floor


FLOOR_EVERY = 16  # points between refreshes of a series' sigma floor


def sigma_of(S: dict, n0, rel_scale: float, min_scale: float, out=None) -> np.ndarray:
    """``max(sqrt(var), floor)``; the floor ``max(min_scale, rel_scale * |mean|)`` is refreshed
    every ``FLOOR_EVERY`` points of the series (cheap, and the same on both paths)."""
    m, floor = S["mean"], S["floor"]
    if n0 is not None:
        if n0 % FLOOR_EVERY == 0:
            floor[...] = scale_floor(m, rel_scale, min_scale)
    else:
        due = S["n"] % FLOOR_EVERY == 0
        if due.any():
            floor[due] = scale_floor(m[due], rel_scale, min_scale)
    sigma = np.sqrt(S["var"], out=out)
    np.maximum(sigma, floor, out=sigma)
    return sigma


def held(values: list[np.ndarray], lengths: list[int]) -> np.ndarray:
    """Per-series values held for a number of steps each: ``(sum(lengths), n_series)``.

    One segment gives a read-only broadcast view (no copy); more are stacked.
    """
    if len(values) == 1:
        return np.broadcast_to(values[0], (lengths[0], len(values[0])))
    return np.concatenate([np.broadcast_to(v, (k, len(v))) for v, k in zip(values, lengths)])


def block_runs(flags: np.ndarray, run0: np.ndarray) -> np.ndarray:
    """Consecutive-flag counts over a block ``(steps, series)``, continuing from ``run0``."""
    steps = len(flags)
    t = np.arange(steps)[:, None]
    last_off = np.where(flags, -1, t)
    np.maximum.accumulate(last_off, axis=0, out=last_off)
    return np.where(last_off >= 0, t - last_off, t + 1 + run0)


def last_runs(flags: np.ndarray, run0: np.ndarray) -> np.ndarray:
    """Consecutive flags at the end of a block ``(steps, series)``, continuing from ``run0``."""
    steps = len(flags)
    out = np.zeros(len(run0), dtype=np.int64)
    cols = np.flatnonzero(flags[-1])
    if len(cols):
        sub = flags[:, cols]
        tail = np.argmin(sub[::-1], axis=0)
        out[cols] = np.where(sub.all(axis=0), steps + run0[cols], tail)
    return out


def check_param(name: str, value: float, low: float, high: float = math.inf, integer: bool = False) -> None:
    """Validate one constructor argument at once (errors name the argument)."""
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if ok and integer:
        ok = float(value).is_integer()
    if not ok or not (low <= value <= high) or math.isnan(value):
        kind = "an integer" if integer else "a number"
        raise DetectorError(f"parameter {name}={value!r} must be {kind} in [{low}, {high}]")


def check_points(rows: np.ndarray, ts: np.ndarray, x: np.ndarray, last_ts: np.ndarray) -> np.ndarray:
    """Status per point for one round (``rows`` distinct): 0 ok, 1 not finite, 2 out of order."""
    status = np.zeros(len(x), dtype=np.uint8)
    status[ts < last_ts[rows]] = OUT_OF_ORDER
    status[~np.isfinite(x)] = NOT_FINITE
    return status


def rounds(series_index: np.ndarray) -> list[np.ndarray]:
    """Split a batch into rounds with at most one point per series, keeping per-series order."""
    if len(series_index) == 0:
        return []
    order = np.argsort(series_index, kind="stable")
    s = series_index[order]
    starts = np.r_[0, np.flatnonzero(s[1:] != s[:-1]) + 1]
    group_start = np.repeat(starts, np.diff(np.r_[starts, len(s)]))
    rank = np.empty(len(s), dtype=np.int64)
    rank[order] = np.arange(len(s)) - group_start
    if rank.max() == 0:
        return [np.arange(len(s))]
    by_rank = np.argsort(rank, kind="stable")
    cuts = np.flatnonzero(np.diff(rank[by_rank])) + 1
    return np.split(by_rank, cuts)




def _as_batch(series_index, ts_ns, values, n_series: int):
    idx, ts, x = as_arrays(series_index=(series_index, np.int64), ts_ns=(ts_ns, np.int64),
                           values=(values, np.float64))
    if not (idx.ndim == ts.ndim == x.ndim == 1 and len(idx) == len(ts) == len(x)):
        raise DetectorError(f"series_index, ts_ns and values must be 1-d of one length, got shapes "
                            f"{idx.shape}, {ts.shape}, {x.shape}", problem="bad_series")
    if len(idx) and (idx.min() < 0 or idx.max() >= n_series):
        raise DetectorError(f"series index out of range [0, {n_series})", problem="bad_series")
    return idx, ts, x


def _as_block(ts_ns, values, n_series: int):
    ts, x = as_arrays(ts_ns=(ts_ns, np.int64), values=(values, np.float64))
    if ts.ndim != 1 or x.shape != (len(ts), n_series):
        raise DetectorError(f"update_block wants ts_ns (steps,) and values (steps, {n_series}), got "
                            f"{ts.shape} and {x.shape}", problem="bad_series")
    return ts, x


def _block_fast_ok(ts: np.ndarray, x: np.ndarray, last_ts: np.ndarray) -> bool:
    if len(ts) == 0:
        return True
    if len(last_ts) and ts[0] < last_ts.max():
        return False
    return bool((np.diff(ts) >= 0).all() and np.isfinite(x).all())


def _concat(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    if not parts:
        return {}
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def _block_evidence(ev: dict[str, np.ndarray], n_series: int) -> dict[str, np.ndarray]:
    if not ev:
        return {}
    point = ev.pop("point")
    return {"step": point // n_series, "series": point % n_series, **ev}
