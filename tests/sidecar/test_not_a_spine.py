"""A sidecar given as the spine (ADR 0033, round 11): its own address as ``sidecar.spine``, or another sidecar's."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import grpc
import pytest

from ben.core.address import same_endpoint
from ben.core.config import ControlConfig, SidecarConfig
from ben.core.errors import ConfigError
from ben.v1 import control_pb2 as pb
from ben.v1 import control_pb2_grpc as pb_grpc


@pytest.mark.parametrize("a, b, same", [
    ("unix:///tmp/x/sc.sock", "unix:/tmp/x/../x/sc.sock", True),
    ("unix:///tmp/x/sc.sock", "unix:///tmp/x/spine.sock", False),
    ("0.0.0.0:7070", "127.0.0.1:7070", True),
    ("[::1]:7070", "localhost:7070", True),
    ("spine.example:7070", "spine.example:7070", True),
    ("127.0.0.1:7070", "127.0.0.1:7071", False),
    ("10.0.0.5:7070", "127.0.0.1:7070", False),
    ("unix:///tmp/x/sc.sock", "127.0.0.1:7070", False),
])
def test_same_endpoint(a: str, b: str, same: bool) -> None:
    assert same_endpoint(a, b) is same


def test_a_sidecar_whose_spine_is_its_own_address_is_refused_at_start(home: Path) -> None:
    """``[sidecar] spine`` = its own ``listen`` (or $BEN_SIDECAR_SOCKET naming the spine's socket): it started,
    shipped its WAL to itself and attached its command link to itself, a traceback in its own log every few
    seconds, and no event ever reached a spine. Refused at start now, naming the field; nothing is made."""
    from ben.sidecar import Sidecar

    cfg = SidecarConfig(data_dir=home / "sc", listen=f"unix://{home}/sc.sock", spine=f"unix:{home}/./sc.sock",
                        otlp={"grpc_listen": "", "http_listen": ""})
    with pytest.raises(ConfigError) as refused:
        asyncio.run(Sidecar(cfg).start())
    assert refused.value.field == "sidecar.spine" and "this sidecar's own address" in str(refused.value)
    assert not (home / "sc").exists()


def test_the_spine_s_methods_called_on_a_sidecar_are_unimplemented_without_a_traceback(home: Path, caplog) -> None:
    """A sidecar whose ``sidecar.spine`` names another sidecar attached its command link there: the other one
    logged grpc's "Unexpected [NotImplementedError]" with a traceback at every retry, and the first one said
    "UNIMPLEMENTED Unexpected <class 'NotImplementedError'>: Method not implemented!". Now the answer says what
    answered and what to do, and the sidecar's log holds nothing."""
    from ben.control.sidecar_side import SidecarControl

    control = SidecarControl(ControlConfig(), home / "sc", "sc-other", "unix:///nonexistent.sock", (50, 100))
    address = f"unix://{home}/sc.sock"

    async def call() -> list[tuple[grpc.StatusCode, str]]:
        server = grpc.aio.server()
        pb_grpc.add_ControlServicer_to_server(control, server)
        server.add_insecure_port(address)
        await server.start()
        out = []
        try:
            async with grpc.aio.insecure_channel(address) as channel:
                stub = pb_grpc.ControlStub(channel)
                for attempt in (lambda: _drain(stub.Attach(_nothing())), lambda: stub.List(pb.ListRequest()),
                                lambda: stub.Send(pb.SendRequest())):
                    try:
                        await attempt()
                    except grpc.aio.AioRpcError as exc:
                        out.append((exc.code(), exc.details()))
        finally:
            await server.stop(None)
        return out

    caplog.set_level(logging.DEBUG)
    try:
        answers = asyncio.run(call())
    finally:
        control.base.close()
    assert len(answers) == 3 and all(code == grpc.StatusCode.UNIMPLEMENTED for code, _ in answers), answers
    assert all(details.startswith("this is sidecar sc-other, not a spine: ") for _, details in answers), answers
    assert "Attach (a sidecar's command link) is the spine's" in answers[0][1]
    assert "NotImplementedError" not in caplog.text and "Traceback" not in caplog.text, caplog.text


async def _nothing():
    return
    yield  # an empty request stream


async def _drain(stream) -> None:
    async for _ in stream:
        pass
