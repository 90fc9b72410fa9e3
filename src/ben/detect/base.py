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
import os
from dataclasses import dataclass, field
from typing import Any, ClassVar, NamedTuple

import numpy as np

from ben.detect.errors import DetectorError

__all__ = ["Verdict", "BankResult", "DetectorBank", "STATUS", "OK", "NOT_FINITE", "OUT_OF_ORDER", "ENV_KERNELS",
           "kernels", "use_kernels"]

OK, NOT_FINITE, OUT_OF_ORDER = 0, 1, 2
STATUS = {OK: "ok", NOT_FINITE: "not_finite", OUT_OF_ORDER: "out_of_order"}
TS_NONE = np.iinfo(np.int64).min
BIG = 1e12  # statistics are clipped here so scores stay finite

#: ``BEN_DETECT_KERNELS=0`` runs the block fast path in numpy instead of the compiled kernels
#: (same results, bit for bit; about half the speed). Read once, at import.
ENV_KERNELS = "BEN_DETECT_KERNELS"
_KERNELS: dict[str, Any] = {"on": os.environ.get(ENV_KERNELS, "1").strip() != "0", "module": None}


def use_kernels(on: bool) -> bool:
    """Switch the compiled block kernels on or off (tests compare both); returns the old setting."""
    old = _KERNELS["on"]
    _KERNELS["on"] = bool(on)
    return old


