"""The default detection: time-based memory, calendar seasonality, calibrated tail evidence.

One series' whole state is a flat ``float64`` array (layout: the ``I_*`` indices below); one compiled
step (``step`` in :mod:`ben.detect._calibrated_kernel`, compiled by numba; :func:`kernel` loads it)
consumes a point. Everything that remembers is set in seconds (:class:`Timing`)
and turned into a per-point weight from the time since the previous point,
``alpha = 1 - 2 ** (-dt / half_life)``, with a floor in points (``min_points``) so a series sampled
every hour still averages enough points. So one default holds from 1-second to 1-hour sampling and
across gaps.

Per point:

1. **Prediction.** Two models run side by side: a plain robust level ``L0`` and a Holt-Winters-like
   level ``Ls`` plus an hour-of-day profile ``S[hour]`` by wall-clock (UTC) time, and on top of it a
   time-of-week profile (``N_WEEK`` two-hour bins from Monday 00:00, each less its time of day's mean
   over the week: only how the days differ) learned from what the daily model leaves. Each keeps an
   exponentially weighted mean absolute residual (``D0``, ``Ds``, ``Dw``). The seasonal model is used
   only while its residuals are clearly smaller (``season_gain``), the week profile only while it
   makes them smaller still (``WEEK_GAIN``; both judged over a week's residuals from the second week
   on, so one holiday does not switch models): a series without a daily or weekly cycle is not
   forced into one. Levels are Huber-updated (a residual is clipped at ``huber`` scales) so one
   outlier does not drag them.
2. **Raw features** against the prediction ``p`` and scale ``D`` (floored at the series' quantum,
   so a flat series moving by one step is no surprise): ``|x - p| / D`` (a point out of line) and the
   KL divergence between the recent residual distribution (short mean and scale) and the reference
   one (mean 0, scale ``D``): a shifted level, more noise, or a flat-line on a noisy series.
3. **Calibration.** Each feature becomes a tail probability against the series' own history: an
   exponential tail (a peaks-over-threshold fit with shape 0) whose location and scale are the
   feature's long-run EW mean and mean absolute deviation. Evidence ``E = max_k(-ln p_k) - ln(K)``
   (a Bonferroni correction), so the same ``E`` means the same surprise on every series. The
   flat-line feature (a run of ``k`` sampling intervals without a change) has its own model instead:
   with ``m`` the mean length of the series' past runs of equal values, a run goes on one more
   interval with probability ``exp(-1 / m)``, so its evidence is ``k / m`` (a quantised slow sensor
   whose readings often repeat needs a far longer run than a series that never repeated). A run of
   ``k`` points past the point feature's tail is evidence too (before an onset is pending): the first
   has probability ``TAIL``, each next one ``q``, the series' own chance that a point past the tail is
   followed by another (how its exceedances cluster; taken at its upper two-standard-error bound),
   plus the run's mean excess, less ``ln k + ln 2``; a level that holds a few points out of line opens
   an onset that no single one of its points would. A stuck value that became the new normal does not
   teach the noise scale. The score is ``E / (E + score_half)`` in [0, 1).
4. **Episodes.** After the warm-up, an episode opens at the first point with ``E >= open_evidence``
   (the score there ranks it by the onset's evidence: its peak plus what the points after its first
   crossing, up to its confirmation, add (the point feature's evidence and ``PERSIST_OTHER`` of the
   combined one), at most ``PERSIST_CAP`` of the peak, so a change that holds for several points
   outranks one heavy-tailed point of the same peak; while the episode stays open,
   the score is only the evidence beyond its peak) and closes once ``E < clear_evidence`` for ``clear_s``. While it is
   open, the calibration statistics are frozen. **Re-baselining:** when the KL divergence stays
   above ``kl_bound`` for ``rebaseline_s``, the level and scale are re-fitted to the recent
   distribution: a persistent change becomes the new normal, and the state says so
   (``I_REBASE_TS``, ``I_REBASES``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

__all__ = ["Timing", "N_STATE", "N_BINS", "N_WEEK", "new_state", "kernel", "EV_NONE", "EV_OPEN", "EV_CLOSE", "WHY"]

N_BINS = 24                 # hour-of-day profile (UTC)
N_WEEK = 84                 # time-of-week profile: 2-hour bins from Monday 00:00 UTC
WEEK_S = 7 * 86400.0
MONDAY_S = 3 * 86400.0      # 1970-01-01 was a Thursday: (t + MONDAY_S) % WEEK_S is the time since Monday
WEEK_AFTER_S = 8 * 86400.0  # the week profile competes after a week and a day of data
WEEK_GAIN = 0.9             # ... and is used while its slow residual is below WEEK_GAIN of the daily model's
WHY = ("", "level", "distribution", "drift", "flat", "sustained")   # what opened an episode (I_WHY), as
#                                                                      Episode.detectors
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
I_XR = 37          # recent mean of the raw values (what a re-baselining adopts)
I_XRS = 38         # recent mean of the deseasonalised values
I_WHY = 39         # feature that opened the pending onset / episode: 1 point, 2 distribution (KL), 3 drift
I_COUNTER = 40     # 1.0: a counter (said so), 2.0: found to be one; watched as its increase (a reset
#                    counts from zero)
I_RAW = 41         # last raw value (counters)
I_EP_PEAK = 42     # the open episode's peak score
I_EP_PEAK_X = 43   # value at the peak
I_EP_PEAK_THI = 44  # peak timestamp, ns, high 32 bits (exact in float64)
I_EP_PEAK_TLO = 45  # ... low 32 bits
I_EP_THI = 46      # episode (or pending onset) start, ns, high 32 bits
I_EP_TLO = 47
I_EP_POINTS = 48   # points in the episode
I_EP_SUM = 49      # sum of its values (observed mean)
I_EP_REBASED = 50  # 1.0: the episode closed because its change became the new normal
I_KL_AT = 51       # KL divergence at the last re-baselining
I_RUNM = 52        # feature 4 (flat-line): the mean length of the series' runs of equal values (intervals)
I_RUNN = 53        # feature 4: the runs that mean was learned from
I_F4 = 54          # last feature 4 (the run so far; minus its length once it became the new normal)
I_MONO = 55        # while young, increasing steps so far (negative once the series went down); for a series
#                    found to be a counter, 1.0 while its last step went down (two in a row: a gauge after all)
I_CNT_SEEN = 56    # 1.0 once a counter's first reading (its origin) is known
I_A_DT = 57        # the (time step, interval estimate) the cached per-point weights were computed for
I_A_DE = 58
I_A = 58           # cached weights: I_A + 1 .. I_A + 6 (level, scale, recent, slow, calibration, season)
I_EP_PENDING_THI = 65  # start (ns, high / low 32 bits) and value of an onset that closed a weaker
I_EP_PENDING_TLO = 66  # episode (ESCALATE)
I_ESC = 67
I_ESC_X = 68
I_LAST_PEAK = 69       # peak evidence of the last closed episode, and when it closed (seconds):
I_LAST_CLOSE_T = 70    # within rebaseline_s / 2 of that, only stronger evidence re-opens
I_PEND_SUM = 71    # evidence a pending onset's points after the first add (its score: see PERSIST_CAP)
I_S = 72           # start of the hour-of-day profile (N_BINS values)
I_DW = I_S + N_BINS    # the weekly model's mean absolute residual (daily model + time-of-week profile)
I_USE_W = I_DW + 1     # 1.0 while the time-of-week profile is used
I_DSL = I_DW + 2       # slow (one week) mean absolute residual of the daily model ...
I_DWL = I_DW + 3       # ... and of the weekly model: they decide whether the week profile is used
I_D0L = I_DW + 4       # ... and of the plain model: after a week, these decide which model is used
I_A_WK = I_DW + 5      # cached weights (with the others at I_A): the week profile's, the slow comparison's
I_A_WL = I_DW + 6
I_WSUM = I_DW + 7      # per time of day (N_WEEK // 7 values): the sum over the 7 days of the raw week bins
I_WK = I_WSUM + N_WEEK // 7   # start of the time-of-week profile (N_WEEK raw values; a bin's value is
#                               its raw value less its time of day's mean over the week, so the profile
#                               holds only how the days differ)
I_RSUM = I_WK + N_WEEK   # the point feature's run: summed evidence of the consecutive points past its tail
I_RK = I_RSUM + 1        # ... and how many they are
I_XQ = I_RK + 1          # the chance that a point past the point feature's tail is followed by another one
I_XN = I_XQ + 1          # ... and the points it was learned from
I_SUS_M = I_XN + 1       # sustained feature: EW mean of the used model's clipped residual (half-life SUSTAIN_S)
I_SUS_N = I_SUS_M + 1    # ... the points its spread was learned from
I_SUS_V = I_SUS_M + 2    # ... its spread: EW mean square of |mean| / scale (a running mean while young)
I_A_SUS = I_SUS_M + 3    # ... the mean's cached weight (with the others at I_A)
I_SUS_Z = I_SUS_M + 4    # ... last |mean| / scale in its spreads, signed as the mean (0 until learned)
I_SUS_Z_AT = I_SUS_M + 5  # ... the same at the pending onset / episode's first point (its explanation)
N_STATE_5 = I_SUS_M + 6  # the state's length before the onset habit (checkpoints of that length are padded)
I_HABIT_T = N_STATE_5    # per hour-of-day bin (N_BINS values): when the last onset there started (seconds), or
#                          when a habit there last held an onset back; 0 = never
I_HABIT_E = I_HABIT_T + N_BINS   # ... and that onset's peak evidence (the highest held back since)
I_HABIT_F = I_HABIT_E + N_BINS   # ... and when that time of day's record began (a habit once renewed a day later)
N_STATE = I_HABIT_F + N_BINS


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
    open_evidence, clear_evidence : float, default 7.0, 5.0
        ``-ln p`` (Bonferroni-corrected) that opens an episode / under which it clears.
    kl_bound : float, default 1.5
    season_gain : float, default 0.85
    huber : float, default 4.0
    score_half : float, default 10.0
        Evidence at which the score is 0.5.
    confirm_s : float, default 1800
        The longest an onset waits for its evidence to stop rising before it opens (30 min).
    slow_half_life_s : float, default 43200
        The slow level's half-life (12 h): the drift reference and the seasonal model's level.
    week_half_life_s : float, default 21 * 86400
        Each time-of-week value's memory (3 weeks; a running mean while younger): one holiday moves
        it by a fraction, not a week.
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
    open_evidence: float = 7.0
    clear_evidence: float = 5.0
    kl_bound: float = 1.5
    season_gain: float = 0.85
    huber: float = 4.0
    score_half: float = 10.0
    confirm_s: float = 1800.0
    slow_half_life_s: float = 43200.0
    week_half_life_s: float = 21 * 86400.0

    def __post_init__(self):
        for key, value in asdict(self).items():
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                from ben.detect.errors import DetectorError
                raise DetectorError(f"{key}={value!r}: expected a finite number > 0")

    def vector(self) -> np.ndarray:
        """The parameters as the float array :func:`step` takes."""
        return np.array(list(asdict(self).values()), dtype=np.float64)


P_LEVEL, P_SCALE, P_RECENT, P_CAL, P_SEASON, P_WARM_S, P_CLEAR_S, P_REBASE_S, P_MINPTS, P_WARM_N, \
    P_OPEN, P_CLEAR, P_KL, P_GAIN, P_HUBER, P_HALF, P_CONFIRM_S, P_SLOW, P_WEEK = range(19)


def new_state(*, counter: bool = False) -> np.ndarray:
    """A fresh state vector (``counter``: watch the series' increase, a reset counting from zero)."""
    s = np.zeros(N_STATE)
    s[I_COUNTER] = 1.0 if counter else 0.0
    s[I_F1M:I_F1M + 4] = TAIL_INIT[:4]
    s[I_F3M:I_F3M + 2] = TAIL_INIT[4:6]
    s[I_RUNM] = RUN_INIT
    s[I_XQ] = XQ_INIT
    return s


def upgrade(states: np.ndarray) -> np.ndarray:
    """States (one or a matrix of rows) of the layout before the onset habit (``N_STATE_5`` values), in
    today's layout: the habit's records start empty."""
    pad = [(0, 0)] * (states.ndim - 1) + [(0, N_STATE - N_STATE_5)]
    return np.pad(np.asarray(states, dtype=np.float64), pad)


TAIL = 0.02        # the POT threshold is the feature's upper 2% quantile
F1_FLOOR = 0.5     # floors of each feature's tail threshold and scale (scale units; nats for KL)
F2_FLOOR = 0.3
F3_FLOOR = 0.5
PERSIST_CAP = 0.5  # an onset's score adds what its points after the first show, up to this share of its peak:
PERSIST_OTHER = 0.5  # the point feature's evidence, plus this share of the combined evidence
ESCALATE = 3.0     # evidence this many times what opened the open episode starts a new onset
TAIL_INIT = (3.0, 1.0, 0.5, 0.3, 2.0, 1.0)   # prior (u, beta) of features 1, 2, 3
RUN_INIT = 1.0     # feature 4: prior mean run of equal values (one pseudo-run of one interval), and
RUN_LEARN = 0.01   # each run's weight in that mean after the first 100 (a running mean until then)
RUN_REBASED_CAP = 8.0   # a run that became the new normal teaches at most this many mean runs (ADR 0028)
AUTO_COUNTER_POINTS = 64   # a series that only went up over its first 64 points (90% of steps strictly)
#                            is a counter: from then on its increase is watched
XQ_INIT = 0.5      # prior chance that a point past the point tail is followed by another (Laplace's rule)
N_FEATURES = 4
LN_FEATURES = math.log(4.0)   # Bonferroni: four features
SEASON_AFTER_S = 86400.0      # the seasonal model competes after a day of data
SEASON_YOUNG_POINTS = 6.0     # an hour-of-day bin that sees this many points a day (sampling of 10 min or
#                               finer) learns as a running mean while young (ADR 0028)
TAIL_AFTER = 30     # the tails learn from the 30th point on (the first residuals measure the model,
#                     not the series)
GROSS_SCALE = 100.0  # a re-baselining lowers a scale this many times the recent spread at once (not its own pace)
GAP_INTERVALS = 3.0  # the longest time step the memories take from one point, in sampling intervals
# the sustained feature (ADR 0028, evidence over hours): the used model's Huber-clipped residual averaged
# with a half-life of SUSTAIN_S seconds (floored at SUSTAIN_POINTS sampling intervals; the window is in
# time, not points), in scales, and measured against its own spread (a mean over many residuals is close
# to Gaussian): past SUSTAIN_Z spreads, its two-sided Gaussian tail -ln P(|Z| > z) ~ z^2 / 2 + ln z +
# SUSTAIN_C is a look of its own (Bonferroni ln 2 against the four features' combination)
SUSTAIN_S = 3 * 3600.0
SUSTAIN_POINTS = 6.0
SUSTAIN_AFTER = 30.0   # used once its spread was learned from more than this many points
SUSTAIN_CLIP = 4.0     # one point teaches the spread at most this many spreads
SUSTAIN_Z = 2.0
SUSTAIN_C = 0.23       # ln sqrt(2 pi) - ln 2
# the onset habit (ADR 0028, "onsets that recur at the same time of day"; a batch job's edge, a shift change,
# a daily reset): an onset at about the time of day of one that opened on one of the last three days is held
# back if it is no stronger than HABIT_SHARE of that one's peak evidence, and once that record was renewed on
# a later day (the condition recurs daily), if it is no stronger than the strongest so far. A far stronger
# event at that hour is still an onset. Each hold-back renews the record, so a daily habit stays learned;
# three days without it and it is gone. Held back, an onset is a normal point: the tails learn its size.
HABIT_AFTER_S = 72000.0               # a record counts from 20 h after it was made ...
HABIT_FOR_S = 3.0 * 86400.0 + 7200.0  # ... until 3 days and 2 h after it
HABIT_PHASE_S = 5400.0                # at the same time of day within 1.5 h (its bin and the two beside it)
HABIT_RECENT_S = 7200.0               # (a record made within the last 2 h counts too: the same condition today)
HABIT_SHARE = 0.85          # (a record not yet renewed on a later day: a share of its evidence; renewed: as strong)




def kernel():
    """The compiled ``step`` / ``run`` module, imported on first use (``import ben.detect`` does not load
    numba). With the compiled kernels switched off (``BEN_DETECT_KERNELS=0``) the same functions run as
    plain Python (``.py_func``: identical results, far slower)."""
    from ben.detect._calibrated_rows import drop_stale_caches

    drop_stale_caches()   # numba does not see a change of the constants the kernel froze
    from ben.detect import _calibrated_kernel as mod
    from ben.detect.base import _KERNELS

    if _KERNELS["on"]:
        return mod.step, mod.run
    return mod.step.py_func, mod.run.py_func
