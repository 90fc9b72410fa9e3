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
