"""Probe: quirks of real exports through the held-out harness' API (ADR 0028, ninth amendment).

    python bench/export_quirks_probe.py [--seeds 1,2,3] [--only NAME,...] [--restore]

Each quirk is a generator of a normal series (no anomaly) and, from the same seed, a copy with one
obvious anomaly injected at 60% of its length (a spike of 12 noise scales, or a level shift of 8). Each
goes point by point through a default ``SeriesMonitor(name)`` (``update(ts_ns, value)`` as the harness
calls it). Printed per quirk and seed: onsets per 10k points of the normal copy (after NAB's 15%
probation), whether an onset opened within 20 points of the injected anomaly (and how many points after
it), and anything wrong: an exception, a NaN score or one outside [0, 1], a different result on a second
run, or (``--restore``) a different result after a checkpoint round trip at every 997th point.
Deterministic; nothing here is a pass mark: it shows where a quirk of real data breaks detection.
"""

from __future__ import annotations

import argparse
import math

import numpy as np

T0 = 1_420_070_400 * 10 ** 9   # 2015-01-01T00:00:00Z
MIN = 60 * 10 ** 9


def _regular(n, step_min=5, t0=T0):
    return t0 + np.arange(n, dtype=np.int64) * step_min * MIN


def _daily(ts, amp):
    return amp * np.sin(2 * np.pi * ((ts // 10 ** 9) % 86400) / 86400)


def gen(name: str, rng, n: int = 6000):
    """``(ts, x, scale)``: a normal series of quirk ``name`` and its noise scale (what an anomaly is sized by)."""
    ts = _regular(n)
    noise = rng.normal(0, 1, n)
    if name == "plain":
        return ts, 100 + noise, 1.0
    if name == "huge":
        return ts, 3e15 + 1e9 * noise, 1e9
    if name == "huge_tight":      # bytes used: 1e15 with a jitter of 1e7
        return ts, 1e15 + 1e7 * noise, 1e7
    if name == "tiny":
        return ts, 3e-9 + 1e-10 * noise, 1e-10
    if name == "tinier":
        return ts, 3e-12 + 1e-13 * noise, 1e-13
    if name == "poisson_low":
        return ts, rng.poisson(0.3, n).astype(float), 1.0
    if name == "poisson_2":
        return ts, rng.poisson(2.0, n).astype(float), 1.5
    if name == "step_gauge":      # a config gauge that changes every ~2 days
        x = np.repeat(rng.integers(1, 5, n // 500 + 1) * 10.0, 500)[:n]
        return ts, x, 5.0
    if name == "gaps":            # gaps of hours to a week
        dt = np.full(n, 5 * MIN)
        for i in rng.choice(np.arange(100, n), 8, replace=False):
            dt[i] = int(rng.choice([3, 12, 48, 168])) * 60 * MIN
        ts = T0 + np.cumsum(dt)
        return ts, 100 + _daily(ts, 10) + noise, 1.0
    if name == "rate_change":     # 5 min -> 1 min -> 1 h -> 5 min
        a, b, c = n // 3, n // 3 + n // 4, n // 3 + n // 4 + n // 6
        dt = np.full(n, 5 * MIN)
        dt[a:b] = MIN
        dt[b:c] = 60 * MIN
        ts = T0 + np.cumsum(dt)
        return ts, 100 + _daily(ts, 10) + noise, 1.0
    if name == "epoch0":
        ts = _regular(n, t0=0)
        return ts, 100 + _daily(ts, 10) + noise, 1.0
    if name == "pre1970":
        ts = _regular(n, t0=-20 * 365 * 86400 * 10 ** 9)
        return ts, 100 + _daily(ts, 10) + noise, 1.0
    if name == "future":
        ts = _regular(n, t0=9_000_000_000 * 10 ** 9)
        return ts, 100 + _daily(ts, 10) + noise, 1.0
    if name == "counter_gauge":   # a monotone counter with resets, fed as a gauge
        inc = rng.poisson(50, n).astype(float)
        x = np.cumsum(inc)
        for r in (n // 4, n // 2, 3 * n // 4):
            x[r:] -= x[r - 1]
        return ts, x, 7.0
    if name == "counter_early_reset":
        inc = rng.poisson(50, n).astype(float)
        x = np.cumsum(inc)
        x[20:] -= x[19]
        return ts, x, 7.0
    if name == "counter_huge":
        inc = rng.poisson(1e6, n).astype(float)
        return ts, 1e18 + np.cumsum(inc), 1e3
    if name == "quantised":
        return ts, np.round(40 + _daily(ts, 5) + 1.5 * noise), 1.5
    if name == "quantised_flat":  # a percentage rounded to integers, mostly one value
        return ts, np.round(3 + 0.4 * noise), 0.4
    if name == "bimodal":
        return ts, np.where(rng.random(n) < 0.5, 10.0, 90.0) + noise, 40.0
    if name == "alternating":
        return ts, np.where(np.arange(n) % 2 == 0, 10.0, 90.0) + noise, 40.0
    if name == "stuck":           # stuck for 3 days, then resumes
        x = 100 + _daily(ts, 10) + noise
        x[2000:2000 + 864] = x[2000]
        return ts, x, 1.0
    if name in ("stuck_early", "stuck_late"):   # stuck for 3 days from day 3.5 / day 8.7
        x = 100 + _daily(ts, 10) + noise
        a = 1000 if name == "stuck_early" else 2500
        x[a:a + 864] = x[a]
        return ts, x, 1.0
    if name == "stuck_plain":     # noise stuck for 16 hours, then resumes
        x = 100 + noise
        x[2500:2500 + 192] = x[2500]
        return ts, x, 1.0
    if name == "dst":             # a daily cycle that shifts by an hour twice
        sh = np.zeros(n, dtype=np.int64)
        sh[n // 3:2 * n // 3] = 60 * MIN
        return ts, 100 + _daily(ts + sh, 30) + noise, 1.0
    if name == "short":
        ts = ts[:180]
        return ts, 100 + noise[:180], 1.0
    if name == "first_outlier":
        x = 100 + noise
        x[0] = 1e6
        return ts, x, 1.0
    if name == "first_zero":      # a partial first bucket: 0 where the series runs at 100 +- 1
        x = 100 + noise
        x[0] = 0.0
        return ts, x, 1.0
    if name == "first_partial":   # a partial first bucket of a count of 1000 +- 30
        x = 1000 + 30 * noise
        x[0] = 150.0
        return ts, x, 30.0
    if name == "first_outliers3":
        x = 100 + noise
        x[:3] = [0.0, 5000.0, -300.0]
        return ts, x, 1.0
    if name == "dup_ts":          # every reading written twice (the eighth amendment's case)
        ts = np.repeat(ts[: n // 2], 2)
        return ts, 100 + noise, 1.0
    if name == "ms_jitter":       # 5 min with +-2 s of jitter
        ts = ts + rng.integers(-2000, 2000, n) * 10 ** 6
        return ts, 100 + noise, 1.0
    raise KeyError(name)


QUIRKS = ("plain", "huge", "huge_tight", "tiny", "tinier", "poisson_low", "poisson_2", "step_gauge", "gaps",
          "rate_change", "epoch0", "pre1970", "future", "counter_gauge", "counter_early_reset", "counter_huge",
          "quantised", "quantised_flat", "bimodal", "alternating", "stuck", "stuck_early", "stuck_late", "stuck_plain", "dst", "short", "first_outlier",
          "first_zero", "first_partial", "first_outliers3", "dup_ts", "ms_jitter")


def feed(ts, x, name, restore_every=0):
    """Scores, open onsets' indices, and problems of one pass through a default ``SeriesMonitor``."""
    from ben.detect import SeriesMonitor, from_bytes, to_bytes
    mon = SeriesMonitor(name)
    scores = np.empty(len(x))
    opens, problems = [], []
    for i, (t, v) in enumerate(zip(ts.tolist(), x.tolist())):
        if restore_every and i and i % restore_every == 0:
            mon = SeriesMonitor.from_state(from_bytes(to_bytes(mon.state())), name=name)
        try:
            vd = mon.update(int(t), float(v))
        except Exception as exc:  # noqa: BLE001 - a probe reports every failure
            problems.append(f"point {i}: {type(exc).__name__}: {exc}")
            scores[i] = math.nan
            continue
        scores[i] = vd.score
        if not (0.0 <= vd.score <= 1.0):
            problems.append(f"point {i}: score {vd.score!r}")
        if any(e.state == "open" and e.kind == "anomaly" for e in vd.episodes):
            opens.append(i)
    return scores, opens, problems


def probe(name, seed, restore=False):
    rng = np.random.default_rng(seed)
    ts, x, scale = gen(name, rng)
    n = len(x)
    s1, o1, p1 = feed(ts, x, name)
    s2, o2, _ = feed(ts, x, name)
    if not np.array_equal(s1, s2, equal_nan=True) or o1 != o2:
        p1.append("not deterministic")
    if restore:
        s3, o3, p3 = feed(ts, x, name, restore_every=997)
        if not np.array_equal(s1, s3, equal_nan=True) or o1 != o3:
            p1.append("checkpoint round trip differs")
        p1 += p3
    prob = int(0.15 * n)
    false = [i for i in o1 if i >= prob]
    per10k = 1e4 * len(false) / max(n - prob, 1)
    found = {}
    at = int(0.6 * n)
    for kind, size in (("spike", 12.0), ("shift", 8.0)):
        y = x.copy()
        if kind == "spike":
            y[at] += size * scale * (1 if rng.random() < 0.5 else -1)
        else:
            y[at:] += size * scale
        _, oy, py = feed(ts, y, name)
        p1 += [f"{kind}: {p}" for p in py]
        late = [i - at for i in oy if at <= i <= at + 20]
        found[kind] = late[0] if late else None
    return per10k, false, found, p1


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--only", default="")
    ap.add_argument("--restore", action="store_true")
    args = ap.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    names = args.only.split(",") if args.only else QUIRKS
    print(f"{'quirk':22s} {'onsets/10k per seed':28s} spike (points late)   shift (points late)  problems")
    for name in names:
        rows = [probe(name, s, args.restore) for s in seeds]
        on = " ".join(f"{r[0]:6.1f}" for r in rows)
        sp = " ".join("-" if r[2]["spike"] is None else str(r[2]["spike"]) for r in rows)
        sh = " ".join("-" if r[2]["shift"] is None else str(r[2]["shift"]) for r in rows)
        probs = sorted({p for r in rows for p in r[3]})
        print(f"{name:22s} {on:28s} {sp:21s} {sh:20s} {'; '.join(probs[:3])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
