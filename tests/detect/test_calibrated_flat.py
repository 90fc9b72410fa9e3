"""The default detection and runs of equal values that became the new normal (ADR 0028): their length
teaches the mean run, so a daily flat stretch is learned, and a sensor stuck again is still found."""

from __future__ import annotations

import numpy as np

from ben.detect import SeriesMonitor

MONDAY = 1_767_571_200          # 2026-01-05 00:00 UTC, a Monday
STEP = 300                      # 5-minute sampling
PER_DAY = 86_400 // STEP


def _onsets(x: np.ndarray) -> list[tuple[int, tuple[str, ...]]]:
    mon = SeriesMonitor("s")
    ts = (MONDAY + np.arange(len(x), dtype=np.int64) * STEP) * 1_000_000_000
    return [(i, e.detectors) for i, (t, v) in enumerate(zip(ts.tolist(), x.tolist()))
            for e in mon.update(t, v).episodes if e.state == "open"]


def test_a_noise_free_square_wave_is_not_a_flat_line_twice_a_day():
    # 80 for 12 h, 20 for 12 h, exactly: each half day a run of 144 equal values. Each run opened a flat
    # onset, became the new normal after 2 h, and then taught the mean run nothing, so the next one opened
    # again (the old code: 23 onsets after the third day; the scale was never learned either)
    n = 14 * PER_DAY
    x = np.where((np.arange(n) // (PER_DAY // 2)) % 2 == 0, 80.0, 20.0)
    late = [o for o in _onsets(x) if o[0] >= 3 * PER_DAY]
    assert late == []


def test_a_sensor_stuck_again_is_found_again():
    # a noisy reading stuck for 8 h on day 5 (reported, then the new normal) and again for 8 h on day 9:
    # the first run teaches the mean run no more than its length when it became the new normal, so the
    # second is still a flat-line onset, within its first 2 h
    rng = np.random.default_rng(3)
    n = 12 * PER_DAY
    x = np.round(50 + rng.normal(0, 2, n), 2)
    firsts = []
    for day in (5, 9):
        at = day * PER_DAY + 3 * 12
        x[at:at + 8 * 12] = x[at - 1]
        firsts.append(at)
    opened = _onsets(x)
    for at in firsts:
        assert any(at <= i <= at + 24 and why == ("flat",) for i, why in opened), (at, opened)
