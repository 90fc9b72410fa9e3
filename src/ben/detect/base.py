"""The detector contract: a vectorised *bank* of per-series states, and a single-series view.

Every detector is written once, as a bank: state arrays indexed by series, updated in place by
``_step(rows, x)`` where ``rows`` is ``slice(None)`` (every series, the time-major fast path) or
an array of distinct series indices. The single-series class is a bank of one series, so the
single-series and vectorised results are the same code and agree exactly.

Bad points: single-series objects raise :class:`~ben.detect.errors.DetectorError`; banks never
raise for a bad point, they skip it (state untouched) and report it in ``status``:
``0`` ok, ``1`` value not finite, ``2`` timestamp older than the series' last one.
Equal timestamps are accepted (points are taken in the order given).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, ClassVar, NamedTuple

import numpy as np

from ben.detect.errors import DetectorError

__all__ = ["Verdict", "BankResult", "DetectorBank", "Detector", "STATUS", "OK", "NOT_FINITE", "OUT_OF_ORDER"]

OK, NOT_FINITE, OUT_OF_ORDER = 0, 1, 2
STATUS = {OK: "ok", NOT_FINITE: "not_finite", OUT_OF_ORDER: "out_of_order"}
TS_NONE = np.iinfo(np.int64).min
BIG = 1e12  # statistics are clipped here so scores stay finite


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a detector says about one point.

    Attributes
    ----------
    score : float
        In [0, 1]; 0.5 exactly at the detector's threshold, higher is more anomalous.
    flag : bool
        True when the point is anomalous (``score >= 0.5`` once warmed up).
    evidence : dict
        Numbers that explain the verdict: ``baseline``, ``scale``, ``observed``,
        ``deviation_sigma``, ``statistic``, ``threshold``, ``excursion_points``, ``points``.
    """

    score: float
    flag: bool
    evidence: dict[str, float] = field(default_factory=dict)


class BankResult(NamedTuple):
    """Result of a bank update: arrays aligned with the input points.

    ``evidence`` is ``None`` unless asked for; then a dict of arrays for the flagged points only,
    with ``point`` (the index of the point in the batch; for blocks, ``step`` and ``series``).
    """

    scores: np.ndarray
    flags: np.ndarray
    status: np.ndarray
    evidence: dict[str, np.ndarray] | None = None


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


