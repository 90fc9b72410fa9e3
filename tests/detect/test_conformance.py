"""One conformance suite, run over every detector (river's idea, plus ben's own checks)."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ben.detect import DetectorError, from_bytes, to_bytes
from tests.detect.conftest import series

TS = np.arange(700, dtype=np.int64) * 1_000_000_000


def run(det, x, ts=TS):
    return [det.update(int(t), float(v)) for t, v in zip(ts, x)]


def test_deterministic(case):
    single, _, params = case
    x = series(1)[:, 0]
    a, b = run(single(**params), x), run(single(**params), x)
    assert a == b


def test_scores_in_unit_interval_and_flags_match(case):
    single, _, params = case
    for v in run(single(**params), series(2)[:, 0]):
        assert 0.0 <= v.score <= 1.0
        assert v.flag == (v.score >= 0.5)
        assert all(isinstance(x, float) and not math.isnan(x) for x in v.evidence.values())


def test_something_is_flagged(case):
    single, _, params = case
    assert any(v.flag for v in run(single(**params), series(3)[:, 0]))


@pytest.mark.parametrize("cut", [5, 17, 350, 555, 699])
def test_checkpoint_restore_mid_stream(case, cut):
    single, _, params = case
    x = series(4)[:, 0]
    whole = run(single(**params), x)
    first = single(name="s", **params)
    run(first, x[:cut], TS[:cut])
    blob = to_bytes(first.state())
    resumed = single.from_state(from_bytes(blob), name="s")
    assert run(resumed, x[cut:], TS[cut:]) == whole[cut:]


def test_clone_equals_fresh(case):
    single, _, params = case
    x = series(5)[:, 0]
    used = single(**params)
    run(used, x[:100])
    assert run(used.clone(), x) == run(single(**params), x)
    assert used.clone().params() == used.params()


def test_pickle_round_trip(case):
    single, _, params = case
    det = single(**params)
    run(det, series(6)[:50, 0])
    again = pickle.loads(pickle.dumps(det))
    x = series(7)[:, 0]
    assert run(again, x, TS + 10**12) == run(det, x, TS + 10**12)


def test_vectorised_equals_single_series(case):
    single, bank_cls, params = case
    x = series(8, n=5)
    x[:, 2] = 7.0  # a flat series
    bank = bank_cls(5, **params)
    res = bank.update_block(TS, x, evidence=True)
    for j in range(5):
        verdicts = run(single(**params), x[:, j])
        assert np.array_equal(res.scores[:, j], [v.score for v in verdicts])
        assert np.array_equal(res.flags[:, j], [v.flag for v in verdicts])
    # evidence of flagged points equals the single-series evidence
    for k in range(min(20, len(res.evidence["step"]))):
        t, j = int(res.evidence["step"][k]), int(res.evidence["series"][k])
        ev = run(single(**params), x[:t + 1, j])[-1].evidence
        for key, value in ev.items():
            assert res.evidence[key][k] == pytest.approx(value, rel=1e-12, abs=1e-12), key


def test_batch_update_equals_block(case):
    _, bank_cls, params = case
    x = series(9, n=4)
    a = bank_cls(4, **params).update_block(TS, x)
    rng = np.random.default_rng(0)
    # interleave the points of the 4 series in a random order that keeps each series in time order
    owners = np.repeat(np.arange(4), len(TS))
    rng.shuffle(owners)
    pos = np.zeros(4, dtype=int)
    idx, ts, vals = [], [], []
    for s in owners:
        idx.append(s)
        ts.append(TS[pos[s]])
        vals.append(x[pos[s], s])
        pos[s] += 1
    bank = bank_cls(4, **params)
    res = bank.update(np.array(idx), np.array(ts), np.array(vals))
    got = np.zeros_like(a.scores)
    pos[:] = 0
    for k, s in enumerate(idx):
        got[pos[s], s] = res.scores[k]
        pos[s] += 1
    assert np.array_equal(got, a.scores)


def test_bank_checkpoint_restore(case):
    _, bank_cls, params = case
    x = series(10, n=3)
    whole = bank_cls(3, **params).update_block(TS, x)
    first = bank_cls(3, **params)
    first.update_block(TS[:123], x[:123])
    second = bank_cls.from_checkpoint(from_bytes(to_bytes(first.checkpoint())))
    rest = second.update_block(TS[123:], x[123:])
    assert np.array_equal(rest.scores, whole.scores[123:])


def test_input_not_mutated(case):
    single, bank_cls, params = case
    x = series(11, n=3)
    copy = x.copy()
    ts = TS.copy()
    bank_cls(3, **params).update_block(ts, x)
    bank_cls(3, **params).update(np.tile(np.arange(3), 700), np.repeat(ts, 3), x.reshape(-1))
    single(**params).update_many(ts, x[:, 0])
    assert np.array_equal(x, copy) and np.array_equal(ts, TS)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_value_raises_with_series_name(case, bad):
    single, _, params = case
    det = single(name="checkout.p99", **params)
    det.update(0, 1.0)
    with pytest.raises(DetectorError, match=r"checkout\.p99.*not finite") as err:
        det.update(1, bad)
    assert err.value.problem == "not_finite" and err.value.series == "checkout.p99"
    with pytest.raises(DetectorError, match="not finite"):
        det.update_many([2, 3], [1.0, bad])


def test_out_of_order_raises_with_series_name(case):
    single, _, params = case
    det = single(name="disk", **params)
    det.update(10, 1.0)
    det.update(10, 1.0)  # equal timestamps are accepted
    with pytest.raises(DetectorError, match=r"'disk'.*older") as err:
        det.update(9, 1.0)
    assert err.value.problem == "out_of_order"
    assert det.points == 2  # the refused point changed nothing


def test_bank_reports_bad_points_per_point(case):
    _, bank_cls, params = case
    bank = bank_cls(2, **params)
    bank.update([0, 1], [5, 5], [1.0, 1.0])
    before = bank.checkpoint()
    res = bank.update([0, 1, 1], [6, 4, 7], [float("nan"), 2.0, float("inf")])
    assert res.status.tolist() == [1, 2, 1]
    assert not res.flags.any() and (res.scores == 0).all()
    after = bank.checkpoint()
    assert all(np.array_equal(before["state"][k], after["state"][k], equal_nan=True) for k in before["state"])
    with pytest.raises(DetectorError, match="out of range"):
        bank.update([2], [8], [1.0])


def test_bank_block_with_bad_values_falls_back(case):
    _, bank_cls, params = case
    x = series(12, n=2)
    x[50, 1] = np.nan
    res = bank_cls(2, **params).update_block(TS, x)
    assert res.status[50, 1] == 1 and res.status.sum() == 1
    clean = np.delete(x[:, 1], 50)
    ref = bank_cls(1, **params).update_block(np.delete(TS, 50), clean[:, None])
    assert np.array_equal(np.delete(res.scores[:, 1], 50), ref.scores[:, 0])


def test_bad_parameter_names_the_parameter(case):
    single, _, params = case
    name = next(iter(single().params()))
    with pytest.raises(DetectorError, match=name):
        single(**{**params, name: -5})


@settings(max_examples=25, deadline=None)
@given(values=st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=120),
       cut=st.integers(0, 120), which=st.sampled_from(["ewma", "cusum", "robust", "drift", "variance"]))
def test_property_restore_anywhere_and_bounded(values, cut, which):
    from tests.detect.conftest import CASES

    single, bank_cls, params = CASES[which]
    ts = list(range(len(values)))
    fresh = single(**params)
    whole = [fresh.update(t, v) for t, v in zip(ts, values)]
    assert all(0.0 <= v.score <= 1.0 for v in whole)
    cut = min(cut, len(values))
    det = single(**params)
    for t, v in zip(ts[:cut], values[:cut]):
        det.update(t, v)
    det = single.from_state(from_bytes(to_bytes(det.state())))
    assert [det.update(t, v) for t, v in zip(ts[cut:], values[cut:])] == whole[cut:]
    block = bank_cls(1, **params).update_block(np.array(ts), np.array(values)[:, None])
    assert block.scores[:, 0].tolist() == [v.score for v in whole]


# ---- the seasonal baseline (a transform in front of the detectors, in MonitorBank) ----------------
SEASONAL = {"max_period": 64, "history": 160}
MTS = 1_700_000_000_000_000_000 + np.arange(700, dtype=np.int64) * 60_000_000_000


def seasonal_data(seed: int = 0, n: int = 6) -> np.ndarray:
    """Periods 24 and 50 (two series each), AR noise with a shift, and a flat series."""
    rng = np.random.default_rng(seed)
    t = np.arange(700)[:, None]
    x = 100 + rng.normal(0, 1, size=(700, n))
    x[:, :2] += 5 * np.sin(2 * np.pi * t / 24 + np.array([0.0, 1.0]))
    x[:, 2:4] += 4 * np.sin(2 * np.pi * t / 50 + np.array([2.0, 3.0]))
    x[400, 0] += 6          # a spike hidden inside the swing
    x[500:, 2] += 4         # a level shift
    ar = np.zeros(700)
    for i in range(1, 700):
        ar[i] = 0.9 * ar[i - 1] + rng.normal()
    x[:, 4] = 50 + ar
    x[300:, 4] += 8
    x[:, 5] = 3.0
    return x


def _events(episodes):
    def plain(e):  # NaN != NaN: compare their text
        return {k: ("nan" if isinstance(v, float) and math.isnan(v) else v)
                for k, v in (e.to_dict() | {"series": str(e.series)}).items()}
    return sorted((plain(e) for e in episodes), key=lambda d: (d["series"], d["start_ts"], d["state"], d["kind"]))


def test_seasonal_finds_periods_and_leaves_the_rest():
    from ben.detect import MonitorBank

    bank = MonitorBank(6, seasonal=SEASONAL)
    bank.update_block(MTS, seasonal_data())
    assert bank.season.period.tolist()[:4] == [24, 24, 50, 50]
    assert bank.season.period.tolist()[4:] == [0, 0]


def test_seasonal_period_detection_rejects_non_periodic():
    from ben.detect.seasonal import find_period

    rng = np.random.default_rng(5)
    e = rng.normal(size=640)
    ar = np.zeros(640)
    for i in range(1, 640):
        ar[i] = 0.97 * ar[i - 1] + e[i]
    step = np.r_[np.zeros(300), np.full(340, 5.0)] + 0.3 * e
    for y in (e, ar, np.cumsum(e), step, np.full(640, 7.0), np.arange(640.0)):
        assert find_period(y, 8, 288, 0.4) == 0
    for period in (8, 24, 96, 200):
        y = 3 * np.sin(2 * np.pi * np.arange(640) / period) + e
        assert abs(find_period(y, 8, 288, 0.4) - period) <= period // 100  # long periods: within 1%


#: A history long enough for early decisions (at 192 and 256 points, before the end at 320).
EARLY = {"max_period": 80, "history": 320}


def test_seasonal_decides_early_when_cycles_repeat():
    from ben.detect import MonitorBank

    bank = MonitorBank(6, seasonal=EARLY)
    bank.update_block(MTS[:200], seasonal_data()[:200])
    assert bank.season.period.tolist() == [24, 24, 50, 50, 0, 0]
    assert bank.season.decided.tolist()[:4] == [191] * 4  # the first early try, 192 points
    bank.update_block(MTS[200:], seasonal_data()[200:])
    assert bank.season.period.tolist() == [24, 24, 50, 50, 0, 0]  # confirmed by the whole history


def test_seasonal_early_verdict_never_takes_the_edge_of_the_lags():
    from ben.detect.seasonal import find_period

    for seed in (0, 1, 3):
        e = np.random.default_rng(seed).normal(size=340)
        y = 4 * np.sin(2 * np.pi * np.arange(340) / 144 + 1.0) + e  # 2.4 cycles of 144, lags up to 128
        assert find_period(y, 8, 128, 0.4) == 128  # the final verdict's rule takes the edge
        assert find_period(y, 8, 128, 0.4, peak=True) == 0
        assert abs(find_period(y, 8, 150, 0.4, peak=True) - 144) <= 2


def test_seasonal_checkpoint_from_before_early_decisions_restores():
    """Before early decisions the profile lived in ``buf`` and there was no ``decided``."""
    from ben.detect import MonitorBank

    x = seasonal_data(2)
    a = MonitorBank(6, seasonal=SEASONAL)  # history 160 < EARLY_MIN: decisions at the end only
    a.update_block(MTS[:200], x[:200])
    cp = a.checkpoint()
    st = cp["seasonal"]["state"]
    periodic = st["period"] > 0
    old_buf = np.where(periodic[:, None], np.pad(st["prof"], ((0, 0), (0, 160 - 64)))[:, :160], st["buf"])
    old = {**cp, "seasonal": {**cp["seasonal"], "state": {k: v for k, v in st.items() if k not in ("prof", "decided")}
                              | {"buf": old_buf}}}
    b = MonitorBank.from_checkpoint(from_bytes(to_bytes(old)))
    assert b.season.decided.tolist() == st["decided"].tolist()
    assert np.array_equal(b.update_block(MTS[200:], x[200:]).scores, a.update_block(MTS[200:], x[200:]).scores)


@pytest.mark.parametrize("params", [SEASONAL, EARLY], ids=["end", "early"])
def test_seasonal_block_equals_points_equals_single_series(params):
    from ben.detect import MonitorBank, SeriesMonitor

    SEASONAL = params
    x = seasonal_data(1)
    block = MonitorBank(6, seasonal=SEASONAL).update_block(MTS, x)
    rng = np.random.default_rng(0)
    owners = np.repeat(np.arange(6), 700)
    rng.shuffle(owners)
    pos = np.zeros(6, dtype=int)
    idx, ts, vals = [], [], []
    for s in owners:
        idx.append(s)
        ts.append(MTS[pos[s]])
        vals.append(x[pos[s], s])
        pos[s] += 1
    pts = MonitorBank(6, seasonal=SEASONAL).update(np.array(idx), np.array(ts), np.array(vals))
    got = np.zeros_like(block.scores)
    pos[:] = 0
    for k, s in enumerate(idx):
        got[pos[s], s] = pts.scores[k]
        pos[s] += 1
    assert np.array_equal(got, block.scores)
    assert _events(pts.episodes) == _events(block.episodes)
    for j in range(6):
        mon = SeriesMonitor(str(j), seasonal=SEASONAL)
        verdicts = [mon.update(t, v) for t, v in zip(MTS, x[:, j])]
        assert [v.score for v in verdicts] == block.scores[:, j].tolist()
        many = SeriesMonitor(str(j), seasonal=SEASONAL).update_many(MTS, x[:, j])
        assert many.scores.tolist() == block.scores[:, j].tolist()


@pytest.mark.parametrize("params,cut", [(SEASONAL, c) for c in (1, 159, 160, 170, 444)]
                         + [(EARLY, c) for c in (191, 192, 200, 319, 320)])
def test_seasonal_checkpoint_restore_mid_stream(params, cut):
    from ben.detect import MonitorBank, SeriesMonitor

    SEASONAL = params
    x = seasonal_data(2)
    whole = MonitorBank(6, seasonal=SEASONAL).update_block(MTS, x)
    a = MonitorBank(6, seasonal=SEASONAL)
    first = a.update_block(MTS[:cut], x[:cut])
    blob = to_bytes(a.checkpoint())
    b = MonitorBank.from_checkpoint(from_bytes(blob))
    assert b.season is not None and b.season.params() == a.season.params()
    rest = b.update_block(MTS[cut:], x[cut:])
    assert np.array_equal(np.vstack([first.scores, rest.scores]), whole.scores)
    assert _events(first.episodes + rest.episodes) == _events(whole.episodes)
    c = MonitorBank(6, seasonal=SEASONAL)
    c.restore(from_bytes(blob))
    assert np.array_equal(c.update_block(MTS[cut:], x[cut:]).scores, whole.scores[cut:])
    for j in (0, 4):
        mon = SeriesMonitor.from_state(from_bytes(to_bytes(a.select(j))), name=str(j))
        assert mon.update_many(MTS[cut:], x[cut:, j]).scores.tolist() == whole.scores[cut:, j].tolist()
        assert mon.clone().update_many(MTS, x[:, j]).scores.tolist() == whole.scores[:, j].tolist()


def test_old_checkpoint_without_seasonal_restores_with_it_off():
    from ben.detect import MonitorBank

    x = seasonal_data(3)
    plain = MonitorBank(6, seasonal=False)
    first = plain.update_block(MTS[:300], x[:300])
    old = plain.checkpoint()
    assert "seasonal" not in old
    whole = MonitorBank(6, seasonal=False).update_block(MTS, x)
    for again in (MonitorBank.from_checkpoint(from_bytes(to_bytes(old))), MonitorBank(6)):
        if again.n_series == 6 and again.season is not None:
            again.restore(old)
        assert again.season is None
        rest = again.update_block(MTS[300:], x[300:])
        assert np.array_equal(np.vstack([first.scores, rest.scores]), whole.scores)


def test_seasonal_grow_starts_fresh_and_is_independent():
    from ben.detect import MonitorBank

    x = seasonal_data(4)
    bank = MonitorBank(3, seasonal=SEASONAL)
    bank.update_block(MTS[:200], x[:200, :3])
    bank.grow(6)
    assert bank.season.n.tolist() == [200, 200, 200, 0, 0, 0]
    res = bank.update(np.repeat(np.arange(3, 6), 700), np.tile(MTS, 3), x[:, 3:].T.reshape(-1))
    alone = MonitorBank(3, seasonal=SEASONAL).update_block(MTS, x[:, 3:])
    assert np.array_equal(res.scores.reshape(3, 700).T, alone.scores)


def test_seasonal_reveals_a_spike_hidden_by_the_swing():
    from ben.detect import MonitorBank

    rng = np.random.default_rng(6)
    t = np.arange(700)
    x = 100 + 6 * np.sin(2 * np.pi * t / 48) + rng.normal(0, 1, 700)
    x[600:602] -= 7  # at the crest, still inside the swing's range
    x = x[:, None]
    ts = MTS
    on = MonitorBank(1, seasonal=SEASONAL).update_block(ts, x)
    opened = [int(np.searchsorted(ts, e.start_ts)) for e in on.episodes if e.kind == "anomaly" and e.state == "open"]
    assert any(600 <= a <= 605 for a in opened)
    assert all(a >= 600 or a < 160 for a in opened)


@settings(max_examples=20, deadline=None)
@given(cut=st.integers(0, 400), seed=st.integers(0, 10_000), period=st.integers(6, 40))
def test_property_seasonal_restore_anywhere(cut, seed, period):
    from ben.detect import MonitorBank

    params = {"min_period": 4, "max_period": 40, "history": 96}
    rng = np.random.default_rng(seed)
    t = np.arange(400)
    x = (10 + 3 * np.sin(2 * np.pi * t / period) + rng.standard_t(4, 400))[:, None]
    ts = np.arange(400, dtype=np.int64)
    whole = MonitorBank(1, seasonal=params).update_block(ts, x)
    a = MonitorBank(1, seasonal=params)
    first = a.update(np.zeros(cut, np.int64), ts[:cut], x[:cut, 0])
    b = MonitorBank.from_checkpoint(from_bytes(to_bytes(a.checkpoint())))
    rest = b.update_block(ts[cut:], x[cut:])
    assert np.array_equal(np.r_[first.scores, rest.scores[:, 0]], whole.scores[:, 0])
    assert ((whole.scores >= 0) & (whole.scores <= 1)).all()
