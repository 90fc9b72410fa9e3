"""Operator queries cannot stall the spine (ADR 0032): a long query runs while alerts and routine
events are stored on time; the client going away cancels it; SIGTERM during it exits promptly."""

from __future__ import annotations

import threading
import time

import grpc
import pytest

from ben.cli.procs import wait_for
from ben.core.admin import run_query
from ben.core.errors import QueryError, TransportError
from ben.core.peers import operator_metadata
from ben.core.transport import CHANNEL_OPTIONS
from ben.sdk import Client
from ben.v1 import admin_pb2 as pb
from ben.v1 import admin_pb2_grpc as pb_grpc
from tests.helpers import Load

#: Minutes of work unless stopped: CPU-bound, and sleeping like a hung network read.
BUSY = "SELECT count() FROM numbers(1e13)"
SLEEPING = "SELECT sum(sleepEachRow(0.00003)) FROM numbers(1e9)"


class Query:
    """``run_query`` through the spine on a thread of its own: its outcome."""

    def __init__(self, address: str, sql: str):
        self.error: Exception | None = None
        self.thread = threading.Thread(target=self._run, args=(address, sql), daemon=True)
        self.thread.start()

    def _run(self, address: str, sql: str) -> None:
        try:
            run_query(address, sql)
        except (QueryError, TransportError) as exc:
            self.error = exc


@pytest.mark.timeout(600)
def test_alerts_and_events_are_stored_on_time_during_long_queries(cluster) -> None:
    queries = [Query(cluster.spine_addr, sql) for sql in (BUSY, SLEEPING)]
    wait_for(lambda: cluster.status("spine").get("queries_running", 0) == 2, 30, "the queries to be in flight")
    client = Client("probe", sidecar=cluster.sidecar_addr, flush_interval_ms=5)
    load = Load(cluster.sidecar_addr, 5_000, rate=2_000)
    try:
        for i in range(10):
            sent = time.monotonic()
            client.alert("probe-down", f"alert {i}")
            assert client.flush(10)
            wait_for(lambda: cluster.status("spine").get("rows_stored_total{lane=alert}", 0) >= i + 1, 10,
                     f"alert {i} to be stored")
            assert time.monotonic() - sent < 5.0, f"alert {i} took {time.monotonic() - sent:.1f}s to be stored"
        load.finish()
        wait_for(lambda: cluster.status("spine").get("wal_records", 1) == 0, 30, "routine events to be stored")
        wait_for(lambda: cluster.status("spine").get("detect_points_total", 0) > 0, 30,
                 "detection to run on the routine metrics")
        assert all(q.thread.is_alive() for q in queries), "a long query ended early"
    finally:
        client.shutdown(timeout=5)
    assert cluster.spine.stop(timeout=30) == 0


@pytest.mark.timeout(600)
def test_sigterm_during_a_long_query_exits_promptly(cluster) -> None:
    query = Query(cluster.spine_addr, SLEEPING)
    wait_for(lambda: cluster.status("spine").get("queries_running", 0) == 1, 30, "the query to run")
    stopped = time.monotonic()
    assert cluster.spine.stop(timeout=30) == 0
    assert time.monotonic() - stopped < 15.0
    query.thread.join(30)
    assert query.error is not None


@pytest.mark.timeout(600)
def test_a_client_that_goes_away_cancels_its_query(cluster) -> None:
    with grpc.insecure_channel(cluster.spine_addr, options=CHANNEL_OPTIONS) as channel:
        call = pb_grpc.AdminStub(channel).Query.future(pb.QueryRequest(sql=BUSY), timeout=600,
                                                       metadata=operator_metadata(cluster.spine_addr))
        wait_for(lambda: cluster.status("spine").get("queries_running", 0) == 1, 30, "the query to run")
        call.cancel()  # what Ctrl-C does in ben query
    wait_for(lambda: cluster.status("spine").get("queries_cancelled_total", 0) == 1, 60, "the spine to cancel it")
    # The query channel is free again at once: the next query is answered, not queued for minutes.
    started = time.monotonic()
    assert b'"n": 1' in run_query(cluster.spine_addr, "SELECT 1 AS n", timeout=30)
    assert time.monotonic() - started < 10.0
