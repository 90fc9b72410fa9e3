"""Lanes benchmark: alerts keep flowing while routine traffic is twice what the spine can store.

    ben bench lanes [--routine-rate R] [--spine-rows-per-s C] [--seconds S] [--runs N]
                    [--realtime-priority P] [--json]

The spine's store writer is capped at C rows/s for every lane but alerts (`store.max_rows_per_s`)
and its WAL quota leaves routine data 2 MiB, so within a second or two the overload reaches its
steady state: the spine asks the sidecar to hold routine data (credit and back-pressure), the
sidecar keeps it in its WAL and the spine stores what it can. One SDK client emits routine events
at R = 2 C per second and an alert every 50 ms.

Latency of an alert = when the INSERT that stored it returned - ts (the SDK stamped it when
emitted): the spine's ``alert_store_delay_seconds`` quantiles, read as the load ends, over the
alerts stored in the last ``WINDOW_S`` seconds (``store.alert_delay_window_s``): the steady state,
not the start-up. Each phase runs on a cluster of its own; the overload phase runs N times
(default 3), each on a fresh cluster, and the figures are medians over the runs (like every ben
benchmark: the p99 of one run of 200 alerts is its second-slowest alert, and this host's stalls
move it by 3x from run to run), with each run's p99 and the worst in ``alert_p99_ms_runs`` and
``alert_p99_ms_worst``. Also reported, from the rows themselves:
the latency to ``stored_ts`` (when the store writer issued the INSERT), without the first second
of each phase. Reported: alert_p99_ms (and
p50, max), alerts_sent (acknowledged by the sidecar), alerts_stored, routine_events_per_s (stored),
the back-pressure counters, and the baseline: the same alerts with no routine traffic, measured in
the same run. Each run also reports how long the disk made the alert WALs' durable writes wait
(``wal_sync_seconds`` of the sidecar's and the spine's alert lane, p99 and max): every alert waits
for one fsync in each, so a stall of the disk shows there; each run's figures are in
``overload_runs``.

The cluster's sidecar and spine run with ``realtime_priority = P`` (default 1: SCHED_RR, ADR 0027),
the setting for a host where the application and ben share the cores, as here: the load
generator, the sidecar, the spine and its store process on one machine. ``--realtime-priority 0``
measures normal scheduling. Each run reports the priority the processes actually ran at (the
``realtime_priority`` status figure: 0 where the system refused it), and ``realtime_applied`` says
whether every run had it.
"""

from __future__ import annotations

import json
import math
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MiB = 1 << 20
WARMUP_ALERTS = 20  # the first second of alerts of each phase: connection set-up, reported apart
WINDOW_S = 10.0     # the stored-latency quantiles cover the last 10 s of each phase


def _say(progress: bool, msg: str) -> None:
    if progress:
        print(msg, file=sys.stderr, flush=True)


def load(sidecar: str, routine_rate: float, seconds: float, alert_every_s: float) -> None:
    """Load generator (its own process): routine events at a rate, an alert every alert_every_s."""
    from ben.sdk import Client

    client = Client("lanes", sidecar=sidecar, max_buffer_events=50_000, max_batch_events=500, flush_interval_ms=50)
    started = time.monotonic()
    next_alert, sent, emitted = started, 0, 0
    per_tick = routine_rate / 200
    owed = 0.0
    while (now := time.monotonic()) - started < seconds:
        if now >= next_alert:
            if client.alert("lanes_probe", f"probe {sent}") is not None:
                sent += 1
            next_alert += alert_every_s
        owed += per_tick
        while owed >= 1:
            client.gauge("routine", float(emitted), {"i": str(emitted % 10)})
            emitted += 1
            owed -= 1
        delay = started + (emitted / routine_rate if routine_rate else 0) - time.monotonic()
        time.sleep(max(0.0, min(delay, 0.005)))
    client.flush(timeout=5)  # alerts are acknowledged at once; routine may still be held back
    s = client.stats
    client.shutdown(timeout=1)
    print(json.dumps({"alerts_sent": sent, "alerts_acked_total": s.acked, "routine_emitted": emitted,
                      "dropped_full": s.dropped_full, "backpressure": s.backpressure}))


