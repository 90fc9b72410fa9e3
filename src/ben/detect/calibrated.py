"""The default detection: time-based memory, calendar seasonality, calibrated tail evidence.

One series' whole state is a flat ``float64`` array (layout: the ``I_*`` indices below); one compiled
step (:func:`step`) consumes a point. Everything that remembers is set in seconds (:class:`Timing`)
and turned into a per-point weight from the time since the previous point,
``alpha = 1 - 2 ** (-dt / half_life)``, with a floor in points (``min_points``) so a series sampled
every hour still averages enough points. So one default holds from 1-second to 1-hour sampling and
across gaps.

Per point:

1. **Prediction.** Two models run side by side: a plain robust level ``L0`` and a Holt-Winters-like
   level ``Ls`` plus an hour-of-day profile ``S[hour]`` by wall-clock (UTC) time. Each keeps an
   exponentially weighted mean absolute residual (``D0``, ``Ds``). The seasonal model is used only
   while its residuals are clearly smaller (``Ds < season_gain * D0``): a series without a daily
   cycle is not forced into one. Levels are Huber-updated (a residual is clipped at ``huber`` scales)
   so one outlier does not drag them.
2. **Raw features** against the prediction ``p`` and scale ``D`` (floored at the series' quantum,
   so a flat series moving by one step is no surprise): ``|x - p| / D`` (a point out of line) and the
   KL divergence between the recent residual distribution (short mean and scale) and the reference
   one (mean 0, scale ``D``): a shifted level, more noise, or a flat-line on a noisy series.
3. **Calibration.** Each feature becomes a tail probability against the series' own history: an
   exponential tail (a peaks-over-threshold fit with shape 0) whose location and scale are the
   feature's long-run EW mean and mean absolute deviation. Evidence ``E = max_k(-ln p_k) - ln(K)``
   (a Bonferroni correction), so the same ``E`` means the same surprise on every series. The
   score is ``E / (E + score_half)`` in [0, 1).
4. **Episodes.** After the warm-up, an episode opens at the first point with ``E >= open_evidence``
   (the score there ranks it) and closes once ``E < clear_evidence`` for ``clear_s``. While it is
   open, the calibration statistics are frozen. **Re-baselining:** when the KL divergence stays
   above ``kl_bound`` for ``rebaseline_s``, the level and scale are re-fitted to the recent
   distribution: a persistent change becomes the new normal, and the state says so
   (``I_REBASE_TS``, ``I_REBASES``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from numba import njit

__all__ = ["Timing", "N_STATE", "N_BINS", "new_state", "step", "run", "EV_OPEN", "EV_CLOSE"]

N_BINS = 24                 # hour-of-day profile (UTC)
EV_NONE, EV_OPEN, EV_CLOSE = 0, 1, 2

# --- state layout (one float64 array per series) --------------------------------------------------------
I_N = 0            # points seen
I_T = 1            # last timestamp, seconds
I_T0 = 2           # first timestamp, seconds
I_DT = 3           # robust sampling interval estimate, seconds
I_L0 = 4           # plain level
I_D0 = 5           # plain mean absolute residual
I_LS = 6           # seasonal model's level
I_DS = 7           # seasonal model's mean absolute residual
I_USE_S = 8        # 1.0 while the seasonal model is used
I_Q = 9            # quantum: EW of the smallest nonzero step
I_RM = 10          # recent residual mean (short)
I_RD = 11          # recent mean absolute residual (short)
I_F1M = 12         # feature 1 (|r|/D): tracked upper quantile (the POT threshold u)
I_F1S = 13         # feature 1: mean excess over u (the exponential tail's scale)
I_F2M = 14         # feature 2 (KL): tracked upper quantile
I_F2S = 15         # feature 2: mean excess over it
I_EP = 16          # 1.0 while an episode is open
I_EP_START = 17    # episode start, seconds
I_CLEAR_T = 18     # time evidence has been below clear_evidence (seconds) while open
I_KL_T = 19        # time KL has been above kl_bound (seconds)
I_REBASE_TS = 20   # last re-baselining, seconds (0 = never)
I_REBASES = 21     # re-baselinings so far
I_EVID = 22        # last evidence
I_F1 = 23          # last feature 1
I_F2 = 24          # last feature 2
I_PRED = 25        # last prediction
I_SCALE = 26       # last scale
I_BASE_AT_OPEN = 27
I_SCALE_AT_OPEN = 28
I_X = 29           # last value
I_PEND = 30        # 1.0 while an onset is pending (evidence over open_evidence, peak not yet passed)
I_PEND_T = 31      # when the pending onset started, seconds
I_PEND_PEAK = 32   # highest evidence while pending
I_LSLOW = 33       # slow level (drift reference)
I_F3M = 34         # feature 3 (|L - Lslow| / D): tracked upper quantile
I_F3S = 35         # feature 3: mean excess
I_F3 = 36          # last feature 3
I_S = 40           # start of the hour-of-day profile (N_BINS values)
N_STATE = I_S + N_BINS


@dataclass(frozen=True)
class Timing:
    """Memory and decisions of the default detection, in seconds (documented defaults).

    Parameters
    ----------
    level_half_life_s : float, default 3600
        The level's half-life (1 h).
    scale_half_life_s : float, default 86400
        The residual scale's half-life (1 day).
    recent_half_life_s : float, default 1800
        The "recent" residual distribution compared with the reference one (30 min).
    calibration_half_life_s : float, default 4 * 86400
        The history each feature's tail is calibrated against (4 days).
    season_half_life_s : float, default 3 * 86400
        Each hour-of-day value's memory (3 days).
    warmup_s : float, default 3600
        No episode before this much time and ``warmup_points`` points.
    clear_s : float, default 900
        An open episode closes after this long with evidence under ``clear_evidence``.
    rebaseline_s : float, default 7200
        A distribution change (KL above ``kl_bound``) this long becomes the new normal.
    min_points : float, default 6
        Floor of every half-life, in points (sparse series still average several points).
    warmup_points : float, default 150
    open_evidence, clear_evidence : float, default 5.0, 2.0
        ``-ln p`` (Bonferroni-corrected) that opens an episode / under which it clears.
    kl_bound : float, default 1.5
    season_gain : float, default 0.85
    huber : float, default 4.0
    score_half : float, default 10.0
        Evidence at which the score is 0.5.
    """

    level_half_life_s: float = 3600.0
    scale_half_life_s: float = 86400.0
    recent_half_life_s: float = 1800.0
    calibration_half_life_s: float = 4 * 86400.0
    season_half_life_s: float = 3 * 86400.0
    warmup_s: float = 3600.0
    clear_s: float = 900.0
    rebaseline_s: float = 7200.0
    min_points: float = 6.0
    warmup_points: float = 150.0
    open_evidence: float = 5.0
    clear_evidence: float = 3.0
    kl_bound: float = 1.5
    season_gain: float = 0.85
    huber: float = 4.0
    score_half: float = 10.0
    confirm_s: float = 1800.0
    slow_half_life_s: float = 43200.0

    def __post_init__(self):
        for key, value in asdict(self).items():
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                from ben.detect.errors import DetectorError
                raise DetectorError(f"{key}={value!r}: expected a finite number > 0")

    def vector(self) -> np.ndarray:
        """The parameters as the float array :func:`step` takes."""
        return np.array(list(asdict(self).values()), dtype=np.float64)


P_LEVEL, P_SCALE, P_RECENT, P_CAL, P_SEASON, P_WARM_S, P_CLEAR_S, P_REBASE_S, P_MINPTS, P_WARM_N, \
    P_OPEN, P_CLEAR, P_KL, P_GAIN, P_HUBER, P_HALF, P_CONFIRM_S, P_SLOW = range(18)


def new_state() -> np.ndarray:
    """A fresh state vector."""
    s = np.zeros(N_STATE)
    s[I_F1M], s[I_F1S], s[I_F2M], s[I_F2S], s[I_F3M], s[I_F3S] = 3.0, 1.0, 0.5, 0.3, 2.0, 1.0
    return s


@njit(cache=True, inline="always")
def _alpha(dt, half_life, dt_est, min_points):
    hl = max(half_life, min_points * dt_est)
    return 1.0 - 2.0 ** (-dt / hl)


TAIL = 0.02        # the POT threshold is the feature's upper 2% quantile


@njit(cache=True, inline="always")
def _tail(f, u, beta):
    """``-ln P(F >= f)`` under the fitted tail: 2% above ``u``, exponential with mean excess ``beta``."""
    if f <= u:
        return 0.0
    return -math.log(TAIL) + (f - u) / max(beta, 1e-9)


@njit(cache=True, inline="always")
def _learn_tail(s, i, f, a):
    """Track the upper quantile (stochastic approximation) and the mean excess over it."""
    u, beta = s[i], s[i + 1]
    if f > u:
        exc = min(f - u, 20.0 * beta)
        s[i + 1] = beta + min(1.0, a / TAIL) * (exc - beta)
        s[i] = u + a * beta * (1.0 / TAIL - 1.0) * min(1.0, exc / beta)
    else:
        s[i] = u - a * beta


@njit(cache=True)
def step(s, t, x, p):
    """Consume one point (``t`` seconds, ``x`` finite, in time order); returns ``(score, flag, event)``."""
    n = s[I_N]
    if n == 0:
        s[I_T0] = t
        s[I_T] = t
        s[I_L0] = x
        s[I_LS] = x
        s[I_LSLOW] = x
        s[I_X] = x
        s[I_N] = 1.0
        return 0.0, False, EV_NONE
    dt = t - s[I_T]
    if dt <= 0.0:
        dt = 1e-3 if s[I_DT] <= 0 else s[I_DT] * 1e-3
    # robust sampling interval: median-tracking with a step relative to the estimate
    if s[I_DT] <= 0.0:
        s[I_DT] = dt
    elif dt > s[I_DT]:
        s[I_DT] = s[I_DT] * 1.05 if dt > s[I_DT] * 1.05 else dt
    else:
        s[I_DT] = s[I_DT] * 0.95 if dt < s[I_DT] * 0.95 else dt
    de = s[I_DT]
    mp = p[P_MINPTS]
    a_lvl = _alpha(dt, p[P_LEVEL], de, mp)
    a_scl = _alpha(dt, p[P_SCALE], de, mp * 8.0)
    a_rec = _alpha(dt, p[P_RECENT], de, mp * 0.5)
    a_slow = _alpha(dt, p[P_SLOW], de, mp * 4.0)
    a_cal = _alpha(dt, p[P_CAL], de, mp * 30.0)
    a_sea = _alpha(dt * N_BINS, p[P_SEASON], de, mp)
    # quantum: smallest nonzero step seen lately
    step_abs = abs(x - s[I_X])
    if step_abs > 0.0:
        if s[I_Q] == 0.0 or step_abs < s[I_Q]:
            s[I_Q] = step_abs
        else:
            s[I_Q] += 0.001 * (step_abs - s[I_Q])
    s[I_X] = x
    floor = max(0.5 * s[I_Q], 1e-9 * abs(s[I_L0]), 1e-12)
    # predictions of both models
    b = int(((t % 86400.0) / 3600.0)) % N_BINS
    sb = s[I_S + b]
    r0 = x - s[I_L0]
    rs = x - s[I_LS] - sb
    use_s = s[I_USE_S] > 0.5
    if use_s:
        r, d, pred = rs, max(s[I_DS], floor), s[I_LS] + sb
    else:
        r, d, pred = r0, max(s[I_D0], floor), s[I_L0]
    if n < 3:
        d = max(abs(r0), floor)
    # features
    f1 = abs(r) / d
    rm = s[I_RM] + a_rec * (r - s[I_RM])
    rd = s[I_RD] + a_rec * (abs(r - s[I_RM]) - s[I_RD])
    rdf = max(rd, floor * 0.5)
    f2 = math.log(d / rdf) + (rdf * rdf + rm * rm) / (2.0 * d * d) - 0.5
    # calibrated evidence: peaks over a tracked TAIL quantile, exponential excess; Bonferroni over two
    e1 = _tail(f1, s[I_F1M], s[I_F1S])
    e2 = _tail(f2, s[I_F2M], s[I_F2S])
    f3 = abs(s[I_L0] - s[I_LSLOW]) / d
    e3 = _tail(f3, s[I_F3M], s[I_F3S])
    evid = max(e1, max(e2, e3)) - math.log(3.0)
    if evid < 0.0:
        evid = 0.0
    score = evid / (evid + p[P_HALF])
    warm = (n >= p[P_WARM_N]) and (t - s[I_T0] >= p[P_WARM_S])
    event = EV_NONE
    in_ep = s[I_EP] > 0.5
    pend = s[I_PEND] > 0.5
    force = False
    if not warm:
        score = 0.0
    elif not in_ep:
        if not pend and evid >= p[P_OPEN]:
            pend = True
            s[I_PEND] = 1.0
            s[I_PEND_T] = t
            s[I_PEND_PEAK] = evid
            s[I_BASE_AT_OPEN] = pred
            s[I_SCALE_AT_OPEN] = d
        elif pend and (evid < s[I_PEND_PEAK] or t - s[I_PEND_T] >= max(p[P_CONFIRM_S], mp * 0.5 * de)):
            # the onset is confirmed once its evidence stops rising (or after confirm_s): it opens at
            # the time the evidence first crossed open_evidence, scored by the peak evidence so far
            peak = max(evid, s[I_PEND_PEAK])
            score = peak / (peak + p[P_HALF])
            s[I_PEND] = 0.0
            pend = False
            s[I_EP] = 1.0
            s[I_EP_START] = s[I_PEND_T]
            s[I_CLEAR_T] = 0.0
            in_ep = True
            event = EV_OPEN
        elif pend:
            s[I_PEND_PEAK] = max(evid, s[I_PEND_PEAK])
    else:
        if t - s[I_EP_START] >= max(p[P_REBASE_S], mp * 2.0 * de):
            force = True            # sustained this long: the new normal (re-baselined below)
            s[I_EP] = 0.0
            in_ep = False
            event = EV_CLOSE
        elif evid < p[P_CLEAR]:
            s[I_CLEAR_T] += dt
            if s[I_CLEAR_T] >= max(p[P_CLEAR_S], mp * 0.5 * de):
                s[I_EP] = 0.0
                in_ep = False
                event = EV_CLOSE
        else:
            s[I_CLEAR_T] = 0.0
    # learn: calibration (frozen during an episode), levels, scales, season, recent
    if not in_ep and not pend and event == EV_NONE:
        _learn_tail(s, I_F1M, f1, a_cal)
        _learn_tail(s, I_F2M, f2, a_cal)
        _learn_tail(s, I_F3M, f3, a_cal)
    hub0 = p[P_HUBER] * max(s[I_D0], floor)
    hubs = p[P_HUBER] * max(s[I_DS], floor)
    if n < 3:
        hub0 = hubs = 1e300
    c0 = min(max(r0, -hub0), hub0)
    cs = min(max(rs, -hubs), hubs)
    s[I_L0] += a_lvl * c0
    s[I_LS] += a_lvl * cs
    s[I_LSLOW] += a_slow * c0
    s[I_S + b] = sb + a_sea * (x - s[I_LS] - sb)
    s[I_D0] += a_scl * (abs(c0) - s[I_D0]) if n > 1 else abs(r0) - s[I_D0]
    s[I_DS] += a_scl * (abs(cs) - s[I_DS]) if n > 1 else abs(rs) - s[I_DS]
    if t - s[I_T0] > 86400.0:
        if use_s and s[I_DS] > s[I_D0] * min(1.0, p[P_GAIN] + 0.1):
            s[I_USE_S] = 0.0
        elif (not use_s) and s[I_DS] < s[I_D0] * p[P_GAIN]:
            s[I_USE_S] = 1.0
    s[I_RM] = rm
    s[I_RD] = rd
    # re-baselining on a sustained distribution change (KL divergence above the bound)
    if f2 > p[P_KL] or force:
        s[I_KL_T] += dt
        if force or s[I_KL_T] >= max(p[P_REBASE_S], mp * 2.0 * de):
            s[I_LSLOW] = s[I_L0] + rm
            s[I_L0] += rm
            s[I_LS] += rm
            s[I_D0] = max(rd, floor)
            s[I_DS] = max(rd, floor)
            s[I_RM] = 0.0
            s[I_KL_T] = 0.0
            s[I_REBASE_TS] = t
            s[I_REBASES] += 1.0
    else:
        s[I_KL_T] = 0.0
    s[I_N] = n + 1.0
    s[I_T] = t
    s[I_EVID] = evid
    s[I_F1] = f1
    s[I_F2] = f2
    s[I_F3] = f3
    s[I_PRED] = pred
    s[I_SCALE] = d
    return score, in_ep, event


@njit(cache=True)
def run(s, ts_ns, xs, p, scores, flags, events):
    """:func:`step` over arrays (one compiled loop); fills ``scores``, ``flags``, ``events``."""
    for i in range(len(xs)):
        sc, fl, ev = step(s, ts_ns[i] * 1e-9, xs[i], p)
        scores[i] = sc
        flags[i] = fl
        events[i] = ev
