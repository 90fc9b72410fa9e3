"""Ships the sidecar's lane WALs to the spine and deletes only what the spine acknowledged.

The sending is ``ben.core.sender``'s (the SDK's exporter uses the same engine): one stream per
lane over one channel, so a routine backlog never sits in front of an alert (HTTP/2 multiplexes
the streams); a window of ``ship_window_records`` records and 16 MiB in flight per lane, kept
below the spine's credit; back-pressure pauses the lane and resends from the spine's mark; after
any break (spine down, restart, network) it reconnects with exponential backoff and jitter and
resends everything not yet acknowledged, which the spine recognises and acknowledges again
without storing it twice. This module is the WAL's side of it (``WalSource``): records are
read, decoded, quarantined when they cannot be, and truncated once acknowledged.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from dataclasses import dataclass, field

import grpc

from ben.core import transport
from ben.core.lanes import ALERT as LANE_ALERT
from ben.core.sender import Dial, Item, Sender
from ben.core.wal import Wal
from ben.v1 import telemetry_pb2 as pb

log = logging.getLogger(__name__)


@dataclass
class ShipperFigures:
    """What the shipper did, for status and Prometheus (the sidecar's ``figures``)."""

    records_sent: Counter = field(default_factory=Counter)    # by lane
    records_acked: Counter = field(default_factory=Counter)   # by lane
    reconnects: int = 0
    refused_by_spine: int = 0
    quarantined: int = 0                                      # WAL records that could not be decoded
    backpressure: int = 0
    connected: bool = False


class WalSource:
    """The sidecar's lane WALs as a sender's source: a record leaves its WAL once the spine has it."""

    def __init__(self, wals: dict[int, Wal], sidecar_id: str, figures: ShipperFigures):
        self._wals = wals
        self._id = sidecar_id
        self._figures = figures
        #: Per lane, the last record the spine acknowledged (or that was set aside): the WAL holds only what follows.
        self.marks = {lane: self._start_mark(wal) for lane, wal in wals.items()}
        self.acked_changed = asyncio.Event()
        self._skipped: dict[int, set[int]] = {lane: set() for lane in wals}  # quarantined, never sent

    @staticmethod
    def _start_mark(wal: Wal) -> int:
        first = wal.first_seq
        return (first - 1) if first is not None else wal.last_seq

    def start_mark(self, lane: int) -> int:
        return self.marks[lane]

    def has_after(self, lane: int, seq: int) -> bool:
        return self._wals[lane].last_seq > seq

    async def read(self, lane: int, after_seq: int, max_items: int, max_bytes: int) -> list[Item]:
        wal = self._wals[lane]
        if lane == LANE_ALERT:
            # Alerts are read here, on the loop: rocksdict holds the interpreter during its calls
            # in any thread, so a worker thread would spare the loop only the decoding of a few
            # small records, and cost two thread wake-ups on the alert's way.
            records = wal.read(after_seq, max_items, max_bytes)
        else:
            records = await asyncio.to_thread(wal.read, after_seq, max_items, max_bytes)
        return [Item(r.seq, r.seq, len(r.payload), r.payload) for r in records]

    def encode(self, lane: int, item: Item) -> tuple[pb.IngestRequest, int]:
        request = pb.IngestRequest(sender_id=self._id, first_seq=item.first_seq, last_seq=item.last_seq, lane=lane)
        request.batch.MergeFromString(item.body)
        return request, item.size

    def set_aside(self, lane: int, item: Item, error: Exception) -> None:
        """Quarantine a WAL record that cannot be decoded; the lane's mark moves past it once all before it is acked."""
        self._figures.quarantined += 1
        self._wals[lane].quarantine(item.last_seq, f"could not be decoded: {type(error).__name__}: {error}")
        self._skipped[lane].add(item.last_seq)
        self._advance_past_skipped(lane)

    def sent(self, lane: int, item: Item) -> None:
        self._figures.records_sent[lane] += 1

    def acked(self, lane: int, ack: pb.IngestAck) -> None:
        figures = self._figures
        figures.connected = True
        if ack.retry_after_ms:
            figures.backpressure += 1
        elif ack.error:
            figures.refused_by_spine += 1
            log.error("shipper: spine refused WAL record %d: %s; quarantining it", ack.durable_seq, ack.error)
            self._wals[lane].quarantine(ack.durable_seq, f"refused by spine: {ack.error}")
        if ack.durable_seq > self.marks[lane]:
            figures.records_acked[lane] += 1
            self.marks[lane] = ack.durable_seq
            self._wals[lane].truncate(ack.durable_seq)
        if self._skipped[lane]:
            self._skipped[lane] = {seq for seq in self._skipped[lane] if seq > self.marks[lane]}
            self._advance_past_skipped(lane)
        self.acked_changed.set()

    def _advance_past_skipped(self, lane: int) -> None:
        skipped = self._skipped[lane]
        moved = False
        while self.marks[lane] + 1 in skipped:
            skipped.discard(self.marks[lane] + 1)
            self.marks[lane] += 1
            moved = True
        if moved:
            self._wals[lane].truncate(self.marks[lane])
            self.acked_changed.set()


class Shipper:
    """The sidecar's WALs -> the spine (``Sender`` over a ``WalSource``), its figures and logging."""

    def __init__(self, wals: dict[int, Wal], sidecar_id: str, spine: str, window: int,
                 backoff_ms: tuple[int, int], window_bytes: int = 16 << 20, dial: Dial | None = None):
        """dial: opens the channel to the spine (default: a gRPC channel to spine, mutual TLS to a TCP address when configured)."""
        self._wals = wals
        self._spine = spine
        self.figures = ShipperFigures()
        self._source = WalSource(wals, sidecar_id, self.figures)
        dial = dial or (lambda: transport.aio_channel(spine, transport.SPINE_CHANNEL_OPTIONS))
        self._sender = Sender(self._source, dial, peer="the spine", window_items=window, window_bytes=window_bytes,
                              backoff_ms=backoff_ms, on_break=self._on_break, lanes=tuple(wals))
        # The backoff starts low again after a session in which the spine acknowledged something (the
        # engine's rule, the SDK's too); a spine that takes the stream and dies before answering (a
        # crash loop) is not hammered at the lowest backoff.
        self._task: asyncio.Task | None = None

    @property
    def acked(self) -> dict[int, int]:
        """Per lane, the last WAL record the spine acknowledged (or that was set aside)."""
        return self._source.marks

    @property
    def credit(self) -> dict[int, int | None]:
        """Per lane, the bytes the spine would admit now (None: it sets no limit)."""
        return {lane: self._sender.credit(lane) for lane in self._wals}

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._sender.run(), name="shipper")

    def notify(self) -> None:
        """New records are durable in a WAL."""
        self._sender.notify()

    def drained(self) -> bool:
        return all(self.acked[lane] >= wal.last_seq for lane, wal in self._wals.items())

    async def force_flush(self, timeout: float) -> bool:
        """Wait until the spine has acknowledged everything in the WALs."""
        try:
            async with asyncio.timeout(timeout):
                while not self.drained():
                    self._source.acked_changed.clear()
                    await self._source.acked_changed.wait()
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

    def _on_break(self, exc: Exception | None) -> None:
        if isinstance(exc, grpc.aio.AioRpcError):
            hint = (" (is the spine running there? events wait in this sidecar's WAL until it answers)"
                    if exc.code() is grpc.StatusCode.UNAVAILABLE else "")
            self._log_break(f"{exc.code().name} {exc.details()}{hint}",
                            logging.INFO if exc.code() in transport.RETRYABLE_CODES else logging.ERROR)
        elif isinstance(exc, (ConnectionError, OSError)):
            self._log_break(f"unreachable: {exc}")
        elif exc is not None:  # e.g. a write racing the end of the stream: reconnect all the same
            self._log_break(f"broke: {type(exc).__name__}: {exc}", logging.WARNING)
        self.figures.connected = False
        self.figures.reconnects += 1

    _last_break_log = 0.0
    _breaks_unlogged = 0

    def _log_break(self, why: str, level: int = logging.INFO) -> None:
        """Log a broken stream: the first after a success, then at most every 30 s (rate-limited)."""
        now = time.monotonic()
        if self._sender.sent_in_session or now - self._last_break_log > 30 or level >= logging.ERROR:
            more = f" ({self._breaks_unlogged} more since the last report)" if self._breaks_unlogged else ""
            log.log(level, "shipper: stream to spine %s ended: %s%s; reconnecting", self._spine, why, more)
            self._last_break_log, self._breaks_unlogged = now, 0
        else:
            self._breaks_unlogged += 1
