"""Operator queries through the store process (ADR 0032): beside inserts, limited, cancellable."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest

from ben.cli.procs import wait_for
from ben.core.errors import QueryError
from ben.store import ChdbProcessStore
from ben.store.query import QueryLimits
from ben.store.rows import to_table
from tests.store.test_chdb import alert_table, metric_request

#: Busy for minutes unless stopped: CPU-bound, and sleeping (as a hung network read would).
BUSY = "SELECT count() FROM numbers(1e13)"
SLEEPING = "SELECT sum(sleepEachRow(0.00003)) FROM numbers(1e9)"
LONG = QueryLimits(timeout_s=120.0)


@pytest.fixture
def store(tmp_path: Path):
    s = ChdbProcessStore(tmp_path / "chdb")
    yield s
    s.close()


class Background:
    """An operator query on a thread of its own: its outcome and how long it took."""

    def __init__(self, store, sql: str, query_id: str, limits: QueryLimits = LONG):
        self.error: Exception | None = None
        self.elapsed = 0.0
        self.thread = threading.Thread(target=self._run, args=(store, sql, query_id, limits), daemon=True)
        self.thread.start()

    def _run(self, store, sql, query_id, limits) -> None:
        started = time.monotonic()
        try:
            store.operator_query(sql, query_id, limits)
        except Exception as exc:  # noqa: BLE001 - the test looks at it
            self.error = exc
        self.elapsed = time.monotonic() - started


def running(store, query_id: str) -> bool:
    rows = store.rows(f"SELECT count() FROM system.processes WHERE startsWith(query, '/* ben-query:{query_id} */')")
    return rows[0][0] > 0


@pytest.mark.parametrize("sql", [BUSY, SLEEPING])
def test_inserts_are_not_held_up_by_a_long_query(store, sql: str) -> None:
    query = Background(store, sql, "slow1")
    wait_for(lambda: running(store, "slow1"), 30, "the query to run")
    urgent = store.urgent()
    for seq in range(1, 6):
        started = time.monotonic()
        store.insert_events(to_table([(seq, metric_request(seq * 10, 3, seq))]))
        urgent.insert_events(alert_table(1000 + seq, 1, seq))
        assert time.monotonic() - started < 5.0, "an insert waited behind the operator query"
    store.sync()
    assert store.count_rows() == 5 * 3 + 5
    assert query.thread.is_alive() and running(store, "slow1")
    store.cancel_query("slow1")
    query.thread.join(30)
    assert isinstance(query.error, QueryError) and "cancelled" in str(query.error)


def test_cancel_stops_the_query_at_once(store) -> None:
    query = Background(store, BUSY, "c1")
    wait_for(lambda: running(store, "c1"), 30, "the query to run")
    cancelled = time.monotonic()
    store.cancel_query("c1")
    query.thread.join(30)
    assert time.monotonic() - cancelled < 5.0
    assert str(query.error) == "query cancelled: the client went away or was interrupted"
    assert not running(store, "c1")
    assert json.loads(store.operator_query("SELECT 1 AS n", "c2", LONG))["data"] == [{"n": 1}]


def test_a_query_cancelled_while_waiting_never_runs(store) -> None:
    first = Background(store, BUSY, "w1")
    wait_for(lambda: running(store, "w1"), 30, "the first query to run")
    second = Background(store, "SELECT 1", "w2")
    store.cancel_query("w2")
    store.cancel_query("w1")
    for q in (first, second):
        q.thread.join(30)
        assert isinstance(q.error, QueryError) and "cancelled" in str(q.error)


def test_the_time_limit_ends_a_query(store) -> None:
    with pytest.raises(QueryError, match=r"^query cancelled after 1 s: max_execution_time"):
        store.operator_query(BUSY, "t1", QueryLimits(timeout_s=1.0))


def test_close_during_a_query_is_prompt(store) -> None:
    query = Background(store, SLEEPING, "x1")
    wait_for(lambda: running(store, "x1"), 30, "the query to run")
    pid = store.pid
    started = time.monotonic()
    store.close()
    assert time.monotonic() - started < 10.0
    query.thread.join(10)
    assert query.error is not None and not query.thread.is_alive()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
