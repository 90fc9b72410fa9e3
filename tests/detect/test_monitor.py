"""SeriesMonitor / MonitorBank: noise control, episodes, equivalence, checkpoints, errors."""

from __future__ import annotations

import doctest
import importlib

import numpy as np
import pytest

from ben.detect import (DetectorError, MonitorBank, NoiseControl, SeriesMonitor, from_bytes, to_bytes)
from ben.detect.noise import combine

TS = 1_700_000_000_000_000_000 + np.arange(900, dtype=np.int64) * 60_000_000_000


def data(n: int = 6, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = 100 + rng.normal(0, 2, size=(900, n))
    x[600:, 0] += 20          # level shift
    x[700, 1] += 40           # spike
    x[650:750, 2] *= 1.0      # nothing
    x[500:, 3] += np.linspace(0, 30, 400)  # drift
    x[:, 4] = 42.0            # flat
    return x


def events(res):
    return sorted((e.to_dict() for e in res.episodes), key=lambda d: (str(d["series"]), d["start_ts"], d["state"]))


def test_block_equals_points_equals_single_series():
    x = data()
    bank = MonitorBank(6)
    block = bank.update_block(TS, x)
    pts = MonitorBank(6).update(np.tile(np.arange(6), 900), np.repeat(TS, 6), x.reshape(-1))
    assert np.array_equal(block.scores.reshape(-1), pts.scores)
    assert np.array_equal(block.flags.reshape(-1), pts.flags)
    assert events(block) == events(pts)
    for j in range(6):
        mon = SeriesMonitor(str(j), seasonal=True)
        verdicts = [mon.update(t, v) for t, v in zip(TS, x[:, j])]
        assert [v.score for v in verdicts] == block.scores[:, j].tolist()
        assert [v.flag for v in verdicts] == block.flags[:, j].tolist()
        mine = [e for v in verdicts for e in v.episodes]
        theirs = [e for e in block.episodes if e.series == j]
        assert [e.to_dict() | {"series": 0} for e in mine] == [e.to_dict() | {"series": 0} for e in theirs]


def test_episodes_are_rich_and_found():
    res = MonitorBank(6).update_block(TS, data())
    opened = {}
    for e in res.episodes:
        if e.state == "open" and e.kind == "anomaly":
            opened.setdefault(e.series, e)
    shift = opened[0]
    assert 600 <= (shift.start_ts - TS[0]) // 60_000_000_000 <= 603
    assert abs(shift.baseline - 100) < 3 and shift.observed > 110 and shift.peak_deviation_sigma > 5
    assert "cusum" in shift.detectors and shift.cusum_statistic > 0 and shift.cusum_points >= 1
    assert "rose from" in shift.summary("api p99", " ms")
    assert 1 in opened and 4 not in opened
    closed = [e for e in res.episodes if e.state == "closed"]
    assert all(e.end_ts >= e.start_ts and e.points >= 1 for e in closed)


def test_warmup_silences_the_start():
    x = data()
    x[10, :] += 500
    res = MonitorBank(6, noise=NoiseControl(warmup=64)).update_block(TS, x)
    assert not res.flags[:64].any()


def test_dwell_and_hysteresis():
    noise = NoiseControl(dwell=3, instant=1.0, clear=4, warmup=40)
    x = 100 + np.random.default_rng(1).normal(0, 1, 300)
    x[200:203] += 30            # exactly three anomalous points
    res = SeriesMonitor("s", noise=noise).update_many(TS[:300], x)
    starts = [e for e in res.episodes if e.state == "open"]
    assert [(e.start_ts - TS[0]) // 60_000_000_000 for e in starts] == [202]
    assert res.flags[202:206].all()
    x[200:203] = x[199]
    x[200:202] += 30            # two points: below the dwell
    assert not SeriesMonitor("s", noise=noise).update_many(TS[:300], x).flags.any()


def test_flapping_series_is_muted_and_the_mute_reported():
    rng = np.random.default_rng(2)
    x = 100 + rng.normal(0, 1, 900)
    x[200::40] += 50           # a spike every 40 points
    noise = NoiseControl(flap_episodes=3, flap_window=400, mute_points=300)
    res = SeriesMonitor("flappy", noise=noise).update_many(TS, x)
    mutes = [e for e in res.episodes if e.kind == "mute"]
    assert mutes and mutes[0].state == "open" and mutes[0].series == "flappy"
    assert any(e.state == "closed" for e in mutes)
    opened = [e for e in res.episodes if e.kind == "anomaly" and e.state == "open"]
    first_mute = mutes[0].start_ts
    assert all(not (first_mute <= e.start_ts < first_mute + 300 * 60_000_000_000) for e in opened)


def test_combine_rules():
    noise = NoiseControl(k=2, solo=0.7)
    s = [np.array([0.6, 0.6, 0.1, 0.1]), np.array([0.55, 0.1, 0.1, 0.1]),
         np.array([0.1, 0.1, 0.75, 0.1]), np.array([0.0, 0.0, 0.0, 0.69])]
    c = combine(s, noise, (False, False, True, True))
    assert c[0] >= 0.5 and c[1] < 0.5          # two agree / one point detector alone
    assert c[2] >= 0.5 and c[3] < 0.5          # a sustained detector alone, above / below solo
    w = combine(s, NoiseControl(weights=(1, 1, 1, 1)))
    assert np.allclose(w, np.mean(s, axis=0))


def test_monitor_checkpoint_mid_stream_and_select():
    x = data()
    whole = MonitorBank(6).update_block(TS, x)
    a = MonitorBank(6)
    first = a.update_block(TS[:444], x[:444])
    b = MonitorBank.from_checkpoint(from_bytes(to_bytes(a.checkpoint())))
    rest = b.update_block(TS[444:], x[444:])
    assert np.array_equal(np.vstack([first.scores, rest.scores]), whole.scores)
    assert events(type(first)(None, None, None, first.episodes + rest.episodes)) == events(whole)
    mon = SeriesMonitor.from_state(a.select(0), name="0")
    tail = mon.update_many(TS[444:], x[444:, 0])
    assert np.array_equal(tail.scores, whole.scores[444:, 0])


def test_clone_and_counter_resets():
    rng = np.random.default_rng(3)
    total = np.cumsum(rng.poisson(50, 900)).astype(float)
    total[500:] -= total[499]   # the process restarted
    mon = SeriesMonitor("requests_total", counter=True, seasonal=True)
    res = mon.update_many(TS, total)
    assert not [e for e in res.episodes if e.kind == "anomaly"]
    assert mon.clone().update_many(TS, total).scores.tolist() == res.scores.tolist()


def test_errors_name_the_series():
    mon = SeriesMonitor("queue", seasonal=True)
    mon.update(5, 1.0)
    with pytest.raises(DetectorError, match="'queue'.*not finite"):
        mon.update(6, float("nan"))
    with pytest.raises(DetectorError, match="'queue'.*older"):
        mon.update(4, 1.0)
    bank = MonitorBank(2)
    res = bank.update([0, 1], [1, 1], [float("inf"), 3.0])
    assert res.status.tolist() == [1, 0]
    with pytest.raises(DetectorError, match="unknown"):
        MonitorBank(1, detectors=("ewma", "nope"))
    with pytest.raises(DetectorError, match="dwell"):
        NoiseControl(dwell=0)


def test_bank_grows():
    x = data()
    bank = MonitorBank(3)
    bank.update_block(TS[:100], x[:100, :3])
    bank.grow(6)
    res = bank.update_block(TS[100:200], x[100:200])
    assert res.scores.shape == (100, 6)


def test_combine_k2_equals_sorted_second_largest():
    rng = np.random.default_rng(3)
    for m in (2, 3, 4, 5, 6):
        s = [rng.random(50) for _ in range(m)]
        got = combine(s, NoiseControl(k=2, solo=1.0))
        assert np.array_equal(got, np.sort(np.stack(s), axis=0)[-2])


def test_variance_increase_is_found_and_spikes_are_not_variance():
    rng = np.random.default_rng(11)
    x = 100 + rng.normal(0, 2, size=(900, 2))
    x[600:700, 0] = 100 + rng.normal(0, 8, 100)   # fourfold noise for 100 points
    x[650, 1] += 30                                 # one 15-sigma spike
    bank = MonitorBank(2)
    res = bank.update_block(TS, x)
    opened = [e for e in res.episodes if e.kind == "anomaly" and e.state == "open"]
    first = min(int(np.searchsorted(TS, e.start_ts)) for e in opened if e.series == 0)
    assert 600 <= first < 640
    var = bank.dets[bank.names.index("variance")]
    assert var.s[1] < var.h  # the spike alone does not look like a variance change


def test_old_ewma_checkpoint_restores_as_plain_ewma():
    from ben.detect import EWMA, EWMABank

    bank = EWMABank(2, trend=0.0)
    bank.update_block(np.arange(40), 100 + np.random.default_rng(0).normal(0, 1, (40, 2)))
    old = bank.checkpoint()
    del old["params"]["trend"]
    again = EWMABank.from_checkpoint(old)
    assert again.params()["trend"] == 0.0
    again.restore(old)
    assert EWMA.from_state(bank.select(1)).params()["trend"] == 0.0


@pytest.mark.parametrize("module", ["ewma", "cusum", "robust", "drift", "variance", "seasonal", "series", "episode", "checkpoint",
                                    "synthetic"])
def test_doctests(module):
    mod = importlib.import_module(f"ben.detect.{module}")
    result = doctest.testmod(mod)
    assert result.attempted > 0 and result.failed == 0
