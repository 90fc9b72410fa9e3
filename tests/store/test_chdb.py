"""chDB only: one process owns a data directory (the shared suite is test_backends.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ben.store.chdb import STREAM_MAX_BYTES, ChdbStore
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


def alert_table(first: int, n: int, seq: int):
    from ben.store.rows import to_table
    req = request(first, [(pb.KIND_ALERT, "down", 1.0, "provider 503", None)] * n, seq=seq, lane=pb.LANE_ALERT)
    return to_table([(seq, req)])


def test_urgent_inserts_wait_in_the_buffer_until_a_flush(store: ChdbStore) -> None:
    """The urgent connection writes into the Buffer in front of ben.events (no part per alert);
    sync moves the rows into ben.events, and the store's own reads flush first."""
    in_events = lambda: store.rows("SELECT count() FROM ben.events")[0][0]  # noqa: E731
    assert store.rows("SELECT engine FROM system.tables WHERE database = 'ben' AND name = 'events_urgent'") \
        == [("Buffer",)]
    store.sync()
    before = in_events()
    seq = max(5000, store.max_spine_seq(pb.LANE_ALERT) + 1)  # above the alerts the module's other tests stored
    store.urgent().insert_events(alert_table(5000, 2, seq))
    assert in_events() == before  # buffered in memory
    store.sync()
    assert in_events() == before + 2
    store.urgent().insert_events(alert_table(5002, 1, seq + 1))
    assert store.max_spine_seq(pb.LANE_ALERT) == seq + 1 and store.count_rows() == before + 3  # flushed first
    assert in_events() == before + 3


def test_a_failed_flush_keeps_the_rows_in_the_buffer(store: ChdbStore) -> None:
    """A flush that cannot write into ben.events raises (so the spine keeps its WAL) and loses nothing."""
    from ben.core.errors import StorageError

    store.sync()
    before = store.rows("SELECT count() FROM ben.events")[0][0]
    store.execute("ALTER TABLE ben.events ADD CONSTRAINT no_alerts CHECK lane != 'alert'")
    try:
        store.urgent().insert_events(alert_table(6000, 2, 6000))
        with pytest.raises(StorageError, match="no_alerts"):
            store.sync()
        assert store.rows("SELECT count() FROM ben.events") == [(before,)]
        assert store.rows("SELECT count() FROM ben.events_urgent") == [(before + 2,)]  # buffer + table
    finally:
        store.execute("ALTER TABLE ben.events DROP CONSTRAINT no_alerts")
    store.sync()
    assert store.rows("SELECT count() FROM ben.events") == [(before + 2,)]


@pytest.mark.parametrize("rows", [1, 20_000], ids=["memfd", "python-table"])
def test_a_failed_insert_raises(store: ChdbStore, rows: int) -> None:
    """Both insert paths report a failure: chDB's streamed insert (send_insert) claimed every row
    written when the INSERT had failed and stored nothing."""
    import pyarrow as pa

    from ben.core.errors import StorageError

    store.execute(f"CREATE TABLE ben.checked_{rows} (n UInt64, pad String, CONSTRAINT small CHECK n < 10) "
                  "ENGINE = MergeTree ORDER BY n")
    table = pa.table({"n": pa.array(range(50, 50 + rows), pa.uint64()), "pad": ["x" * 100] * rows})
    assert (table.nbytes > STREAM_MAX_BYTES) == (rows > 1)
    with pytest.raises(StorageError, match="small"):
        store.insert_rows(f"ben.checked_{rows}", table)
    assert store.rows(f"SELECT count() FROM ben.checked_{rows}") == [(0,)]
    store.insert_rows(f"ben.checked_{rows}", pa.table({"n": pa.array([5], pa.uint64()), "pad": ["x"]}))
    assert store.rows(f"SELECT n FROM ben.checked_{rows}") == [(5,)]


