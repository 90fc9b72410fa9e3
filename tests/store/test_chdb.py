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
