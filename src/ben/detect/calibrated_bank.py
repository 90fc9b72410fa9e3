"""Many series under the default detection: one state row per series, one compiled loop per batch.

:class:`CalibratedBank` is what :class:`~ben.detect.SeriesMonitor` runs, for many series at once
(the spine's detection, ADR 0040). The states of ``n`` series are the rows of one 2-D ``float64``
array (``n x N_STATE``; its capacity doubles, so registering a series is amortised O(1)); a batch
of points ``(row, ts_ns, value)``, each series in time order, goes through one compiled loop that
calls the same per-point ``step`` a ``SeriesMonitor`` calls, on that series' row. So a series
gives the same scores and episodes here as in its own ``SeriesMonitor``, whatever else is in the
batch (tested point for point).

Only the public side of :mod:`ben.detect.calibrated` is used (``N_STATE``, ``new_state``,
``Timing``, the ``I_*`` / ``EV_*`` constants, ``kernel()``): the state's layout and the algorithm
live there alone. An episode is read from its series' state right after the point that caused
it (the loop copies that row aside) by the single-series monitor's own code, so its fields are the
ones ``SeriesMonitor`` reports.

The compiled loop is ``ben.detect._calibrated_rows_loop.loop``, cached on disk; the cache is
dropped whenever the sources it inlines change (:mod:`ben.detect._calibrated_rows`), so a spine
start loads it instead of compiling it for seconds. With the compiled kernels off
(``BEN_DETECT_KERNELS=0``) the same loop runs as plain Python around ``step.py_func``.
"""

from __future__ import annotations

import numbers
from dataclasses import asdict
from typing import NamedTuple

import numpy as np

from ben.detect import calibrated as cal
from ben.detect.episode import Episode
from ben.detect.errors import DetectorError
from ben.detect.inputs import as_arrays

__all__ = ["CalibratedBank", "CalibratedResult"]

FORMAT = 5
#: Episode snapshots the loop keeps before it hands back to Python (events are rare).
SNAPSHOTS = 64
_NEVER = -(2 ** 63)
_LOOPS: dict = {}


class CalibratedResult(NamedTuple):
    """Per point: ``scores``, ``flags`` (an episode is open), ``status`` (0 ok, 1 not finite, 2 out
    of order: skipped), ``events`` (``EV_NONE`` / ``EV_OPEN`` / ``EV_CLOSE``); and the episodes, in
    point order, with ``at``, the index of the point that caused each, and ``evidence``, the series'
    figures right after that point (the keys of ``SeriesMonitor.update``'s evidence: ``evidence``,
    ``level_z``, ``kl``, ``drift_z``, ``expected``, ``scale``; and ``flat_intervals``, ``rebaselines``)."""

    scores: np.ndarray
    flags: np.ndarray
    status: np.ndarray
    events: np.ndarray
    episodes: list[Episode]
    at: np.ndarray
    evidence: list[dict]


def _loop_for(step, compiled: bool):
    """The batch loop: compiled and cached on disk (never a stale cache), or plain Python."""
    if compiled:
        from ben.detect._calibrated_rows import compiled_loop

        return compiled_loop()
    if "plain" not in _LOOPS:
        from ben.detect._calibrated_rows_loop import plain_loop

        _LOOPS["plain"] = plain_loop()
    return _LOOPS["plain"]


def _evidence(state: np.ndarray) -> dict:
    # the kernel keeps a flat run that became the new normal as minus its length (-1e300: unknown, from an old
    # checkpoint): said as its length, never "unchanged for -69 intervals" (ADR 0012, 2026-12-07)
    flat = abs(float(state[cal.I_F4]))
    return {"evidence": float(state[cal.I_EVID]), "level_z": float(state[cal.I_F1]), "kl": float(state[cal.I_F2]),
            "drift_z": float(state[cal.I_F3]), "flat_intervals": flat if flat < 1e299 else 0.0,
            "sustained_z": float(state[cal.I_SUS_Z]),
            "expected": float(state[cal.I_PRED]), "scale": float(state[cal.I_SCALE]),
            "rebaselines": float(state[cal.I_REBASES])}