def test_inline_and_arrow_inserts_store_the_same_events(store: ChdbStore) -> None:
    """A few events go inline as JSON, more as Arrow bytes: every value comes back the same either
    way (64-bit integers, NaN and infinities, quotes, backslashes, NUL, newlines, non-BMP text)."""
    import math

    from ben.store.chdb import INLINE_MAX_ROWS
    from ben.store.rows import to_table

    weird = "q'uo\"te \\ back\nline \x00 nul \u00e9 \U0001F600 end"
    events = [(pb.KIND_ALERT, "w1", float("nan"), weird, {weird: weird, "k": ""}),
              (pb.KIND_METRIC, "w2", float("inf"), "", None),
              (pb.KIND_LOG, "w3", -float("inf"), "x", {"a": "b"}),
              (pb.KIND_COUNTER, "w4", 5e-324, "y", {})]
    few = to_table([(2**63 + 1, request(7_000, events, seq=7_000, lane=pb.LANE_ALERT))])
    many = to_table([(2**63 + 2, request(7_100, events * (INLINE_MAX_ROWS // 4 + 1), seq=7_001,
                                         lane=pb.LANE_ALERT))])
    assert few.num_rows <= INLINE_MAX_ROWS < many.num_rows
    store.insert_events(few)
    store.insert_events(many)
    cols = "kind, name, value, body, attributes.key, attributes.value, producer_seq, sidecar_seq, lane, spine_seq, ts"
    got = {seq: store.rows(f"SELECT {cols} FROM ben.events WHERE spine_seq = {seq} ORDER BY producer_seq LIMIT 4")
           for seq in (2**63 + 1, 2**63 + 2)}
    assert len(got[2**63 + 1]) == 4

    def same(a, b) -> bool:
        return all(x == y or (isinstance(x, float) and math.isnan(x) and math.isnan(y)) for x, y in zip(a, b))

    for inline_row, arrow_row in zip(got[2**63 + 1], got[2**63 + 2]):
        assert same(inline_row[:6], arrow_row[:6]), (inline_row, arrow_row)
    assert got[2**63 + 1][0][3] == weird and got[2**63 + 1][0][4] == [weird, "k"]
    values = store.rows(f"SELECT isNaN(value), value = inf, value = -inf FROM ben.events WHERE spine_seq = {2**63 + 1} "
                        "ORDER BY producer_seq")
    assert values[:3] == [(1, 0, 0), (0, 1, 0), (0, 0, 1)]


def test_a_failed_inline_insert_raises(store: ChdbStore) -> None:
    from ben.core.errors import StorageError
    from ben.store.rows import to_table

    store.execute("ALTER TABLE ben.events ADD CONSTRAINT no_w CHECK name != 'refused'")
    try:
        with pytest.raises(StorageError, match="no_w"):
            store.insert_events(to_table([(8_000, request(8_000, [(pb.KIND_METRIC, "refused", 1.0, "", None)],
                                                          seq=8_000))]))
    finally:
        store.execute("ALTER TABLE ben.events DROP CONSTRAINT no_w")
    assert store.count_by_spine_seq(0, 8_000, 8_000) == {}


def test_json_rows_insert_stores_what_the_table_insert_stores(store: ChdbStore) -> None:
    """The alert lane's INSERT from JSON rows (``insert_event_json``) against the Arrow path: the
    same values back; and it raises, storing nothing, when the INSERT fails."""
    import math

    from ben.core.errors import StorageError
    from ben.store.rows import to_json_rows, to_table

    weird = "q'uo\"te \\ back\nline \x00 nul \u00e9 \U0001F600 end"
    events = [(pb.KIND_ALERT, "j1", float("nan"), weird, {weird: weird, "k": ""}),
              (pb.KIND_ALERT, "j2", -float("inf"), "", None)]
    store.insert_event_json(to_json_rows([(9_001, request(9_000, events, seq=9_000, lane=pb.LANE_ALERT))])[0])
    store.insert_events(to_table([(9_002, request(9_000, events, seq=9_000, lane=pb.LANE_ALERT))]))
    cols = "kind, host, subsystem, instance, name, value, body, attributes.key, attributes.value, producer_id, " \
           "producer_seq, sidecar_id, sidecar_seq, lane, ts"
    got = {seq: store.rows(f"SELECT {cols} FROM ben.events WHERE spine_seq = {seq} ORDER BY producer_seq")
           for seq in (9_001, 9_002)}
    assert len(got[9_001]) == 2
    for a, b in zip(got[9_001], got[9_002]):
        assert all(x == y or (isinstance(x, float) and math.isnan(x) and math.isnan(y)) for x, y in zip(a, b)), (a, b)
    assert got[9_001][0][6] == weird
    store.execute("ALTER TABLE ben.events ADD CONSTRAINT no_j CHECK name != 'refused'")
    try:
        with pytest.raises(StorageError, match="no_j"):
            store.insert_event_json(to_json_rows([(9_003, request(9_100, [(pb.KIND_ALERT, "refused", 1.0, "", None)],
                                                                  seq=9_003, lane=pb.LANE_ALERT))])[0])
    finally:
        store.execute("ALTER TABLE ben.events DROP CONSTRAINT no_j")
    assert store.count_by_spine_seq(pb.LANE_ALERT, 9_003, 9_003) == {}


def test_a_json_row_whose_key_names_no_column_is_refused(store: ChdbStore) -> None:
    """chDB's default drops a JSON key that names no column; ben's JSON inserts refuse the row, so a
    renamed or misspelt column cannot lose a value silently."""
    import json

    from ben.core.errors import StorageError
    from ben.store.rows import to_json_rows

    lines, _ = to_json_rows([(9_101, request(9_100, [(pb.KIND_ALERT, "k1", 1.0, "", None)], seq=9_100,
                                             lane=pb.LANE_ALERT))])
    row = json.loads(lines)
    row["no_such_column"] = 1
    with pytest.raises(StorageError, match="no_such_column"):
        store.insert_event_json(json.dumps(row))
    assert store.count_by_spine_seq(pb.LANE_ALERT, 9_101, 9_101) == {}
    store.insert_event_json(lines)  # the same row without the stray key is stored
    assert store.count_by_spine_seq(pb.LANE_ALERT, 9_101, 9_101) == {9_101: 1}
