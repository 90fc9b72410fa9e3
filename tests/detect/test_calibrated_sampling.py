"""The default detection and how a series is sampled: gaps in the sampling, fine sampling of a daily cycle."""

from __future__ import annotations

import numpy as np
import pytest

from ben.detect import SeriesMonitor
from ben.detect import calibrated as cal

MONDAY = 1_767_571_200          # 2026-01-05 00:00 UTC, a Monday
DAY = 86_400
HOUR = 3_600


def _opened_at(t: np.ndarray, x: np.ndarray) -> list[int]:
    """Indices of the points where an episode opens (what the held-out harness scores)."""
    mon = SeriesMonitor("car_park")
    out = []
    for i, (ts, v) in enumerate(zip((t * 1_000_000_000).astype(np.int64).tolist(), x.tolist())):
        if any(e.state == "open" for e in mon.update(ts, v).episodes):
            out.append(i)
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_an_onset_building_up_when_the_sampling_stops_is_not_opened_by_the_next_mornings_normal_point(seed):
    # a car park read every 30 min from 08:00 to 16:30 (no readings at night); on four evenings its last
    # three readings climb well above the day's shape, so an onset is pending (its evidence still rising)
    # when the readings stop. The next morning's first reading is ordinary: the gap is no evidence, and
    # that point must not open the onset (the old code opened 1-2 of the four there, 16 h late)
    rng = np.random.default_rng(seed)
    tod = np.arange(8 * HOUR, 16 * HOUR + 1801, 1800)
    t = (MONDAY + np.arange(21)[:, None] * DAY + tod[None, :]).ravel().astype(float)
    hour = (t - MONDAY) % DAY / HOUR
    x = 200 + 150 * np.sin(np.pi * (hour - 8) / 9) + rng.normal(0, 15, len(t))
    mornings = []
    for day in (9, 12, 15, 18):
        last = int(np.searchsorted(t, MONDAY + day * DAY + 16.5 * HOUR))
        x[last - 2:last + 1] += (60.0, 90.0, 120.0)
        mornings.append(last + 1)
    assert not set(_opened_at(t, x)) & set(mornings)


def test_a_far_stronger_onset_pending_at_a_gap_still_opens_after_it():
    # a reading 40 sds out on the last point before a 6-hour gap: far stronger than what opens an onset
    # (ESCALATE times), so it opens on the first point after the gap even though that point is ordinary
    rng = np.random.default_rng(4)
    t = MONDAY + np.arange(3 * DAY // 60) * 60.0
    x = 100.0 + rng.normal(0, 1.0, len(t))
    at = len(t) - 12 * HOUR // 60
    x[at] = 140.0
    keep = np.ones(len(t), bool)
    keep[at + 1:at + 1 + 6 * HOUR // 60] = False
    after = int(np.flatnonzero(keep)[np.flatnonzero(keep) > at][0])
    opened = _opened_at(t[keep], x[keep])
    assert int(np.flatnonzero(keep).tolist().index(after)) in opened


def _seasonal_from_day(every: int, seed: int) -> float:
    """The day on which the seasonal model is first used, on a daily sinusoid four times the noise."""
    rng = np.random.default_rng(seed)
    t = MONDAY + np.arange(10 * DAY // every) * float(every)
    x = 150 + 120 * np.sin(2 * np.pi * t / DAY) + rng.normal(0, 30, len(t))
    step, _ = cal.kernel()
    s, p = cal.new_state(), cal.Timing().vector()
    for ts, v in zip((t * 1e9).astype(np.int64).tolist(), x.tolist()):
        step(s, ts, v, p)
        if s[cal.I_USE_S] > 0.5:
            return (ts / 1e9 - MONDAY) / DAY
    return float("inf")


@pytest.mark.parametrize("seed", [1, 2])
def test_a_finely_sampled_daily_cycle_is_learned_as_daily_within_days(seed):
    # at 5-minute sampling each hour-of-day bin sees 12 points a day, so its profile learns as a running
    # mean while young and the seasonal model is used by the fifth day (the old code: day 7.7-8, the plain
    # 1-hour level lagging the cycle until then: a 5-minute temperature opened an onset on each morning's rise)
    assert _seasonal_from_day(300, seed) < 5.0
    # hourly sampling (one point per bin a day) is unchanged: its running mean would rest on a few points
    assert 3.0 < _seasonal_from_day(3600, seed) < 4.0


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_points_that_share_a_timestamp_do_not_make_every_interval_a_gap(seed):
    # noise read every 5 minutes, each reading written twice under one timestamp (two values a time, as
    # a log of several events a second gives): the old code took each repeat for an interval of ~0 and
    # its interval estimate fell toward a millisecond, so every real 5-minute step was a gap and an episode
    # opened every 3 hours (27-41 onsets in 5,000 points); the same noise with distinct times opens 0-2
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 1.0, 5000)
    t = MONDAY + (np.arange(5000) // 2) * 300.0
    distinct = MONDAY + np.arange(5000) * 150.0
    assert len(_opened_at(t, x)) <= len(_opened_at(distinct, x)) + 1
    mon = SeriesMonitor("twice")
    for ts, v in zip((t[:400] * 1_000_000_000).astype(np.int64).tolist(), x[:400].tolist()):
        mon.update(ts, v)
    assert mon._s[cal.I_DT] == pytest.approx(300.0, rel=0.3)   # the interval learned is the real one
