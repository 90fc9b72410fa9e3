"""The sidecar's control link: it dials the spine and keeps one ``Control.Attach`` stream open.

The spine's first message is a challenge; the sidecar says hello (its id, its receipt-signing
public key, a signature over the challenge proving it holds that key, the subsystems attached and
the kill-switch order it holds), then for each delivery the spine pushes it asks the gate and
sends the signed receipt back (for a kill-switch order: an acknowledgement with the order held). After any break
it reconnects with backoff; the spine redelivers whatever has no receipt yet, and the gate's
ledger makes a redelivery return the same receipt without running anything again.
"""

from __future__ import annotations

import asyncio
import logging

import grpc

from ben.control.documents import Signed, attach_proof
from ben.control.gate import Gate
from ben.control.hub import Hub
from ben.control.keys import Signer
from ben.core import transport
from ben.v1 import control_pb2 as pb
from ben.v1 import control_pb2_grpc as pb_grpc

#: After the spine refused this sidecar's attach (not pinned, another key): the next try waits this
#: long. Each refusal is an audit entry at the spine; a retry every few milliseconds would flood it.
REFUSED_RETRY_S = 60.0

log = logging.getLogger(__name__)


class SpineLink:
    """The sidecar's stream to the spine's control plane: receives commands for its targets, hands them to the
    gate, returns the signed receipts; reconnects with backoff."""

    def __init__(self, spine: str, sidecar_id: str, signer: Signer, gate: Gate, hub: Hub,
                 backoff_ms: tuple[int, int]):
        self._spine = spine
        self._id = sidecar_id
        self._signer = signer
        self._gate = gate
        self._hub = hub
        self._backoff_ms = backoff_ms
        self._task: asyncio.Task | None = None
        self._outbox: asyncio.Queue | None = None
        self._announced: list[str] | None = None  # the targets last sent on this session
        self.connected = False
        self.deliveries = 0

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="control-link")

    def targets_changed(self) -> None:
        """Announce the hub's targets when they differ from those last sent (a subsystem registering the same
        handlers again sends nothing; ADR 0045, round 16)."""
        targets = self._hub.targets()
        if self._outbox is not None and targets != self._announced:
            self._announced = targets
            self._outbox.put_nowait(pb.SidecarUp(targets=pb.Targets(targets=targets)))

    async def shutdown(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    async def _run(self) -> None:
        await transport.keep_connected(self._session, self._backoff_ms, self._on_break, lambda: self.connected)

    def _on_break(self, exc: Exception | None) -> None:
        if isinstance(exc, grpc.aio.AioRpcError):
            level = logging.DEBUG if exc.code() in transport.RETRYABLE_CODES else logging.WARNING
            log.log(level, "control link to %s: %s %s", self._spine, exc.code().name, exc.details())
        elif isinstance(exc, (ConnectionError, OSError, asyncio.InvalidStateError)) or exc is None:
            # InvalidStateError: a receipt written as the spine died ("RPC already finished")
            log.debug("control link to %s: %s", self._spine, exc or "stream ended")
        else:  # keep the link alive whatever happens
            log.error("control link to %s broke", self._spine, exc_info=exc)
        self.connected = False
        self._outbox = None

    async def _session(self) -> None:
        async with transport.aio_channel(self._spine) as channel:
            call = pb_grpc.ControlStub(channel).Attach(wait_for_ready=False)
            outbox: asyncio.Queue = asyncio.Queue()
            writer = asyncio.ensure_future(self._write(call, outbox))
            reader = asyncio.ensure_future(self._read(call, outbox))
            try:
                done, _ = await asyncio.wait({writer, reader}, return_when=asyncio.FIRST_EXCEPTION)
            finally:
                for task in (writer, reader):
                    task.cancel()
                await asyncio.gather(writer, reader, return_exceptions=True)
            for task in done:
                if not task.cancelled() and task.exception() is not None:
                    exc = task.exception()
                    if isinstance(exc, grpc.aio.AioRpcError) and exc.code() == grpc.StatusCode.PERMISSION_DENIED:
                        self.connected = False  # not a session that worked: no quick reconnect
                        log.warning("control link to %s: attach refused (%s); trying again in %.0f s", self._spine,
                                    exc.details(), REFUSED_RETRY_S)
                        await asyncio.sleep(REFUSED_RETRY_S)
                    raise exc

    async def _write(self, call, outbox: asyncio.Queue) -> None:
        while True:
            await call.write(await outbox.get())

    def _hello(self, challenge: bytes) -> pb.SidecarUp:
        """Who this sidecar is, proven by signing the spine's challenge, and the kill-switch order it holds."""
        held = self._gate.held_order()
        self._announced = self._hub.targets()
        return pb.SidecarUp(hello=pb.SidecarHello(
            sidecar_id=self._id, public_key=self._signer.public_text, targets=self._announced,
            proof=self._signer.sign(attach_proof(self._id, challenge)),
            kill_switch=held.to_proto(pb.Signed) if held is not None else None))

    async def _read(self, call, outbox: asyncio.Queue) -> None:
        hello_sent = False
        async for delivery in call:
            self.connected = True
            if not hello_sent:  # the spine's first message: its challenge
                outbox.put_nowait(self._hello(bytes(delivery.challenge)))
                self._outbox = outbox
                hello_sent = True
                continue
            if delivery.HasField("kill_switch"):
                ack = await self._gate.set_kill_switch(Signed.from_proto(delivery.kill_switch))
                outbox.put_nowait(pb.SidecarUp(kill_ack=ack))
                continue
            if not delivery.HasField("envelope"):
                continue
            self.deliveries += 1
            receipt = await self._gate.handle(Signed.from_proto(delivery.envelope),
                                              [Signed.from_proto(a) for a in delivery.approvals])
            outbox.put_nowait(pb.SidecarUp(receipt=receipt.to_proto(pb.Signed)))
        raise ConnectionError("the spine closed the control stream")
