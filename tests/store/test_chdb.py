"""chDB only: one process owns a data directory (the shared suite is test_backends.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ben.store.chdb import ChdbStore
from ben.v1 import telemetry_pb2 as pb
from tests.store.test_rows import request


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> ChdbStore:
    s = ChdbStore(tmp_path_factory.mktemp("chdb"))
    yield s
    s.close()


def metric_request(first: int, n: int, seq: int) -> pb.IngestRequest:
    return request(first, [(pb.KIND_METRIC, "m", float(i), "", {"i": i}) for i in range(n)], seq=seq)


def test_second_opener_gets_a_clear_error(store: ChdbStore) -> None:
    code = ("from ben.store.chdb import ChdbStore\n"
            "from ben.core.errors import StorageError\n"
            "try:\n"
            f"    ChdbStore({str(store.path)!r})\n"
            "except StorageError as e:\n"
            "    print('ERR', e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "ERR" in out.stdout and "in use by another process" in out.stdout, out.stdout + out.stderr


def test_the_store_does_not_log_its_own_queries(store: ChdbStore) -> None:
    """chDB's query, thread and processor logs and its sampling profiler are off (QUIET_SETTINGS)."""
    rows = dict(store.rows("SELECT name, value FROM system.settings WHERE name IN ('log_queries', "
                           "'log_query_threads', 'log_processors_profiles', 'query_profiler_real_time_period_ns', "
                           "'query_profiler_cpu_time_period_ns')"))
    assert rows == {"log_queries": "0", "log_query_threads": "0", "log_processors_profiles": "0",
                    "query_profiler_real_time_period_ns": "0", "query_profiler_cpu_time_period_ns": "0"}


def test_the_urgent_connection_runs_beside_the_other(store: ChdbStore) -> None:
    """Two connections to one engine: an INSERT on the urgent one while a query runs on the other."""
    import threading

    from ben.cli.procs import wait_for
    from ben.store.rows import to_table

    before = store.count_rows()
    done = threading.Event()

    def slow() -> None:
        store.rows("SELECT sleepEachRow(0.5) FROM numbers(4)")
        done.set()

    worker = threading.Thread(target=slow)
    worker.start()
    urgent = store.urgent()
    assert urgent is store.urgent()  # one, for the store's life
    wait_for(lambda: urgent.rows("SELECT count() FROM system.processes WHERE query LIKE '%sleepEachRow%' "
                                 "AND query NOT LIKE '%system.processes%'")[0][0] > 0, 30, "the slow query")
    urgent.insert_events(to_table([(900, metric_request(900, 3, 900))]))
    assert not done.is_set(), "the urgent INSERT waited for the query on the other connection"
    worker.join()
    assert store.count_rows() == before + 3