def _phase(cluster, routine_rate: float, seconds: float) -> tuple[dict, dict]:
    from ben.cli.procs import stop_with_parent_env, query_rows, wait_for

    gen = subprocess.run([sys.executable, __file__, "load", cluster.sidecar_addr, str(routine_rate), str(seconds),
                          "0.05"], capture_output=True, text=True, timeout=seconds + 120,
                         env={**os.environ, **stop_with_parent_env(signal.SIGTERM)})  # gone with the bench
    if gen.returncode != 0:
        raise RuntimeError(f"load generator failed: {gen.stderr[-2000:]}")
    out = json.loads(gen.stdout)
    where = "kind = 'alert'"
    wait_for(lambda: query_rows(cluster.spine_addr, f"SELECT count() AS n FROM ben.events WHERE {where}")[0]["n"]
             >= out["alerts_sent"], 60, "alerts to be stored")
    spine = cluster.status("spine")  # at once: the window is the phase's last WINDOW_S seconds
    rows = query_rows(cluster.spine_addr, f"SELECT (stored_ts - ts) / 1e6 AS ms FROM ben.events WHERE {where} "
                                          "ORDER BY ts")
    steady = rows[WARMUP_ALERTS:] if len(rows) > 2 * WARMUP_ALERTS else rows  # the first second: connection set-up
    issued = sorted(r["ms"] for r in steady)
    pick = lambda q: issued[min(len(issued) - 1, int(q * len(issued)))]  # noqa: E731
    stored = {q: spine.get(f"alert_store_delay_seconds{{quantile={q}}}", float("nan")) * 1e3
              for q in ("0.5", "0.99", "1")}
    return out, {"n": len(rows), "p50": stored["0.5"], "p99": stored["0.99"], "worst": stored["1"],
                 "issued_p50": pick(0.5), "issued_p99": pick(0.99), "stored": len(rows), "spine": spine,
                 "sidecar": cluster.status("sidecar")}


def _cluster(tmp: Path, spine_rows_per_s: int, realtime_priority: int = 0):
    from ben.cli.procs import Cluster

    return Cluster(tmp, spine={
        "wal_max_bytes": 10 * MiB, "wal_alert_reserve_bytes": 4 * MiB, "wal_anomaly_reserve_bytes": 4 * MiB,
        "realtime_priority": realtime_priority,
        "store": {"max_rows_per_s": spine_rows_per_s, "alert_delay_window_s": WINDOW_S}},
        sidecar={"realtime_priority": realtime_priority}, stop_with_parent=True)


