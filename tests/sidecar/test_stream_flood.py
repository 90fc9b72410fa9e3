"""The attack matrix (ADR 0045, round 14): one connection, thousands of calls. A real spine and sidecar; the
caller is any account that may connect to the sidecar's ``listen`` (on a plain loopback port, every account).

The connection quota (round 12) bounds connections, not the calls on each: HTTP/2 lets a client open streams
on one connection until the server's ``SETTINGS_MAX_CONCURRENT_STREAMS``, and gRPC's default is none. Measured
on the code before: 20,000 ingest streams that never send, on one connection and one descriptor, took the
sidecar from 106 MB to 394 MB (14 kB a stream, linear: a few hundred thousand take the host's memory). Now a
connection carries at most ``transport.MAX_STREAMS_PER_CONNECTION`` calls at once; more wait in the client, or
(sent before the client read the bound) are refused with ``REFUSED_STREAM``, UNAVAILABLE to the caller, which
retries.
"""

from __future__ import annotations

import asyncio

import grpc

from ben.cli.procs import query_rows, wait_for
from ben.core.admin import fetch_status
from ben.core.transport import MAX_STREAMS_PER_CONNECTION, RETRYABLE_CODES
from ben.v1 import telemetry_pb2 as pb
from ben.v1 import telemetry_pb2_grpc as pb_grpc
from tests.store.test_rows import request

CALLS = 300


def _req(i: int) -> pb.IngestRequest:
    r = request(1, [(pb.KIND_LOG, "stream.flood", 1.0, f"s{i}", None)], sender=f"flood-{i}", seq=1)
    r.batch.producer_id = "p-stream-flood"
    return r


def test_one_connection_carries_a_bounded_number_of_calls(module_cluster) -> None:
    """300 ingest streams on one connection, each sending one batch and then holding its stream open: the sidecar
    serves (and acknowledges) ``MAX_STREAMS_PER_CONNECTION`` of them while they are held, no more; another
    connection is served all the while; when the held streams end, the others are served, and every batch is
    stored once."""
    cluster = module_cluster
    acked: list[int] = []
    refused: list[int] = []

    async def flood() -> None:
        hold = asyncio.Event()
        async with grpc.aio.insecure_channel(cluster.sidecar_addr) as channel:
            stub = pb_grpc.IngestStub(channel)

            async def one(i: int) -> None:
                async def requests():
                    yield _req(i)
                    await hold.wait()

                while True:  # a call past the bound is refused (UNAVAILABLE) or waits: retried, as ben's senders do
                    try:
                        async for ack in stub.Stream(requests(), timeout=120):
                            assert not ack.error, ack.error
                            acked.append(i)
                        return
                    except grpc.aio.AioRpcError as exc:
                        if exc.code() not in RETRYABLE_CODES:  # UNAVAILABLE; INTERNAL when refused mid-write
                            raise
                        refused.append(i)
                        await asyncio.sleep(0.05)

            tasks = [asyncio.create_task(one(i)) for i in range(CALLS)]
            while len(acked) < MAX_STREAMS_PER_CONNECTION:
                await asyncio.sleep(0.05)
            # another connection's call goes through while the flood holds its streams (a round trip: the
            # sidecar has read what the flood's connection sent before it)
            await asyncio.to_thread(fetch_status, cluster.sidecar_addr, 10.0)
            held = len(acked)
            hold.set()
            await asyncio.gather(*tasks)
        assert held == MAX_STREAMS_PER_CONNECTION, f"{held} calls served at once on one connection"
        assert refused, "no call was refused or kept waiting"

    asyncio.run(flood())
    assert sorted(acked) == list(range(CALLS))
    cluster.wait_drained()
    wait_for(lambda: query_rows(cluster.spine_addr, "SELECT count() AS n FROM ben.events "
                                "WHERE producer_id = 'p-stream-flood'")[0]["n"] == CALLS, 60, "every batch stored")
