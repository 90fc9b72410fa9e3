"""``SeriesMonitor``: one series watched by the default detection (the notebook API).

By default a monitor runs :mod:`ben.detect.calibrated` (time-based memory, hour-of-day seasonality,
calibrated tail evidence, one episode per onset). Given ``detectors``, ``noise``, ``params`` or
``seasonal``, it runs the detector bank instead (:class:`BankSeriesMonitor`, what
:class:`~ben.detect.MonitorBank` runs for many series).
"""

from __future__ import annotations

import copy
import math
from dataclasses import asdict, replace

import numpy as np

from ben.detect import calibrated as cal
from ben.detect import inputs

from ben.detect.episode import Episode, duration_text
from ben.detect.errors import DetectorError
from ben.detect.monitor import DETECTORS, MonitorBank, MonitorResult, MonitorVerdict
from ben.detect.noise import NoiseControl

__all__ = ["SeriesMonitor", "BankSeriesMonitor"]


class BankSeriesMonitor:
    """Watch one series with the detector bank (EWMA, CUSUM, robust, drift, variance) and noise control.

    Parameters
    ----------
    name : str
        The series' name (in errors and in the episodes it reports).
    detectors : sequence of str
        Detector names from ``ben.detect.DETECTORS`` (default: all of ``ewma``, ``cusum``, ``robust``,
        ``drift``, ``variance``).
    noise : NoiseControl, optional
        Warm-up, combination, dwell/hysteresis and flap suppression (documented defaults).
    params : dict, optional
        Per-detector keyword arguments, e.g. ``{"ewma": {"threshold": 5.0}}``.
    counter : bool, default False
        The series is a monotone counter: watch its increase per point (a reset counts from 0).
    seasonal : bool or dict, default True
        Per-series seasonal baseline (see :class:`~ben.detect.MonitorBank`).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(42)
    >>> latency = 120 + rng.normal(0, 8, 400)
    >>> latency[300:] += 360                       # p99 jumps from 120 ms to 480 ms
    >>> mon = BankSeriesMonitor("checkout p99")
    >>> ts = 1_700_000_000_000_000_000 + np.arange(400) * 10_000_000_000
    >>> episodes = [e for t, v in zip(ts, latency) for e in mon.update(t, v).episodes]
    >>> first = episodes[0]
    >>> first.state, first.detectors, int(round(first.baseline, -1)), int(round(first.observed, -1))
    ('open', ('ewma', 'cusum', 'robust'), 120, 490)
    >>> bool(first.start_ts == ts[300])  # a jump this size opens the episode at once
    True
    >>> print(first.summary(unit=" ms"))
    checkout p99 rose from 116 ms to 494 ms at 23:03:20 (CUSUM 12.0 sigma over 1 point); still open
    """

    def __init__(self, name: str = "series", *, detectors=tuple(DETECTORS), noise: NoiseControl | None = None,
                 params: dict | None = None, counter: bool = False, seasonal: bool | dict = True):
        self.name = name
        _check_counter(counter, name)
        self._config = {"detectors": tuple(detectors), "noise": noise, "params": params, "seasonal": seasonal}
        self._bank = MonitorBank(1, detectors=detectors, noise=noise, params=params, counters=[counter],
                                 seasonal=seasonal)

    def __repr__(self) -> str:
        return f"SeriesMonitor({self.name!r}, detectors={self._bank.names}, noise={self._bank.noise})"

    def update(self, ts_ns: int, value: float) -> MonitorVerdict:
        """Feed one point (in time order).

        Returns
        -------
        MonitorVerdict
            ``score`` (combined, in [0, 1]), ``flag`` (the series is in an anomaly episode),
            ``evidence`` (combined score and each detector's score) and ``episodes`` (events this
            point caused: an episode opened or closed, a mute started or ended).
        """
        ts_ns, value = inputs.point(self.name, ts_ns, value, fresh=int(self._bank.st.n[0]) == 0)
        last = int(self._bank.st.last_ts[0])
        if ts_ns < last:
            raise DetectorError(f"timestamp {ts_ns} is older than the previous point's {last}"
                                f"{inputs.unit_hint(ts_ns)}", series=self.name, problem="out_of_order")
        res = self._bank.update(np.zeros(1, np.int64), np.array([ts_ns]), np.array([value]))
        evidence = {"score": float(res.scores[0]), "points": int(self._bank.st.n[0]),
                    **{f"{k}_score": float(v) for k, v in self._bank.last_scores.items()}}
        return MonitorVerdict(float(res.scores[0]), bool(res.flags[0]), evidence,
                              tuple(_named(e, self.name) for e in res.episodes))

    def update_many(self, ts_ns, values):
        """Feed many points of this series at once; returns a ``MonitorResult`` (episodes named)."""
        ts, x = inputs.points(self.name, ts_ns, values, last=int(self._bank.st.last_ts[0]),
                              fresh=int(self._bank.st.n[0]) == 0)
        before = copy.deepcopy(self._bank.checkpoint())
        try:
            res = self._bank.update_block(ts, x.reshape(-1, 1))
        except BaseException:  # Ctrl-C in a notebook: the monitor as it was, not past points it never took the time of
            self._bank.restore(before)
            raise
        return res._replace(scores=res.scores[:, 0], flags=res.flags[:, 0], status=res.status[:, 0],
                            episodes=[_named(e, self.name) for e in res.episodes])

    def clone(self) -> BankSeriesMonitor:
        """A fresh monitor with the same configuration."""
        return BankSeriesMonitor(self.name, counter=bool(self._bank.st.counter[0]), **self._config)

    def state(self) -> dict:
        """Plain-data checkpoint (``ben.detect.to_bytes`` makes bytes of it)."""
        return self._bank.checkpoint()

    @classmethod
    def from_state(cls, state: dict, name: str = "series") -> BankSeriesMonitor:
        """Rebuild from :meth:`state` or from ``MonitorBank.select(i)``."""
        mon = cls.__new__(cls)
        mon.name = name
        try:
            mon._bank = MonitorBank.from_checkpoint(state)
        except (KeyError, TypeError, AttributeError, IndexError) as exc:  # not what state() returned
            raise DetectorError(f"not a BankSeriesMonitor state (from state() or from_bytes): {type(exc).__name__} "
                                f"{exc}", series=name, problem="bad_state") from None
        if mon._bank.n_series != 1:
            raise DetectorError("a single-series state has 1 series", series=name, problem="bad_state")
        b = mon._bank
        mon._config = {"detectors": b.names, "noise": b.noise,
                       "params": {n: d.params() for n, d in zip(b.names, b.dets)},
                       "seasonal": b.season.params() if b.season is not None else False}
        return mon


