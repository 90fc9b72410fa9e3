"""CalibratedBank: many series give exactly what one SeriesMonitor per series gives, and restore exactly."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from ben.detect import DetectorError, SeriesMonitor, from_bytes, to_bytes
from ben.detect import calibrated as cal
from ben.detect.calibrated_bank import SNAPSHOTS, CalibratedBank

T0 = 1_767_225_600 * 10**9          # 2026-01-01 00:00 UTC
SHORT = cal.Timing(level_half_life_s=60.0, scale_half_life_s=600.0, recent_half_life_s=30.0,
                   calibration_half_life_s=1800.0, season_half_life_s=3600.0, slow_half_life_s=600.0,
                   warmup_s=60.0, warmup_points=30.0, clear_s=20.0, rebaseline_s=120.0, confirm_s=10.0)


def _corpus(n_series: int, points: int, every_s: float, seed: int) -> tuple[list, list, list]:
    """Per series: timestamps (irregular), values (shifts, spikes, bursts, counters, flat runs), counter flag."""
    rng = np.random.default_rng(seed)
    tss, xss, counters = [], [], []
    for k in range(n_series):
        steps = every_s * rng.uniform(0.5, 1.5, points)
        steps[rng.integers(0, points, 3)] *= 40                        # a few gaps
        ts = T0 + (np.cumsum(steps) * 1e9).astype(np.int64)
        x = rng.uniform(10, 1000) * (1 + rng.uniform(0.01, 0.1) * rng.standard_t(4, points))
        for _ in range(3):                                              # shifts up and down
            at = int(rng.integers(points // 4, points))
            x[at:at + int(rng.integers(5, points // 4))] *= rng.choice([0.3, 2.5, 4.0])
        x[int(rng.integers(points // 3, points))] *= 10                  # a spike
        if k % 7 == 3:
            x[points // 2:points // 2 + 60] = x[points // 2]             # a flat line
        counter = k % 5 == 4
        if counter:
            x = np.cumsum(np.abs(x))
            x[points * 2 // 3:] -= x[points * 2 // 3]                    # a reset
        tss.append(ts)
        xss.append(x)
        counters.append(counter)
    return tss, xss, counters


def _interleaved(tss: list, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(row, index in its series) of every point, series mixed at random, each in its own order."""
    rng = np.random.default_rng(seed)
    owners = np.concatenate([np.full(len(t), k) for k, t in enumerate(tss)])
    rng.shuffle(owners)
    rank = np.zeros(len(owners), dtype=np.int64)
    seen = np.zeros(len(tss), dtype=np.int64)
    for i, k in enumerate(owners):
        rank[i] = seen[k]
        seen[k] += 1
    return owners, rank


@pytest.mark.parametrize("timing,n_series,points,every_s", [(None, 5, 3000, 60.0), (SHORT, 90, 600, 1.0)],
                         ids=["defaults", "short-timing"])
def test_the_bank_gives_what_one_series_monitor_per_series_gives(timing, n_series, points, every_s):
    tss, xss, counters = _corpus(n_series, points, every_s, seed=n_series)
    alone = [SeriesMonitor(f"s{k}", timing=timing, counter=c).update_many(t, x)
             for k, (t, x, c) in enumerate(zip(tss, xss, counters))]
    rows, idx = _interleaved(tss, seed=1)
    ts = np.array([tss[r][i] for r, i in zip(rows, idx)], dtype=np.int64)
    xs = np.array([xss[r][i] for r, i in zip(rows, idx)])
    bank = CalibratedBank(0, timing=timing)
    bank.grow(n_series, counters=counters)
    rng = np.random.default_rng(2)
    scores, flags, episodes = np.empty(len(xs)), np.empty(len(xs), dtype=bool), []
    at = 0
    while at < len(xs):                                                 # batches of any size
        n = int(rng.integers(1, 4000))
        res = bank.update(rows[at:at + n], ts[at:at + n], xs[at:at + n])
        assert not res.status.any()
        scores[at:at + n], flags[at:at + n] = res.scores, res.flags
        episodes += [(at + int(p), e) for p, e in zip(res.at, res.episodes)]
        assert [int(res.events[p]) for p in res.at] == [cal.EV_OPEN if e.state == "open" else cal.EV_CLOSE
                                                        for e in res.episodes]
        at += n
    opened = sum(e.state == "open" for r in alone for e in r.episodes)
    assert opened >= n_series // 2, "the corpus should open episodes in most series"
    for k in range(n_series):
        mine = rows == k
        np.testing.assert_array_equal(scores[mine], alone[k].scores)    # bit for bit
        np.testing.assert_array_equal(flags[mine], alone[k].flags)
        mine_eps = [(p, e) for p, e in episodes if e.series == k]
        assert [e for _, e in mine_eps] == [replace(e, series=k) for e in alone[k].episodes]
        # each episode comes with the point that caused it: the one after which the monitor reported it
        ends = [e.end_ts if e.state == "closed" else None for _, e in mine_eps]
        assert all(end is None or ts[p] == end for (p, _), end in zip(mine_eps, ends))


