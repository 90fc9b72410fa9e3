"""Ingest benchmark: durable end-to-end events/s against the raw rates of its two disks.

    ben bench ingest [--events N] [--runs R] [--store chdb|clickhouse] [--clickhouse HOST:PORT] [--json]

Measured in one run, medians of R runs each:
- events_per_s: SDK -> sidecar -> spine -> store as separate processes (load generator, sidecar,
  spine), timed from the first event emitted to the last one stored (rows counted by the spine).
- raw_store_rows_per_s: the same rows inserted straight into the store, in this process
  (chDB: ``ChdbStore.insert_events``, Arrow).
- raw_wal_records_per_s: one-event records appended to the RocksDB WAL in fsync'd groups of 1000.
- ratio: events_per_s / min(raw_store_rows_per_s, raw_wal_records_per_s).

With ``--store clickhouse`` the store is a ClickHouse server: one the bench starts itself
(Debian's clickhouse-server on loopback, data in a temp dir) or the one at ``--clickhouse``
(the bench writes ben.events and a scratch database ben_bench there: use a scratch server). Then
- raw_native_rows_per_s: the baseline, a plain clickhouse-driver columnar INSERT of the same rows
  (Python lists prepared before the clock starts) into a table like ben.events;
- raw_store_rows_per_s: ``ClickHouseStore.insert_events`` of the same rows (Arrow -> lists -> driver);
- ratio: events_per_s / min(raw_native_rows_per_s, raw_wal_records_per_s).
"""

from __future__ import annotations

import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EVENT_BYTES = 96


def _say(progress: bool, msg: str) -> None:
    if progress:
        print(msg, file=sys.stderr, flush=True)