def _named(e: Episode, name: str) -> Episode:
    return replace(e, series=name)


_NEVER = _I64_MIN = -(2 ** 63)
_I64_MAX = 2 ** 63 - 1
_FINITE = math.isfinite


def _check_counter(counter, name) -> None:
    if not isinstance(counter, (bool, np.bool_)):
        raise DetectorError(f"counter must be True or False, not {type(counter).__name__} {counter!r}",
                            series=name, problem="bad_param")


class SeriesMonitor:
    """Watch one series: the default detection, one episode per onset.

    Parameters
    ----------
    name : str
        The series' name (in errors and in the episodes it reports).
    timing : Timing, optional
        Memories and decisions in seconds (:class:`ben.detect.calibrated.Timing`, documented defaults).
    counter : bool, default False
        The series is a monotone counter: watch its increase (a reset counts from zero).
    detectors, noise, params, seasonal : optional
        Any of these runs the detector bank instead (see :class:`BankSeriesMonitor`).

    ``update(ts_ns, value)`` returns a :class:`~ben.detect.MonitorVerdict`: ``score`` in [0, 1)
    (calibrated, comparable across series; at an onset, the onset's score; while that episode stays
    open, only evidence beyond its peak scores, so a sustained condition is not re-scored point after
    point), ``flag`` (an episode is open), ``evidence`` and ``episodes`` (the events this point caused).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(42)
    >>> ts = 1_700_000_000_000_000_000 + np.arange(2000) * 60_000_000_000   # one point a minute
    >>> latency = 120 + rng.normal(0, 8, 2000)
    >>> latency[1500:] += 360                       # p99 jumps from 120 ms to 480 ms
    >>> mon = SeriesMonitor("checkout p99")
    >>> episodes = [e for t, v in zip(ts, latency) for e in mon.update(t, v).episodes]
    >>> first = episodes[0]
    >>> first.state, first.detectors, bool(first.start_ts == ts[1500])
    ('open', ('level',), True)
    >>> print(first.summary(unit=" ms"))
    checkout p99 rose from 120 ms to 475 ms at 23:13:20 (+55.9 sigma, level); still open
    >>> closed = episodes[1]                        # two hours on, the new level is the new normal
    >>> closed.state, closed.note
    ('closed', 'the change lasted 2 h and became the new baseline (KL divergence 6.21)')
    """

    def __new__(cls, name: str = "series", *, timing=None, counter: bool = False, detectors=None, noise=None,
                params=None, seasonal=None):
        if detectors is not None or noise is not None or params is not None or seasonal is not None:
            kw = {k: v for k, v in (("detectors", detectors), ("noise", noise), ("params", params),
                                    ("seasonal", seasonal)) if v is not None}
            return BankSeriesMonitor(name, counter=counter, **kw)
        return super().__new__(cls)

    def __init__(self, name: str = "series", *, timing=None, counter: bool = False, detectors=None, noise=None,
                 params=None, seasonal=None):
        self.name = name
        _check_counter(counter, name)
        self.timing = timing if timing is not None else cal.Timing()
        if not isinstance(self.timing, cal.Timing):
            raise DetectorError(f"timing must be a ben.detect.calibrated.Timing, not {type(timing).__name__}",
                                series=name)
        self._p = self.timing.vector()
        self._s = cal.new_state(counter=counter)
        self._step, self._run = cal.kernel()
        self._last = _NEVER

    def __repr__(self) -> str:
        return f"SeriesMonitor({self.name!r}, timing={self.timing!r})"

    @property
    def points(self) -> int:
        """Points accepted so far."""
        return int(self._s[cal.I_N])

    def update(self, ts_ns: int, value: float) -> MonitorVerdict:
        """Feed one point (in time order); returns its :class:`~ben.detect.MonitorVerdict`."""
        if type(ts_ns) is not int or type(value) is not float or not _FINITE(value) or ts_ns > _I64_MAX or \
                self._last == _NEVER:  # else an int time past the previous one and a finite float: nothing to check
            ts_ns, value = inputs.point(self.name, ts_ns, value, fresh=self._last == _NEVER)
        if ts_ns < self._last:
            raise DetectorError(f"timestamp {ts_ns} is older than the previous point's {self._last}"
                                f"{inputs.unit_hint(ts_ns)}", series=self.name, problem="out_of_order")
        self._last = ts_ns
        s = self._s
        score, flag, event = self._step(s=s, ts_ns=ts_ns, x=value, p=self._p)
        evidence = {"score": score, "evidence": s[cal.I_EVID], "level_z": s[cal.I_F1], "kl": s[cal.I_F2],
                    "drift_z": s[cal.I_F3], "sustained_z": s[cal.I_SUS_Z], "expected": s[cal.I_PRED],
                    "scale": s[cal.I_SCALE]}
        if event:
            return MonitorVerdict(score, flag, evidence, (self._episode(event, ts_ns),))
        return MonitorVerdict(score, flag, evidence)

    def update_many(self, ts_ns, values) -> MonitorResult:
        """Feed many points at once (one compiled loop); same results as :meth:`update` point by point."""
        ts, x = inputs.points(self.name, ts_ns, values, last=self._last, fresh=self._last == _NEVER)
        ts, x = np.ascontiguousarray(ts), np.ascontiguousarray(x)
        n = len(x)
        scores = np.empty(n)
        flags = np.empty(n, np.bool_)
        events = np.empty(n, np.int64)
        episodes = []
        # The points run on a copy of the state, which becomes the monitor's with the last time at the end: a
        # call that does not finish (Ctrl-C in a notebook) leaves the monitor as it was. Running on the
        # state itself left it past points whose time it had not taken: the same call again was taken, and
        # the monitor counted each of those points twice.
        s = self._s.copy()
        i = 0
        while i < n:
            i = self._run(s=s, ts_ns=ts, xs=x, p=self._p, scores=scores, flags=flags, events=events, start=i)
            if events[i - 1]:
                episodes.append(self._episode(int(events[i - 1]), int(ts[i - 1]), s))
        self._s = s
        if n:
            self._last = int(ts[-1])
        return MonitorResult(scores, flags, np.zeros(n, np.uint8), episodes)

    def _episode(self, event: int, ts_ns: int, s: np.ndarray | None = None) -> Episode:
        s = self._s if s is None else s
        start = (int(s[cal.I_EP_THI]) << 32) | int(s[cal.I_EP_TLO])
        peak_ts = (int(s[cal.I_EP_PEAK_THI]) << 32) | int(s[cal.I_EP_PEAK_TLO])
        base, scale = float(s[cal.I_BASE_AT_OPEN]), float(s[cal.I_SCALE_AT_OPEN])
        pts = int(s[cal.I_EP_POINTS])
        observed = float(s[cal.I_EP_SUM]) / max(pts, 1)
        peak_x = float(s[cal.I_EP_PEAK_X])
        closed = event == cal.EV_CLOSE
        note = ""
        if closed and s[cal.I_EP_REBASED] > 0.5:
            note = (f"the change lasted {duration_text(self.timing.rebaseline_s)} and became the new baseline "
                    f"(KL divergence {float(s[cal.I_KL_AT]):.2f})")
        why = cal.WHY[int(s[cal.I_WHY])]
        sustained = (float(s[cal.I_SUS_Z_AT]), cal.SUSTAIN_S) if why == "sustained" else (0.0, 0.0)
        return Episode(self.name, "anomaly", "closed" if closed else "open", start, ts_ns if closed else None,
                       pts, float(s[cal.I_EP_PEAK]), peak_ts, peak_x, (why,),
                       base, scale, observed, (peak_x - base) / scale if scale > 0 else 0.0, note=note,
                       sustained_spreads=sustained[0], sustained_s=sustained[1])

    def clone(self) -> SeriesMonitor:
        """A fresh monitor with the same configuration."""
        return SeriesMonitor(self.name, timing=self.timing, counter=bool(self._s[cal.I_COUNTER] == 1.0))

    def state(self) -> dict:
        """Plain-data checkpoint (``ben.detect.to_bytes`` makes bytes of it); exact."""
        return {"calibrated": 6, "timing": asdict(self.timing), "state": self._s.copy(), "last_ts": self._last}

    @classmethod
    def from_state(cls, state: dict, name: str = "series"):
        """Rebuild from :meth:`state` (or a bank monitor's state)."""
        if not isinstance(state, dict):
            raise DetectorError(f"a state is the dict state() returned (or from_bytes of to_bytes of it), not "
                                f"{type(state).__name__}", series=name, problem="bad_state")
        if "calibrated" not in state:
            return BankSeriesMonitor.from_state(state, name=name)
        try:
            timing = cal.Timing(**state["timing"])
            s = np.array(state["state"], dtype=np.float64)
            last = int(state["last_ts"])
        except (KeyError, TypeError, ValueError) as exc:
            raise DetectorError(f"not a SeriesMonitor state: {exc}", series=name, problem="bad_state") from exc
        if not _I64_MIN <= last <= _I64_MAX:  # a later point would be refused as older, for ever
            raise DetectorError(f"not a SeriesMonitor state: last_ts {last} is past int64", series=name,
                                problem="bad_state")
        if state["calibrated"] == 5 and s.shape == (cal.N_STATE_5,):
            s = cal.upgrade(s)   # (format 5: before the onset habit, which starts empty)
        elif s.shape != (cal.N_STATE,) or state["calibrated"] != 6:
            raise DetectorError(f"state has {s.shape} values (format {state['calibrated']!r}); expected "
                                f"{cal.N_STATE} (format 6)", series=name, problem="bad_state")
        mon = cls(name, timing=timing)
        mon._s = s
        mon._last = last
        return mon
