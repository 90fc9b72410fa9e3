"""Detector throughput: points/s through every built-in detector with noise control, on one core.

    ben bench detect [--series N] [--points P] [--runs R] [--json]

A ``MonitorBank`` (EWMA, CUSUM, robust, drift, variance, noise control, episodes) over ``series`` series
is fed time-major blocks (one value per series per step, ``update_block``), after a warm-up long
enough for every detector to reach its steady state (not timed). Measured in the same run, on
the same arrays: a plain numpy EWMA pass (mean and variance, updated in place per step), the
baseline. Medians of ``runs`` runs of ``points`` points each.

Returns ``points_per_s``, ``baseline_points_per_s``, ``ratio`` (= ``points_per_s /
baseline_points_per_s``, as in the other benchmarks: the fraction of the plain EWMA pass's speed
kept with every detector and noise control on), and the per-detector rates (each bank alone).

The single-series API, the default ``SeriesMonitor`` (one series sampled every minute, a realistic
mix: noise, a daily cycle, a level shift): ``series_update_points_per_s`` (``update`` point by point,
Python ints and floats in, a ``MonitorVerdict`` out) and ``series_update_many_points_per_s``
(``update_many`` over arrays), medians of ``runs`` runs, each on a fresh monitor past its warm-up.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time

import numpy as np

WARMUP_STEPS = 640


def _say(progress: bool, msg: str) -> None:
    if progress:
        print(msg, file=sys.stderr, flush=True)


def _plain_ewma(values: np.ndarray, alpha: float = 2.0 / 33.0) -> float:
    mean = values[0].copy()
    var = np.zeros_like(mean)
    started = time.perf_counter()
    for x in values:
        d = x - mean
        mean += alpha * d
        var *= 1.0 - alpha
        var += alpha * (1.0 - alpha) * d * d
    return time.perf_counter() - started


def _timed(bank, ts: np.ndarray, values: np.ndarray) -> float:
    started = time.perf_counter()
    bank.update_block(ts, values)
    return time.perf_counter() - started


def run(series: int = 10_000, points: int = 2_000_000, runs: int = 5, seed: int = 0, progress: bool = True) -> dict:
    """Measure; see the module docstring. Progress lines go to stderr."""
    from ben.detect import DETECTORS, MonitorBank

    steps = max(1, points // series)
    rng = np.random.default_rng(seed)
    level = rng.uniform(10, 1000, series)
    noise = level * rng.uniform(0.01, 0.1, series)

    def block(n: int) -> np.ndarray:
        return level + noise * rng.standard_normal((n, series))

    step_ns = 10_000_000_000
    warm = block(WARMUP_STEPS)
    data = [block(steps) for _ in range(runs)]
    ts_warm = np.arange(WARMUP_STEPS, dtype=np.int64) * step_ns

    def ts_of(r: int) -> np.ndarray:
        return (WARMUP_STEPS + r * steps + np.arange(steps, dtype=np.int64)) * step_ns

    _say(progress, f"detect: {series:,} series, {steps} steps per run ({steps * series:,} points), {runs} runs; "
                   f"warming up ({WARMUP_STEPS} steps, not timed)")
    bank = MonitorBank(series)
    bank.update_block(ts_warm, warm)
    ours, base = [], []
    for r in range(runs):
        ours.append(steps * series / _timed(bank, ts_of(r), data[r]))
        base.append(steps * series / _plain_ewma(data[r]))
        _say(progress, f"  run {r + 1}/{runs}: monitor {ours[-1] / 1e6:.2f} M points/s, "
                       f"plain EWMA {base[-1] / 1e6:.1f} M points/s")
    per_detector = {}
    for name, cls in DETECTORS.items():
        det = cls(series)
        det.update_block(ts_warm, warm)
        rates = [steps * series / _timed(det, ts_of(r), data[r]) for r in range(min(runs, 3))]
        per_detector[f"{name}_points_per_s"] = statistics.median(rates)
        _say(progress, f"  {name} alone: {per_detector[f'{name}_points_per_s'] / 1e6:.1f} M points/s")
    points_per_s = statistics.median(ours)
    baseline = statistics.median(base)
    single = _series_rates(runs, progress)
    return {
        "points_per_s": points_per_s,
        "baseline_points_per_s": baseline,
        "ratio": points_per_s / baseline,
        "series": series,
        "points_per_run": steps * series,
        "runs": runs,
        "runs_points_per_s": ours,
        **per_detector,
        **single,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
                   f"numpy {np.__version__}",
    }


def _series_rates(runs: int, progress: bool, n_update: int = 100_000, n_many: int = 2_000_000) -> dict:
    """Points/s of the default single-series monitor: ``update`` and ``update_many``."""
    from ben.detect import SeriesMonitor

    rng = np.random.default_rng(1)
    n = n_many
    ts = 1_767_225_600 * 10**9 + np.arange(n, dtype=np.int64) * 60 * 10**9
    hours = (ts // 10**9 % 86_400) / 3600
    x = 100 + 20 * np.sin(2 * np.pi * hours / 24) + rng.normal(0, 3, n)
    x[n // 2:] += 25
    warm = 2_000
    SeriesMonitor("warm-up").update_many(ts[:warm], x[:warm])          # compiles (or loads) the kernel
    upd, many = [], []
    for r in range(runs):
        mon = SeriesMonitor("bench")
        mon.update_many(ts[:warm], x[:warm])
        tl, xl = ts[warm:warm + n_update].tolist(), x[warm:warm + n_update].tolist()
        update = mon.update
        started = time.perf_counter()
        for t, v in zip(tl, xl):
            update(t, v)
        upd.append(len(tl) / (time.perf_counter() - started))
        mon = SeriesMonitor("bench")
        mon.update_many(ts[:warm], x[:warm])
        started = time.perf_counter()
        mon.update_many(ts[warm:], x[warm:])
        many.append((n - warm) / (time.perf_counter() - started))
        _say(progress, f"  SeriesMonitor run {r + 1}/{runs}: update {upd[-1] / 1e3:.0f} k points/s, "
                       f"update_many {many[-1] / 1e6:.2f} M points/s")
    return {"series_update_points_per_s": statistics.median(upd),
            "series_update_many_points_per_s": statistics.median(many)}


if __name__ == "__main__":
    import json

    print(json.dumps(run()))
