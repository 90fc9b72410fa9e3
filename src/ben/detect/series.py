"""``SeriesMonitor``: every detector plus noise control for one series (the notebook API)."""

from __future__ import annotations

import math

import numpy as np

from ben.detect.episode import Episode
from ben.detect.errors import DetectorError
from ben.detect.monitor import DETECTORS, MonitorBank, MonitorVerdict
from ben.detect.noise import NoiseControl

__all__ = ["SeriesMonitor"]


class SeriesMonitor:
    """Watch one series with EWMA, CUSUM, robust and drift detectors and noise control.

    Parameters
    ----------
    name : str
        The series' name (in errors and in the episodes it reports).
    detectors : sequence of str
        Detector names (default: all of ``ewma``, ``cusum``, ``robust``, ``drift``).
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
    >>> mon = SeriesMonitor("checkout p99")
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
        ts_ns = int(ts_ns)
        value = float(value)
        if not math.isfinite(value):
            raise DetectorError(f"value {value!r} at ts_ns={ts_ns} is not finite", series=self.name,
                                problem="not_finite")
        last = int(self._bank.st.last_ts[0])
        if ts_ns < last:
            raise DetectorError(f"timestamp {ts_ns} is older than the previous point's {last}",
                                series=self.name, problem="out_of_order")
        res = self._bank.update(np.zeros(1, np.int64), np.array([ts_ns]), np.array([value]))
        evidence = {"score": float(res.scores[0]), "points": int(self._bank.st.n[0]),
                    **{f"{k}_score": float(v) for k, v in self._bank.last_scores.items()}}
        return MonitorVerdict(float(res.scores[0]), bool(res.flags[0]), evidence,
                              tuple(_named(e, self.name) for e in res.episodes))

    def update_many(self, ts_ns, values):
        """Feed many points of this series at once; returns a ``MonitorResult`` (episodes named)."""
        ts = np.asarray(ts_ns, dtype=np.int64)
        x = np.asarray(values, dtype=np.float64)
        bad = np.flatnonzero(~np.isfinite(x))
        if len(bad):
            raise DetectorError(f"value {x[bad[0]]!r} at ts_ns={ts[bad[0]]} is not finite", series=self.name,
                                problem="not_finite")
        back = np.flatnonzero(np.r_[ts[:1] < self._bank.st.last_ts[0], np.diff(ts) < 0]) if len(ts) else []
        if len(back):
            raise DetectorError(f"timestamp {ts[back[0]]} is older than the previous point's", series=self.name,
                                problem="out_of_order")
        res = self._bank.update_block(ts, x.reshape(-1, 1))
        return res._replace(scores=res.scores[:, 0], flags=res.flags[:, 0], status=res.status[:, 0],
                            episodes=[_named(e, self.name) for e in res.episodes])

    def open_episode(self) -> Episode | None:
        """The episode open now, if any."""
        eps = self._bank.open_episodes()
        return _named(eps[0], self.name) if eps else None

    def clone(self) -> SeriesMonitor:
        """A fresh monitor with the same configuration."""
        return SeriesMonitor(self.name, counter=bool(self._bank.st.counter[0]), **self._config)

    def state(self) -> dict:
        """Plain-data checkpoint (``ben.detect.to_bytes`` makes bytes of it)."""
        return self._bank.checkpoint()

    @classmethod
    def from_state(cls, state: dict, name: str = "series") -> SeriesMonitor:
        """Rebuild from :meth:`state` or from ``MonitorBank.select(i)``."""
        mon = cls.__new__(cls)
        mon.name = name
        mon._bank = MonitorBank.from_checkpoint(state)
        if mon._bank.n_series != 1:
            raise DetectorError("a single-series state has 1 series", series=name, problem="bad_state")
        b = mon._bank
        mon._config = {"detectors": b.names, "noise": b.noise,
                       "params": {n: d.params() for n, d in zip(b.names, b.dets)},
                       "seasonal": b.season.params() if b.season is not None else False}
        return mon


def _named(e: Episode, name: str) -> Episode:
    from dataclasses import replace
    return replace(e, series=name)