class CalibratedBank:
    """The default (calibrated) detection over many series: one state row each.

    Parameters
    ----------
    n_series : int
        Series held at first (``grow`` adds more).
    timing : Timing, optional
        Memories and decisions in seconds, shared by every series (:class:`~ben.detect.calibrated.Timing`).
    counters : array of bool, optional
        Series that are monotone totals (watched as their increase, a reset counting from zero):
        their rows start as ``new_state(counter=True)``.

    ``update(rows, ts_ns, values)`` feeds a batch (each series in time order) and returns a
    :class:`CalibratedResult`; episodes name their series by row (``Episode.series`` is the row).
    """

    def __init__(self, n_series: int = 0, *, timing: cal.Timing | None = None, counters=None):
        self.timing = timing if timing is not None else cal.Timing()
        self._fresh = (cal.new_state(counter=False), cal.new_state(counter=True))
        self._n = 0
        self._states = np.empty((16, cal.N_STATE))
        self._last = np.full(16, _NEVER, dtype=np.int64)
        self._view = None
        self.grow(n_series, counters)

    @property
    def timing(self) -> cal.Timing:
        """The memories and decisions every series runs with (may be changed between batches)."""
        return self._timing

    @timing.setter
    def timing(self, timing: cal.Timing) -> None:
        if not isinstance(timing, cal.Timing):
            raise DetectorError(f"timing must be a ben.detect.calibrated.Timing, not {type(timing).__name__}")
        self._timing = timing
        self._p = timing.vector()
        self._view = None

    # ---- series -------------------------------------------------------------------------------
    @property
    def n_series(self) -> int:
        return self._n

    @property
    def states(self) -> np.ndarray:
        """The ``(n_series, N_STATE)`` state matrix (a view: one row per series)."""
        return self._states[:self._n]

    @property
    def last_ts(self) -> np.ndarray:
        """Each series' last accepted timestamp, ns (a view)."""
        return self._last[:self._n]

    def grow(self, n_series: int, counters=None) -> None:
        """Hold ``n_series`` series; the new ones start fresh (``counters``: which new ones are counters)."""
        old = self._n
        if isinstance(n_series, (bool, np.bool_)) or not isinstance(n_series, numbers.Integral):
            raise DetectorError(f"n_series must be a whole number of series, not {type(n_series).__name__} "
                                f"{n_series!r}", problem="bad_param")
        if n_series < old:
            raise DetectorError(f"a bank holds {old} series; it cannot shrink to {n_series}")
        cap = len(self._last)
        if n_series > cap:
            new = max(n_series, 2 * cap)
            states = np.empty((new, cal.N_STATE))
            states[:old] = self._states[:old]
            last = np.full(new, _NEVER, dtype=np.int64)
            last[:old] = self._last[:old]
            self._states, self._last = states, last
        added = n_series - old
        if added:
            is_counter = np.zeros(added, dtype=bool) if counters is None else np.asarray(counters, dtype=bool)
            if is_counter.shape != (added,):
                raise DetectorError(f"counters has {is_counter.shape} entries for {added} new series")
            self._states[old:n_series] = self._fresh[0]
            self._states[old:n_series][is_counter] = self._fresh[1]
            self._last[old:n_series] = _NEVER
        self._n = n_series

    def warm_up(self) -> None:
        """Compile the batch loop now (once per process, a few seconds) rather than at the first batch."""
        CalibratedBank(1, timing=self.timing).update(np.zeros(1, np.int64), np.zeros(1, np.int64), np.zeros(1))

    # ---- points -------------------------------------------------------------------------------
    def update(self, rows, ts_ns, values) -> CalibratedResult:
        """Feed a batch of points ``(row, ts_ns, value)``, each series' points in time order.

        A point that is not finite, or older than its series' previous one, is skipped and
        reported in ``status`` (the series is unchanged).
        """
        rows, ts, xs = map(np.ascontiguousarray, as_arrays(rows=(rows, np.int64), ts_ns=(ts_ns, np.int64),
                                                           values=(values, np.float64)))
        if not (rows.ndim == ts.ndim == xs.ndim == 1 and len(rows) == len(ts) == len(xs)):
            raise DetectorError(f"rows, ts_ns and values must be 1-d of one length, got {rows.shape}, {ts.shape}, "
                                f"{xs.shape}")
        n = len(xs)
        if n and (int(rows.min()) < 0 or int(rows.max()) >= self._n):
            raise DetectorError(f"series rows must be in [0, {self._n}); got {int(rows.min())}..{int(rows.max())}")
        scores = np.empty(n)
        flags = np.empty(n, dtype=np.bool_)
        events = np.empty(n, dtype=np.int64)
        status = np.empty(n, dtype=np.uint8)
        episodes: list[Episode] = []
        at: list[int] = []
        evidence: list[dict] = []
        if n:
            step, _ = cal.kernel()
            from ben.detect.base import _KERNELS

            loop = _loop_for(step, bool(_KERNELS["on"]))
            snaps = np.empty((SNAPSHOTS, cal.N_STATE))
            snap_at = np.empty(SNAPSHOTS, dtype=np.int64)
            states, last = self._states, self._last
            i = 0
            while i < n:
                i, k = loop(states=states, last=last, rows=rows, ts=ts, xs=xs, p=self._p, scores=scores, flags=flags,
                            events=events, status=status, snaps=snaps, snap_at=snap_at, start=i)
                for j in range(k):
                    p = int(snap_at[j])
                    episodes.append(self._episode(snaps[j], int(events[p]), int(ts[p]), int(rows[p])))
                    evidence.append(_evidence(snaps[j]))
                    at.append(p)
        return CalibratedResult(scores, flags, status, events.astype(np.int8), episodes, np.array(at, dtype=np.int64),
                                evidence)

    def _episode(self, state: np.ndarray, event: int, ts_ns: int, row: int) -> Episode:
        """The episode as the single-series monitor reads it from a state right after ``event``."""
        view = self._view
        if view is None:
            from ben.detect.series import SeriesMonitor

            view = self._view = SeriesMonitor(0, timing=self.timing)
        view.name = row
        view._s = state
        return view._episode(event, ts_ns)

    def open_episodes(self) -> list[Episode]:
        """The episodes open now, with their current figures."""
        open_rows = np.flatnonzero(self.states[:, cal.I_EP] > 0.5)
        return [self._episode(self._states[r].copy(), cal.EV_OPEN, int(self._last[r]), int(r)) for r in open_rows]

    # ---- state --------------------------------------------------------------------------------
    def checkpoint(self) -> dict:
        """Plain data (``ben.detect.to_bytes`` makes bytes of it, never pickle): the format, the timing,
        the state matrix and each series' last timestamp. Restored exactly."""
        return {"calibrated_bank": FORMAT, "n_state": cal.N_STATE, "timing": asdict(self.timing),
                "states": self.states.copy(), "last_ts": self.last_ts.copy()}

    @classmethod
    def from_checkpoint(cls, checkpoint: dict) -> CalibratedBank:
        """A bank holding ``checkpoint``; ``DetectorError`` if it is not one of this format and state layout."""
        try:
            fmt = checkpoint["calibrated_bank"]
            timing = cal.Timing(**checkpoint["timing"])
            states = np.asarray(checkpoint["states"], dtype=np.float64)
            last = np.asarray(checkpoint["last_ts"], dtype=np.int64)
        except (KeyError, TypeError, ValueError) as exc:
            raise DetectorError(f"not a CalibratedBank checkpoint: {exc}", problem="bad_state") from exc
        if fmt == FORMAT - 1 and states.ndim == 2 and states.shape[1] == cal.N_STATE_5:
            fmt, states = FORMAT, cal.upgrade(states)   # (format 4: before the onset habit, which starts empty)
        if fmt != FORMAT or states.ndim != 2 or states.shape[1] != cal.N_STATE or last.shape != (len(states),):
            raise DetectorError(f"checkpoint format {fmt!r} with states {states.shape} and {last.shape} timestamps; "
                                f"expected format {FORMAT}, (n, {cal.N_STATE}) and (n,)", problem="bad_state")
        bank = cls(0, timing=timing)
        bank.grow(len(states))
        bank._states[:len(states)] = states
        bank._last[:len(states)] = last
        return bank
