"""The default detection's calendar profiles and onset scores (ben.detect.calibrated and its kernel)."""

from __future__ import annotations

import numpy as np

from ben.detect import SeriesMonitor
from ben.detect import calibrated as cal
from ben.detect.episode import Episode
from ben.detect.monitor import MonitorVerdict

MONDAY = 1_767_571_200          # 2026-01-05 00:00 UTC, a Monday
DAY = 86_400
EVERY = 300                      # 5-minute sampling


def _weekly(days: int, *, holiday: int | None = None, weekly: bool = True, daily: bool = True, seed: int = 0):
    """A 5-minute business series: a daytime peak on weekdays, a low, flat weekend (and ``holiday``,
    a weekday that behaves like a Sunday)."""
    rng = np.random.default_rng(seed)
    t = MONDAY + np.arange(days * DAY // EVERY) * EVERY
    hour = (t % DAY) / 3600
    day = (t - MONDAY) // DAY
    off = (day % 7 >= 5) if weekly else np.zeros(len(t), bool)
    if holiday is not None:
        off = off | (day == holiday)
    shape = np.exp(-0.5 * ((hour - 13) / 3.5) ** 2) if daily else 0 * hour
    x = 100 + 80 * shape * np.where(off, 0.3, 1.0) - np.where(off, 15, 0) + rng.normal(0, 4, len(t))
    return t * 1_000_000_000, x, day


def _onset_days(res) -> list[float]:
    return [(e.start_ts / 1e9 - MONDAY) / DAY for e in res.episodes if e.state == "open"]


def test_a_weekly_cycle_at_5_min_is_learned_by_day_of_week():
    ts, x, day = _weekly(28)
    mon = SeriesMonitor("orders")
    res = mon.update_many(ts, x)
    s = mon.state()["state"]
    assert s[cal.I_USE_S] == 1.0 and s[cal.I_USE_W] == 1.0
    # the week profile knows the weekend: over the last weekend the prediction is within noise
    # (sd 4, mean absolute 3.2); the daily profile alone is off by the weekday/weekend difference
    mon2 = SeriesMonitor("orders")
    err = []
    for t, v, d in zip(ts.tolist(), x.tolist(), day.tolist()):
        verdict = mon2.update(t, v)
        if d in (26, 27):
            err.append(abs(v - verdict.evidence["expected"]))
    assert np.mean(err) < 6.0
    assert s[cal.I_DWL] < 0.7 * s[cal.I_DSL]
    # ... and the weekends of weeks 3 and 4 do not read as a stream of anomalies
    assert len([d for d in _onset_days(res) if d >= 15 and (d % 7) >= 5]) <= 1


def test_a_holiday_is_at_most_one_episode_and_does_not_corrupt_the_week():
    hol = 23                                                  # the fourth week's Wednesday
    ts, x, day = _weekly(35, holiday=hol)
    res = SeriesMonitor("orders").update_many(ts, x)
    on = _onset_days(res)
    assert len([d for d in on if hol <= d < hol + 1.5]) <= 1
    # the next Wednesday is an ordinary Wednesday again: the holiday taught the profile a fraction
    assert not [d for d in on if hol + 7 <= d < hol + 8]
    ref = SeriesMonitor("orders").update_many(*_weekly(35)[:2])
    assert len(_onset_days(res)) <= len(_onset_days(ref)) + 1


def test_a_series_without_seasonality_is_not_forced_into_one():
    rng = np.random.default_rng(3)
    for x in (_weekly(28, weekly=False, daily=False)[1],                       # noise
              100 + np.cumsum(rng.normal(0, 1, 28 * DAY // EVERY))):          # a random walk
        mon = SeriesMonitor("s")
        mon.update_many(_weekly(28)[0], x)
        s = mon.state()["state"]
        assert s[cal.I_USE_S] == 0.0 and s[cal.I_USE_W] == 0.0
    mon = SeriesMonitor("s")                                  # a daily cycle and no weekly one
    mon.update_many(*_weekly(28, weekly=False)[:2])
    s = mon.state()["state"]
    assert s[cal.I_USE_S] == 1.0 and s[cal.I_USE_W] == 0.0


def test_the_onset_scores_and_a_lasting_episode_does_not():
    rng = np.random.default_rng(7)
    n = 3000
    ts = MONDAY * 10**9 + np.arange(n, dtype=np.int64) * 60 * 10**9
    x = 50 + rng.normal(0, 2, n)
    x[2000:2100] += 12                                        # a condition that lasts 100 minutes
    x[2060] += 400                                            # ... and, within it, a far stronger one
    mon = SeriesMonitor("s")
    scores, opened, open_at = [], [], []
    for t, v in zip(ts.tolist(), x.tolist()):
        verdict = mon.update(t, v)
        scores.append(verdict.score)
        open_at.append(verdict.flag)
        opened.append(any(e.state == "open" for e in verdict.episodes))
    scores, opened, open_at = np.array(scores), np.array(opened), np.array(open_at)
    first = int(np.flatnonzero(opened)[0])
    assert 2000 <= first < 2030 and scores[first] > 0.4
    # while the same episode stays open, the score is only what goes beyond its peak: mostly 0, and far
    # below the onset's (a lasting condition is not a stream of confident detections) ...
    held = np.flatnonzero(open_at & ~opened)
    held = held[(held > first) & (held < 2060)]
    assert len(held) > 10 and np.mean(scores[held] == 0.0) > 0.6
    assert scores[held].max() < 0.5 * scores[first] and scores[held].mean() < 0.1
    # ... unless it escalates: the far stronger point scores, and opens its own episode
    assert scores[2060] > scores[first]
    assert any(2060 <= i <= 2075 for i in np.flatnonzero(opened))


def test_detect_real_scores_every_point_that_holds_an_open_episode():
    from ben.cli.bench import load               # the bench modules are loaded as the CLI does

    detect_real = load("detect_real")

    class Lingering:
        """A monitor that lists its open episode at every point while it lasts."""

        def __init__(self, name):
            self.i = 0

        def update(self, ts_ns, value):
            self.i += 1
            ep = Episode("s", "anomaly", "open", 0, None, 1, 0.9, 0, 0.0, ("x",), 0.0, 1.0, 0.0, 0.0)
            return MonitorVerdict(0.5 + self.i / 100, True, {}, (ep,) if 3 <= self.i <= 6 else ())

    class S:
        name = "s"
        ts_ns = np.arange(10, dtype=np.int64)
        values = np.zeros(10)

    out = detect_real.onset_scores(S, make=Lingering)
    assert np.array_equal(np.flatnonzero(np.isfinite(out)), [2, 3, 4, 5])
    assert np.allclose(out[2:6], [0.53, 0.54, 0.55, 0.56])


def test_the_week_profile_survives_missing_days_and_a_level_shift():
    ts, x, day = _weekly(35)
    ref = _onset_days(SeriesMonitor("s").update_many(ts, x))
    keep = (day != 16) & (day != 17)                          # the collector was down two days
    mon = SeriesMonitor("s")
    on = _onset_days(mon.update_many(ts[keep], x[keep]))
    assert mon.state()["state"][cal.I_USE_W] == 1.0 and len(on) <= len(ref) + 1
    assert not [d for d in on if 18 <= d < 19]                # the first day back is not an anomaly
    shifted = x + np.where(day >= 22, 30.0, 0.0)              # a lasting level shift in week 4
    mon = SeriesMonitor("s")
    on = _onset_days(mon.update_many(ts, shifted))
    assert len([d for d in on if 22 <= d < 23]) == 1          # one onset, at the shift
    assert mon.state()["state"][cal.I_USE_W] == 1.0           # the week is still known after it


def test_a_run_of_zeros_is_no_flat_line_but_a_stuck_value_and_a_drop_to_zero_are_found():
    days = 14
    t = MONDAY + np.arange(days * DAY // EVERY) * EVERY
    ts = t * 1_000_000_000
    hour = (t % DAY) / 3600
    rng = np.random.default_rng(0)
    rate = 0.4 + 0.8 * np.exp(-0.5 * ((hour - 13) / 3.5) ** 2)   # mentions: often zero, a daily rhythm
    for _ in range(6):                                            # ... and everyday storms
        a = int(rng.integers(0, len(t) - 10))
        rate[a:a + int(rng.integers(2, 10))] *= rng.uniform(4, 12)
    sparse = rng.poisson(rate).astype(float)
    assert (sparse == 0).mean() > 0.3
    res = SeriesMonitor("mentions").update_many(ts, sparse)
    # (counted as flat-lines, its runs of zeros opened four "flat" episodes)
    assert not [e for e in res.episodes if e.state == "open" and e.detectors == ("flat",)]
    busy = rng.poisson(40 + 30 * np.exp(-0.5 * ((hour - 14) / 3) ** 2)).astype(float)
    stuck, dead = busy.copy(), busy.copy()
    at = 8 * DAY // EVERY + 12 * 3600 // EVERY                  # day 8, noon
    stuck[at:at + 48] = stuck[at]                               # a sensor stuck at its last reading for 4 h
    dead[at:at + 48] = 0.0                                      # a feed that drops to zero for 4 h
    for x, why in ((stuck, "flat"), (dead, None)):
        opened = [e for e in SeriesMonitor("requests").update_many(ts, x).episodes
                  if e.state == "open" and at * EVERY <= e.start_ts / 1e9 - MONDAY < (at + 48) * EVERY]
        assert opened and (why is None or opened[0].detectors == (why,))



def _mote(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """8 hours of a slow humidity mote read every 5 s at 0.01 resolution: most readings repeat, in runs."""
    rng = np.random.default_rng(seed)
    n = 8 * 3600 // 5
    ts = (MONDAY + np.arange(n) * 5) * 1_000_000_000
    drift = np.cumsum(rng.normal(0, 0.002, n)) + 0.3 * np.sin(np.arange(n) / 2000.0)
    return ts, np.round(45.0 + drift + rng.normal(0, 0.003, n), 2)


def test_a_flat_line_is_judged_against_the_series_own_runs_of_equal_values():
    flat = 0
    for seed in range(3):
        ts, x = _mote(seed)
        assert (np.diff(x) == 0).mean() > 0.5
        res = SeriesMonitor("mote").update_many(ts, x)
        flat += len([e for e in res.episodes if e.state == "open" and "flat" in e.detectors])
    # (judged by run length alone, each of these opened three "flat" episodes: nine in all)
    assert flat <= 1
    # ... and a mote stuck for an hour (far beyond its own runs) is still a flat-line
    ts, x = _mote(0)
    at = len(x) // 2
    x[at:at + 720] = x[at]
    opened = [e for e in SeriesMonitor("mote").update_many(ts, x).episodes
              if e.state == "open" and ts[at] <= e.start_ts <= ts[at + 720]]
    assert opened and opened[0].detectors == ("flat",)


def test_the_first_point_after_a_gap_adds_nothing_to_a_pending_onsets_score():
    # a spike on the last point before a 6-hour gap is confirmed on the first point after it: what
    # that point shows (another stretch of sampling) must not rank the onset higher
    rng = np.random.default_rng(3)
    t = MONDAY + np.arange(3 * DAY // EVERY) * EVERY
    x = 100.0 + rng.normal(0, 1.0, len(t))
    at = len(t) - 12 * 3600 // EVERY
    x[at] = 130.0
    keep = np.ones(len(t), bool)
    keep[at + 1:at + 1 + 6 * 3600 // EVERY] = False
    scores = []
    for after in (100.0, 112.0):
        y = x.copy()
        y[at + 1 + 6 * 3600 // EVERY] = after
        mon = SeriesMonitor("s")
        opened = {}
        for ts, v in zip((t[keep] * 1_000_000_000).tolist(), y[keep].tolist()):
            verdict = mon.update(ts, v)
            if any(e.state == "open" for e in verdict.episodes):
                opened[ts] = verdict.score
        scores.append(opened[int(t[at + 1 + 6 * 3600 // EVERY]) * 1_000_000_000])
    assert scores[0] > 0.3 and scores[0] == scores[1]

def _onset_evidence(x, ts) -> list[float]:
    """The evidence behind each onset's score (``score = E / (E + score_half)``, inverted)."""
    mon = SeriesMonitor("s")
    half = mon.timing.score_half
    out = []
    for t, v in zip(ts.tolist(), x.tolist()):
        verdict = mon.update(t, v)
        if any(e.state == "open" for e in verdict.episodes):
            out.append(half * verdict.score / (1.0 - verdict.score))
    return out


def test_an_onset_that_holds_outranks_one_heavy_tailed_point_of_the_same_peak():
    # the same series, the same jump at the same point: once for one point, once held for ten
    rng = np.random.default_rng(3)
    n = 4000
    ts = MONDAY * 10**9 + np.arange(n, dtype=np.int64) * 60 * 10**9
    base = 50 + rng.normal(0, 2, n)
    spike, held = base.copy(), base.copy()
    spike[3000] += 30
    held[3000:3010] += 30
    e_spike, e_held = _onset_evidence(spike, ts), _onset_evidence(held, ts)
    assert len(e_spike) == 1 and len(e_held) == 1
    # a single point is scored by its own evidence; a change that holds adds what its other points
    # show, up to PERSIST_CAP of the peak: it ranks above the lone point
    assert e_held[0] > 1.6 * e_spike[0]


def _first_onset_after(x, ts, i0):
    res = SeriesMonitor("m").update_many(ts, x)
    on = [int((e.start_ts - int(ts[0])) // int(ts[1] - ts[0])) for e in res.episodes
          if e.state == "open" and e.start_ts >= ts[i0]]
    return on[0] if on else None


def test_a_run_of_points_past_the_point_tail_opens_an_onset_that_no_single_one_would():
    # 5-minute white noise; for six points the level sits 3.5 sd lower: each point alone lies within the
    # series' tail of single points (or barely past it), but six in a row past the tail are improbable
    # where exceedances come alone (the series' own continuation chance is a few percent)
    n = 2600
    ts = MONDAY * 10**9 + np.arange(n, dtype=np.int64) * EVERY * 10**9
    delays = []
    for seed in range(10):
        x = 100 + np.random.default_rng(seed).normal(0, 1, n)
        x[2500:2506] -= 3.5
        first = _first_onset_after(x, ts, 2500)
        if first is not None and first < 2506:
            delays.append(first - 2500)
    # every drop but one is found, five by their third point (without the run evidence: 8 of 10, half of
    # them on the fourth point or later; the residual's mean over hours finds the tenth, on its fifth)
    assert len(delays) >= 9
    assert sum(d <= 2 for d in delays) >= 5
    assert sum(d >= 3 for d in delays) <= 5


def test_a_run_is_judged_against_how_the_series_own_exceedances_cluster():
    # autocorrelated residuals (AR(1), phi 0.8) put points past the tail in runs all the time: a run is
    # surprising only as far as it is longer than the series' own runs (taking each point past the tail
    # as independent opened 41 episodes on these five series; the series' own chance of a run going on
    # keeps it at what the single points open, 7, as before the run evidence existed)
    n = 4000
    ts = MONDAY * 10**9 + np.arange(n, dtype=np.int64) * EVERY * 10**9
    opened = 0
    for seed in range(5):
        e = np.random.default_rng(seed).normal(0, 1, n)
        ar = np.zeros(n)
        for i in range(1, n):
            ar[i] = 0.8 * ar[i - 1] + e[i]
        res = SeriesMonitor("m").update_many(ts, 100 + ar)
        opened += sum(1 for ep in res.episodes if ep.state == "open" and ep.start_ts >= ts[600])
    assert opened <= 12
