"""The detector contract: a vectorised *bank* of per-series states, and its update paths.

Every detector is written once, as a bank (:class:`DetectorBank`): state arrays indexed by
series (:class:`ben.detect.state.BankState`), advanced in place by the public
:meth:`DetectorBank.step` ``(rows, x)`` where ``rows`` is ``slice(None)`` (every series) or an
array of distinct series indices. A detector implements two abstract hooks, ``_fields`` (its
state arrays) and ``_recur`` (one point per series), and may add a compiled fast path
(``_fast_kernel``) and derived evidence (``_finish``, ``_derive``). The single-series class
(:class:`ben.detect.single.SeriesDetector`) is a bank of one series, so the single-series and
vectorised results are the same code and agree exactly. :mod:`ben.detect.checks` holds the
conformance checks every registered detector passes.

Bad points: single-series objects raise :class:`~ben.detect.errors.DetectorError`; banks never
raise for a bad point, they skip it (state untouched) and report it in ``status``:
``0`` ok, ``1`` value not finite, ``2`` timestamp older than the series' last one.
Equal timestamps are accepted (points are taken in the order given).
"""

from __future__ import annotations

import os
from abc import abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar, NamedTuple

import numpy as np

from ben.detect.errors import DetectorError
from ben.detect.primitives import (BIG, FLOOR_EVERY, NOT_FINITE, OK, OUT_OF_ORDER, STATUS, TS_NONE,  # noqa: F401
                                   _as_batch, _as_block, _block_evidence, _block_fast_ok, _concat, block_runs,
                                   check_param, check_points, held, last_runs, rounds, scale_floor, score_of,
                                   sigma_of)
from ben.detect.state import BankState, FieldSpec

__all__ = ["Verdict", "BankResult", "Step", "DetectorBank", "STATUS", "OK", "NOT_FINITE", "OUT_OF_ORDER",
           "ENV_KERNELS", "kernels", "use_kernels"]

#: ``BEN_DETECT_KERNELS=0`` runs the block fast path in numpy instead of the compiled kernels
#: (same results, bit for bit; about half the speed). Read once, at import.
ENV_KERNELS = "BEN_DETECT_KERNELS"
#: What turns them off: ``0`` as documented, and the words a newcomer writes for it (``false`` left them on).
KERNELS_OFF = ("0", "false", "no", "off")
_KERNELS: dict[str, Any] = {"on": os.environ.get(ENV_KERNELS, "1").strip().lower() not in KERNELS_OFF,
                            "module": None}


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


class Step(NamedTuple):
    """What :meth:`DetectorBank.step` returns: arrays aligned with the rows stepped.

    ``evidence`` holds every evidence array (``baseline``, ``scale``, ``observed``, ...), one
    value per row.
    """

    scores: np.ndarray
    flags: np.ndarray
    evidence: dict[str, np.ndarray]


class DetectorBank(BankState):
    """Base of the vectorised detectors: per-series state arrays updated in place.

    A detector subclass defines:

    - ``kind`` (its registry name) and ``_param_names`` (its hyper-parameters, stored as
      attributes of the same name, validated in ``__init__`` with
      :func:`~ben.detect.primitives.check_param`), a ``threshold`` (the statistic's value where
      the score is 0.5) and ``_steady`` (points after which a series is past every start-up case);
    - :meth:`_fields`, its state arrays, and :meth:`_recur`, one point per series (abstract);
    - optionally a compiled fast path (``_kernel = True`` and :meth:`_fast_kernel`) and derived
      outputs (:meth:`_finish`, :meth:`_derive`).

    The base declares and keeps ``n``, ``last_ts`` and ``run`` (consecutive flagged points per
    series), turns the statistic into a score and a flag, validates points, and runs the
    per-point (:meth:`update`, :meth:`step`) and time-major block (:meth:`update_block`) paths.
    """

    kind: ClassVar[str] = "base"
    threshold: float
    """The statistic's decision threshold: score 0.5 and the flag there."""
    run: np.ndarray
    """Consecutive flagged points per series, ending at the last one (int64)."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls._kernel and cls._fast_kernel is DetectorBank._fast_kernel:
            raise TypeError(f"{cls.__name__} sets _kernel = True but does not implement _fast_kernel")

    def _base_fields(self) -> dict[str, FieldSpec]:
        """``n``, ``last_ts`` and ``run``: the arrays the update paths rely on."""
        return {**super()._base_fields(), "run": ((), np.int64, 0)}

    # ---- the hooks a detector implements -------------------------------------------------
    # Scores, flags and runs are elementwise in the raw outputs, so the per-point and the block
    # paths give the same numbers as long as ``_recur`` (and ``_fast_kernel``) do.
    _raw: ClassVar[tuple[str, ...]] = ("stat", "baseline", "scale", "deviation_sigma")
    """Raw outputs the block fast path stores per step (``_recur``'s ``out`` keys)."""
    _steady: int = 0  # points after which a series is past every start-up special case
    CHUNK: ClassVar[int] = 16  # steps per internal chunk of a block (bounds memory)
    _kernel: ClassVar[bool] = False  # has a compiled fast path (``_fast_kernel``)
    _replay: ClassVar[bool] = False  # its kernel can skip the raw outputs (evidence by replay)

    @abstractmethod
    def _fields(self) -> dict[str, FieldSpec]:
        """The detector's state arrays: ``{name: (tail shape, dtype, fill)}`` (not ``n``,
        ``last_ts``, ``run``: the base declares those)."""

    @abstractmethod
    def _recur(self, S: dict[str, np.ndarray], x: np.ndarray, out, t: int, n0) -> dict[str, Any] | None:
        """Advance the state arrays ``S`` by one point per series ``x``, in place.

        ``S`` is the bank's own arrays or gathered copies of some rows. Per-point path
        (``out is None``, ``n0 is None``): increment ``S["n"]`` and return the raw outputs,
        ``stat`` (non-negative statistic), ``warm`` (bool or bool array: past warm-up) and the
        arrays named in ``_raw``. Block fast path (every series has seen ``n0`` points, all past
        ``_steady``): write the raw outputs into ``out[key][t]``, leave ``n`` alone and return
        ``None``. Both paths must give the same numbers bit for bit.
        """

    def _fast_kernel(self, kern, X: np.ndarray, score: np.ndarray, flag: np.ndarray,
                     want_raw: bool = True) -> dict[str, Any] | None:
        """Compiled fast path (only with ``_kernel = True``): advance the state through ``X``
        (not ``n``), fill ``score`` and ``flag``, update ``run``; return the raw outputs
        (``stat`` already capped at ``BIG``). Banks with ``_replay`` skip the raw outputs unless
        ``want_raw`` (and return ``None``). ``kern`` is :mod:`ben.detect._kernels`."""
        raise NotImplementedError(f"{type(self).__name__} has no compiled fast path")

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

    # ---- updates ---------------------------------------------------------------------------
    def step(self, rows, x: np.ndarray) -> Step:
        """One point for each series in ``rows`` (``slice(None)`` or distinct indices), in place.

        ``x`` holds finite values, one per row; timestamps are the caller's (:meth:`update`
        checks and records them). Returns the :class:`Step` (scores, flags, evidence).
        """
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
        return Step(score, flag, self._aux(raw, x, run))

    _step = step  # (the name MonitorBank calls)

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
            parts = [self.step(slice(None), X[t]) for t in range(steps)]
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
            sc, fl, aux = self.step(rows, x[sel])
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
