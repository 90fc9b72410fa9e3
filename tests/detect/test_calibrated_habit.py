"""The default detection and what recurs every day: an onset at the same time of day as on recent days is
held back unless stronger (the onset habit), and a smooth gauge is not taken for a counter for good."""

from __future__ import annotations

import numpy as np
import pytest

from ben.detect import CalibratedBank, SeriesMonitor
from ben.detect import calibrated as cal

MONDAY = 1_767_571_200          # 2026-01-05 00:00 UTC, a Monday
DAY = 86_400
STEP = 300                      # 5-minute sampling
PER_DAY = DAY // STEP


def _ts(n: int) -> np.ndarray:
    return (MONDAY + np.arange(n, dtype=np.int64) * STEP) * 1_000_000_000


def _onsets(x: np.ndarray, name: str = "s") -> list[int]:
    """Indices of the points where an episode opens (what the held-out harness scores)."""
    mon = SeriesMonitor(name)
    return [i for i, (t, v) in enumerate(zip(_ts(len(x)).tolist(), x.tolist()))
            if any(e.state == "open" for e in mon.update(t, v).episodes)]


def _shift_pattern(days: int, seed: int) -> np.ndarray:
    """A batch load: 80 from 06:00 to 18:00 UTC, 20 otherwise, with noise; sharp edges at the same time
    every day (what the hour-of-day profile, linear between hourly bins, cannot follow)."""
    rng = np.random.default_rng(seed)
    n = days * PER_DAY
    hour = (np.arange(n) % PER_DAY) * STEP / 3600
    return np.where((hour >= 6) & (hour < 18), 80.0, 20.0) + rng.normal(0, 2, n)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_daily_edge_at_the_same_time_is_not_an_onset_every_day(seed):
    # the old code opened an onset at each edge, twice a day for two weeks (26 after the third day)
    x = _shift_pattern(14, seed)
    late = [i for i in _onsets(x) if i >= 3 * PER_DAY]
    assert len(late) <= 1, [(i // PER_DAY, i % PER_DAY * STEP / 3600) for i in late]


@pytest.mark.parametrize("seed", [1, 2])
def test_a_far_stronger_event_at_the_habits_hour_still_opens(seed):
    # on day 10 the morning edge overshoots to 400 for half an hour: not the habit of 06:00
    x = _shift_pattern(14, seed)
    at = 10 * PER_DAY + 6 * 12
    x[at:at + 6] = 400.0
    assert any(at <= i <= at + 12 for i in _onsets(x))


@pytest.mark.parametrize("seed", [1, 2])
def test_an_event_at_another_time_of_day_is_not_held_back(seed):
    # (the held-back edges teach the tails their size, as any normal point does: an event at another time
    # of day is judged against tails that know this series jumps by 60 twice a day; one twice that is new)
    x = _shift_pattern(14, seed)
    at = 10 * PER_DAY + 12 * 12        # noon: no habit there
    x[at:at + 6] = 200.0
    assert any(at <= i <= at + 12 for i in _onsets(x))


def test_the_habit_renews_while_it_recurs_and_is_gone_once_it_stops():
    # edges for 7 days, then 5 days at the low level, then the daily pattern again: its first edge is an
    # onset once more (three days without it and the record is gone)
    x = _shift_pattern(16, 4)
    x[7 * PER_DAY:12 * PER_DAY] = 20.0 + np.random.default_rng(5).normal(0, 2, 5 * PER_DAY)
    back = 12 * PER_DAY + 6 * 12
    opened = _onsets(x)
    assert not [i for i in opened if 3 * PER_DAY <= i < 7 * PER_DAY]
    assert any(back <= i <= back + 24 for i in opened), opened


def test_a_smooth_gauge_rising_over_its_first_points_is_a_gauge_once_it_falls():
    # a noise-free daily cycle that starts at its trough rises for its first 144 points: the old code took
    # it for a counter for good, watched its increase and opened an onset at every peak (14 in 12 days)
    n = 14 * PER_DAY
    x = 50.0 - 30.0 * np.cos(2 * np.pi * np.arange(n) / PER_DAY)
    mon = SeriesMonitor("temperature")
    opened, kinds = [], []
    for i, (t, v) in enumerate(zip(_ts(n).tolist(), x.tolist())):
        verdict = mon.update(t, v)
        if i == 100:
            kinds.append(mon._s[cal.I_COUNTER])
        if any(e.state == "open" for e in verdict.episodes):
            opened.append(i)
    kinds.append(mon._s[cal.I_COUNTER])
    assert kinds == [2.0, 0.0]          # found to be a counter at first, a gauge once it fell
    assert [i for i in opened if i >= 2 * PER_DAY] == []


def test_a_counter_that_resets_stays_a_counter():
    rng = np.random.default_rng(7)
    n = 3 * PER_DAY
    x = np.cumsum(rng.poisson(50, n)).astype(float)
    x[PER_DAY:] -= x[PER_DAY - 1]          # a restart: the counter starts again from about zero
    mon = SeriesMonitor("requests_total")
    for t, v in zip(_ts(n).tolist(), x.tolist()):
        mon.update(t, v)
    assert mon._s[cal.I_COUNTER] == 2.0


def test_a_state_from_before_the_habit_is_upgraded_and_goes_on_alike():
    x = _shift_pattern(4, 9)
    ts = _ts(len(x))
    mon = SeriesMonitor("s")
    for t, v in zip(ts[:600].tolist(), x[:600].tolist()):
        mon.update(t, v)
    state = mon.state()
    old = dict(state, calibrated=5, state=state["state"][:cal.N_STATE_5])
    zeroed = state["state"].copy()
    zeroed[cal.N_STATE_5:] = 0.0
    a = SeriesMonitor.from_state(old, name="s")
    b = SeriesMonitor.from_state(dict(state, state=zeroed), name="s")
    assert a.state()["calibrated"] == 6
    np.testing.assert_array_equal(a._s, b._s)     # the habit's records start empty, the rest is kept
    for t, v in zip(ts[600:].tolist(), x[600:].tolist()):
        assert a.update(t, v) == b.update(t, v)
    with pytest.raises(Exception, match="format 6"):
        SeriesMonitor.from_state(dict(state, calibrated=5), name="s")
    bank = CalibratedBank(2)
    cp = bank.checkpoint()
    old_cp = dict(cp, calibrated_bank=cp["calibrated_bank"] - 1, states=cp["states"][:, :cal.N_STATE_5])
    assert CalibratedBank.from_checkpoint(old_cp).states.shape == (2, cal.N_STATE)
