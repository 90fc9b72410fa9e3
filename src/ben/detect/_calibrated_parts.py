"""Small compiled pieces of the default detection's step (numba, inlined into it): time-based weights,
tail learning, the counter switch, Fisher's combination, pending and peak bookkeeping, the week profile.
They live beside :mod:`ben.detect._calibrated_kernel` (which inlines them) to keep each module small; the
constants come from :mod:`ben.detect.calibrated`, and ``drop_stale_caches`` covers this file too.
"""

from __future__ import annotations

import math

from numba import njit

from ben.detect.calibrated import (  # noqa: F401
    I_BASE_AT_OPEN, I_CNT_SEEN, I_COUNTER, I_EP_PEAK_THI, I_EP_PEAK_TLO, I_EP_PEAK_X, I_F1M, I_F3M, I_F3S,
    I_PEND, I_PEND_PEAK, I_PEND_SUM, I_PEND_T, I_RAW, I_RUNM, I_SCALE_AT_OPEN, I_WHY, I_WK, I_WSUM, I_XQ,
    N_FEATURES, N_WEEK, RUN_INIT, TAIL, TAIL_INIT, XQ_INIT, I_SUS_N, I_SUS_V, I_SUS_Z_AT, SUSTAIN_C, SUSTAIN_CLIP,
    SUSTAIN_Z, I_MONO, I_HABIT_T, I_HABIT_E, I_HABIT_F, N_BINS, HABIT_AFTER_S, HABIT_FOR_S, HABIT_PHASE_S, HABIT_RECENT_S,
    HABIT_SHARE, I_L0, I_XR, I_LS, I_XRS, I_LSLOW, I_D0, I_DS, I_RM, I_SUS_M, I_KL_T, I_KL_AT, I_REBASE_TS,
    I_REBASES, GROSS_SCALE,
)

@njit(cache=True, inline="always")
def _alpha(dt, half_life, dt_est, min_points):
    hl = max(half_life, min_points * dt_est)
    return 1.0 - 2.0 ** (-dt / hl)


@njit(cache=True, inline="always")
def _tail(f, u, beta):
    """``-ln P(F >= f)`` under the fitted tail: ``TAIL`` above ``u``, then exponential with mean
    excess ``beta`` (a peaks-over-threshold fit with shape 0)."""
    if f <= u:
        return 0.0
    return -math.log(TAIL) + (f - u) / beta


@njit(cache=True, inline="always")
def _learn_tail(s, i, f, a, floor):
    """Track the upper ``TAIL`` quantile ``u`` (stochastic approximation) and the mean excess
    ``beta`` over it.

    ``floor`` bounds both from below (in the feature's own units): a series that is nearly always
    the same does not make its smallest wobble infinitely surprising.
    """
    u, beta = s[i], s[i + 1]
    if f > u:
        exc = min(f - u, 4.0 * beta)     # one wild value moves the tail by a bounded factor
        s[i + 1] = max(floor, beta + min(1.0, a / TAIL) * (exc - beta))
        s[i] = u + a * beta * (1.0 / TAIL - 1.0) * min(1.0, exc / beta)
    else:
        s[i] = max(floor, u - a * beta)


@njit(cache=True, inline="always")
def _start_over(s):
    """A fresh state's values (as ``new_state``): all zero but the features' prior tails and runs."""
    s[:] = 0.0
    for k in range(4):
        s[I_F1M + k] = TAIL_INIT[k]
    s[I_F3M] = TAIL_INIT[4]
    s[I_F3S] = TAIL_INIT[5]
    s[I_RUNM] = RUN_INIT
    s[I_XQ] = XQ_INIT


@njit(cache=True)
def _become_counter(s):
    """Start over as a counter (found to be one): keep the last reading as the origin."""
    raw = s[I_RAW]
    _start_over(s)
    s[I_COUNTER] = 2.0
    s[I_CNT_SEEN] = 1.0
    s[I_RAW] = raw


@njit(cache=True)
def _become_gauge(s):
    """Start over as a gauge: a series found to be a counter went down twice in a row (a counter's reset
    is followed by increases; a smooth gauge that rose over its first points, e.g. a daily cycle from its
    trough, goes on to fall). It is never taken for a counter again."""
    _start_over(s)
    s[I_MONO] = -1e300


@njit(cache=True, inline="always")
def _habit_at(s, k, t):
    """True if bin ``k``'s record was made at about this time of day on a recent day (or today, within
    HABIT_RECENT_S)."""
    tk = s[I_HABIT_T + k]
    if tk == 0.0:   # never (a record made before 1970 is negative, and a record: ADR 0028, ninth amendment)
        return False
    ago = t - tk
    phase = ago % 86400.0
    return ago <= HABIT_RECENT_S or (HABIT_AFTER_S <= ago <= HABIT_FOR_S
                                     and (phase <= HABIT_PHASE_S or phase >= 86400.0 - HABIT_PHASE_S))


