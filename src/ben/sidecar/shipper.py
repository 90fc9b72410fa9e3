"""Ships the sidecar WAL to the spine and deletes only what the spine acknowledged.

One stream at a time. After any break (spine down, restart, network), it reconnects with
exponential backoff and jitter and resends everything not yet acknowledged; the spine
recognises what it already has and acknowledges it again without storing it twice.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import grpc

from ben.core import transport
from ben.core.wal import Wal
from ben.v1 import telemetry_pb2 as pb
from ben.v1 import telemetry_pb2_grpc as pb_grpc

log = logging.getLogger(__name__)


@dataclass
class ShipperFigures:
    records_sent: int = 0
    records_acked: int = 0
    reconnects: int = 0
    refused_by_spine: int = 0
    connected: bool = False


class Shipper:
    def __init__(self, wal: Wal, sidecar_id: str, spine: str, window: int, backoff_ms: tuple[int, int]):
        self._wal = wal
        self._id = sidecar_id
        self._spine = spine
        self._window = window
        self._backoff_ms = backoff_ms
        self._appended = asyncio.Event()
        self._acked_changed = asyncio.Event()
        first = wal.first_seq
        self.acked = (first - 1) if first is not None else wal.last_seq
        self.figures = ShipperFigures()
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="shipper")

    def notify(self) -> None:
        """New records are durable in the WAL."""
        self._appended.set()

    async def force_flush(self, timeout: float) -> bool:
        """Wait until the spine has acknowledged everything in the WAL."""
        try:
            async with asyncio.timeout(timeout):
                while self.acked < self._wal.last_seq:
                    self._acked_changed.clear()
                    await self._acked_changed.wait()
        except TimeoutError:
            return False
        return True

    async def shutdown(self, timeout: float) -> bool:
        drained = await self.force_flush(timeout)
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        return drained

    async def _run(self) -> None:
        delays = transport.backoff(*self._backoff_ms)
        while True:
            try:
                await self._session()
            except grpc.aio.AioRpcError as exc:
                level = logging.INFO if exc.code() in transport.RETRYABLE_CODES else logging.ERROR
                log.log(level, "shipper: stream to spine %s ended: %s %s", self._spine, exc.code().name,
                        exc.details())
            except (ConnectionError, OSError) as exc:
                log.info("shipper: spine %s unreachable: %s", self._spine, exc)
            self.figures.connected = False
            self.figures.reconnects += 1
            if self._sent_since_connect:
                delays = transport.backoff(*self._backoff_ms)  # it worked for a while: start low again
            await asyncio.sleep(next(delays))

    _sent_since_connect = 0

    async def _session(self) -> None:
        self._sent_since_connect = 0
        async with grpc.aio.insecure_channel(self._spine, options=transport.CHANNEL_OPTIONS) as channel:
            call = pb_grpc.IngestStub(channel).Stream(wait_for_ready=False)  # fail fast when the spine is down
            sender = asyncio.get_running_loop().create_task(self._send(call))
            try:
                async for ack in call:
                    self._on_ack(ack)
            finally:
                sender.cancel()
            if sender.done() and not sender.cancelled() and sender.exception() is not None:
                raise sender.exception()

    async def _send(self, call) -> None:
        sent = self.acked  # resend everything not yet acknowledged
        while True:
            room = self._window - (sent - self.acked)
            if room <= 0:
                self._acked_changed.clear()
                await self._acked_changed.wait()
                continue
            self._appended.clear()
            records = await asyncio.to_thread(self._wal.read, sent, room)
            if not records:
                await self._appended.wait()
                continue
            for record in records:
                request = pb.IngestRequest(sender_id=self._id, first_seq=record.seq, last_seq=record.seq)
                request.batch.MergeFromString(record.payload)
                await call.write(request)
                sent = record.seq
                self.figures.records_sent += 1
                self._sent_since_connect += 1

    def _on_ack(self, ack: pb.IngestAck) -> None:
        self.figures.connected = True
        if ack.error:
            self.figures.refused_by_spine += 1
            log.error("shipper: spine refused WAL record %d: %s; quarantining it", ack.durable_seq, ack.error)
            self._wal.quarantine(ack.durable_seq, f"refused by spine: {ack.error}")
        if ack.durable_seq > self.acked:
            self.figures.records_acked += ack.durable_seq - self.acked
            self.acked = ack.durable_seq
            self._wal.truncate(self.acked)
            self._acked_changed.set()
