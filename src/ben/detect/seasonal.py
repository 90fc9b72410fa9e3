"""A per-series seasonal baseline: find a period during warm-up, then remove a per-phase profile.

:class:`SeasonalBank` is not a detector but a transform in front of them (``MonitorBank`` runs
it when ``seasonal`` is on, the default). Per series:

1. The first ``history`` points are kept. Series whose cycles already repeat decide early
   (``SeasonalBank._decide``; every 64 points from 192, lags with 2.5 cycles in hand, at a
   local peak, the second cycle repeating the first); at the last point every series decides
   finally. The series' autocorrelation
   (biased estimator, after removing a least-squares line) is computed at the candidate lags
   ``min_period..max_period``; a lag qualifies when its autocorrelation is at least
   ``threshold`` and rises at least ``threshold`` above the lowest one at a shorter lag (a real
   peak: smooth series, AR noise, trends and steps give a decay, not a peak); the series is
   *periodic* with period ``P`` = the qualifying lag of the largest autocorrelation (the biased
   estimator favours the fundamental over its multiples), refined within 1/8 by the least residual
   of a per-phase profile. Everything else stays untouched, for good.
2. A periodic series gets a profile ``s[phase]`` (the mean of each phase over the history,
   minus the mean) and a level; from then on the detectors see ``x - s[n % P]`` instead of
   ``x`` (the value minus the profile plus the level, the profile being ``level + s``), the
   profile phased in linearly over the first period (a sudden switch is a jump). The
   profile follows the series by a per-phase EWMA (gain ``profile_gain`` per cycle) and the
   level by an EWMA (span ``P``), both on the deviation ``x - level - s`` winsorised at
   ``clip`` times its running mean absolute size (×1.2533), so a spike or a fresh level shift
   leaks only a bounded amount into the profile.

Everything is elementwise per series, so the bank and single-series forms agree exactly; the
period is decided series by series (one FFT per decision). Memory: ``history + max_period``
float64 per series (the raw history until its end, and the profile).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from ben.detect.primitives import MEANAD_SIGMA, check_param
from ben.detect.state import BankState

__all__ = ["SeasonalBank", "find_period"]


def find_period(y: np.ndarray, min_period: int, max_period: int, threshold: float, peak: bool = False) -> int:
    """The period of ``y`` by autocorrelation, or 0 when it has none (see the module docstring).

    Examples
    --------
    >>> t = np.arange(640)
    >>> noise = np.random.default_rng(0).normal(0, 1, 640)
    >>> find_period(10 + 3 * np.sin(2 * np.pi * t / 96) + noise, 8, 288, 0.4)
    96
    >>> find_period(10 + noise, 8, 288, 0.4)
    0
    """
    L = len(y)
    t = np.arange(L, dtype=np.float64)
    t -= t.mean()
    d = y - y.mean()
    tt = float(t @ t)
    if tt > 0:
        d = d - t * (float(t @ d) / tt)
    f = np.fft.rfft(d, 2 * L)
    reach = min(L - 1, max_period + max_period // 8 + 1) if peak else max_period
    acf = np.fft.irfft(f.real * f.real + f.imag * f.imag, 2 * L)[:reach + 1]
    if not acf[0] > 0 or not np.isfinite(acf[0]):
        return 0
    acf = acf / acf[0]
    low = np.minimum.accumulate(acf[1:max_period + 1])  # low[k - 1]: the lowest at lags 1..k
    cand = acf[min_period:max_period + 1].copy()
    cand[(cand < threshold) | (cand - low[min_period - 2:max_period - 1] < threshold)] = -np.inf
    while True:
        k = int(np.argmax(cand))
        if not np.isfinite(cand[k]):
            return 0
        lag = k + min_period
        # an early verdict takes a lag at a local maximum only (lags beyond max_period looked at)
        if not peak or cand[k] >= acf[lag + 1:min(reach, lag + max(1, lag // 8)) + 1].max(initial=-np.inf):
            break
        cand[k] = -np.inf
    k += min_period
    # Refine: the biased estimator pulls the peak towards shorter lags and one cycle's peak is
    # flat; the period whose per-phase profile explains the most (every cycle against every
    # other, not only neighbours) locates it better.
    full = np.fft.irfft(f.real * f.real + f.imag * f.imag, 2 * L)[:L]
    unb = full / (L - np.arange(L))
    best, best_score = k, np.inf
    for P in range(max(min_period, k - k // 8), min(max_period, k + k // 8) + 1):
        phase = np.arange(L) % P
        counts = np.bincount(phase, minlength=P)
        sums = np.bincount(phase, weights=d, minlength=P)
        # what a per-phase profile of period P leaves unexplained, per degree of freedom
        score = (float(d @ d) - float(sums @ (sums / counts))) / (L - P)
        if score < best_score:
            best, best_score = P, score
    if peak and not (2 * best < L and unb[2 * best] >= threshold * unb[0]):
        return 0  # an early verdict wants the second cycle to repeat the first
    return best


#: Early period decisions (see ``SeasonalBank._due``): how often, from when, and how many
#: cycles of a candidate period must be in hand before the end of the history.
EARLY_EVERY = 64
EARLY_MIN = 192
EARLY_CYCLES = 2.5


def _with_decided(checkpoint: dict, history: int) -> dict:
    """A checkpoint from before early decisions: the profile lived in ``buf`` and every period
    was decided at the end of the history."""
    state = checkpoint.get("state")
    if not isinstance(state, dict) or "decided" in state or "period" not in state or "buf" not in state:
        return checkpoint
    period, buf = np.asarray(state["period"]), np.asarray(state["buf"])
    max_period = int(checkpoint.get("params", {}).get("max_period", 288))
    prof = np.zeros((len(period), max_period))
    prof[:, :min(max_period, buf.shape[1])] = buf[:, :max_period]
    old = period > 0
    raw = np.where(old[:, None], 0.0, buf)  # not yet decided: buf still holds the raw history
    return {**checkpoint, "state": {**state, "decided": np.where(old, history - 1, 0).astype(np.int64),
                                    "buf": raw, "prof": prof}}


class SeasonalBank(BankState):
    """Per-series period detection and per-phase profile (a transform, not a detector).

    Parameters
    ----------
    n_series : int
        Series held.
    min_period, max_period : int, default 8, 288
        Candidate periods (points). 288 is a day at 5-minute samples.
    history : int, default 640
        Points kept to decide the period (at least two cycles of ``max_period``).
    threshold : float, default 0.4
        Autocorrelation at the period, and its rise above the lowest one before it.
    profile_gain : float, default 0.1
        EWMA gain of a phase's profile, per cycle.
    clip : float, default 3.0
        Deviations are winsorised at ``clip`` sigma before updating profile and level.
    """

    kind = "seasonal"
    _param_names: ClassVar[tuple[str, ...]] = ("min_period", "max_period", "history", "threshold",
                                               "profile_gain", "clip")

    def __init__(self, n_series: int = 1, *, min_period: int = 8, max_period: int = 288, history: int = 640,
                 threshold: float = 0.4, profile_gain: float = 0.1, clip: float = 3.0):
        check_param("min_period", min_period, 2, integer=True)
        check_param("max_period", max_period, min_period, integer=True)
        check_param("history", history, 2 * max_period, integer=True)
        check_param("threshold", threshold, 0.0, 1.0)
        check_param("profile_gain", profile_gain, 0.0, 1.0)
        check_param("clip", clip, 0.0)
        self.min_period, self.max_period, self.history = int(min_period), int(max_period), int(history)
        self.threshold, self.profile_gain, self.clip = float(threshold), float(profile_gain), float(clip)
        super().__init__(n_series)

    def _fields(self):
        f = np.float64
        return {"period": ((), np.int64, 0), "level": ((), f, 0.0), "scale": ((), f, 0.0),
                "decided": ((), np.int64, 0), "buf": ((self.history,), f, 0.0),
                "prof": ((self.max_period,), f, 0.0)}

    def restore(self, checkpoint: dict) -> None:
        """As :meth:`BankState.restore`; checkpoints from before early decisions (no
        ``decided``) decided at the end of the history."""
        super().restore(_with_decided(checkpoint, self.history))

    @classmethod
    def from_checkpoint(cls, checkpoint: dict) -> SeasonalBank:
        return super().from_checkpoint(_with_decided(checkpoint, checkpoint["params"]["history"]))

    def transform(self, rows: np.ndarray, X: np.ndarray) -> np.ndarray:
        """Advance series ``rows`` (distinct indices) by ``X`` ``(steps, len(rows))``; the residuals.

        Returns ``X`` itself when nothing changes (no series periodic, none deciding).
        """
        n0 = self.n[rows]
        steps = len(X)
        if int(n0.min(initial=self.history)) >= self.history:
            per = np.flatnonzero(self.period[rows] > 0)
            if len(per) == 0:
                self.n[rows] = n0 + steps
                return X
        R = X.copy()
        for t in range(steps):
            R[t] = self._advance(rows, X[t])
        return R

    def _advance(self, rows: np.ndarray, x: np.ndarray) -> np.ndarray:
        W = self.history
        n = self.n[rows]
        r = x.copy()
        per = np.flatnonzero(self.period[rows] > 0)
        if len(per):
            i, xp = rows[per], x[per]
            P = self.period[i]
            ph = n[per] % P
            s = self.prof[i, ph]
            level, scale = self.level[i], self.scale[i]
            dev = xp - level - s
            lim = self.clip * MEANAD_SIGMA * scale
            cd = np.clip(dev, -lim, lim)
            self.prof[i, ph] = s + self.profile_gain * cd
            a = 2.0 / (P + 1.0)
            self.level[i] = level + a * cd
            self.scale[i] = scale + a * (np.abs(cd) - scale)
            # the profile is phased in over one period: a sudden switch from the raw value to
            # the residual is a jump the detectors' baselines would report
            w = np.minimum(1.0, (n[per] - self.decided[i]) / P)
            r[per] = xp - w * s
        fill = np.flatnonzero(n < W)
        if len(fill):
            i, c = rows[fill], n[fill] + 1
            self.buf[i, n[fill]] = x[fill]
            due = self._due(c, self.period[i] > 0)
            for j, count in zip(i[due], c[due]):
                self._decide(int(j), int(count))
        self.n[rows] = n + 1
        return r

    def _due(self, count: np.ndarray, periodic: np.ndarray) -> np.ndarray:
        """Whether a series holding ``count`` points decides on its period now: every series at
        the end of the history; before it, a series not yet periodic every ``EARLY_EVERY``
        points once it holds ``EARLY_MIN`` points."""
        early = (count % EARLY_EVERY == 0) & (count >= max(EARLY_MIN, 2 * self.min_period)) & ~periodic
        return (count == self.history) | early

    def _decide(self, j: int, count: int) -> None:
        """Period of series ``j`` from its first ``count`` points.

        Before the end of the history only a period with ``EARLY_CYCLES`` cycles in hand, at a
        peak of the autocorrelation (not the edge of the lags tried), qualifies; a series with
        none keeps collecting. At the end of the history the verdict is final: a period found
        early is confirmed, or replaced (profile rebuilt from the whole history) when the
        history shows another.
        """
        final = count >= self.history
        top = self.max_period if final else min(self.max_period, int(count / EARLY_CYCLES))
        if top < self.min_period:
            return
        y = self.buf[j, :count].copy()
        P = find_period(y, self.min_period, top, self.threshold, peak=not final)
        if final:
            self.buf[j] = 0.0  # the raw history is not needed any more
        if P == int(self.period[j]):
            return
        if P == 0:
            if final:  # an early period the whole history does not confirm
                self.period[j], self.decided[j], self.prof[j] = 0, 0, 0.0
            return
        level = float(y.mean())
        phase = np.arange(count) % P
        s = np.bincount(phase, weights=y, minlength=P) / np.bincount(phase, minlength=P) - level
        if self.period[j] == 0:
            self.decided[j] = count - 1
        self.period[j], self.level[j] = P, level
        self.scale[j] = float(np.mean(np.abs(y - level - s[phase])))
        self.prof[j] = 0.0
        self.prof[j, :P] = s
