"""The default detection on quirks of real exports (ADR 0028, ninth amendment; bench/export_quirks_probe.py)."""

from __future__ import annotations

import numpy as np
import pytest

from ben.detect import SeriesMonitor

WEEK = 7 * 86_400
T2015 = 1_420_070_400           # 2015-01-01 00:00 UTC, a Thursday: exactly 2348 weeks after the epoch


def _onsets(t0_s: int, x: np.ndarray, step_s: int = 300) -> list[tuple[int, str]]:
    """``(index, what opened it)`` of each onset, the series fed point by point from ``t0_s`` (seconds)."""
    mon = SeriesMonitor("s")
    ts = (t0_s + np.arange(len(x), dtype=np.int64) * step_s) * 1_000_000_000
    out = []
    for i, (t, v) in enumerate(zip(ts.tolist(), x.tolist())):
        out += [(i, e.detectors[0]) for e in mon.update(t, v).episodes if e.state == "open"]
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_series_before_1970_or_from_the_epoch_is_watched_as_the_same_series_later(seed):
    # a level 1.2 noise scales up for 25 hours (only the mean over hours shows it) on a 5-minute series:
    # the same points from 2015, from the epoch and from 1950 (whole weeks apart: the same hours and
    # weekdays) open the same onsets. Before, the mean over hours counted its settling from a time of 0
    # (its "never re-baselined"): before 1970 it never spoke (no onset at all), and from the epoch it
    # was silent for the first 3 hours, which moved later onsets on seed 3
    x = 100 + np.random.default_rng(seed).normal(0, 1, 4000)
    x[3000:3300] += 1.2
    later = _onsets(T2015, x)
    assert any(3000 <= i < 3400 and why == "sustained" for i, why in later)
    assert _onsets(0, x) == later
    assert _onsets(T2015 - 3400 * WEEK, x) == later


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_first_reading_that_is_a_gross_outlier_does_not_blind_the_monitor_for_days(seed):
    # 100 +- 1 read every 5 minutes whose first reading is bogus (1e6, a gauge before it had data): the
    # scale learned from it is 1e5 times the noise. A re-baselining now lowers a scale over GROSS_SCALE
    # times the recent spread at once; before, it came down at its own pace (a day's half-life): the
    # scale was still ~60 noise scales after 3 days, and a spike of 12 noise scales then was not opened
    x = 100 + np.random.default_rng(seed).normal(0, 1, 4000)
    x[0] = 1e6
    assert len([i for i, _ in _onsets(T2015, x) if i >= 600]) <= 1
    x[864] += 12.0
    assert any(i in (864, 865) for i, _ in _onsets(T2015, x))


@pytest.mark.parametrize("seed", [1, 2])
def test_a_sensor_stuck_for_days_on_a_daily_cycle_is_one_onset_and_is_watched_as_before_once_it_moves(seed):
    # a 5-minute reading with a daily cycle (10 noise scales) stuck at one value for 3 days from day 8.7:
    # the flat episode opens, and closes as the new normal after 2 h. From then until the value moves, the
    # daily model's residuals on it (the cycle the stuck value does not follow) are no evidence and teach
    # nothing but a perfect fit. Before, they opened 5 more onsets, taught the point feature's tail that
    # 5 scales are ordinary and the week's model comparison that the plain level fits best, so a spike of
    # 12 noise scales 21 hours after the sensor resumed was not opened
    t = T2015 + np.arange(4000) * 300
    x = 100 + 10 * np.sin(2 * np.pi * (t % 86_400) / 86_400) + np.random.default_rng(seed).normal(0, 1, 4000)
    x[2500:3364] = x[2500]
    stuck = [i for i, _ in _onsets(T2015, x) if 2500 <= i < 3364]
    assert len(stuck) == 1
    x[3600] += 12.0
    assert any(i in (3600, 3601) for i, _ in _onsets(T2015, x))


@pytest.mark.parametrize("seed", [1, 2])
def test_a_counter_that_resets_within_its_first_points_is_still_found_to_be_a_counter(seed):
    # a request counter (about 50 a point) fed as a gauge, its process restarted at the 20th point: the
    # series is found to be a counter (its increase is watched) all the same. Before, any step down in the
    # first 64 points made it a gauge for good: a level ramping by 50 a point, whose lag dwarfs the
    # noise, so a burst of 300 extra requests (40 noise scales of the increase) opened nothing, ever
    x = np.cumsum(np.random.default_rng(seed).poisson(50, 4000)).astype(float)
    x[20:] -= x[19]
    assert len([i for i, _ in _onsets(T2015, x) if i >= 600]) <= 1
    x[3000:] += 300.0
    assert any(i in (3000, 3001, 3002) for i, _ in _onsets(T2015, x))
