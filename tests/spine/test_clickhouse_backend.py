"""The spine as a real process on a real clickhouse-server (18.16): exactly once through a kill -9
of the spine and through an outage of the server while ingesting; ``ben query`` on it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from ben.cli.procs import query_rows, wait_for
from tests.helpers import Load, assert_exactly_once


def server_cluster(make_cluster, server):
    # 18.16 has no fsync_after_insert: the WAL keeps records writeback_wait_s after their INSERT (short here).
    return make_cluster(store={"backend": "clickhouse", "host": server.host, "port": server.port,
                               "writeback_wait_s": 0.5})


def ben(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ben", *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


@pytest.mark.timeout(600)
def test_spine_killed_mid_stream_on_clickhouse(make_cluster, clickhouse) -> None:
    cluster = server_cluster(make_cluster, clickhouse).start()
    load = Load(cluster.sidecar_addr, 40_000, rate=15_000)
    load.wait_emitted(12_000)
    cluster.spine.kill()  # SIGKILL, mid-stream
    seen = load.emitted
    wait_for(lambda: load.emitted > seen + 3_000, 60, "the sidecar to keep accepting while the spine is down")
    cluster.start_spine()
    load.finish()
    cluster.wait_drained()
    assert_exactly_once(cluster.spine_addr, load.client.producer_id, 40_000)
    # ben query: through the spine, and straight from the server (with the spine stopped).
    out = ben("query", "--json", "--spine", cluster.spine_addr, "SELECT count() AS n FROM ben.events")
    assert out.returncode == 0 and json.loads(out.stdout) == [{"n": 40_000}], out.stderr
    cluster.stop()
    out = ben("query", "--json", "--clickhouse", clickhouse.address,
              "SELECT version, name FROM ben.schema_migrations ORDER BY version LIMIT 1")
    assert out.returncode == 0 and json.loads(out.stdout) == [{"version": 1, "name": "events"}], out.stderr
    out = ben("query", "--clickhouse", clickhouse.address, "DROP TABLE ben.events")
    assert out.returncode != 0 and "only read-only" in out.stderr
    out = ben("query", "--clickhouse", "127.0.0.1:notaport", "SELECT 1")
    assert out.returncode == 2 and "expected HOST:PORT" in out.stderr


@pytest.mark.timeout(600)
def test_server_outage_while_ingesting(make_cluster, clickhouse) -> None:
    cluster = server_cluster(make_cluster, clickhouse).start()
    load = Load(cluster.sidecar_addr, 60_000, rate=10_000)
    load.wait_emitted(10_000)
    wait_for(lambda: cluster.status("spine").get("rows_stored_total{lane=routine}", 0) > 0, 30, "rows stored")
    clickhouse.kill()  # SIGKILL the server while the spine inserts
    seen = load.emitted
    wait_for(lambda: cluster.status("spine").get("store_insert_errors_total", 0) > 0, 60,
             "the spine to see the store fail")
    # Ingest goes on: the spine's WAL keeps what cannot be stored.
    wait_for(lambda: load.emitted > seen + 10_000 and cluster.status("spine").get("wal_records", 0) > 0, 60,
             "ingest to go on during the outage")
    clickhouse.start()
    load.finish()
    cluster.wait_drained(timeout=120)
    assert_exactly_once(cluster.spine_addr, load.client.producer_id, 60_000)
    status = cluster.status("spine")
    print(f"server outage: {status['store_insert_errors_total']:.0f} failed inserts retried; "
          f"{status.get('store_repaired_records_total', 0):.0f} records repaired")
    assert query_rows(cluster.spine_addr, "SELECT count() AS n FROM ben.events")[0]["n"] == 60_000
