"""A cluster's federation in a process of its own, for the kill -9 tests.

``east``: opens its store, starts Federation (publish only) and stores incident changes the way
the spine does, one every ``--interval`` seconds, resuming after a kill where its store says it
stopped: incident n opens; incident n-2 resolves when n%3 == 2 (only once its opening was polled).
``west``: consumes; writes ``counts.json`` (rows and distinct summary ids in its table, without FINAL)
every 0.2 s and once more after a clean shutdown (SIGTERM).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

from ben.core.config import FederationConfig
from ben.federation import Federation
from ben.store.process import ChdbProcessStore
from tests.federation.conftest import add_incident


def plan(count: int) -> list[tuple[int, str]]:
    steps = []
    for n in range(count):
        steps.append((n, "open"))
        if n % 3 == 2:
            steps.append((n - 2, "resolved"))
    return steps


def _log_inserts(store: ChdbProcessStore, path: Path) -> None:
    """Every summary id inserted into ben.federated_incidents, appended (fsync'd) after its insert returned:
    the table itself cannot show a second insert once ReplacingMergeTree merged it away."""
    inner = store.insert_rows

    def insert_rows(target, table):
        inner(target, table)
        if target == "ben.federated_incidents":
            with open(path, "a") as f:
                f.write("".join(f"{i}\n" for i in table.column("summary_id").to_pylist()))
                f.flush()
                os.fsync(f.fileno())
    store.insert_rows = insert_rows


def _crash_point(fed: Federation, store: ChdbProcessStore, role: str, nth: int) -> None:
    calls = [0]

    def wrap(inner):
        def call(*args, **kw):
            if role == "west" and args[0] != "ben.federated_incidents":
                return inner(*args, **kw)
            result = inner(*args, **kw) if role == "west" else None  # west: stored; east: not yet forgotten
            calls[0] += 1
            if calls[0] == nth:
                os.kill(os.getpid(), signal.SIGKILL)
            return result if role == "west" else inner(*args, **kw)
        return call

    if role == "west":
        store.insert_rows = wrap(store.insert_rows)  # over the logging one: killed after the insert is logged
    else:
        fed.outbox.acked = wrap(fed.outbox.acked)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("role", choices=["east", "west"])
    p.add_argument("--dir", type=Path, required=True)
    p.add_argument("--nats", required=True)
    p.add_argument("--key", type=Path)
    p.add_argument("--trust", type=Path)
    p.add_argument("--count", type=int, default=0)
    p.add_argument("--interval", type=float, default=0.05)
    p.add_argument("--kill-after", type=int, default=0,
                   help="SIGKILL itself at the worst moment, the Nth time: east after a PubAck before the outbox "
                        "forgot the summary; west after the insert before the ack")
    a = p.parse_args()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    store = ChdbProcessStore(a.dir / "chdb")
    cfg = FederationConfig(enabled=True, servers=[a.nats], cluster=a.role, poll_interval_ms=100, ack_wait_s=2,
                           consume=a.role == "west", key=a.key, trust=a.trust)
    fed = Federation(cfg, a.dir, store)
    if a.role == "west":
        _log_inserts(store, a.dir / "inserts.log")
    fed.start()
    if a.kill_after:
        _crash_point(fed, store, a.role, a.kill_after)
    counts = a.dir / "counts.json"

    def write_counts() -> None:
        row = json.loads(store.query_json("SELECT count() AS rows, uniqExact(summary_id) AS ids "
                                          "FROM ben.federated_incidents"))["data"][0]
        counts.with_suffix(".tmp").write_text(json.dumps({k: int(v) for k, v in row.items()}))
        counts.with_suffix(".tmp").replace(counts)

    if a.role == "east":
        done = {(r["id"], r["state"]) for r in json.loads(store.query_json(
            "SELECT id, state, version FROM ben.incidents"))["data"]}
        opened_version = {r["id"]: int(r["version"]) for r in json.loads(store.query_json(
            "SELECT id, state, version FROM ben.incidents WHERE state = 'open'"))["data"]}
        for n, state in plan(a.count):
            inc_id = f"inc-{n:010d}"
            if (inc_id, state) in done:
                continue
            if state == "resolved":
                while fed.outbox.cursor < opened_version[inc_id] and not stop.is_set():
                    time.sleep(0.02)
            version = time.time_ns()
            add_incident(store, n=n, subsystem=f"svc-{n}", series=f"svc-{n} latency_ms", state=state,
                         resolved_ns=(1_780_000_000_000_000_000 + n * 60 * 10**9 + 900 * 10**9) if state == "resolved"
                         else 0, version=version)
            if state == "open":
                opened_version[inc_id] = version
            if stop.wait(a.interval):
                break
        (a.dir / "done").write_text("done")
    while not stop.wait(0.2):
        if a.role == "west":
            write_counts()
    fed.shutdown(5)
    if a.role == "west":
        write_counts()
    store.close()
    sys.exit(0)


if __name__ == "__main__":
    main()
