"""Compiled per-point step of the default detection (numba); see :mod:`ben.detect.calibrated`.

The constants (state layout, parameter slots, tail and floor values) come from
:mod:`ben.detect.calibrated`, which owns and documents them; numba freezes them at compile time.
Compiled without ``fastmath``: results are deterministic and identical to ``step.py_func``.
"""

from __future__ import annotations

import math

LN2 = math.log(2.0)   # two combinations (max, sum): Bonferroni

from numba import njit

from ben.detect.calibrated import (  # noqa: F401
    EV_CLOSE, EV_NONE, EV_OPEN, I_N, I_T, I_T0, I_DT, I_L0, I_D0, I_LS, I_DS, I_USE_S, I_Q, I_RM, I_RD, I_F1M,
    I_F1S, I_F2M, I_F2S, I_EP, I_EP_START, I_CLEAR_T, I_KL_T, I_REBASE_TS, I_REBASES, I_EVID, I_F1, I_F2,
    I_PRED, I_SCALE, I_BASE_AT_OPEN, I_SCALE_AT_OPEN, I_X, I_PEND, I_PEND_T, I_PEND_PEAK, I_LSLOW, I_F3M,
    I_F3S, I_F3, I_XR, I_XRS, I_WHY, I_COUNTER, I_RAW, I_EP_PEAK, I_EP_PEAK_X, I_EP_PEAK_THI, I_EP_PEAK_TLO,
    I_EP_THI, I_EP_TLO, I_EP_POINTS, I_EP_SUM, I_EP_REBASED, I_S, N_STATE, TAIL, F1_FLOOR, F2_FLOOR,
    F3_FLOOR, RUN_INIT, RUN_LEARN, ESCALATE, I_LAST_PEAK, I_LAST_CLOSE_T, I_ESC, I_ESC_X, I_EP_PENDING_THI,
    I_EP_PENDING_TLO, I_A, I_A_DT, I_A_DE, TAIL_INIT, AUTO_COUNTER_POINTS, I_MONO, I_CNT_SEEN, I_RUNM, I_RUNN,
    I_F4, LN_FEATURES, N_FEATURES, SEASON_AFTER_S, GAP_INTERVALS, TAIL_AFTER, I_DW, I_USE_W, I_DSL, I_DWL,
    I_D0L, I_WK, I_A_WK, I_A_WL, I_WSUM, N_WEEK, WEEK_S, MONDAY_S, WEEK_AFTER_S, WEEK_GAIN, P_WEEK, N_BINS,
    P_CLEAR, P_CLEAR_S, P_CONFIRM_S, P_GAIN, P_HALF, P_HUBER, P_KL, P_LEVEL, P_MINPTS, P_OPEN, P_REBASE_S,
    P_RECENT, P_SCALE, I_PEND_SUM, PERSIST_CAP, PERSIST_OTHER, P_SEASON, P_SLOW, P_CAL, P_WARM_N, P_WARM_S,
    I_RSUM, I_RK, I_XQ, I_XN, XQ_INIT, I_SUS_M, I_SUS_N, I_SUS_V, I_A_SUS, I_SUS_Z, SUSTAIN_S, SUSTAIN_POINTS,
    SUSTAIN_AFTER, SEASON_YOUNG_POINTS, RUN_REBASED_CAP,
)
from ben.detect._calibrated_parts import (
    _alpha, _tail, _learn_tail, _become_counter, _fisher, _split, _pend, _peak, _week, _learn_week,
    _sustained_evidence, _learn_sustained, _become_gauge, _habit, _habit_record, _rebaseline,
)

__all__ = ["step", "run"]


