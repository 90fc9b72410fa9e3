"""Who sent an OTLP request: the kernel names a loopback client's uid, over a real socket and a real
gRPC server (``ben.otlp.clients``)."""

from __future__ import annotations

import asyncio
import os
import socket

import grpc
import pytest

from ben.otlp import clients, grpc_server
from ben.otlp.exporting import OK, Answer
from ben.otlp.gate import Gate


def test_a_loopback_client_is_its_uid_and_others_are_nobody_in_particular() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.create_connection(server.getsockname()) as client:
            assert clients.client_of(client.getsockname(), server.getsockname()) == f"u{os.getuid()}"
            assert clients.client_of(client.getsockname(), ("0.0.0.0", server.getsockname()[1])) == f"u{os.getuid()}"
    assert clients.client_of(("192.0.2.7", 1234), ("192.0.2.1", 4317)) == ""  # not this host's
    assert clients.client_of(("127.0.0.1", 1), ("127.0.0.1", 2)) == ""        # no such connection
    assert clients.client_of("", "") == ""                                  # a unix socket's peer


class _Recording:
    def __init__(self) -> None:
        self.clients: list[str] = []

    async def export(self, signal: str, transport: str, body: bytes, json_body: bool = False, client: str = ""):
        self.clients.append(client)
        return Answer(OK, response=_Empty())


class _Empty:
    def SerializeToString(self) -> bytes:  # noqa: N802 (protobuf's name)
        return b""


@pytest.mark.parametrize("host", ["127.0.0.1", "[::1]"])
def test_the_grpc_listener_names_its_client(host: str) -> None:
    async def run() -> list[str]:
        recording = _Recording()
        server = grpc.aio.server()
        gate = Gate(per_client=8, total=8)  # the receiver's TCP listener: gRPC behind its gate
        server.add_generic_rpc_handlers(grpc_server.handlers(recording, None, gate.client_of_peer))
        server.add_insecure_port(f"unix:{gate.inner}")
        await server.start()
        port = await gate.start(host.strip("[]"), 0)
        try:
            async with grpc.aio.insecure_channel(f"{host}:{port}") as channel:
                await channel.unary_unary("/opentelemetry.proto.collector.logs.v1.LogsService/Export")(b"", timeout=10)
        finally:
            await server.stop(0)
            await gate.shutdown()
        return recording.clients

    if ":" in host and not socket.has_ipv6:
        pytest.skip("no IPv6 on this host")
    assert asyncio.run(run()) == [f"u{os.getuid()}"]


def test_each_client_has_senders_of_its_own_and_the_many_share(monkeypatch) -> None:
    """Senders per client (``otlp-<sidecar>-u<uid>-<slot>``: the spine's peer), "" past MAX_CLIENTS."""
    from ben.otlp import sender
    from ben.spine.detection import peer_of

    monkeypatch.setattr(sender, "MAX_CLIENTS", 2)

    async def run() -> list[str]:
        slots = sender.Slots(receiver=None, sidecar_id="host-a", slots=2)
        out = []
        for client in ("u1000", "", "u1", "u2"):
            pool = slots._pool(client)
            out.append(await asyncio.wait_for(pool.get(), 5))
            pool.put_nowait(out[-1])
        return out

    names = asyncio.run(run())
    assert names == ["otlp-host-a-u1000-0", "otlp-host-a-0", "otlp-host-a-u1-0", "otlp-host-a-1"], names
    assert [peer_of("host-a", n) for n in names] == ["host-a/otlp/u1000", "host-a/otlp", "host-a/otlp/u1",
                                                     "host-a/otlp"]
