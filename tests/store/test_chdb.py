from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ben.core.errors import QueryError
from ben.core.lanes import ALERT, ROUTINE
from ben.store.chdb import ChdbStore
from ben.store.rows import to_table
from ben.v1 import telemetry_pb2 as pb
from tests.store.test_rows import request


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> ChdbStore:
    s = ChdbStore(tmp_path_factory.mktemp("chdb"))
    yield s
    s.close()


def metric_request(first: int, n: int, seq: int) -> pb.IngestRequest:
    return request(first, [(pb.KIND_METRIC, "m", float(i), "", {"i": i}) for i in range(n)], seq=seq)


def test_insert_count_max_delete(store: ChdbStore) -> None:
    store.insert_events(to_table([(1, metric_request(1, 5, 1)), (2, metric_request(6, 3, 2))]))
    assert store.count_rows() == 8
    assert store.max_spine_seq(ROUTINE) == 2 and store.max_spine_seq(ALERT) == 0
    assert store.count_by_spine_seq(ROUTINE, 1, 2) == {1: 5, 2: 3}
    assert store.count_by_spine_seq(ALERT, 1, 2) == {}
    store.delete_spine_seqs(ALERT, [2])
    assert store.count_by_spine_seq(ROUTINE, 1, 2) == {1: 5, 2: 3}
    store.delete_spine_seqs(ROUTINE, [2])
    assert store.count_by_spine_seq(ROUTINE, 1, 2) == {1: 5}
    data = json.loads(store.query_json("SELECT producer_seq, value FROM ben.events ORDER BY producer_seq"))
    assert [row["producer_seq"] for row in data["data"]] == [1, 2, 3, 4, 5]  # plain numbers, not strings


def test_query_errors_are_query_errors(store: ChdbStore) -> None:
    with pytest.raises(QueryError, match="UNKNOWN_TABLE|doesn't exist|does not exist"):
        store.query_json("SELECT * FROM ben.nope")
    with pytest.raises(QueryError, match="only read-only"):
        store.query_json("DROP TABLE ben.events")


def test_second_opener_gets_a_clear_error(store: ChdbStore) -> None:
    code = ("from ben.store.chdb import ChdbStore\n"
            "from ben.core.errors import StorageError\n"
            "try:\n"
            f"    ChdbStore({str(store.path)!r})\n"
            "except StorageError as e:\n"
            "    print('ERR', e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "ERR" in out.stdout and "in use by another process" in out.stdout, out.stdout + out.stderr
