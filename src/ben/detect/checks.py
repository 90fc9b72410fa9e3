"""Conformance checks for detectors and single-series monitors, shipped with the library.

``check_detector(bank_class, **params)`` runs the detector contract's checks over a bank class
(:class:`~ben.detect.base.DetectorBank`), default parameters unless given, and its single-series
class when one exists; :func:`check_registered` runs them over every detector registered in
:data:`ben.detect.monitor.DETECTORS`, and ``tests/detect/test_checks.py`` runs one test per
registered detector, so a detector is checked the moment it is registered. What they check:
deterministic; scores in [0, 1] with the flag at 0.5; per-point, interleaved batch and block
updates equal; the compiled kernels equal numpy; checkpoint/restore mid-stream exact through
bytes; a restored fresh checkpoint equals a fresh bank; pickle; input not mutated; bad points
skipped and reported; something flagged on a probe series; hyper-parameters round-trip.

``check_monitor(factory)`` runs every check below over a monitor made by ``factory(name)`` (default
parameters: ``factory`` is usually the class itself) and raises ``AssertionError`` naming the check
that failed. :data:`MONITORS` lists the monitors ben ships; ``tests/detect/test_checks.py`` runs the
checks over each of them, so a monitor added to the list is checked the moment it is added.

A monitor has ``update(ts_ns, value) -> MonitorVerdict``, ``update_many(ts_ns, values)``,
``state()`` / ``from_state(state, name=...)`` (plain data, exact through ``to_bytes``), ``clone()``,
and refuses NaN values and timestamps that go back with a :class:`~ben.detect.DetectorError`.
"""

from __future__ import annotations

import math
import pickle
from typing import Callable

import numpy as np

from ben.detect.base import NOT_FINITE, OUT_OF_ORDER, DetectorBank, use_kernels
from ben.detect.checkpoint import from_bytes, to_bytes
from ben.detect.errors import DetectorError

__all__ = ["MONITORS", "check_monitor", "probe_series", "check_detector", "check_registered", "probe_block",
           "single_of"]

T0 = 1_767_225_600 * 10**9