def raw_wal(records: int = 200_000, group: int = 1000) -> float:
    from ben.core.wal import Wal

    with tempfile.TemporaryDirectory() as tmp:
        wal = Wal(Path(tmp) / "wal")
        payload = os.urandom(EVENT_BYTES)
        started = time.perf_counter()
        for _ in range(records // group):
            wal.append([payload] * group)
        elapsed = time.perf_counter() - started
        wal.close()
    return records / elapsed


def sample_requests(events: int, per_batch: int = 1000):
    """IngestRequests shaped like the load generator's."""
    from ben.sdk.batch import BatchBuilder
    from ben.v1 import telemetry_pb2 as pb

    source = pb.Source(host="bench", subsystem="bench", instance="1")
    out, seq = [], 1
    while seq <= events:
        b = BatchBuilder(seq)
        for i in range(min(per_batch, events - seq + 1)):
            b.add(pb.KIND_METRIC, f"series_{i % 50}", float(i), "", {"route": f"/r{i % 8}", "zone": "a"},
                  1_700_000_000_000_000_000 + seq + i)
        req = pb.IngestRequest(sender_id="bench", first_seq=seq, last_seq=b.last_seq, batch=b.build(source, "p"))
        out.append(req)
        seq = b.last_seq + 1
    return out


def raw_store(rows_total: int = 400_000, per_insert: int = 100_000) -> float:
    from ben.store import rows
    from ben.store.chdb import ChdbStore

    requests = sample_requests(rows_total)
    per = per_insert // 1000
    with tempfile.TemporaryDirectory() as tmp:
        store = ChdbStore(Path(tmp) / "chdb")
        try:
            started = time.perf_counter()
            for i in range(0, len(requests), per):
                chunk = requests[i:i + per]
                store.insert_events(rows.to_table([(i + j + 1, r) for j, r in enumerate(chunk)]))
            elapsed = time.perf_counter() - started
        finally:
            store.close()
    return rows_total / elapsed


def _tables(rows_total: int, per_insert: int):
    from ben.store import rows

    requests = sample_requests(rows_total)
    per = per_insert // 1000
    return [rows.to_table([(i + j + 1, r) for j, r in enumerate(requests[i:i + per])])
            for i in range(0, len(requests), per)]


def raw_native(host: str, port: int, rows_total: int = 400_000, per_insert: int = 100_000) -> float:
    """The baseline: clickhouse-driver columnar INSERTs of the same rows, lists prepared beforehand."""
    from clickhouse_driver import Client

    from ben.store.schema import EVENT_COLUMNS

    columns = [[t.column(i).to_pylist() for i in range(t.num_columns)] for t in _tables(rows_total, per_insert)]
    names = ", ".join(f"`{c}`" for c in EVENT_COLUMNS)
    client = Client(host=host, port=port)
    try:
        client.execute("CREATE DATABASE IF NOT EXISTS ben_bench")
        client.execute("DROP TABLE IF EXISTS ben_bench.events")
        client.execute("CREATE TABLE ben_bench.events AS ben.events")
        started = time.perf_counter()
        for data in columns:
            client.execute(f"INSERT INTO ben_bench.events ({names}) VALUES", data, columnar=True)
        elapsed = time.perf_counter() - started
        client.execute("DROP DATABASE ben_bench")
    finally:
        client.disconnect()
    return rows_total / elapsed


def raw_server_store(host: str, port: int, rows_total: int = 400_000, per_insert: int = 100_000) -> float:
    """ClickHouseStore.insert_events of the same rows (what the spine's store writer calls)."""
    from clickhouse_driver import Client

    from ben.store.server import ClickHouseStore

    tables = _tables(rows_total, per_insert)
    store = ClickHouseStore(host, port)
    try:
        started = time.perf_counter()
        for table in tables:
            store.insert_events(table)
        elapsed = time.perf_counter() - started
    finally:
        store.close()
    client = Client(host=host, port=port)
    try:
        client.execute("TRUNCATE TABLE ben.events")  # the end-to-end runs start from an empty table
    finally:
        client.disconnect()
    return rows_total / elapsed


def load(sidecar: str, events: int) -> None:
    """Load generator (its own process): emit `events` as fast as the SDK allows, then flush."""
    from ben.sdk import Client

    client = Client("bench", sidecar=sidecar, full_policy="block", max_batch_events=2000,
                    max_buffer_events=200_000, window_batches=64)
    t0 = time.time()
    started = time.perf_counter()
    for i in range(events):
        client.gauge("latency_ms", float(i % 1000), {"route": "/r%d" % (i % 8), "zone": "a"})
    ok = client.flush(timeout=120)
    client.shutdown(timeout=5)
    print(json.dumps({"t0": t0, "emit_s": round(time.perf_counter() - started, 3), "flushed": ok,
                      "acked": client.stats.acked}))


def end_to_end(events: int, runs: int, progress: bool, store: dict | None = None) -> tuple[list[float], dict]:
    from ben.cli.procs import Cluster, stop_with_parent_env, wait_for

    rates = []
    with tempfile.TemporaryDirectory(prefix="ben-bench-") as tmp:
        cluster = Cluster(Path(tmp), store=store or {}, stop_with_parent=True)
        try:
            cluster.start()
            stored_before = 0.0
            for run in range(runs):
                gen = subprocess.run([sys.executable, __file__, "load", cluster.sidecar_addr, str(events)],
                                     capture_output=True, text=True, timeout=600,
                                     env={**os.environ, **stop_with_parent_env(signal.SIGTERM)})  # gone with the bench
                if gen.returncode != 0:
                    raise RuntimeError(f"load generator failed: {gen.stderr[-2000:]}")
                target = stored_before + events
                wait_for(lambda: cluster.status("spine").get("rows_stored_total", 0) >= target, 600,
                         f"{events} events to be stored", interval=0.01)
                # From the first event emitted (the generator's clock, the same machine) to stored.
                elapsed = time.time() - json.loads(gen.stdout)["t0"]
                stored_before = target
                rates.append(events / elapsed)
                _say(progress, f"  end-to-end run {run + 1}/{runs}: {events:,} events stored in {elapsed:.2f}s "
                               f"= {rates[-1]:,.0f} events/s (load generator: {gen.stdout.strip()})")
            figures = cluster.status("spine")
        finally:
            cluster.stop()
    return rates, figures


def run(events: int = 400_000, runs: int = 3, progress: bool = True, store: str = "chdb",
        clickhouse: str | None = None) -> dict:
    if store == "clickhouse":
        return run_clickhouse(events, runs, progress, clickhouse)
    _say(progress, f"ben bench ingest: {runs} runs of each measurement, {events:,} events end to end per run")
    wal = [raw_wal() for _ in range(runs)]
    _say(progress, f"  raw WAL append (1000-record fsync'd groups): median {statistics.median(wal):,.0f} records/s")
    raw = [raw_store() for _ in range(runs)]
    _say(progress, f"  raw chDB Arrow insert: median {statistics.median(raw):,.0f} rows/s")
    e2e, figures = end_to_end(events, runs, progress)
    events_per_s = statistics.median(e2e)
    raw_store_rate, raw_wal_rate = statistics.median(raw), statistics.median(wal)
    return {
        "store": "chdb",
        "events_per_s": events_per_s,
        "raw_store_rows_per_s": raw_store_rate,
        "raw_wal_records_per_s": raw_wal_rate,
        "ratio": events_per_s / min(raw_store_rate, raw_wal_rate),
        "events_per_run": events,
        "runs": runs,
        "store_inserts": figures.get("store_inserts_total", 0.0),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
    }


def run_clickhouse(events: int, runs: int, progress: bool, address: str | None) -> dict:
    from ben.store.local_server import LocalClickHouse

    with tempfile.TemporaryDirectory(prefix="ben-bench-ch-") as tmp:
        server = None
        if address is None:
            server = LocalClickHouse(Path(tmp) / "clickhouse").start()
            host, port = server.host, server.port
        else:
            host, _, port_text = address.rpartition(":")
            port = int(port_text)
        try:
            from ben.store.server import ClickHouseStore

            version = ClickHouseStore(host, port).capabilities.version  # also creates the schema
            _say(progress, f"ben bench ingest --store clickhouse: ClickHouse {version} at {host}:{port}; {runs} runs "
                           f"of each measurement, {events:,} events end to end per run")
            wal = [raw_wal() for _ in range(runs)]
            _say(progress, f"  raw WAL append (1000-record fsync'd groups): median {statistics.median(wal):,.0f} "
                           "records/s")
            raw_rows = min(400_000, max(50_000, events))  # small runs (tests) measure the baselines on fewer rows
            native = [raw_native(host, port, raw_rows, min(raw_rows, 100_000)) for _ in range(runs)]
            _say(progress, f"  raw native insert (clickhouse-driver, columnar): median "
                           f"{statistics.median(native):,.0f} rows/s")
            via_store = [raw_server_store(host, port, raw_rows, min(raw_rows, 100_000)) for _ in range(runs)]
            _say(progress, f"  ClickHouseStore.insert_events: median {statistics.median(via_store):,.0f} rows/s")
            e2e, figures = end_to_end(events, runs, progress, {"backend": "clickhouse", "host": host, "port": port})
        finally:
            if server is not None:
                server.stop()
    events_per_s = statistics.median(e2e)
    native_rate, wal_rate = statistics.median(native), statistics.median(wal)
    return {
        "store": f"clickhouse {version}",
        "events_per_s": events_per_s,
        "raw_native_rows_per_s": native_rate,
        "raw_store_rows_per_s": statistics.median(via_store),
        "raw_wal_records_per_s": wal_rate,
        "ratio_to_raw_native": events_per_s / native_rate,
        "ratio": events_per_s / min(native_rate, wal_rate),
        "events_per_run": events,
        "runs": runs,
        "store_inserts": figures.get("store_inserts_total", 0.0),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
    }


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "load":
        from ben.cli.parent import follow_parent

        follow_parent()  # gone with the bench that started it, kill -9 too
        load(sys.argv[2], int(sys.argv[3]))
    else:
        print(json.dumps(run()))