def kernels():
    """The compiled block kernels (``ben.detect._kernels``), or ``None`` when switched off.

    Imported on the first fast-path block, not with ``ben.detect``: the per-point path (the
    spine's) never loads numba. A failure to load or compile is a :class:`DetectorError` that
    says what failed and how to run without the kernels.
    """
    if not _KERNELS["on"]:
        return None
    mod = _KERNELS["module"]
    if mod is None:
        try:
            from ben.detect import _kernels as mod
        except Exception as exc:  # ImportError (numba, llvmlite) or a numba compile/cache error
            raise DetectorError(f"cannot load the compiled detector kernels (numba): {type(exc).__name__}: {exc}; "
                                f"if no cache directory is writable, set NUMBA_CACHE_DIR to one; or set "
                                f"{ENV_KERNELS}=0 to run the numpy path instead") from exc
        _KERNELS["module"] = mod
    return mod


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
        """Add fresh series so that the bank holds ``n_series`` (existing state kept).

        The arrays are views of buffers whose capacity doubles, so adding series one at a time
        costs amortised O(1) per series (not a copy of every array per new series).
        """
        old = self.n_series
        if n_series < old:
            raise DetectorError(f"cannot shrink a bank from {self.n_series} to {n_series} series")
        spare = getattr(self, "_spare", None)
        if spare is None:
            spare = self._spare = {}
        for name, (tail, dtype, fill) in self._all_fields().items():
            cur = self._state[name]
            buf = spare.get(name)
            if buf is None or cur.base is not buf or len(buf) < n_series:
                buf = np.empty((max(n_series, 2 * old, 16), *tail), dtype=dtype)
                buf[:old] = cur
                spare[name] = buf
            buf[old:n_series] = fill
            arr = buf[:n_series]
            self._state[name] = arr
            setattr(self, name, arr)
        self.n_series = int(n_series)

    def select(self, i: int) -> dict:
        """Checkpoint of series ``i`` alone (restorable into a single-series object)."""
        return {"params": self.params(), "state": {k: v[i:i + 1].copy() for k, v in self._state.items()}}

    # ---- updates ---------------------------------------------------------------------------
    # A detector implements ``_recur(S, x, out, t, n0)``: advance the state arrays ``S`` (the
    # bank's own arrays, or gathered copies) by one point per series, in place. Per-point path:
    # ``out is None`` and ``n0 is None``; it returns the raw outputs (``stat``, ``warm`` and the
    # arrays named in ``_raw``) and increments ``S["n"]``. Block fast path: every series has seen
    # the same ``n0`` points and is past every start-up case; it writes the raw outputs into
    # ``out[key][t]`` and leaves ``n`` alone (the block adds the steps at the end). Scores, flags
    # and runs are elementwise, so the two paths give the same numbers.
    _raw: ClassVar[tuple[str, ...]] = ("stat", "baseline", "scale", "deviation_sigma")
    _steady: int = 0  # points after which a series is past every start-up special case
    CHUNK: ClassVar[int] = 16  # steps per internal chunk of a block (bounds memory)
    _kernel: ClassVar[bool] = False  # has a compiled fast path (``_fast_kernel``)
    _replay: ClassVar[bool] = False  # its kernel can skip the raw outputs (evidence by replay)

    def _fast_kernel(self, kern, X: np.ndarray, score: np.ndarray, flag: np.ndarray,
                     want_raw: bool = True) -> dict[str, Any] | None:
        """Compiled fast path: advance the state through ``X`` (not ``n``), fill ``score`` and
        ``flag``, update ``run``; return the raw outputs (``stat`` already capped at ``BIG``).
        Banks with ``_replay`` skip the raw outputs unless ``want_raw`` (and return ``None``)."""
        raise NotImplementedError

    def _recur(self, S: dict[str, np.ndarray], x: np.ndarray, out, t: int, n0) -> dict[str, Any] | None:
        raise NotImplementedError

    def _fast_ok(self) -> bool:
        """True when every series has seen the same number of points, all past start-up."""
        if self.n_series == 0:
            return False
        lo, hi = int(self.n.min()), int(self.n.max())
        return lo == hi and lo >= self._steady

    def _finish(self, raw: dict) -> dict:
        """Derived raw outputs (elementwise; e.g. CUSUM's two sides into one statistic)."""
        return raw

    def _aux(self, raw: dict, x: np.ndarray, run: np.ndarray) -> dict[str, np.ndarray]:
        aux = {k: v for k, v in raw.items() if k not in ("stat", "warm")}
        aux.update(observed=x, statistic=raw["stat"], threshold=np.full(np.shape(x), self.threshold),
                   excursion_points=run)
        return self._derive(aux)

    def _derive(self, aux: dict) -> dict:
        """Evidence derived from the raw outputs of chosen points (detectors may add to it)."""
        return aux

    def _step(self, rows, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """One point for each series in ``rows`` (``slice(None)`` or distinct indices)."""
        if isinstance(rows, slice):
            S = self._state
        else:
            S = {k: v[rows] for k, v in self._state.items()}
        raw = self._finish(self._recur(S, x, None, 0, None))
        score, flag = score_of(raw["stat"].copy(), self.threshold, raw["warm"])
        run = (S["run"] + 1) * flag
        S["run"][...] = run
        if not isinstance(rows, slice):
            for k, v in S.items():
                self._state[k][rows] = v
        return score, flag, self._aux(raw, x, run)

    def _block(self, X: np.ndarray, want_aux: bool = True):
        """Steps of every series, ``X`` of shape ``(steps, n_series)``, all finite.

        Returns ``(scores, flags, aux)``; ``aux`` is ``None`` unless ``want_aux`` (then the
        evidence arrays, shape ``(steps, n_series)``), and on the fast path ``_last_raw`` keeps
        the raw outputs for :meth:`_aux_at`.
        """
        steps = len(X)
        kern = kernels() if self._kernel and steps and self._fast_ok() else None
        if kern is not None:  # compiled: raw outputs, scores, flags and runs in one pass
            X = np.ascontiguousarray(X)  # (one compiled signature: C-ordered blocks)
            run0 = self.run.copy()
            score, flag = np.empty(X.shape), np.empty(X.shape, dtype=bool)
            if self._replay and not want_aux:
                # no raw outputs (memory traffic); evidence replays the block for the series asked about
                snap = {k: v.copy() for k, v in self._state.items()}
                self._fast_kernel(kern, X, score, flag, want_raw=False)
                self._last_raw = ("replay", snap, X, flag, run0)
                self.n += steps
                return score, flag, None
            raw = self._fast_kernel(kern, X, score, flag, want_raw=want_aux)
            self.n += steps
            self._last_raw = ("fast", raw, X, flag, run0)
            if not want_aux:
                return score, flag, None
            return score, flag, self._aux(raw, X, block_runs(flag, run0))
        if not self._fast_ok():
            parts = [self._step(slice(None), X[t]) for t in range(steps)]
            aux = {k: np.stack([p[2][k] for p in parts]) for k in parts[0][2]} if parts else {}
            self._last_raw = ("slow", aux)
            return (np.stack([p[0] for p in parts]) if parts else np.empty(X.shape),
                    np.stack([p[1] for p in parts]) if parts else np.empty(X.shape, bool), aux)
        raw = self._finish(self._fast_raw(X))
        stat = np.minimum(raw["stat"], BIG)
        raw["stat"] = stat
        flag = stat >= self.threshold
        score = stat / (stat + self.threshold)
        run0 = self.run.copy()
        if steps:
            self.run[:] = last_runs(flag, run0)
        self._last_raw = ("fast", raw, X, flag, run0)
        if not want_aux:
            return score, flag, None
        return score, flag, self._aux(raw, X, block_runs(flag, run0))

    def _fast_raw(self, X: np.ndarray) -> dict[str, np.ndarray]:
        """Raw outputs of a block on the fast path (every series aligned and steady)."""
        n0 = int(self.n[0])
        out = {k: np.empty(X.shape) for k in self._raw}
        for t in range(len(X)):
            self._recur(self._state, X[t], out, t, n0 + t)
        self.n += len(X)
        return out

    def _aux_at(self, step: np.ndarray, series: np.ndarray) -> dict[str, np.ndarray]:
        """Evidence of chosen points of the last ``_block`` call."""
        if self._last_raw[0] == "slow":
            return {k: v[step, series] for k, v in self._last_raw[1].items()}
        if self._last_raw[0] == "replay":  # (banks whose kernel wrote no raw outputs)
            _, snap, X, flag, run0 = self._last_raw
            raw, where = self._replayed(snap, X, step, series)
        else:
            _, raw, X, flag, run0 = self._last_raw
            where = series
        out = {k: v[step, where] for k, v in raw.items() if k != "stat"}
        exc = block_runs(flag[:, series], run0[series])[step, np.arange(len(series))]
        out.update(observed=X[step, series], statistic=raw["stat"][step, where],
                   threshold=np.full(len(step), self.threshold), excursion_points=exc)
        return self._derive(out)

    def _replayed(self, snap: dict, X: np.ndarray, step: np.ndarray, series: np.ndarray):
        """Raw outputs of the last block for ``series`` only, by running the same kernel again
        from the state before the block (``snap``) on those series: ``(raw, where)``, ``where``
        the column of each point's series in ``raw``."""
        cols, where = np.unique(series, return_inverse=True)
        sub = type(self).from_checkpoint({"params": self.params(), "state": {k: v[cols] for k, v in snap.items()}})
        upto = int(step.max()) + 1 if len(step) else 0
        Xs = np.ascontiguousarray(X[:upto, cols])
        raw = sub._fast_kernel(kernels(), Xs, np.empty(Xs.shape), np.empty(Xs.shape, dtype=bool))
        return raw, where

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
        scores, flags = np.empty(x.shape), np.empty(x.shape, dtype=bool)
        found = []
        for c0 in range(0, steps, self.CHUNK):
            sc, fl, _ = self._block(x[c0:c0 + self.CHUNK], want_aux=False)
            scores[c0:c0 + self.CHUNK], flags[c0:c0 + self.CHUNK] = sc, fl
            if evidence and fl.any():
                step, series = np.nonzero(fl)
                found.append({"step": step + c0, "series": series, **self._aux_at(step, series)})
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
