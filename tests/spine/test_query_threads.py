"""The attack matrix (ADR 0045, round 17): an operator with query access holding the spine's threads. A real spine,
its store process and a sidecar; the operator is the test's account on the spine's unix socket.

On the code before, each operator query waited for the store in a thread of the spine's default pool (``min(32,
cores + 4)`` threads), which the spine's WAL appends share; the chDB store runs one query at a time, so queries
queued behind a long one held every thread: a sidecar's batch was acknowledged only once they ended (the probe:
10 queries of ``sleep(3)``, the acknowledgement after 13.3 s against 0.1 s). Now queries have threads of their own
(``QUERY_THREADS``), and past ``MAX_QUERIES_WAITING`` in progress or waiting one is refused, not queued.
"""

from __future__ import annotations

import grpc

from ben.cli.procs import Cluster, wait_for
from ben.core.admin import MAX_QUERIES_WAITING, ORIGIN_METADATA
from ben.core.peers import operator_metadata
from ben.core.transport import CHANNEL_OPTIONS, MAX_STREAMS_PER_CONNECTION
from ben.core.transport import channel as open_channel
from ben.sdk import Client
from ben.v1 import admin_pb2 as pb
from ben.v1 import admin_pb2_grpc as pb_grpc

#: Runs until cancelled (or the spine's query_timeout_s): the queries after it wait for the store's query channel.
LONG = "SELECT sum(cityHash64(number)) FROM numbers(100000000000000)"


def _acked(cluster: Cluster) -> float:
    return sum(v for k, v in cluster.status("sidecar").items() if k.startswith("spine_acked_records_total"))


def test_operator_queries_waiting_for_the_store_never_hold_the_spine_s_ingest(home) -> None:
    cluster = Cluster(home, store={"query_timeout_s": 600})
    client, calls = None, []
    try:
        cluster.start()
        client = Client("beside-the-queries", sidecar=cluster.sidecar_addr, flush_interval_ms=20)
        client.gauge("before", 1.0)
        assert client.flush(30)
        wait_for(lambda: _acked(cluster) >= 1, 60, "the first batch acknowledged by the spine")
        acked = _acked(cluster)

        def metadata():  # a token is redeemed once: one a call
            return [*operator_metadata(cluster.spine_addr), (ORIGIN_METADATA, "cli")]
        # a connection carries MAX_STREAMS_PER_CONNECTION calls at once: the queries on connections of their own
        channels = [open_channel(cluster.spine_addr, [*CHANNEL_OPTIONS, ("grpc.use_local_subchannel_pool", 1)])
                    for _ in range(-(-4 * MAX_QUERIES_WAITING // MAX_STREAMS_PER_CONNECTION) + 1)]
        try:
            stub = pb_grpc.AdminStub(channels[-1])

            def query(sql: str):
                return pb_grpc.AdminStub(channels[len(calls) // MAX_STREAMS_PER_CONNECTION]).Query.future(
                    pb.QueryRequest(sql=sql), timeout=600, metadata=metadata())

            calls.append(query(LONG))
            wait_for(lambda: cluster.status("spine").get("queries_running", 0) == 1, 60, "the long query running")

            def full() -> bool:
                """Every query in progress or waiting: short ones the store served before the long one took it (their
                calls raced it there) are replaced."""
                running = cluster.status("spine").get("queries_running", 0)
                pending = sum(not call.done() for call in calls)
                while pending < MAX_QUERIES_WAITING and len(calls) < 4 * MAX_QUERIES_WAITING:
                    calls.append(query("SELECT 1"))
                    pending += 1
                return running == MAX_QUERIES_WAITING

            wait_for(full, 60, "every query in progress or waiting")
            try:  # one more is refused, not queued
                stub.Query(pb.QueryRequest(sql="SELECT 2"), timeout=60, metadata=metadata())
                raise AssertionError("a query past MAX_QUERIES_WAITING was served")
            except grpc.RpcError as exc:
                assert exc.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, exc
                assert "MAX_QUERIES_WAITING" in exc.details()
            # while they hold: a batch is acknowledged by the spine (on the code before: never, its pool was theirs)
            client.gauge("during", 2.0)
            assert client.flush(30)
            wait_for(lambda: _acked(cluster) > acked, 60, "the batch sent beside the queries acknowledged")
            assert not calls[0].done(), "the long query ended before the test did"
            for call in calls:
                call.cancel()
        finally:
            for channel in channels:
                channel.close()
        wait_for(lambda: cluster.status("spine").get("queries_running", 0) == 0, 60, "the queries cancelled")
    finally:
        for call in calls:
            call.cancel()
        if client is not None:
            client.shutdown(timeout=5)
        cluster.stop()