def test_many_events_in_one_batch_go_past_the_snapshot_buffer():
    tss, xss, _ = _corpus(90, 600, 1.0, seed=90)
    rows, idx = _interleaved(tss, seed=3)
    ts = np.array([tss[r][i] for r, i in zip(rows, idx)], dtype=np.int64)
    xs = np.array([xss[r][i] for r, i in zip(rows, idx)])
    bank = CalibratedBank(90, timing=SHORT)
    res = bank.update(rows, ts, xs)
    assert len(res.episodes) > SNAPSHOTS                                # one call, several refills
    assert np.array_equal(np.flatnonzero(res.events), res.at)


def test_checkpoint_restores_exactly_through_bytes():
    tss, xss, counters = _corpus(12, 800, 1.0, seed=4)
    rows, idx = _interleaved(tss, seed=5)
    ts = np.array([tss[r][i] for r, i in zip(rows, idx)], dtype=np.int64)
    xs = np.array([xss[r][i] for r, i in zip(rows, idx)])
    whole = CalibratedBank(12, timing=SHORT, counters=counters)
    full = whole.update(rows, ts, xs)
    half = len(xs) // 2
    first = CalibratedBank(12, timing=SHORT, counters=counters)
    a = first.update(rows[:half], ts[:half], xs[:half])
    blob = to_bytes(first.checkpoint())
    assert b"pickle" not in blob and blob.startswith(b"BENDET1\n")
    again = CalibratedBank.from_checkpoint(from_bytes(blob))
    b = again.update(rows[half:], ts[half:], xs[half:])
    assert again.timing == SHORT
    np.testing.assert_array_equal(np.r_[a.scores, b.scores], full.scores)
    assert a.episodes + b.episodes == full.episodes
    assert again.states.tobytes() == whole.states.tobytes()
    assert again.open_episodes() == whole.open_episodes()


def test_bad_points_are_skipped_and_reported_the_series_unchanged():
    bank = CalibratedBank(2, timing=SHORT)
    mon = SeriesMonitor("x", timing=SHORT)
    ts = T0 + np.arange(100, dtype=np.int64) * 10**9
    x = 50 + np.sin(np.arange(100))
    mon.update_many(ts, x)
    rows = np.zeros(103, dtype=np.int64)
    bts = np.r_[ts[:50], ts[10], ts[50:], ts[99] + 1, ts[99] + 2][:103]
    bx = np.r_[x[:50], 1.0, x[50:], np.nan, np.inf]
    res = bank.update(rows, bts, bx)
    assert list(res.status[[50, 101, 102]]) == [2, 1, 1] and res.status.sum() == 4
    assert bank.states[0].tobytes() == mon._s.tobytes()
    assert bank.states[1].tobytes() == cal.new_state().tobytes()


def test_bad_arguments_are_refused():
    bank = CalibratedBank(1)
    with pytest.raises(DetectorError, match="rows must be in"):
        bank.update([1], [T0], [1.0])
    with pytest.raises(DetectorError, match="one length"):
        bank.update([0, 0], [T0], [1.0])
    with pytest.raises(DetectorError, match="timing"):
        CalibratedBank(timing={"warmup_s": 1})
    state = bank.checkpoint()
    state["states"] = state["states"][:, :-1]
    with pytest.raises(DetectorError, match="expected format"):
        CalibratedBank.from_checkpoint(state)


def test_a_flat_run_that_became_the_new_normal_is_said_as_its_length_never_negative():
    """The kernel keeps a flat run that became the new normal as minus its length; the bank's evidence passed it on,
    and an operator read "value unchanged for -69 intervals" (ADR 0012, 2026-12-07)."""
    rng = np.random.default_rng(3)
    n = 4000
    ts = T0 + np.arange(n, dtype=np.int64) * 10**9
    x = 100 + rng.normal(0, 1, n)
    x[1500:] = x[1500]                                    # stuck for good: a flat line that becomes the new normal
    x[3000] += 40                                         # and a spike after it, whose evidence is read
    bank = CalibratedBank(1, timing=SHORT)
    out = bank.update(np.zeros(n, np.int64), ts, x)
    flats = [e["flat_intervals"] for e in out.evidence]
    assert flats and all(f >= 0.0 for f in flats), flats
    state = bank._states[0]
    assert state[cal.I_F4] < 0.0, "the probe no longer reaches a run taken as the new normal"
