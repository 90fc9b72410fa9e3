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

The spine's side (ADR 0029, 0040): ``spine_points_per_s`` is stored rows per second of CPU through
``ben.spine.detection.Detection`` with its default (calibrated) detection (series keys, registration,
1 s bucketing, the compiled per-point step, episodes, incidents), 10,000 gauge series sending one point
a second in records of ``SPINE_RECORD`` rows, as the store writer hands them over;
``spine_bank_points_per_s`` the same with the detector bank (``algorithm = "bank"``). Beside it,
``ingest_events_per_s``: the end-to-end ingest rate measured in the same run (SDK -> sidecar -> spine
-> chDB as separate processes, ``ben bench ingest``'s measurement, one run of ``ingest_events``;
0 skips it and sets the recorded ``INGEST_EVENTS_PER_S`` instead, ``ingest_measured`` says which);
``spine_vs_ingest`` is their ratio (target >= 1: detection keeps up with ingest).
``spine_rss_mib_100k_series`` is the peak RSS of a fresh process whose ``Detection`` holds 100,000
active series (target < 1,024 MiB).

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
SPINE_SERIES = 10_000
SPINE_RECORD = 100          # rows per spine WAL record (an SDK batch)
SPINE_SECONDS = 12          # seconds of data timed (after 3 not timed)
INGEST_EVENTS_PER_S = 240_000.0  # end-to-end ingest recorded by ben bench ingest (docs/benchmarks.md)


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


def _spine_tables(n_series: int, seconds: int, per_record: int, seed: int = 0):
    """Stored routine rows as the store writer hands them to detection: one table per second."""
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    level = rng.uniform(10, 1000, n_series)
    sub = pa.array([f"svc-{i % 20}" for i in range(n_series)])
    name = pa.array([f"metric_{i % 50}_ms" for i in range(n_series)])
    keys = pa.array([["host"]] * n_series, pa.list_(pa.string()))
    hosts = pa.array([[f"host-{i}"] for i in range(n_series)], pa.list_(pa.string()))
    kind = pa.array(np.ones(n_series, dtype=np.int8))
    t0, seq = 1_795_000_000 * 10**9, 1
    for sec in range(seconds):
        ts = t0 + sec * 10**9 + np.arange(n_series) * (10**9 // n_series)
        seqs = seq + np.arange(n_series) // per_record
        seq = int(seqs[-1]) + 1
        yield pa.table({"ts": ts, "kind": kind, "subsystem": sub, "name": name,
                        "value": level * (1 + 0.05 * rng.standard_normal(n_series)), "attributes.key": keys,
                        "attributes.value": hosts, "spine_seq": pa.array(seqs, pa.uint64())})


def spine_rate(n_series: int = SPINE_SERIES, seconds: int = SPINE_SECONDS, per_record: int = SPINE_RECORD,
               algorithm: str = "calibrated") -> float:
    """Stored rows per CPU second through the spine's ``Detection`` (3 seconds of warm-up not timed)."""
    from ben.spine.detection import Detection

    tables = list(_spine_tables(n_series, seconds + 3, per_record))
    det = Detection(algorithm=algorithm)
    for t in tables[:3]:
        det.process(t)
    started = time.process_time()
    for t in tables[3:]:
        det.process(t)
    return n_series * seconds / (time.process_time() - started)


def spine_rss_mib(n_series: int = 100_000, seconds: int = 4, algorithm: str = "calibrated") -> float:
    """Peak RSS (MiB) of a fresh process whose ``Detection`` holds ``n_series`` active series."""
    import subprocess

    code = (f"import resource, bench.detect as b\nfrom ben.spine.detection import Detection\n"
            f"d = Detection(max_series_per_subsystem={n_series}, max_series={n_series}, algorithm={algorithm!r})\n"
            f"for t in b._spine_tables({n_series}, {seconds}, {SPINE_RECORD}): d.process(t)\n"
            f"assert len(d.series) == {n_series}\n"
            f"print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root, check=True)
    return float(out.stdout.strip())


def ingest_rate(events: int, progress: bool) -> float:
    """End-to-end ingest, events/s: ``ben bench ingest``'s measurement (one run, a cluster of its own)."""
    import importlib.util

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ingest.py")
    spec = importlib.util.spec_from_file_location("ben_bench_ingest", path)
    ingest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ingest)
    rates, _ = ingest.end_to_end(events, 1, progress)
    return rates[0]


def spine_figures(progress: bool = True, ingest_events: int = 200_000) -> dict:
    """The spine's detection capacity beside the end-to-end ingest rate of the same run, and its RSS."""
    spine = statistics.median(spine_rate() for _ in range(3))
    _say(progress, f"  spine Detection, calibrated ({SPINE_SERIES:,} gauge series, {SPINE_RECORD} rows a record): "
                   f"{spine:,.0f} rows/s ({1e6 / spine:.1f} ms per 1,000)")
    bank = spine_rate(algorithm="bank")
    _say(progress, f"  spine Detection, detector bank: {bank:,.0f} rows/s ({1e6 / bank:.1f} ms per 1,000)")
    if ingest_events > 0:
        ingest = ingest_rate(ingest_events, progress)
        _say(progress, f"  end-to-end ingest, same run: {ingest:,.0f} events/s")
    else:
        ingest = INGEST_EVENTS_PER_S
    rss = spine_rss_mib()
    _say(progress, f"  spine Detection RSS with 100,000 active series: {rss:,.0f} MiB")
    return {"spine_points_per_s": spine, "spine_bank_points_per_s": bank, "ingest_events_per_s": ingest,
            "ingest_measured": ingest_events > 0, "spine_vs_ingest": spine / ingest,
            "spine_rss_mib_100k_series": rss}


def run(series: int = 10_000, points: int = 2_000_000, runs: int = 5, seed: int = 0, progress: bool = True,
        ingest_events: int = 200_000) -> dict:
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
    spine_keys = spine_figures(progress, ingest_events)
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
        **spine_keys,
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
