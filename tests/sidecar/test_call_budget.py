"""The attack matrix (ADR 0045, round 15): calls times connections. A real spine and sidecar, the sidecar's
``listen`` a plain loopback port (open to every local account for telemetry), the caller ``nobody``.

Round 14 bounded the calls one connection carries (32), round 12 the connections (4,096), not their product: on
the code before, 500 connections of 32 ingest streams that never send, from one account, took the sidecar from
103 MB to 339 MB (about 15 kB a call; at 4,096 connections about 1.9 GB). Now one client (here the uid the kernel
names) has at most ``max_calls_per_client`` calls in progress on the listener; past it a call is refused with
RESOURCE_EXHAUSTED naming the option, and other clients are served.
"""

from __future__ import annotations

import subprocess

import pytest

from ben.cli.procs import count_stored, wait_for
from ben.sdk import Client
from tests.sidecar.stranger import AS_NOBODY, loopback_cluster, nobody_env, unix_cluster

BUDGET = 64
CONNECTIONS = 4  # x 32 calls each (transport.MAX_STREAMS_PER_CONNECTION): 128 calls

_AS_A_STRANGER = """
import asyncio, sys, grpc
from ben.v1 import telemetry_pb2_grpc as pb_grpc
address, n, per, want = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])

async def main():
    stop = asyncio.Event()
    async def never():
        await stop.wait()
        if False:
            yield None
    channels = [grpc.aio.insecure_channel(address, options=[("grpc.use_local_subchannel_pool", 1), ("x.n", i)])
                for i in range(n)]
    calls = [pb_grpc.IngestStub(ch).Stream(never()) for ch in channels for _ in range(per)]
    async def ended(call):
        try:
            async for _ in call:
                pass
            return "OK", ""
        except grpc.aio.AioRpcError as exc:
            return exc.code().name, exc.details()
    tasks = [asyncio.ensure_future(ended(c)) for c in calls]
    done = []
    try:
        async with asyncio.timeout(60):
            while len(done) < want:
                left = [t for t in tasks if t not in done]
                finished, _ = await asyncio.wait(left, return_when=asyncio.FIRST_COMPLETED)
                done += finished
    except TimeoutError:
        pass
    codes = sorted({t.result()[0] for t in done})
    detail = next((t.result()[1] for t in done), "")
    print(len(done), ",".join(codes), detail.replace(chr(10), " "), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    stop.set()
    for c in calls:
        c.cancel()
    for ch in channels:
        await ch.close()

asyncio.run(main())
"""


@pytest.mark.parametrize("listen", ["plain loopback", "unix socket"])
def test_one_account_holds_a_bounded_number_of_calls_across_its_connections(home, listen: str) -> None:
    """On plain loopback TCP (round 16) and on the sidecar's unix socket, whose accounts were one client until round
    18: ``nobody`` holding its call budget gets RESOURCE_EXHAUSTED past it, and the test's account is served."""
    make = unix_cluster if listen == "unix socket" else loopback_cluster
    cluster = make(home, max_calls_per_client=BUDGET)
    addr = cluster.sidecar_addr
    stranger = client = None
    try:
        cluster.start()
        stranger = subprocess.Popen(
            [*AS_NOBODY, _AS_A_STRANGER,
             addr, str(CONNECTIONS), "32", str(CONNECTIONS * 32 - BUDGET)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=nobody_env(), cwd="/")
        line = stranger.stdout.readline()
        ended, codes, detail = (line.split(" ", 2) + ["", ""])[:3]
        assert (int(ended), codes) == (CONNECTIONS * 32 - BUDGET, "RESOURCE_EXHAUSTED"), (line, stranger.poll())
        assert "sidecar.max_calls_per_client" in detail, detail
        # While the stranger holds its budget, an application of another account is served.
        client = Client("beside-the-calls", sidecar=addr, flush_interval_ms=20)
        client.gauge("served", 1.0)
        assert client.flush(30)
        wait_for(lambda: count_stored(cluster.spine_addr) >= 1, 60, "the application's event stored")
        assert cluster.sidecar.alive()
    finally:
        if stranger is not None:
            stranger.communicate("\n", timeout=60)
        if client is not None:
            client.shutdown(timeout=5)
        cluster.stop()
