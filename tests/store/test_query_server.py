"""The query sandbox on a real ClickHouse server (Debian's 18.16): readonly = 1 and the limits as
query settings on a connection of its own (ADR 0032)."""

from __future__ import annotations

import json
import threading
import time

import pytest

from ben.cli.procs import wait_for
from ben.core.errors import QueryError
from ben.store import ClickHouseStore
from ben.store.query import QueryLimits

LIMITS = QueryLimits(timeout_s=2.0, max_result_bytes=1 << 20)


@pytest.fixture
def server_store(clickhouse):
    store = ClickHouseStore(clickhouse.host, clickhouse.port)
    yield store
    store.close()


@pytest.mark.parametrize("sql, expected", [
    ("SELECT * FROM file('/etc/passwd', 'CSV', 'x String')", "Table functions are forbidden in readonly mode"),
    ("SELECT * FROM url('http://127.0.0.1:9/x', 'CSV', 'x String')", "Table functions are forbidden"),
    ("SELECT * FROM remote('127.0.0.1:9', system.one)", "Table functions are forbidden"),
    ("SELECT * FROM mysql('127.0.0.1:9', 'd', 't', 'u', 'p')", "Table functions are forbidden"),
    ("SELECT * FROM jdbc('x', 'y', 'z')", "Table functions are forbidden"),
    ("SELECT * FROM odbc('x', 'y')", "Table functions are forbidden"),
    ("SELECT 1 SETTINGS readonly = 0", "readonly"),
    ("SELECT 1 SETTINGS max_execution_time = 1000", "readonly"),
    ("SELECT 1 INTO OUTFILE '/tmp/x'", "OUTFILE"),
    ("SELECT 1 INTO /* c */ outfile '/tmp/x'", "OUTFILE"),
    ("DROP TABLE ben.events", "only read-only"),
])
def test_refused_on_the_server(server_store, sql: str, expected: str) -> None:
    with pytest.raises(QueryError, match="refused|only read-only") as caught:
        server_store.operator_query(sql, "s1", LIMITS)
    assert expected in str(caught.value)


def test_limits_on_the_server(server_store) -> None:
    assert json.loads(server_store.operator_query("SELECT count() AS n FROM ben.events", "s2", LIMITS))["data"] \
        == [{"n": 0}]
    with pytest.raises(QueryError, match=r"^query cancelled after 2 s: max_execution_time"):
        server_store.operator_query("SELECT count() FROM system.numbers", "s3", LIMITS)
    with pytest.raises(QueryError, match=r"^result over 1 MiB: max_result_bytes"):
        server_store.operator_query("SELECT * FROM system.numbers LIMIT 10000000", "s4", LIMITS)
    small = QueryLimits(timeout_s=20.0, max_result_bytes=1 << 20, max_memory_bytes=64 << 20)  # ADR 0045
    with pytest.raises(QueryError, match=r"^query used over 64 MiB of memory: max_memory_usage"):
        server_store.operator_query("SELECT length(groupArray(number)) FROM system.numbers LIMIT 50000000", "s5",
                                    small)
    with pytest.raises(QueryError, match="readonly"):
        server_store.operator_query("SELECT 1 SETTINGS max_memory_usage = 0", "s6", small)


def test_cancel_on_the_server(server_store) -> None:
    outcome: list[Exception] = []

    def run() -> None:
        try:
            server_store.operator_query("SELECT count() FROM system.numbers", "kill1", QueryLimits(timeout_s=120))
        except QueryError as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    wait_for(lambda: server_store.rows("SELECT count() FROM system.processes WHERE query_id = 'kill1'")[0][0], 30,
             "the query to run")
    started = time.monotonic()
    server_store.cancel_query("kill1")
    thread.join(30)
    assert time.monotonic() - started < 5.0
    assert [str(e) for e in outcome] == ["query cancelled: the client went away or was interrupted"]


def test_a_read_only_user_as_documented(clickhouse) -> None:
    """The ``ben_reader`` user of ADR 0032 (readonly = 1 profile, database ben only): operator
    queries run as it; table functions, other databases and writes are the server's refusals."""
    from ben.core.config import StoreConfig
    from ben.store import open_store

    store = open_store(StoreConfig(backend="clickhouse", host=clickhouse.host, port=clickhouse.port,
                                   query_user="ben_reader"), None)
    try:
        # (this query's own row: the shared server may run another test's query at the same moment)
        own = "SELECT user AS u FROM system.processes WHERE query LIKE '%AS u FROM system.processes WHERE%'"
        assert json.loads(store.operator_query(own, "r1", LIMITS))["data"] == [{"u": "ben_reader"}]
        with pytest.raises(QueryError, match="forbidden in readonly mode"):
            store.operator_query("SELECT * FROM numbers(2)", "r2", LIMITS)
        with pytest.raises(QueryError, match="Code: 291"):  # ACCESS_DENIED to a database
            store.operator_query("SELECT * FROM default.anything", "r3", LIMITS)
        reader = ClickHouseStore(clickhouse.host, clickhouse.port, user="ben_reader", prepare=False)
        try:
            with pytest.raises(Exception, match="readonly"):
                reader.execute("DROP TABLE ben.events")
        finally:
            reader.close()
    finally:
        store.close()


def test_close_during_a_query_is_prompt_on_the_server(clickhouse) -> None:
    store = ClickHouseStore(clickhouse.host, clickhouse.port)
    outcome: list[Exception] = []

    def run() -> None:
        try:
            store.operator_query("SELECT count() FROM system.numbers", "close1", QueryLimits(timeout_s=120))
        except QueryError as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    wait_for(lambda: store.rows("SELECT count() FROM system.processes WHERE query_id = 'close1'")[0][0], 30,
             "the query to run")
    started = time.monotonic()
    store.close()
    assert time.monotonic() - started < 10.0
    thread.join(10)
    assert not thread.is_alive() and outcome
