"""`ben bench web --json` at a small size: one object with every page's p50/p99, the same run's
baselines, and ``p99_ms`` = the worst page's p99 (the full size runs by hand: docs/benchmarks.md)."""

from __future__ import annotations

import json
import subprocess
import sys


def test_bench_web_json() -> None:
    out = subprocess.run([sys.executable, "-m", "ben", "bench", "web", "--incidents", "40", "--events", "2000",
                          "--requests", "5", "--json"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    r = json.loads(out.stdout)
    assert (r["incidents"], r["events"]) == (40, 2000)
    assert {"feed", "feed_filtered", "incident", "map", "status", "commands", "series", "series_data"} <= set(r["pages"])
    assert all(p["n"] == 5 and 0 < p["p50_ms"] <= p["p99_ms"] for p in r["pages"].values()), r["pages"]
    assert r["p99_ms"] == max(p["p99_ms"] for p in r["pages"].values())
    assert r["p99_ms_feed_incident"] == max(r["pages"][p]["p99_ms"] for p in ("feed", "incident"))
    assert {"feed", "incident"} <= set(r["baseline_query"])