@njit(cache=True)
def step(s, ts_ns, x, p):
    """Consume one point (``ts_ns`` int nanoseconds, ``x`` finite, in time order).

    Returns ``(score, flag, event)``: the score in [0, 1) (at an ``EV_OPEN`` the onset's score),
    whether an episode is open, and ``EV_NONE`` / ``EV_OPEN`` / ``EV_CLOSE``.
    """
    t = ts_ns * 1e-9
    n = s[I_N]
    if s[I_COUNTER] == 2.0 and s[I_CNT_SEEN] > 0.5:
        # found to be a counter (not said so): two steps down in a row make it a gauge after all
        if x < s[I_RAW]:
            if s[I_MONO] > 0.5:
                _become_gauge(s)
                n = 0.0
            else:
                s[I_MONO] = 1.0
        elif x > s[I_RAW]:
            s[I_MONO] = 0.0
    if s[I_COUNTER] > 0.5:
        raw = x
        x = x - s[I_RAW] if x >= s[I_RAW] else x
        s[I_RAW] = raw
        if s[I_CNT_SEEN] == 0.0:
            s[I_CNT_SEEN] = 1.0    # the first reading of a counter only sets its origin
            return 0.0, False, EV_NONE
    elif n < AUTO_COUNTER_POINTS:
        if n > 0:
            if x < s[I_RAW]:   # (but one drop to at most half, a counter's reset: + 0.5; ADR 0028, ninth)
                s[I_MONO] = s[I_MONO] + 0.5 if s[I_MONO] % 1.0 == 0.0 and 0.0 <= x <= 0.5 * s[I_RAW] else -1e300
            elif x > s[I_RAW]:
                s[I_MONO] += 1.0
        s[I_RAW] = x
        if n == AUTO_COUNTER_POINTS - 1 and s[I_MONO] >= 0.9 * n:
            _become_counter(s)
            return 0.0, False, EV_NONE
    if n == 0:
        s[I_T0] = t
        s[I_T] = t
        s[I_L0] = x
        s[I_LS] = x
        s[I_LSLOW] = x
        s[I_XR] = x
        s[I_XRS] = x
        s[I_X] = x
        s[I_N] = 1.0
        return 0.0, False, EV_NONE
    dt = t - s[I_T]
    # robust sampling interval: median tracking, multiplicative steps (faster while young); a point at the
    # previous one's time weighs a thousandth of an interval and teaches none (ADR 0028, eighth amendment)
    g = 1.25 if n < 32 else 1.05
    if dt <= 0.0:
        de = 1e-3 if s[I_DT] <= 0.0 else s[I_DT]
        dt = de * 1e-3
    else:
        if s[I_DT] <= 0.0:
            s[I_DT] = dt
        elif dt > s[I_DT]:
            s[I_DT] = s[I_DT] * g if dt > s[I_DT] * g else dt
        else:
            s[I_DT] = s[I_DT] / g if dt < s[I_DT] / g else dt
        de = s[I_DT]
    mp = p[P_MINPTS]
    # a gap decays memory as GAP_INTERVALS intervals would: one point after it must not replace
    # what the series has taught so far (nor does it show that a pending onset held through the gap)
    gap = dt > GAP_INTERVALS * de
    dt = min(dt, GAP_INTERVALS * de)
    if dt == s[I_A_DT] and de == s[I_A_DE]:      # regular sampling: the weights of the last point
        a_lvl = s[I_A + 1]
        a_scl = s[I_A + 2]
        a_rec = s[I_A + 3]
        a_slow = s[I_A + 4]
        a_cal = s[I_A + 5]
        a_sea = s[I_A + 6]
        a_sus = s[I_A_SUS]
    else:
        a_lvl = _alpha(dt, p[P_LEVEL], de, mp)
        a_scl = _alpha(dt, p[P_SCALE], de, mp * 8.0)
        a_rec = _alpha(dt, p[P_RECENT], de, mp * 0.5)
        a_slow = _alpha(dt, p[P_SLOW], de, mp * 4.0)
        a_cal = _alpha(dt, p[P_CAL], de, mp * 30.0)
        s[I_A_DT] = dt
        s[I_A_DE] = de
        s[I_A + 1] = a_lvl
        s[I_A + 2] = a_scl
        s[I_A + 3] = a_rec
        s[I_A + 4] = a_slow
        a_sea = _alpha(dt * N_BINS, p[P_SEASON], de, mp)
        s[I_A + 5] = a_cal
        s[I_A + 6] = a_sea
        s[I_A_WK] = _alpha(dt * N_WEEK, p[P_WEEK], de, mp)
        s[I_A_WL] = _alpha(dt, WEEK_S, de, mp)
        a_sus = _alpha(dt, SUSTAIN_S, de, SUSTAIN_POINTS)
        s[I_A_SUS] = a_sus
    # quantum: the smallest nonzero step seen lately; run: time the value has not changed (only a series
    # that ever moved can go flat: one constant from its start, e.g. a steady rate, is not a flat-line;
    # nor does a run of zeros count: a count at zero is an absence of events, not a stuck sensor, and a
    # series that is seldom zero sees its drop to zero as a deviation of its level)
    # (a run that became the new normal holds minus its length at that moment: no more evidence, and when
    # it ends, that length teaches the mean run, so a daily flat stretch is learned, while one long stuck
    # run teaches no more than the length that was reported; -1e300: from a checkpoint before, unknown)
    step_abs = abs(x - s[I_X])
    if s[I_F4] < 0.0:
        f4 = s[I_F4] if step_abs == 0.0 else 0.0
    else:
        f4 = s[I_F4] + dt / de if step_abs == 0.0 and s[I_Q] > 0.0 and x != 0.0 else 0.0
    run_ended = s[I_F4] != 0.0 and step_abs > 0.0 and abs(s[I_F4]) < 1e299
    if step_abs > 0.0:
        if s[I_Q] == 0.0 or step_abs < s[I_Q]:
            s[I_Q] = step_abs
        else:
            s[I_Q] += 0.001 * (step_abs - s[I_Q])
    s[I_X] = x
    floor = max(0.5 * s[I_Q], 1e-9 * abs(s[I_L0]), 1e-12)
    # predictions of both models
    # hour-of-day profile, linear between the bins' centres
    pos = (t % 86400.0) / (86400.0 / N_BINS) - 0.5
    fl = math.floor(pos)
    w = pos - fl
    b0 = int(fl) % N_BINS
    b1 = (b0 + 1) % N_BINS
    sb = (1.0 - w) * s[I_S + b0] + w * s[I_S + b1]
    # time-of-week profile (2-hour bins from Monday 00:00 UTC) on top of the daily model, linear too
    age = t - s[I_T0]
    wpos = ((t + MONDAY_S) % WEEK_S) / (WEEK_S / N_WEEK) - 0.5
    wfl = math.floor(wpos)
    ww = wpos - wfl
    k0 = int(wfl) % N_WEEK
    k1 = k0 + 1 if k0 + 1 < N_WEEK else 0
    j0 = k0 % (N_WEEK // 7)
    j1 = j0 + 1 if j0 + 1 < N_WEEK // 7 else 0
    wb = (1.0 - ww) * _week(s, k0, j0) + ww * _week(s, k1, j1)
    r0 = x - s[I_L0]
    rs = x - s[I_LS] - sb
    rw = rs - wb
    use_s = s[I_USE_S] > 0.5
    use_w = s[I_USE_W] > 0.5
    if use_s and use_w:
        r, d, pred = rw, max(s[I_DW], floor), s[I_LS] + sb + wb
    elif use_s:
        r, d, pred = rs, max(s[I_DS], floor), s[I_LS] + sb
    else:
        r, d, pred = r0, max(s[I_D0], floor), s[I_L0]
    if n < 3:
        d = max(abs(r0), floor)
    # raw features
    f1 = abs(r) / d
    hub = p[P_HUBER] * d
    rc = min(max(r, -hub), hub)       # one wild point is feature 1's business, not the distribution's
    rm = s[I_RM] + a_rec * (rc - s[I_RM])
    rd = s[I_RD] + a_rec * (min(abs(rc - s[I_RM]), hub) - s[I_RD])
    rdf = max(rd, floor * 0.5)
    f2 = math.log(d / rdf) + (rdf * rdf + rm * rm) / (2.0 * d * d) - 0.5
    f3 = abs(s[I_L0] - s[I_LSLOW]) / d
    # sustained: the clipped residual's mean over hours, in scales, measured in its own spread (a level
    # held for hours, e.g. a 20 % drop in an hourly count, that no point and no 30-minute window shows)
    # (after a re-baselining the level takes hours to settle on the new normal: the mean starts over, and
    # its spread learns again, once a window has passed, or the settling would read as a level held)
    settled = s[I_REBASES] == 0.0 or t - s[I_REBASE_TS] >= SUSTAIN_S   # (no time since 0: t < 0 before 1970)
    m5 = s[I_SUS_M] + a_sus * (rc - s[I_SUS_M]) if settled else 0.0
    f5 = abs(m5) / d
    z5 = f5 / math.sqrt(max(s[I_SUS_V], 1e-300)) if settled and s[I_SUS_N] > SUSTAIN_AFTER and f5 > 0.0 else 0.0
    # a stuck value that became the new normal (its flat episode said so), where a daily model is in use: its
    # residuals are the cycle the stuck value does not follow, not the series' (the plain level follows the
    # value): no evidence, learned as a perfect fit, no lesson for the profiles or which model fits (ADR
    # 0028, ninth amendment)
    stuck = f4 < 0.0 and use_s
    if stuck:
        f1, f2, f3, f5, z5 = 0.0, 0.0, 0.0, 0.0, 0.0
    e5 = _sustained_evidence(z5)
    # calibrated evidence: peaks over each feature's tracked tail quantile (the run's own model for the
    # fourth); Bonferroni over the four
    e1 = _tail(f1, s[I_F1M], s[I_F1S])
    e2 = _tail(f2, s[I_F2M], s[I_F2S])
    e3 = _tail(f3, s[I_F3M], s[I_F3S])
    # a run of equal values is judged against the series' own runs: with m their mean length (intervals),
    # the chance that a run goes on one more interval is p = exp(-1 / m), a run of k intervals has
    # probability p ** k, and its evidence is -ln(p ** k) = k / m (a series that repeats often needs a far
    # longer run; one that never repeated, m at its prior of one interval, flags a stuck value at once)
    e4 = max(f4, 0.0) / s[I_RUNM]
    # a run of k points past the point feature's tail (a level that holds a few points out of line, each
    # within the series' tail of single points): the first has probability TAIL, each next one q, the
    # series' own chance that a point past the tail is followed by another (how its exceedances cluster:
    # about TAIL on white noise, far more on autocorrelated residuals), and the run's mean excess over
    # the tail is one exponential (the excesses of one cluster are not independent); less ln k, for the
    # k run lengths looked at, and ln 2, for the point feature's two looks (one point or a run). Only to
    # open an onset: once one is pending or open, points count alone (its score and confirmation as before).
    was_x = s[I_RK] > 0.5
    if e1 > 0.0 and not gap:
        s[I_RSUM] += e1
        s[I_RK] += 1.0
    else:
        s[I_RSUM] = e1
        s[I_RK] = 1.0 if e1 > 0.0 else 0.0
    er = 0.0
    k = s[I_RK]
    if k > 1.5 and s[I_EP] < 0.5 and s[I_PEND] < 0.5:
        excess = (s[I_RSUM] + k * math.log(TAIL)) / k
        q = s[I_XQ]
        q_up = q + 2.0 * math.sqrt(q * (1.0 - q) / min(s[I_XN] + 2.0, 1.0 / RUN_LEARN))
        er = -math.log(TAIL) - (k - 1.0) * math.log(min(max(q_up, TAIL), 1.0)) + excess - math.log(k) - LN2
    top = max(max(max(e1, er), e2), max(e3, e4))
    why = 1.0 if (e1 == top or er == top) else (2.0 if e2 == top else (3.0 if e3 == top else 4.0))
    # three looks: the strongest feature (Bonferroni over four), their joint sum, and the sustained
    # feature alone (ln 2 against the first two; then ln 2 for the looks as before)
    ev4 = max(top - LN_FEATURES, _fisher(e1 + e2 + e3 + e4))
    evid = max(ev4, e5 - LN2) - LN2
    # without the sustained look (it grows for as long as any condition holds): what holds an onset
    # pending, its peak after its first point, an open episode's score and its escalation are judged on
    ev4 = max(ev4 - LN2, 0.0)
    if e5 - LN2 > top - LN_FEATURES:
        why = 5.0
    z5 = z5 if m5 >= 0.0 else -z5
    if evid < 0.0:
        evid = 0.0
    score = evid / (evid + p[P_HALF])
    # what this point adds to a pending onset: the point feature's own evidence, and the others' at
    # PERSIST_OTHER (their windows overlap from point to point, so their persistence is partly echo)
    held = max(e1 - LN_FEATURES - LN2, 0.0) + PERSIST_OTHER * ev4
    warm = (n >= p[P_WARM_N]) and (t - s[I_T0] >= p[P_WARM_S])
    event = EV_NONE
    in_ep = s[I_EP] > 0.5
    pend = s[I_PEND] > 0.5
    force = False
    if s[I_ESC] > 0.5:
        # the last point closed an episode for a far stronger onset: its record starts there
        s[I_ESC] = 0.0
        s[I_EP_THI] = s[I_EP_PENDING_THI]
        s[I_EP_TLO] = s[I_EP_PENDING_TLO]
        s[I_EP_PEAK_THI] = s[I_EP_PENDING_THI]
        s[I_EP_PEAK_TLO] = s[I_EP_PENDING_TLO]
        s[I_EP_PEAK_X] = s[I_ESC_X]
        s[I_EP_POINTS] = 1.0
        s[I_EP_SUM] = s[I_ESC_X]
    if not warm:
        score = 0.0
    elif not in_ep:
        if not pend and evid >= p[P_OPEN] and (t - s[I_LAST_CLOSE_T] >= max(p[P_REBASE_S] * 0.5, mp * de)
                                               or evid > s[I_LAST_PEAK]) and not _habit(s, t, ev4):
            # (within an hour of an episode's end, only evidence above that episode's peak re-opens; nor
            # does an onset that is this time of day's habit: one opened here on a recent day, as strong)
            pend = True
            _pend(s, t, evid, pred, d, why, z5)
            s[I_EP_THI], s[I_EP_TLO] = _split(ts_ns)
            s[I_EP_PEAK_THI], s[I_EP_PEAK_TLO] = _split(ts_ns)
            s[I_EP_PEAK_X] = x
            s[I_EP_POINTS] = 1.0
            s[I_EP_SUM] = x
        elif pend and gap and evid < p[P_OPEN] and s[I_PEND_PEAK] < ESCALATE * p[P_OPEN]:
            # a gap in the sampling is no evidence: an onset still pending when the sampling stopped (its
            # evidence still rising) is not confirmed by the first point after it unless that point itself
            # shows the condition (e.g. a busy evening of a car park, pending at the last reading of the
            # day, would open at the next morning's first reading)
            s[I_PEND] = 0.0
            pend = False
        elif pend and (ev4 < s[I_PEND_PEAK] or t - s[I_PEND_T] >= max(p[P_CONFIRM_S], mp * 0.5 * de)):
            # confirmed once its evidence stops rising (or after confirm_s): the episode starts when
            # the evidence first crossed open_evidence and is scored by its peak evidence so far
            if ev4 > s[I_PEND_PEAK]:
                _peak(s, ev4, ts_ns, x)
            peak = s[I_PEND_PEAK]
            # ranked by the onset's evidence: its peak plus what its other points add (capped), so a
            # change that holds outranks a single heavy-tailed point of the same peak; the first point
            # after a gap in the sampling adds nothing (nobody saw the condition hold across the gap)
            onset = peak + min(s[I_PEND_SUM] + (0.0 if gap else held), PERSIST_CAP * peak)
            score = onset / (onset + p[P_HALF])
            s[I_EP_PEAK] = score
            s[I_PEND] = 0.0
            pend = False
            s[I_EP] = 1.0
            s[I_EP_START] = s[I_PEND_T]
            s[I_EP_REBASED] = 0.0
            s[I_CLEAR_T] = 0.0
            s[I_EP_POINTS] += 1.0
            s[I_EP_SUM] += x
            in_ep = True
            event = EV_OPEN
            _habit_record(s, s[I_PEND_T], peak)
        elif pend:
            if ev4 > s[I_PEND_PEAK]:
                _peak(s, ev4, ts_ns, x)
            s[I_PEND_SUM] += held
            s[I_EP_POINTS] += 1.0
            s[I_EP_SUM] += x
    else:
        # the episode is already reported: the score ranks only what exceeds its peak evidence (an
        # escalation), so a sustained condition does not read as fresh detections point after point
        ex = ev4 - s[I_PEND_PEAK]
        score = ex / (ex + p[P_HALF]) if ex > 0.0 else 0.0
        if evid >= p[P_CLEAR]:
            s[I_EP_POINTS] += 1.0
            s[I_EP_SUM] += x
            if score > s[I_EP_PEAK]:
                s[I_EP_PEAK] = score
                s[I_EP_PEAK_THI], s[I_EP_PEAK_TLO] = _split(ts_ns)
                s[I_EP_PEAK_X] = x
        if ev4 >= ESCALATE * max(s[I_PEND_PEAK], p[P_OPEN]):
            # far stronger than what opened this episode: a new onset, not the same condition
            # (the episode closes here; the new one is pending from this point)
            s[I_EP] = 0.0
            in_ep = False
            event = EV_CLOSE
            pend = True
            _pend(s, t, evid, pred, d, why, z5)
            s[I_EP_PENDING_THI], s[I_EP_PENDING_TLO] = _split(ts_ns)
            s[I_ESC] = 1.0
            s[I_ESC_X] = x
        elif t - s[I_EP_START] >= max(p[P_REBASE_S], mp * 2.0 * de):
            s[I_LAST_PEAK] = s[I_PEND_PEAK]
            s[I_LAST_CLOSE_T] = t
            force = True            # sustained this long: the new normal (re-baselined below)
            # a flat run that became the new normal is not counted on (until the value moves again; its
            # length so far is kept, negative, to teach the mean run when it ends)
            if f4 > 0.0:
                f4 = -f4
            s[I_EP] = 0.0
            s[I_EP_REBASED] = 1.0
            in_ep = False
            event = EV_CLOSE
        elif evid < p[P_CLEAR]:
            s[I_CLEAR_T] += dt
            if s[I_CLEAR_T] >= max(p[P_CLEAR_S], mp * 0.5 * de):
                s[I_LAST_PEAK] = s[I_PEND_PEAK]
                s[I_LAST_CLOSE_T] = t
                s[I_EP] = 0.0
                in_ep = False
                event = EV_CLOSE
        else:
            s[I_CLEAR_T] = 0.0
        if in_ep and ev4 > s[I_PEND_PEAK]:
            s[I_PEND_PEAK] = ev4           # the episode's peak evidence: what an escalation must beat
    # learn: calibration (frozen while an onset is pending or an episode open), models, recent
    # (nor, during the warm-up, from a point the tails already call anomalous: an outage while warming
    # up must not teach the tails that it is normal; after an episode, a condition that lingers does
    # teach them, so a change that became the new normal does not re-open)
    if not in_ep and not pend and event == EV_NONE and n >= TAIL_AFTER and (warm or evid < p[P_OPEN]):
        _learn_tail(s, I_F1M, f1, a_cal, F1_FLOOR)
        _learn_tail(s, I_F2M, f2, a_cal, F2_FLOOR)
        _learn_tail(s, I_F3M, f3, a_cal, F3_FLOOR)
        if settled and s[I_Q] > 0.0:
            # (only once the series has moved: a series that starts constant, e.g. a count at zero
            # before a service opens, would teach the spread 0, and with each point teaching at most
            # SUSTAIN_CLIP spreads it then takes weeks to grow, every move reading as a level held)
            _learn_sustained(s, f5, a_cal)
        if was_x:
            # the point after one past the tail: did it continue the run? (Laplace's rule while young)
            s[I_XN] += 1.0
            s[I_XQ] += max(1.0 / (s[I_XN] + 2.0), RUN_LEARN) * ((1.0 if s[I_RK] > 1.5 else 0.0) - s[I_XQ])
    if run_ended and not in_ep and not pend:
        # a run of equal values ended outside an episode: its length teaches the mean run
        s[I_RUNN] += 1.0
        # (a run that became the new normal teaches at most RUN_REBASED_CAP times the mean run so far: a
        # stretch that recurs, e.g. a square wave's, is learned within days; one long stuck run moves the
        # mean by a bounded step, and a sensor stuck again is still found)
        run = s[I_F4] if s[I_F4] > 0.0 else min(-s[I_F4], RUN_REBASED_CAP * s[I_RUNM])
        s[I_RUNM] += max(1.0 / (s[I_RUNN] + 1.0), RUN_LEARN) * (run - s[I_RUNM])
    hub0 = p[P_HUBER] * max(s[I_D0], floor)
    hubs = p[P_HUBER] * max(s[I_DS], floor)
    if n < 3:
        hub0 = 1e300
        hubs = 1e300
    c0 = min(max(r0, -hub0), hub0)
    cs = min(max(rs, -hubs), hubs)
    s[I_L0] += a_lvl * c0
    s[I_LS] += a_slow * cs
    s[I_LSLOW] += a_slow * c0
    err = x - s[I_LS] - sb
    if de * N_BINS * SEASON_YOUNG_POINTS <= 86400.0:
        # where each hour-of-day bin sees SEASON_YOUNG_POINTS or more points a day, the profile learns as a
        # running mean while young (as the week profile does), so a finely sampled daily cycle is learned
        # as daily within days, not after a week of a plain level lagging it (where a bin sees one point
        # a day, a running mean over its first days would rest on a few points: its memory alone)
        a_sea = max(a_sea, min(1.0, dt * N_BINS / max(age, 86400.0)))
    a_sea = 0.0 if stuck else a_sea
    s[I_S + b0] += a_sea * (1.0 - w) * err
    s[I_S + b1] += a_sea * w * err
    # the week profile learns what the daily model leaves (a running mean while young, so two weeks of
    # data are enough; Huber-clipped so one holiday moves it by a fraction)
    hubw = p[P_HUBER] * max(s[I_DW], floor)
    if n < 3:
        hubw = 1e300
    a_wk = max(s[I_A_WK], min(1.0, dt * N_WEEK / max(age, WEEK_S))) if not stuck else 0.0
    ew = min(max(err - wb, -hubw), hubw)
    _learn_week(s, k0, j0, a_wk * (1.0 - ww) * ew)
    _learn_week(s, k1, j1, a_wk * ww * ew)
    cw = min(max(rw, -hubw), hubw)
    if n > 1:
        # (a stuck value that became the new normal teaches the noise scale nothing: when the series
        # moves again, its noise is judged against the scale it had, not one shrunk by hours of flat)
        a_scl = max(a_scl, 1.0 / n) if f4 >= 0.0 else 0.0
        s[I_D0] += a_scl * (abs(c0) - s[I_D0])
        s[I_DS] += a_scl * (abs(cs) - s[I_DS])
        s[I_DW] += a_scl * (abs(cw) - s[I_DW])
    else:
        s[I_D0] = abs(r0)
        s[I_DS] = abs(rs)
        s[I_DW] = abs(rs)
    if age > WEEK_S:
        # after a week (every time-of-week bin seen once), a slow comparison of the daily model with and
        # without the week profile: a series without a weekly cycle is not forced into one
        a_wl = max(s[I_A_WL], min(1.0, dt / (age - WEEK_S + dt))) if not stuck else 0.0
        s[I_DSL] += a_wl * (abs(cs) - s[I_DSL])
        s[I_DWL] += a_wl * (abs(cw) - s[I_DWL])
        s[I_D0L] += a_wl * (abs(c0) - s[I_D0L])
        if age > WEEK_AFTER_S:
            if use_w and s[I_DWL] > s[I_DSL] * (WEEK_GAIN + 0.05):
                s[I_USE_W] = 0.0
            elif (not use_w) and s[I_DWL] < s[I_DSL] * WEEK_GAIN:
                s[I_USE_W] = 1.0
            # and the seasonal model against the plain one, over a week too (a holiday is one day of it)
            dsw = s[I_DWL] if s[I_USE_W] > 0.5 else s[I_DSL]
            if use_s and dsw > s[I_D0L] * min(1.0, p[P_GAIN] + 0.1):
                s[I_USE_S] = 0.0
            elif (not use_s) and dsw < s[I_D0L] * p[P_GAIN]:
                s[I_USE_S] = 1.0
    if SEASON_AFTER_S < age <= WEEK_AFTER_S:
        dsw = s[I_DW] if s[I_USE_W] > 0.5 else s[I_DS]
        if use_s and dsw > s[I_D0] * min(1.0, p[P_GAIN] + 0.1):
            s[I_USE_S] = 0.0
        elif (not use_s) and dsw < s[I_D0] * p[P_GAIN]:
            s[I_USE_S] = 1.0
    s[I_RM] = rm
    s[I_RD] = rd
    s[I_SUS_M] = m5
    s[I_SUS_Z] = z5
    s[I_XR] += a_rec * (x - s[I_XR])
    s[I_XRS] += a_rec * (x - sb - (wb if use_w else 0.0) - s[I_XRS])
    # re-baselining: a distribution change (KL above kl_bound) that lasts rebaseline_s, or an
    # episode open that long, becomes the new normal
    if f2 > p[P_KL] or force:
        s[I_KL_T] += dt
        if force or s[I_KL_T] >= max(p[P_REBASE_S], mp * 2.0 * de):
            _rebaseline(s, t, rd, floor, f2, f4 != 0.0)
    else:
        s[I_KL_T] = 0.0
    s[I_N] = n + 1.0
    s[I_T] = t
    s[I_EVID] = evid
    s[I_F1] = f1
    s[I_F2] = f2
    s[I_F3] = f3
    s[I_F4] = f4
    s[I_PRED] = pred
    s[I_SCALE] = d
    return score, in_ep, event


@njit(cache=True)
def run(s, ts_ns, xs, p, scores, flags, events, start):
    """:func:`step` over ``ts_ns[start:]`` / ``xs[start:]`` in one compiled loop, filling ``scores``,
    ``flags`` and ``events``; stops right after a point with an event (so the caller can read the
    episode from the state) and returns the index after the last point consumed."""
    for i in range(start, len(xs)):
        sc, fl, ev = step(s, ts_ns[i], xs[i], p)
        scores[i] = sc
        flags[i] = fl
        events[i] = ev
        if ev != EV_NONE:
            return i + 1
    return len(xs)