class DetectorBank:
    """Base of the vectorised detectors: per-series state arrays updated in place.

    Subclasses define ``kind``, ``_param_names``, ``_fields()`` and ``_step(rows, x)``.
    Every bank has ``n`` (points accepted per series) and ``last_ts`` (last timestamp).
    """

    kind: ClassVar[str] = "base"
    _param_names: ClassVar[tuple[str, ...]] = ()

    def __init__(self, n_series: int = 1):
        check_param("n_series", n_series, 0, integer=True)
        self.n_series = int(n_series)
        self._state: dict[str, np.ndarray] = {}
        for name, (tail, dtype, fill) in self._all_fields().items():
            arr = np.full((self.n_series, *tail), fill, dtype=dtype)
            self._state[name] = arr
            setattr(self, name, arr)

    # ---- description -------------------------------------------------------------------
    def _fields(self) -> dict[str, tuple[tuple[int, ...], Any, Any]]:
        raise NotImplementedError

    def _all_fields(self) -> dict[str, tuple[tuple[int, ...], Any, Any]]:
        return {"n": ((), np.int64, 0), "last_ts": ((), np.int64, TS_NONE), **self._fields()}

    def params(self) -> dict[str, float]:
        """The constructor's hyper-parameters (numbers only)."""
        return {name: getattr(self, name) for name in self._param_names}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{type(self).__name__}(n_series={self.n_series}, {args})"

    # ---- state ---------------------------------------------------------------------------
    def checkpoint(self) -> dict:
        """Plain-data copy of the whole state: ``{"params": {...}, "state": {name: array}}``."""
        return {"params": self.params(), "state": {k: v.copy() for k, v in self._state.items()}}

    def restore(self, checkpoint: dict) -> None:
        """Replace this bank's state with a checkpoint taken from a bank with the same params."""
        if checkpoint.get("params") != self.params():
            raise DetectorError(f"checkpoint params {checkpoint.get('params')} differ from {self.params()}",
                                problem="bad_state")
        state = checkpoint["state"]
        n = len(state["n"])
        for name, (tail, dtype, _fill) in self._all_fields().items():
            arr = np.asarray(state.get(name))
            if arr.shape != (n, *tail):
                raise DetectorError(f"checkpoint field {name!r} has shape {arr.shape}, want {(n, *tail)}",
                                    problem="bad_state")
            arr = arr.astype(dtype, copy=True)
            self._state[name] = arr
            setattr(self, name, arr)
        self.n_series = n

    @classmethod
    def from_checkpoint(cls, checkpoint: dict) -> DetectorBank:
        """A new bank holding ``checkpoint``."""
        bank = cls(0, **checkpoint["params"])
        bank.restore(checkpoint)
        return bank

    def grow(self, n_series: int) -> None:
        """Add fresh series so that the bank holds ``n_series`` (existing state kept)."""
        extra = n_series - self.n_series
        if extra < 0:
            raise DetectorError(f"cannot shrink a bank from {self.n_series} to {n_series} series")
        for name, (tail, dtype, fill) in self._all_fields().items():
            arr = np.concatenate([self._state[name], np.full((extra, *tail), fill, dtype=dtype)])
            self._state[name] = arr
            setattr(self, name, arr)
        self.n_series = int(n_series)

    def select(self, i: int) -> dict:
        """Checkpoint of series ``i`` alone (restorable into a single-series object)."""
        return {"params": self.params(), "state": {k: v[i:i + 1].copy() for k, v in self._state.items()}}

    # ---- updates ---------------------------------------------------------------------------
    def _step(self, rows, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        raise NotImplementedError

    def update(self, series_index, ts_ns, values, *, evidence: bool = False) -> BankResult:
        """Feed a batch of points, possibly from many series (same series: in time order).

        Parameters
        ----------
        series_index : array of int
            Which series each point belongs to, in ``[0, n_series)``.
        ts_ns : array of int64
            Timestamps in nanoseconds.
        values : array of float64
            The values; not modified.
        evidence : bool
            Also return the evidence of the flagged points.

        Returns
        -------
        BankResult
            ``scores``, ``flags``, ``status`` per point (bad points: skipped, score 0, status != 0).
        """
        idx, ts, x = _as_batch(series_index, ts_ns, values, self.n_series)
        scores = np.zeros(len(x))
        flags = np.zeros(len(x), dtype=bool)
        status = np.zeros(len(x), dtype=np.uint8)
        found: list[dict[str, np.ndarray]] = []
        for sel in rounds(idx):
            rows = idx[sel]
            st = check_points(rows, ts[sel], x[sel], self.last_ts)
            status[sel] = st
            if st.any():
                sel, rows = sel[st == 0], rows[st == 0]
            if len(sel) == 0:
                continue
            sc, fl, aux = self._step(rows, x[sel])
            self.last_ts[rows] = ts[sel]
            scores[sel], flags[sel] = sc, fl
            if evidence and fl.any():
                found.append({"point": sel[fl], **{k: v[fl] for k, v in aux.items()}})
        return BankResult(scores, flags, status, _concat(found) if evidence else None)

    def update_block(self, ts_ns, values, *, evidence: bool = False) -> BankResult:
        """Feed one value per series per step: ``values`` has shape ``(steps, n_series)``.

        The fast path (all values finite, timestamps non-decreasing and not older than any
        series' last one) updates every series in place per step; anything else falls back to
        :meth:`update`. Results have shape ``(steps, n_series)``.
        """
        ts, x = _as_block(ts_ns, values, self.n_series)
        steps = len(ts)
        if self.n_series == 0:
            return BankResult(x.copy(), np.zeros(x.shape, bool), np.zeros(x.shape, np.uint8), {} if evidence else None)
        if not _block_fast_ok(ts, x, self.last_ts):
            res = self.update(np.tile(np.arange(self.n_series), steps), np.repeat(ts, self.n_series),
                              x.reshape(-1), evidence=evidence)
            shape = (steps, self.n_series)
            ev = _block_evidence(res.evidence, self.n_series) if evidence else None
            return BankResult(res.scores.reshape(shape), res.flags.reshape(shape), res.status.reshape(shape), ev)
        scores = np.empty(x.shape)
        flags = np.empty(x.shape, dtype=bool)
        found = []
        everything = slice(None)
        for t in range(steps):
            sc, fl, aux = self._step(everything, x[t])
            scores[t], flags[t] = sc, fl
            if evidence and fl.any():
                hit = np.flatnonzero(fl)
                found.append({"step": np.full(len(hit), t), "series": hit, **{k: v[hit] for k, v in aux.items()}})
        if steps:
            self.last_ts[:] = ts[-1]
        return BankResult(scores, flags, np.zeros(x.shape, dtype=np.uint8), _concat(found) if evidence else None)


def _as_batch(series_index, ts_ns, values, n_series: int):
    idx = np.asarray(series_index, dtype=np.int64)
    ts = np.asarray(ts_ns, dtype=np.int64)
    x = np.asarray(values, dtype=np.float64)
    if not (idx.ndim == ts.ndim == x.ndim == 1 and len(idx) == len(ts) == len(x)):
        raise DetectorError(f"series_index, ts_ns and values must be 1-d of one length, got shapes "
                            f"{idx.shape}, {ts.shape}, {x.shape}", problem="bad_series")
    if len(idx) and (idx.min() < 0 or idx.max() >= n_series):
        raise DetectorError(f"series index out of range [0, {n_series})", problem="bad_series")
    return idx, ts, x


def _as_block(ts_ns, values, n_series: int):
    ts = np.asarray(ts_ns, dtype=np.int64)
    x = np.asarray(values, dtype=np.float64)
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


class Detector:
    """One series, one detector: the public single-series API.

    Subclasses set ``bank_class`` and define ``__init__`` with their hyper-parameters.
    ``update(ts_ns, value)`` returns a :class:`Verdict`; ``state()`` / ``from_state()``
    checkpoint exactly; ``clone()`` is a fresh detector with the same parameters.
    """

    bank_class: ClassVar[type[DetectorBank]] = DetectorBank

    def __init__(self, *, name: str = "series", **params: float):
        self.name = name
        self._bank = self.bank_class(1, **params)

    def params(self) -> dict[str, float]:
        """The hyper-parameters."""
        return self._bank.params()

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{type(self).__name__}({args}, name={self.name!r})"

    @property
    def points(self) -> int:
        """Points accepted so far."""
        return int(self._bank.n[0])

    def _check(self, ts_ns: int, value: float) -> float:
        value = float(value)
        if not math.isfinite(value):
            raise DetectorError(f"value {value!r} at ts_ns={ts_ns} is not finite", series=self.name,
                                problem="not_finite")
        last = int(self._bank.last_ts[0])
        if ts_ns < last:
            raise DetectorError(f"timestamp {ts_ns} is older than the previous point's {last}",
                                series=self.name, problem="out_of_order")
        return value

    def update(self, ts_ns: int, value: float) -> Verdict:
        """Feed one point (in time order) and return its :class:`Verdict`."""
        ts_ns = int(ts_ns)
        x = np.array([self._check(ts_ns, value)])
        score, flag, aux = self._bank._step(slice(None), x)
        self._bank.last_ts[0] = ts_ns
        return Verdict(float(score[0]), bool(flag[0]), {k: float(v[0]) for k, v in aux.items()})

    def update_many(self, ts_ns, values) -> BankResult:
        """Feed many points of this series at once (fast); raises like :meth:`update`.

        Returns a :class:`BankResult` with 1-d ``scores`` and ``flags``. Same results as
        calling :meth:`update` point by point.
        """
        ts = np.asarray(ts_ns, dtype=np.int64)
        x = np.asarray(values, dtype=np.float64)
        bad = np.flatnonzero(~np.isfinite(x))
        if len(bad):
            self._check(int(ts[bad[0]]), x[bad[0]])
        back = np.flatnonzero(np.diff(np.r_[self._bank.last_ts[0], ts]) < 0)
        if len(back):
            self._check(int(ts[back[0]]), x[back[0]])
        res = self._bank.update_block(ts, x.reshape(-1, 1))
        return BankResult(res.scores[:, 0], res.flags[:, 0], res.status[:, 0])

    def clone(self) -> Detector:
        """A fresh detector with the same parameters and name (no state)."""
        return type(self)(name=self.name, **self.params())

    def state(self) -> dict:
        """Plain-data checkpoint (see :func:`ben.detect.to_bytes` for bytes)."""
        return self._bank.checkpoint()

    @classmethod
    def from_state(cls, state: dict, *, name: str = "series") -> Detector:
        """Rebuild a detector from :meth:`state` (or from a bank's ``select(i)``)."""
        det = cls(name=name, **state["params"])
        det._bank.restore(state)
        if det._bank.n_series != 1:
            raise DetectorError(f"a single-series state has 1 series, this one {det._bank.n_series}",
                                series=name, problem="bad_state")
        return det