def run(routine_rate: float = 30_000, spine_rows_per_s: int = 15_000, seconds: float = 15.0,
        progress: bool = True, runs: int = 3, realtime_priority: int = 1) -> dict:
    if runs < 1:
        raise ValueError(f"runs must be at least 1, got {runs}")
    if not 0 <= realtime_priority <= 99:
        raise ValueError(f"realtime_priority must be 0..99, got {realtime_priority}")
    scheduling = f"realtime priority {realtime_priority} (SCHED_RR)" if realtime_priority else "normal scheduling"
    _say(progress, f"ben bench lanes: routine {routine_rate:,.0f} events/s against a spine storing "
                   f"{spine_rows_per_s:,} rows/s, an alert every 50 ms, {seconds:.0f} s per phase, "
                   f"{runs} overload run(s), sidecar and spine at {scheduling}")
    overload = []
    with tempfile.TemporaryDirectory(prefix="ben-lanes-") as tmp:
        cluster = _cluster(Path(tmp) / "baseline", spine_rows_per_s, realtime_priority)
        try:
            cluster.start()
            base, base_lat = _phase(cluster, 0, seconds)
        finally:
            cluster.stop()
        _say(progress, f"  baseline (alerts only): p50 {base_lat['p50']:.1f} ms, p99 {base_lat['p99']:.1f} ms")
        for i in range(runs):
            cluster = _cluster(Path(tmp) / f"overload-{i + 1}", spine_rows_per_s, realtime_priority)
            try:
                cluster.start()
                started = time.monotonic()
                out, lat = _phase(cluster, routine_rate, seconds)
                elapsed = time.monotonic() - started
            finally:
                cluster.stop()
            one = _figures(out, lat, seconds, elapsed)
            overload.append(one)
            _say(progress, f"  overload run {i + 1}/{runs}: alert p99 {one['alert_p99_ms']:.1f} ms to stored (max "
                           f"{one['alert_max_ms']:.1f}; to the INSERT issued: {one['alert_p99_issued_ms']:.1f}); "
                           f"{one['alerts_stored']}/{one['alerts_sent']} alerts stored; routine stored "
                           f"{one['routine_events_per_s']:,.0f}/s of {one['routine_offered_per_s']:,.0f}/s offered; "
                           f"the spine asked the sidecar to hold back {one['sidecar_spine_backpressure']:.0f} times; "
                           f"alert WAL syncs p99/max: sidecar {one['sidecar_alert_sync_p99_ms']:.1f}/"
                           f"{one['sidecar_alert_sync_max_ms']:.1f} ms, spine {one['spine_alert_sync_p99_ms']:.1f}/"
                           f"{one['spine_alert_sync_max_ms']:.1f} ms; realtime priority: sidecar "
                           f"{one['sidecar_realtime_priority']}, spine {one['spine_realtime_priority']}")
    median = lambda key: float(statistics.median(r[key] for r in overload))  # noqa: E731
    result = {
        "alert_p99_ms": median("alert_p99_ms"),
        "alert_p99_ms_runs": [r["alert_p99_ms"] for r in overload],
        "alert_p99_ms_worst": max(r["alert_p99_ms"] for r in overload),
        "alert_p50_ms": median("alert_p50_ms"),
        "alert_max_ms": max(r["alert_max_ms"] for r in overload),
        "alert_p99_issued_ms": median("alert_p99_issued_ms"),
        "alert_p50_issued_ms": median("alert_p50_issued_ms"),
        "alerts_sent": sum(r["alerts_sent"] for r in overload),
        "alerts_stored": sum(r["alerts_stored"] for r in overload),
        "alerts_lost_runs": sum(r["alerts_stored"] < r["alerts_sent"] for r in overload),
        "routine_events_per_s": median("routine_events_per_s"),
        "routine_offered_per_s": median("routine_offered_per_s"),
        "routine_dropped_in_sdk": sum(r["routine_dropped_in_sdk"] for r in overload),
        "sdk_backpressure": sum(r["sdk_backpressure"] for r in overload),
        "sidecar_spine_backpressure": sum(r["sidecar_spine_backpressure"] for r in overload),
        "spine_refused_quota": sum(r["spine_refused_quota"] for r in overload),
        "alert_sync_max_ms": max(max(r["sidecar_alert_sync_max_ms"], r["spine_alert_sync_max_ms"]) for r in overload),
        "overload_runs": overload,
        "runs": runs,
        "realtime_priority": realtime_priority,
        "realtime_applied": all(min(r["sidecar_realtime_priority"], r["spine_realtime_priority"]) == realtime_priority
                                for r in overload) and realtime_priority > 0,
        "baseline_alert_p99_ms": float(base_lat["p99"]),
        "baseline_alert_p99_issued_ms": float(base_lat["issued_p99"]),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
    }
    result["ratio"] = result["alert_p99_ms"] / max(1e-9, result["baseline_alert_p99_ms"])
    if realtime_priority and not result["realtime_applied"]:
        _say(progress, "  note: the system refused realtime scheduling in some runs (see realtime_priority per run); "
                       "those ran with normal scheduling")
    _say(progress, f"  median of {runs}: alert p99 {result['alert_p99_ms']:.1f} ms to stored (runs: "
                   f"{', '.join(f'{v:.1f}' for v in result['alert_p99_ms_runs'])}); "
                   f"{result['alerts_stored']}/{result['alerts_sent']} alerts stored; routine stored "
                   f"{result['routine_events_per_s']:,.0f}/s")
    return result


def _figures(out: dict, lat: dict, seconds: float, elapsed: float) -> dict:
    """One overload run's figures."""
    side, spine = lat["sidecar"], lat["spine"]
    return {
        "alert_p99_ms": float(lat["p99"]),
        "alert_p50_ms": float(lat["p50"]),
        "alert_max_ms": float(lat["worst"]),
        "alert_p99_issued_ms": float(lat["issued_p99"]),
        "alert_p50_issued_ms": float(lat["issued_p50"]),
        "alerts_sent": out["alerts_sent"],
        "alerts_stored": int(lat["stored"]),
        "routine_events_per_s": spine.get("rows_stored_total{lane=routine}", 0) / elapsed,
        "routine_offered_per_s": out["routine_emitted"] / seconds,
        "routine_dropped_in_sdk": out["dropped_full"],
        "sdk_backpressure": out["backpressure"],
        "sidecar_spine_backpressure": side.get("spine_backpressure_total", 0),
        "spine_refused_quota": spine.get("refused_total{reason=quota}", 0),
        # The SCHED_RR priority each process actually ran at (0: normal scheduling; ADR 0027).
        **{f"{who}_realtime_priority": int(figures.get("realtime_priority", 0))
           for who, figures in (("sidecar", side), ("spine", spine))},
        # How long the disk made the alert WALs' durable writes wait (every alert waits for one in
        # the sidecar and one in the spine): the syncs of the cluster's last minute.
        **{f"{who}_alert_sync_{q}_ms": figures.get(f"wal_sync_seconds{{lane=alert,quantile={key}}}", math.nan) * 1e3
           for who, figures in (("sidecar", side), ("spine", spine)) for q, key in (("p99", "0.99"), ("max", "1"))},
    }


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "load":
        from ben.cli.parent import follow_parent

        follow_parent()  # gone with the bench that started it, kill -9 too
        load(sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]))
    else:
        print(json.dumps(run()))