def probe_series(n: int = 1500, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A series that makes a monitor work: minute sampling with jitter and a gap, noise, a daily cycle,
    a spike, a level shift, a flat-line."""
    rng = np.random.default_rng(seed)
    steps = 60 * (1 + rng.uniform(-0.2, 0.2, n))
    steps[n // 3] += 4 * 3600
    ts = T0 + (np.cumsum(steps) * 1e9).astype(np.int64)
    hours = (ts // 10**9 % 86_400) / 3600
    x = 50 + 10 * np.sin(2 * np.pi * hours / 24) + rng.normal(0, 2, n)
    x[int(n * 0.55)] += 40
    x[int(n * 0.7):] += 15
    x[int(n * 0.85):int(n * 0.9)] = x[int(n * 0.85)]
    return ts, x


def _verdicts(mon, ts, x):
    return [mon.update(int(t), float(v)) for t, v in zip(ts, x)]


def check_monitor(factory: Callable[[str], object]) -> None:
    """Run every conformance check over monitors made by ``factory(name)``."""
    ts, x = probe_series()
    whole = _verdicts(factory("s"), ts, x)
    assert whole == _verdicts(factory("s"), ts, x), "deterministic: two runs differ"
    for v in whole:
        assert 0.0 <= v.score <= 1.0, f"score in [0, 1]: {v.score}"
        assert all(isinstance(e, (int, float)) and not math.isnan(e) for e in v.evidence.values()), "evidence numbers"
    opened = [e for v in whole for e in v.episodes if e.state == "open"]
    assert opened, "the probe's spike, shift and flat-line open no episode"
    assert all(e.series == "s" for v in whole for e in v.episodes), "episodes carry the series' name"
    many = factory("s").update_many(ts, x)
    assert many.scores.tolist() == [v.score for v in whole], "update_many scores equal update's"
    assert many.flags.tolist() == [v.flag for v in whole], "update_many flags equal update's"
    assert list(many.episodes) == [e for v in whole for e in v.episodes], "update_many episodes equal update's"
    for cut in (5, int(len(x) * 0.7) + 3):
        first = factory("s")
        _verdicts(first, ts[:cut], x[:cut])
        resumed = type(first).from_state(from_bytes(to_bytes(first.state())), name="s")
        assert _verdicts(resumed, ts[cut:], x[cut:]) == whole[cut:], f"checkpoint at point {cut} is exact"
    used = factory("s")
    _verdicts(used, ts[:100], x[:100])
    assert _verdicts(used.clone(), ts, x) == whole, "clone() is a fresh monitor"
    mon = factory("s")
    mon.update(int(ts[0]), 1.0)
    for bad, what in (((int(ts[1]), math.nan), "a NaN value"), ((int(ts[0]) - 1, 1.0), "a timestamp going back")):
        try:
            mon.update(*bad)
        except DetectorError:
            continue
        raise AssertionError(f"{what} is refused with a DetectorError")


def _monitors() -> dict[str, Callable[[str], object]]:
    from ben.detect.series import BankSeriesMonitor, SeriesMonitor

    return {"SeriesMonitor": SeriesMonitor, "BankSeriesMonitor": BankSeriesMonitor}


MONITORS = _monitors


def probe_block(n: int = 2400, n_series: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(ts_ns, values (n, n_series))``, one point a second: heavy-tailed noise, a noise burst, a
    spike, a level shift and a ramp, long enough to warm up every detector with its defaults."""
    rng = np.random.default_rng(seed)
    x = 100 + rng.standard_t(5, size=(n, n_series)) * 3
    burst = slice(n * 3 // 14, n * 3 // 10)
    x[burst] += rng.standard_t(5, size=(burst.stop - burst.start, n_series)) * 12
    x[n // 3] += 60
    x[n // 2:] += 25
    x[2 * n // 3:] += np.linspace(0, 30, n - 2 * n // 3)[:, None]
    x[:, -1] = np.round(x[:, -1])  # a quantised series
    return T0 + np.arange(n, dtype=np.int64) * 10**9, x


def _interleaved(bank: DetectorBank, ts: np.ndarray, x: np.ndarray, seed: int = 1) -> np.ndarray:
    """Scores of ``update`` fed the block's points in a random order that keeps each series in time order."""
    steps, ns = x.shape
    owners = np.repeat(np.arange(ns), steps)
    np.random.default_rng(seed).shuffle(owners)
    pos = np.zeros(ns, dtype=np.int64)
    at = np.empty(len(owners), dtype=np.int64)
    for k, s in enumerate(owners):
        at[k] = pos[s]
        pos[s] += 1
    res = bank.update(owners, ts[at], x[at, owners])
    assert not res.status.any(), "good points are accepted (status 0)"
    out = np.empty(x.shape)
    out[at, owners] = res.scores
    return out


def single_of(bank_class: type[DetectorBank]):
    """The single-series class (a :class:`~ben.detect.single.SeriesDetector`) of a bank, or ``None``."""
    from ben.detect.single import SeriesDetector

    def walk(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from walk(sub)
    return next((c for c in walk(SeriesDetector) if getattr(c, "bank_class", None) is bank_class), None)


def check_detector(bank_class: type[DetectorBank], **params) -> None:
    """Run every conformance check of the detector contract over ``bank_class(n, **params)``."""
    name = bank_class.__name__
    assert issubclass(bank_class, DetectorBank), f"{name} is a DetectorBank"
    ts, x = probe_block()
    ns = x.shape[1]
    make = lambda: bank_class(ns, **params)  # noqa: E731
    bank = make()
    assert bank.kind != DetectorBank.kind, f"{name} sets kind"
    assert math.isfinite(bank.threshold) and bank.threshold > 0, f"{name}.threshold is a positive number"
    assert bank_class(1, **bank.params()).params() == bank.params(), "params() round-trips through the constructor"
    x_in, ts_in = x.copy(), ts.copy()
    ref = make().update_block(ts, x, evidence=True)
    assert np.array_equal(x, x_in) and np.array_equal(ts, ts_in), "input not mutated"
    again = make().update_block(ts, x)
    assert np.array_equal(ref.scores, again.scores), "deterministic: two runs differ"
    sc = ref.scores
    assert np.isfinite(sc).all() and (sc >= 0).all() and (sc <= 1).all(), "scores in [0, 1]"
    assert np.array_equal(ref.flags, sc >= 0.5), "flag exactly where score >= 0.5"
    assert ref.flags.any(), "the probe's spike, shift, burst and ramp flag nothing"
    assert np.array_equal(_interleaved(make(), ts, x), sc), "interleaved update() equals update_block()"
    per_point = make()
    rows = [per_point.step(slice(None), x[t]) for t in range(len(x))]
    assert np.array_equal(np.stack([r.scores for r in rows]), sc), "step() point by point equals update_block()"
    old = use_kernels(not _kernels_on())
    try:
        other = make().update_block(ts, x)
    finally:
        use_kernels(old)
    assert np.array_equal(other.scores, sc), "compiled kernels and numpy give the same scores"
    for k in range(min(10, len(ref.evidence["step"]))):
        t, j = int(ref.evidence["step"][k]), int(ref.evidence["series"][k])
        ev = rows[t].evidence
        for key, value in ev.items():
            got = ref.evidence[key][k]
            assert got == value[j] or abs(got - value[j]) <= 1e-12 * max(1.0, abs(value[j])), f"evidence {key}"
    for cut in (5, len(x) // 2 + 7):
        first = make()
        first.update_block(ts[:cut], x[:cut])
        resumed = bank_class.from_checkpoint(from_bytes(to_bytes(first.checkpoint())))
        rest = resumed.update_block(ts[cut:], x[cut:])
        assert np.array_equal(rest.scores, sc[cut:]), f"checkpoint at step {cut} is exact"
        copied = pickle.loads(pickle.dumps(first))
        assert np.array_equal(copied.update_block(ts[cut:], x[cut:]).scores, sc[cut:]), "pickle round trip"
    fresh = bank_class.from_checkpoint(make().checkpoint())
    assert np.array_equal(fresh.update_block(ts, x).scores, sc), "a fresh checkpoint restores a fresh bank"
    _check_bad_points(make(), ts, x)
    single = single_of(bank_class)
    if single is not None:
        det = single(name="s", **params)
        got = [det.update(int(t), float(v)).score for t, v in zip(ts, x[:, 0])]
        assert got == sc[:, 0].tolist(), f"{single.__name__}.update equals the bank"
        assert single(name="s", **params).update_many(ts, x[:, 0]).scores.tolist() == got, "update_many equals update"


def _kernels_on() -> bool:
    on = use_kernels(True)
    use_kernels(on)
    return on


def _check_bad_points(bank: DetectorBank, ts: np.ndarray, x: np.ndarray) -> None:
    bank.update_block(ts[:50], x[:50])
    before = bank.checkpoint()
    res = bank.update(np.array([0, 1]), np.array([ts[50], ts[10]]), np.array([math.nan, 1.0]))
    assert res.status.tolist() == [NOT_FINITE, OUT_OF_ORDER], "bad points reported per point"
    assert not res.flags.any() and not res.scores.any(), "bad points score 0"
    after = bank.checkpoint()
    assert all(np.array_equal(before["state"][k], v) for k, v in after["state"].items()), "bad points change nothing"


def check_registered(registry: dict[str, type[DetectorBank]] | None = None, *, names=None) -> None:
    """Run :func:`check_detector` (default parameters) over every detector registered in
    ``registry`` (default :data:`ben.detect.monitor.DETECTORS`), or those of ``names``; the
    ``AssertionError`` names the detector that failed."""
    if registry is None:
        from ben.detect.monitor import DETECTORS as registry
    for key, bank_class in registry.items():
        if names is not None and key not in names:
            continue
        try:
            check_detector(bank_class)
        except AssertionError as exc:
            raise AssertionError(f"detector {key!r} ({bank_class.__name__}): {exc}") from exc
