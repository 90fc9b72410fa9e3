"""The default detection's evidence over hours: the residual's mean over SUSTAIN_S, in its own spread."""

from __future__ import annotations

import numpy as np
import pytest

from ben.detect import CalibratedBank, SeriesMonitor
from ben.detect import calibrated as cal
from ben.detect.errors import DetectorError

MONDAY = 1_767_571_200          # 2026-01-05 00:00 UTC, a Monday
DAY = 86_400
HOUR = 3_600
DROP_AT = 9 * DAY + 11 * HOUR    # nine days in
DROP_S = 4 * HOUR


def _level(t: np.ndarray, seed: int, drop: bool) -> np.ndarray:
    """150 with noise of sd 30; with ``drop``, 20 % lower for DROP_S from DROP_AT (one sd of the noise)."""
    x = 150 + np.random.default_rng(seed).normal(0, 30, len(t))
    if drop:
        x[(t >= MONDAY + DROP_AT) & (t < MONDAY + DROP_AT + DROP_S)] *= 0.8
    return x


def _opens(t: np.ndarray, x: np.ndarray):
    """Onsets from a day before the drop to its end (once the drop became the new normal, its end is a
    change of its own)."""
    res = SeriesMonitor("visits").update_many((t * 1_000_000_000).astype(np.int64), x)
    lo, hi = (MONDAY + DROP_AT - DAY) * 10**9, (MONDAY + DROP_AT + DROP_S) * 10**9
    return [e for e in res.episodes if e.state == "open" and lo <= e.start_ts < hi]


def test_a_partial_drop_held_for_hours_opens_one_onset_that_no_point_and_no_run_shows():
    # 5-minute sampling; a 20 % drop held for 4 hours, each point moved by one sd of the noise (before the
    # mean over hours, no seed here opened anything for it)
    t = MONDAY + np.arange(11 * DAY // 300) * 300.0
    for seed in (1, 4, 7):
        opens = _opens(t, _level(t, seed, drop=True))
        assert len(opens) == 1, [e.summary() for e in opens]
        ep = opens[0]
        at = ep.start_ts / 1e9 - (MONDAY + DROP_AT)
        assert 0 < at < DROP_S and ep.detectors == ("sustained",)
        # the episode says which check opened it, in numbers and in its sentence
        assert ep.sustained_spreads < -3 and ep.sustained_s == cal.SUSTAIN_S
        assert "the last 3 h ran" in ep.summary() and "spreads below the expected" in ep.summary()


def test_the_same_series_without_the_drop_opens_nothing():
    t = MONDAY + np.arange(11 * DAY // 300) * 300.0
    for seed in (1, 4, 7):
        assert _opens(t, _level(t, seed, drop=False)) == []


def test_the_window_is_in_time_not_points_irregular_sampling_and_gaps():
    # the same drop sampled every minute, and irregularly (1 to 9 minutes) with an hour without data every
    # day: found once, within the drop, each time (a window of a fixed number of points would last 36
    # minutes at one sampling and hours at the other; a gap must not read as a level held)
    for seed in (7, 8):
        rng = np.random.default_rng(seed)
        irregular = np.cumsum(rng.uniform(60, 540, 11 * DAY // 300))
        irregular = irregular[irregular < 11 * DAY]
        gaps = np.zeros(len(irregular))
        for day in range(1, 11):
            gaps[irregular >= day * DAY + 4 * HOUR] += HOUR
        irregular = irregular + gaps
        irregular = irregular[irregular < 11 * DAY]
        for offsets in (np.arange(11 * DAY // 60) * 60.0, irregular):
            t = MONDAY + offsets
            opens = _opens(t, _level(t, seed, drop=True))
            assert len(opens) == 1, [e.summary() for e in opens]
            at = opens[0].start_ts / 1e9 - (MONDAY + DROP_AT)
            assert 0 < at < DROP_S and opens[0].detectors == ("sustained",)
            assert _opens(t, _level(t, seed, drop=False)) == []


def test_a_checkpoint_from_before_the_mean_over_hours_is_refused():
    # its state has no slots for the mean, its spread and the explanation: refused with the clear error
    # (the spine sets such a checkpoint aside and starts fresh), not read as a shorter state
    mon = SeriesMonitor("s")
    mon.update(MONDAY * 10**9, 1.0)
    old = mon.state()
    old.update(calibrated=4, state=old["state"][:cal.I_SUS_M])
    with pytest.raises(DetectorError, match="format 6"):
        SeriesMonitor.from_state(old)
    bank = CalibratedBank(1)
    ckpt = bank.checkpoint()
    ckpt.update(calibrated_bank=3, n_state=cal.I_SUS_M, states=ckpt["states"][:, :cal.I_SUS_M])
    with pytest.raises(DetectorError, match="expected format 5"):
        CalibratedBank.from_checkpoint(ckpt)
    assert mon.state()["calibrated"] == 6 and bank.checkpoint()["calibrated_bank"] == 5


def test_a_count_that_starts_at_zero_does_not_teach_the_spread_zero():
    # an hourly count with a daily cycle whose first three days are zeros (a shop closed over New Year, a
    # service before it opens): the spread of the mean over hours must not be learned from the zeros,
    # or every ordinary hour afterwards reads as a level held (before the fix: an onset every ~16 hours
    # for weeks, each with a score near 1)
    t = MONDAY + np.arange(5 * 7 * 24) * float(HOUR)
    hour = (t - MONDAY) % DAY / HOUR
    rate = np.where((hour >= 8) & (hour < 18), 6.0, 0.2)
    for seed in (1, 2, 3):
        x = np.random.default_rng(seed).poisson(rate).astype(float)
        x[: 3 * 24] = 0.0
        res = SeriesMonitor("orders").update_many((t * 1_000_000_000).astype(np.int64), x)
        opens = [e for e in res.episodes if e.state == "open"]
        assert len(opens) <= 4, [e.summary() for e in opens]          # the old code: 41 on seed 1
