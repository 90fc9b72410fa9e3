"""SeriesMonitor's default detection: time-based memory, seasonality, calibration, onsets, checkpoints."""

from __future__ import annotations

import numpy as np
import pytest

from ben.detect import DetectorError, SeriesMonitor, from_bytes, to_bytes
from ben.detect import calibrated as cal
from ben.detect.series import BankSeriesMonitor

T0 = 1_767_225_600 * 10**9          # 2026-01-01 00:00 UTC


def _ts(n: int, every_s: float, jitter: float = 0.0, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    steps = every_s * (1 + rng.uniform(-jitter, jitter, n))
    return T0 + (np.cumsum(steps) * 1e9).astype(np.int64)


def _daily(ts: np.ndarray, amp: float = 30.0) -> np.ndarray:
    hours = (ts / 1e9 % 86_400) / 3600
    return 100 + amp * np.exp(-0.5 * ((hours - 14) / 3) ** 2)


def _opens(res) -> list:
    return [e for e in res.episodes if e.state == "open"]


@pytest.mark.parametrize("every_s", [60.0, 300.0, 3600.0])
def test_memory_is_in_time_a_shift_is_found_at_any_sampling(every_s):
    days = 20 if every_s < 3600 else 60
    ts = _ts(int(days * 86_400 / every_s), every_s, jitter=0.1)
    rng = np.random.default_rng(1)
    x = 50 + rng.normal(0, 2, len(ts))
    at = int(len(ts) * 0.7)
    x[at:] += 20
    res = SeriesMonitor("s").update_many(ts, x)
    opens = _opens(res)
    assert len(opens) >= 1
    first_after = [e for e in opens if e.start_ts >= ts[at]]
    assert first_after and first_after[0].start_ts == ts[at]          # at the shift itself
    assert len([e for e in opens if e.start_ts < ts[at]]) <= 1        # the noise before it is quiet


def test_a_daily_cycle_at_5_min_is_learned_as_daily_not_a_stream_of_anomalies():
    ts = _ts(288 * 21, 300.0, jitter=0.1)
    rng = np.random.default_rng(2)
    x = _daily(ts, amp=60) + rng.normal(0, 2, len(ts))
    mon = SeriesMonitor("cpu")
    res = mon.update_many(ts, x)
    assert mon._s[cal.I_USE_S] == 1.0                                 # the hour-of-day model is used
    assert len(_opens(res)) <= 3                                      # 3 weeks of a daily cycle
    flat = SeriesMonitor("flat")
    flat.update_many(ts, 100 + rng.normal(0, 2, len(ts)))
    assert flat._s[cal.I_USE_S] == 0.0                                # no cycle: not forced into one
    # the cycle stops (a dead job): the missing afternoon peak is an anomaly
    x2 = x.copy()
    stop = len(ts) - 288
    x2[stop:] = 100 + rng.normal(0, 2, len(ts) - stop)
    res2 = SeriesMonitor("cpu").update_many(ts, x2)
    assert any(e.start_ts >= ts[stop] for e in _opens(res2))


def test_a_gap_is_not_an_anomaly():
    ts = _ts(288 * 10, 300.0)
    ts[2000:] += 8 * 3600 * 10**9                                     # the collector was down 8 h
    x = 50 + np.random.default_rng(3).normal(0, 2, len(ts))
    res = SeriesMonitor("s").update_many(ts, x)
    assert not [e for e in _opens(res) if ts[2000] <= e.start_ts <= ts[2010]]


def test_scores_are_calibrated_per_series():
    """A light-tailed and a heavy-tailed series (Student t, 2.5 degrees of freedom), both normal: a
    handful of onsets in a month on each, not a stream. The exponential tail fit is not exact for the
    heavy one (it sees about three times as many onsets): calibrated, not perfectly."""
    ts = _ts(288 * 30, 300.0)
    rng = np.random.default_rng(4)
    light = 10 + rng.normal(0, 1, len(ts))
    heavy = 10 + rng.standard_t(2.5, len(ts)) * 3
    n_light = len(_opens(SeriesMonitor("a").update_many(ts, light)))
    n_heavy = len(_opens(SeriesMonitor("b").update_many(ts, heavy)))
    assert n_light <= 6 and n_heavy <= 20


def test_once_per_onset_and_the_new_normal_is_said():
    ts = _ts(288 * 10, 300.0)
    x = 50 + np.random.default_rng(5).normal(0, 2, len(ts))
    at = 2000
    x[at:] += 30                                                       # persists to the end
    res = SeriesMonitor("db.connections").update_many(ts, x)
    after = [e for e in res.episodes if e.start_ts >= ts[at]]
    assert [e.state for e in after][:2] == ["open", "closed"]
    assert len([e for e in after if e.state == "open"]) == 1           # not re-opened while it lasts
    closed = after[1]
    assert "new baseline" in closed.note and "KL divergence" in closed.note
    assert closed.end_ts - closed.start_ts == pytest.approx(cal.Timing().rebaseline_s * 1e9, rel=0.05)
    assert "new baseline" in closed.summary()


def test_counters_are_found_and_resets_are_not_anomalies():
    ts = _ts(288 * 10, 300.0)
    inc = np.random.default_rng(6).poisson(100, len(ts)).astype(float)
    total = np.cumsum(inc)
    for r in (1500, 2300):
        total[r:] -= total[r - 1]
    mon = SeriesMonitor("requests_total")
    res = mon.update_many(ts, total)
    assert mon._s[cal.I_COUNTER] == 2.0
    assert not [e for e in _opens(res) if abs(int(np.searchsorted(ts, e.start_ts)) - 1500) < 5
                or abs(int(np.searchsorted(ts, e.start_ts)) - 2300) < 5]


def test_update_many_equals_update_and_checkpoints_are_exact():
    ts = _ts(3000, 60.0, jitter=0.3)
    rng = np.random.default_rng(7)
    x = 10 + rng.normal(0, 1, 3000)
    x[2000] += 25
    x[2500:] -= 8
    one = SeriesMonitor("s")
    verdicts = [one.update(t, v) for t, v in zip(ts.tolist(), x.tolist())]
    many = SeriesMonitor("s").update_many(ts, x)
    assert [v.score for v in verdicts] == many.scores.tolist()
    assert [v.flag for v in verdicts] == many.flags.tolist()
    assert [e for v in verdicts for e in v.episodes] == many.episodes
    assert len(_opens(many)) >= 2
    half = SeriesMonitor("s")
    half.update_many(ts[:1700], x[:1700])
    back = SeriesMonitor.from_state(from_bytes(to_bytes(half.state())), name="s")
    rest = back.update_many(ts[1700:], x[1700:])
    assert rest.scores.tolist() == many.scores[1700:].tolist()
    assert rest.episodes == [e for e in many.episodes if e.start_ts >= ts[1700] or e.state == "closed"
                             and e.end_ts >= ts[1700]]
    assert back.clone().points == 0


def test_the_python_step_is_the_compiled_step():
    from ben.detect import _calibrated_kernel as k

    ts = _ts(1500, 300.0, jitter=0.2)
    x = 5 + np.random.default_rng(8).normal(0, 1, 1500)
    x[1200:] += 6
    p = cal.Timing().vector()
    a, b = cal.new_state(), cal.new_state()
    for t, v in zip(ts.tolist(), x.tolist()):
        assert k.step(a, t, v, p) == k.step.py_func(b, t, v, p)
    assert np.array_equal(a, b)


def test_bad_points_and_states_are_refused():
    mon = SeriesMonitor("s")
    mon.update(T0, 1.0)
    with pytest.raises(DetectorError, match="not finite"):
        mon.update(T0 + 1, float("nan"))
    with pytest.raises(DetectorError, match="older"):
        mon.update(T0 - 1, 1.0)
    with pytest.raises(DetectorError, match="back in time"):
        mon.update_many([T0 + 5, T0 + 2], [1.0, 2.0])
    with pytest.raises(DetectorError, match="expected"):
        SeriesMonitor.from_state({"calibrated": 2, "timing": {}, "state": [1.0],
                                  "last_ts": 0})
    with pytest.raises(DetectorError, match="warmup_s"):
        cal.Timing(warmup_s=-1)


def test_bank_arguments_still_give_the_bank_monitor():
    assert isinstance(SeriesMonitor("s", seasonal=False), BankSeriesMonitor)
    assert type(SeriesMonitor("s")) is SeriesMonitor


def test_a_flat_line_on_a_noisy_series_is_one_onset_not_a_stream():
    ts = _ts(5000, 300.0)
    x = 10 + np.random.default_rng(0).normal(0, 1, 5000)
    x[4000:4200] = x[4000]                                            # a stuck sensor for 16 h
    opens = _opens(SeriesMonitor("temp").update_many(ts, x))
    during = [e for e in opens if ts[4000] <= e.start_ts <= ts[4230]]
    assert len(during) == 1 and during[0].start_ts <= ts[4030]


def test_a_series_constant_from_its_start_is_not_a_flat_line():
    """A steady rate (the same value every point since the first) never moved, so it cannot have gone
    flat: no onset; the same series with one early wiggle then constant is watched as usual."""
    ts = _ts(3000, 1.0)
    assert _opens(SeriesMonitor("rate").update_many(ts, np.full(3000, 10.0))) == []
    for step in (1.0, 60.0, 3600.0):
        assert _opens(SeriesMonitor("rate").update_many(_ts(3000, step), np.full(3000, 10.0))) == []


def test_a_stuck_value_that_became_the_new_normal_does_not_shrink_the_noise_scale():
    # 16 hours stuck on a noisy 5-minute series: the flat episode closes as the new normal after 2 h;
    # from then until the value moves, the noise scale stays what the noise taught (before: it shrank
    # by more than a quarter, and the resumed noise read as a run of points out of line)
    ts = _ts(5000, 300.0)
    x = 10 + np.random.default_rng(0).normal(0, 1, 5000)
    x[4000:4200] = x[4000]
    mon = SeriesMonitor("temp")
    mon.update_many(ts[:4060], x[:4060])
    settled = mon.state()["state"][cal.I_D0]
    mon.update_many(ts[4060:4199], x[4060:4199])
    assert mon.state()["state"][cal.I_D0] == settled
    assert 0.5 < settled < 1.0                                       # the noise's mean absolute deviation
