"""Detector quality on labelled synthetic series: precision, recall, F1, detection delay.

    ben bench detect-quality [--series N] [--length L] [--seed S] [--json]

Series come from ``ben.detect.synthetic.generate`` (spikes, level shifts, variance changes,
gradual drift, seasonal series with and without faults, noisy, flat, counters that reset) and go
through a default ``MonitorBank``. Alarms (episode openings) are matched to faults by the rules
in ``ben.detect.quality``: an alarm within the fault's window, or within ``tolerance`` points
after it, detects the fault (once); other alarms are false. The defaults were tuned on seed 1;
the default seed here, 2, is held out.

Returns at least ``f1`` (overall) and ``false_alarms_per_10k`` (per 10,000 points of the
fault-free series), plus precision, recall, median delay (points) and a ``per_type`` table.
"""

from __future__ import annotations

import sys
import time


def _say(progress: bool, msg: str) -> None:
    if progress:
        print(msg, file=sys.stderr, flush=True)


def run(series: int = 500, length: int = 2000, seed: int = 2, tolerance: int = 20, progress: bool = True) -> dict:
    """Generate, detect, score; print the per-type table to stderr when ``progress``."""
    from ben.detect.quality import evaluate
    from ben.detect.synthetic import generate

    started = time.perf_counter()
    _say(progress, f"detect-quality: {series} series x {length} points, seed {seed}, tolerance {tolerance}")
    data = generate(series, length, seed=seed)
    report = evaluate(data, tolerance=tolerance)
    _say(progress, f"{'fault type':>12} {'faults':>6} {'precision':>9} {'recall':>6} {'F1':>5} {'delay':>6}")
    for kind, row in report["per_type"].items():
        delay = "-" if row["median_delay"] is None else f"{row['median_delay']:g}"
        _say(progress, f"{kind:>12} {row['faults']:>6} {row['precision']:>9.3f} {row['recall']:>6.3f} "
                       f"{row['f1']:>5.3f} {delay:>6}")
    for kind, row in report["fault_free"].items():
        _say(progress, f"{kind:>12} fault-free: {row['false_alarms']} false alarms ({row['per_10k']:.2f} per 10k)")
    _say(progress, f"{'overall':>12} {report['faults']:>6} {report['precision']:>9.3f} {report['recall']:>6.3f} "
                   f"{report['f1']:>5.3f} {report['median_delay']!s:>6}   "
                   f"false alarms per 10k fault-free points: {report['false_alarms_per_10k']:.2f}")
    return {
        "f1": report["f1"],
        "false_alarms_per_10k": report["false_alarms_per_10k"],
        "precision": report["precision"],
        "recall": report["recall"],
        "median_delay_points": report["median_delay"],
        "faults": report["faults"],
        "detected": report["detected"],
        "false_alarms": report["false_alarms"],
        "fault_free_points": report["fault_free_points"],
        "series": series,
        "length": length,
        "seed": seed,
        "tolerance": tolerance,
        "per_type": report["per_type"],
        "fault_free": report["fault_free"],
        "seconds": time.perf_counter() - started,
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run()))
