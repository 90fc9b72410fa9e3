"""Probe: daily patterns with one changed day, through the held-out harness' API (ADR 0028).

    python bench/changed_day_probe.py [--seed S]

Four daily shapes an operator sees every day (a square wave: a batch load 06:00-18:00; a sine; a nightly
job 02:00-03:30; business hours with 2-hour ramps), noise-free and with noise 2, 14 days at 5-minute
sampling, go point by point through a default ``SeriesMonitor(name)``. For each, one day (day 4, then day
10) changes: the high phase missing, 1.5 times higher, half as high, a flat day at the middle, or the
whole day 3 hours late. Printed per shape: onsets on the unchanged series after its first 2.1 days
(false), and per changed day whether an onset opened in it (hours after the day's start / score) and how
many onsets opened elsewhere. Deterministic; nothing here is a pass mark: it shows where a changed day is
missed (ADR 0028, "a profile that converges in a day").
"""

from __future__ import annotations

import argparse

import numpy as np

DAY = 86400
SHAPES = ("square", "sine", "job", "biz")
CHANGES = ("missing", "higher", "lower", "flat", "late3h")


def shape(kind: str, t: np.ndarray, rng, noise: float) -> np.ndarray:
    h = (t % DAY) / 3600
    if kind == "square":
        x = np.where((h >= 6) & (h < 18), 80.0, 20.0)
    elif kind == "sine":
        x = 50 + 30 * np.sin(2 * np.pi * h / 24)
    elif kind == "job":
        x = 10 + 60 * ((h >= 2) & (h < 3.5))
    else:
        x = 20 + 60 * np.clip(np.minimum((h - 7) / 2, (19 - h) / 2), 0, 1)
    return x + (rng.normal(0, noise, len(t)) if noise else 0.0)


def change(x: np.ndarray, t: np.ndarray, day: int, how: str, noise: float, rng) -> np.ndarray:
    y = x.copy()
    age = t - t[0]
    d = (age >= day * DAY) & (age < (day + 1) * DAY)
    lo, hi = np.percentile(x, 5), np.percentile(x, 95)
    jitter = rng.normal(0, noise, int(d.sum())) if noise else 0.0
    if how == "missing":
        y[d] = lo + jitter
    elif how == "higher":
        y[d] = lo + (x[d] - lo) * 1.5
    elif how == "lower":
        y[d] = lo + (x[d] - lo) * 0.5
    elif how == "flat":
        y[d] = (lo + hi) / 2 + jitter
    else:
        idx = np.flatnonzero(d)
        y[idx[36:]] = x[idx[:-36]]
    return y


def onsets(t: np.ndarray, x: np.ndarray, name: str) -> list[tuple[float, float]]:
    from ben.detect import SeriesMonitor

    mon, out = SeriesMonitor(name), []
    for ts, v in zip((t * 1e9).astype(np.int64).tolist(), x.tolist()):
        verdict = mon.update(ts, v)
        if any(e.state == "open" for e in verdict.episodes):
            out.append((ts / 1e9, verdict.score))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=1, help="noise seed")
    seed = ap.parse_args().seed
    t = np.arange(0, 14 * DAY, 300, dtype=float) + 1_400_000_000 // DAY * DAY
    hits = tried = others = 0
    for kind in SHAPES:
        for noise in (0.0, 2.0):
            x = shape(kind, t, np.random.default_rng(seed), noise)
            false = [s for ts, s in onsets(t, x, kind) if ts > t[0] + 2.1 * DAY]
            row = []
            for day in (4, 10):
                for how in CHANGES:
                    found = onsets(t, change(x, t, day, how, noise, np.random.default_rng(seed + 1)), kind)
                    a, b = t[0] + day * DAY, t[0] + (day + 1) * DAY + 3600
                    inside = [(ts - a, s) for ts, s in found if a <= ts < b]
                    elsewhere = sum(1 for ts, _ in found if ts > t[0] + 2.1 * DAY and not a <= ts < b)
                    tried, hits, others = tried + 1, hits + bool(inside), others + elsewhere
                    cell = f"{inside[0][0] / 3600:.1f}h/{inside[0][1]:.2f}" if inside else "MISS"
                    row.append(f"{how[:4]}{day}:{cell}" + (f"+{elsewhere}" if elsewhere else ""))
            print(f"{kind:6} noise {noise:.0f} false {len(false):2d} | {' '.join(row)}", flush=True)
    print(f"changed days found {hits}/{tried}; onsets elsewhere {others}")


if __name__ == "__main__":
    main()
