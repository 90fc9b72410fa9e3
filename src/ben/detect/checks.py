"""Conformance checks for single-series monitors, shipped with the library.

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
from typing import Callable

import numpy as np

from ben.detect.checkpoint import from_bytes, to_bytes
from ben.detect.errors import DetectorError

__all__ = ["MONITORS", "check_monitor", "probe_series"]

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