@njit(cache=True, inline="always")
def _habit(s, t, ev):
    """True if an onset of evidence ``ev`` at ``t`` is the habit of this time of day (see HABIT_SHARE in
    :mod:`ben.detect.calibrated`); a habit that holds an onset back renews its record."""
    hb = int((t % 86400.0) * (N_BINS / 86400.0))
    held = False
    for kk in range(hb - 1, hb + 2):
        k = kk % N_BINS
        # (once a day's record was renewed on a later day, as strong is the habit; before, a share of it)
        share = 1.0 if s[I_HABIT_T + k] - s[I_HABIT_F + k] >= HABIT_AFTER_S else HABIT_SHARE
        if ev <= share * s[I_HABIT_E + k] and _habit_at(s, k, t):
            held = True
    if held:
        _habit_record(s, t, ev)
    return held


@njit(cache=True, inline="always")
def _habit_record(s, t, ev):
    """An onset at ``t`` of peak evidence ``ev`` (opened, or held back): its time of day's record, which
    goes on from the last one if that was made at this time of day on a recent day."""
    hb = int((t % 86400.0) * (N_BINS / 86400.0))
    if _habit_at(s, hb, t):
        s[I_HABIT_E + hb] = max(s[I_HABIT_E + hb], ev)
    else:
        s[I_HABIT_F + hb] = t
        s[I_HABIT_E + hb] = ev
    s[I_HABIT_T + hb] = t


@njit(cache=True, inline="always")
def _fisher(y):
    """``-ln P(G >= y)`` for G the sum of N_FEATURES independent unit exponentials (each ``-ln p``):
    the features' joint surprise when several move at once."""
    if y <= 0.0:
        return 0.0            # no feature past its tail threshold (most points): exactly 0
    term = 1.0
    total = 1.0
    for j in range(1, N_FEATURES):
        term *= y / j
        total += term
    return y - math.log(total)


@njit(cache=True, inline="always")
def _split(ts_ns):
    return float(ts_ns >> 32), float(ts_ns & 0xFFFFFFFF)


@njit(cache=True, inline="always")
def _pend(s, t, evid, pred, d, why, sus_z):
    """A candidate onset from this point: pending until its evidence stops rising (``sus_z``: the
    sustained feature in its spreads, signed, for the explanation)."""
    s[I_SUS_Z_AT] = sus_z
    s[I_PEND] = 1.0
    s[I_PEND_T] = t
    s[I_PEND_PEAK] = evid
    s[I_PEND_SUM] = 0.0
    s[I_BASE_AT_OPEN] = pred
    s[I_SCALE_AT_OPEN] = d
    s[I_WHY] = why


@njit(cache=True, inline="always")
def _peak(s, evid, ts_ns, x):
    """A pending onset's evidence rose: this point is its peak so far."""
    s[I_PEND_PEAK] = evid
    s[I_EP_PEAK_THI], s[I_EP_PEAK_TLO] = _split(ts_ns)
    s[I_EP_PEAK_X] = x


@njit(cache=True, inline="always")
def _week(s, k, j):
    """Time-of-week bin ``k``'s value (``j``: its time of day, ``k % (N_WEEK // 7)``): its raw value less
    the mean of its time of day over the 7 days (what repeats daily is the daily profile's), so a series
    with a daily cycle alone keeps a week profile of noise, and the two profiles never trade places."""
    return s[I_WK + k] - s[I_WSUM + j] * (1.0 / 7.0)


@njit(cache=True, inline="always")
def _learn_week(s, k, j, delta):
    s[I_WK + k] += delta
    s[I_WSUM + j] += delta


@njit(cache=True, inline="always")
def _sustained_evidence(z):
    """The sustained feature's evidence at ``z`` of its spreads: the two-sided Gaussian tail past SUSTAIN_Z."""
    return 0.5 * z * z + math.log(z) + SUSTAIN_C if z > SUSTAIN_Z else 0.0


@njit(cache=True, inline="always")
def _learn_sustained(s, f, a):
    """The sustained feature's spread learns ``f`` (a running mean while young, then weight ``a``; one
    point teaches at most SUSTAIN_CLIP spreads)."""
    s[I_SUS_N] += 1.0
    if s[I_SUS_N] <= 1.5:
        s[I_SUS_V] = f * f + 1e-6
    else:
        s[I_SUS_V] += max(a, 1.0 / s[I_SUS_N]) * (min(f, SUSTAIN_CLIP * math.sqrt(s[I_SUS_V])) ** 2 - s[I_SUS_V])


@njit(cache=True, inline="always")
def _rebaseline(s, t, rd, floor, f2, flat):
    """Re-baselining: the recent distribution (KL ``f2``, recent spread ``rd``) becomes the new normal
    (``flat``: the value has not changed lately)."""
    s[I_L0] = s[I_XR]
    s[I_LS] = s[I_XRS]
    s[I_LSLOW] = s[I_XR]
    # a noisier regime raises the scale at once; a quieter one lowers it at the scale's own pace, but a
    # scale over GROSS_SCALE times the recent spread of a series that moves at once: it measured gross
    # outliers (e.g. bogus first readings; ADR 0028, ninth amendment), not a noise
    low = 1e300 if flat else GROSS_SCALE * max(rd, floor)
    s[I_D0] = max(rd, s[I_D0] if s[I_D0] <= low else 0.0, floor)
    s[I_DS] = max(rd, s[I_DS] if s[I_DS] <= low else 0.0, floor)
    s[I_RM] = 0.0
    s[I_SUS_M] = 0.0
    s[I_KL_T] = 0.0
    s[I_KL_AT] = f2
    s[I_REBASE_TS] = t
    s[I_REBASES] += 1.0
