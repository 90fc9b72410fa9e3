"""Ships the sidecar's lane WALs to the spine and deletes only what the spine acknowledged.

One stream per lane over one channel, so a routine backlog never sits in front of an alert
(HTTP/2 multiplexes the streams). After any break (spine down, restart, network) it
reconnects with exponential backoff and jitter and resends everything not yet acknowledged;
the spine recognises what it already has and acknowledges it again without storing it twice.
When the spine answers with back-pressure, that lane waits and resends from the spine's mark.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, deque
from dataclasses import dataclass, field

import grpc

from ben.core import transport
from ben.core.lanes import ALERT as LANE_ALERT
from ben.core.lanes import LANES
from ben.core.wal import Wal
from ben.v1 import telemetry_pb2 as pb
from ben.v1 import telemetry_pb2_grpc as pb_grpc

log = logging.getLogger(__name__)

CREDIT_PROBE_S = 0.2  # with no credit left, probe the spine this often


@dataclass
class ShipperFigures:
    records_sent: Counter = field(default_factory=Counter)    # by lane
    records_acked: Counter = field(default_factory=Counter)   # by lane
    reconnects: int = 0
    refused_by_spine: int = 0
    quarantined: int = 0                                      # WAL records that could not be decoded
    backpressure: int = 0
    connected: bool = False


class Shipper:
    def __init__(self, wals: dict[int, Wal], sidecar_id: str, spine: str, window: int,
                 backoff_ms: tuple[int, int], window_bytes: int = 16 << 20):
        self._wals = wals
        self._id = sidecar_id
        self._spine = spine
        self._window = window
        self._window_bytes = window_bytes
        # Per lane, what is in flight: (seq, bytes), oldest first. Bounds memory as well as records.
        self._inflight: dict[int, deque[tuple[int, int]]] = {lane: deque() for lane in wals}
        self._backoff_ms = backoff_ms
        self._appended = asyncio.Event()
        self._acked_changed = asyncio.Event()
        self.acked = {lane: self._start_mark(wal) for lane, wal in wals.items()}
        self._sent: dict[int, int] = dict(self.acked)
        self._paused_until = {lane: 0.0 for lane in wals}
        self._rewinds = {lane: 0 for lane in wals}  # bumped when an ack rewinds a lane's sending
        self.credit: dict[int, int | None] = {lane: None for lane in wals}  # None: the spine sets no limit
        self._probe_at = {lane: 0.0 for lane in wals}
        self._skipped: dict[int, set[int]] = {lane: set() for lane in wals}  # quarantined, never sent
        self.figures = ShipperFigures()
        self._task: asyncio.Task | None = None
        self._sent_since_connect = 0

    @staticmethod
    def _start_mark(wal: Wal) -> int:
        first = wal.first_seq
        return (first - 1) if first is not None else wal.last_seq

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="shipper")

    def notify(self) -> None:
        """New records are durable in a WAL."""
        self._appended.set()

    def drained(self) -> bool:
        return all(self.acked[lane] >= wal.last_seq for lane, wal in self._wals.items())

    async def force_flush(self, timeout: float) -> bool:
        """Wait until the spine has acknowledged everything in the WALs."""
        try:
            async with asyncio.timeout(timeout):
                while not self.drained():
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
        await transport.keep_connected(self._session, self._backoff_ms, self._on_break,
                                       lambda: self._sent_since_connect > 0)  # it worked for a while: start low

    def _on_break(self, exc: Exception | None) -> None:
        if isinstance(exc, grpc.aio.AioRpcError):
            self._log_break(f"{exc.code().name} {exc.details()}",
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
        if self._sent_since_connect or now - self._last_break_log > 30 or level >= logging.ERROR:
            more = f" ({self._breaks_unlogged} more since the last report)" if self._breaks_unlogged else ""
            log.log(level, "shipper: stream to spine %s ended: %s%s; reconnecting", self._spine, why, more)
            self._last_break_log, self._breaks_unlogged = now, 0
        else:
            self._breaks_unlogged += 1

    async def _session(self) -> None:
        """One channel, one stream per lane: a lane's backlog never sits in front of an alert."""
        self._sent_since_connect = 0
        self._sent = dict(self.acked)  # resend everything not yet acknowledged
        for inflight in self._inflight.values():
            inflight.clear()
        async with transport.aio_channel(self._spine, transport.SPINE_CHANNEL_OPTIONS) as channel:
            stub = pb_grpc.IngestStub(channel)
            tasks = []
            for lane in LANES:
                call = stub.Stream(wait_for_ready=False)  # fail fast when the spine is down
                tasks.append(asyncio.ensure_future(self._send(lane, call)))
                tasks.append(asyncio.ensure_future(self._read(call)))
            try:
                done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
            for task in done:
                if not task.cancelled() and task.exception() is not None:
                    raise task.exception()

    async def _read(self, call) -> None:
        async for ack in call:
            self._on_ack(ack)
        raise ConnectionError("the spine closed the stream")

    async def _send(self, lane: int, call) -> None:
        wal, inflight = self._wals[lane], self._inflight[lane]
        while True:
            self._appended.clear()
            self._acked_changed.clear()
            paused = self._paused_until[lane]
            room = self._window - len(inflight)
            in_flight_bytes = sum(size for _, size in inflight)
            room_bytes = self._window_bytes - in_flight_bytes
            credit, wake_at = self.credit[lane], []
            if credit is not None:  # the spine's credit bounds what may be in flight
                if credit > in_flight_bytes:
                    room_bytes = min(room_bytes, credit - in_flight_bytes)
                elif inflight:
                    room_bytes = 0  # wait for acks: they bring fresh credit
                elif time.monotonic() >= self._probe_at[lane]:
                    room_bytes = 1  # no credit, nothing in flight: probe with one record now and then
                    self._probe_at[lane] = time.monotonic() + CREDIT_PROBE_S
                else:
                    room_bytes = 0
                    wake_at.append(self._probe_at[lane])
            records = []
            # Nothing past what was sent: no read. Every append to any lane wakes every lane's
            # sender, and a read that finds nothing still costs an iterator and a seek.
            if wal.last_seq > self._sent[lane] and paused <= time.monotonic() and room > 0 and room_bytes > 0:
                rewinds = self._rewinds[lane]
                if lane == LANE_ALERT:
                    # Alerts are read here, on the loop: rocksdict holds the interpreter during its
                    # calls in any thread, so a worker thread would spare the loop only the decoding
                    # of a few small records, and cost two thread wake-ups on the alert's way.
                    records = wal.read(self._sent[lane], room, room_bytes)
                else:
                    records = await asyncio.to_thread(wal.read, self._sent[lane], room, room_bytes)
                for record in records:
                    if self._rewinds[lane] != rewinds:  # an ack rewound this lane meanwhile
                        break
                    request = pb.IngestRequest(sender_id=self._id, first_seq=record.seq, last_seq=record.seq,
                                               lane=lane)
                    try:
                        request.batch.MergeFromString(record.payload)
                    except Exception as exc:  # one bad record must not stop the lane: set it aside, go on
                        self._skip(lane, record.seq, f"could not be decoded: {type(exc).__name__}: {exc}")
                        continue
                    inflight.append((record.seq, len(record.payload)))
                    await call.write(request)
                    if self._rewinds[lane] != rewinds:
                        break
                    self._sent[lane] = record.seq
                    self.figures.records_sent[lane] += 1
                    self._sent_since_connect += 1
            if records:
                continue
            waiters = [asyncio.ensure_future(self._appended.wait()), asyncio.ensure_future(self._acked_changed.wait())]
            try:
                await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED,
                                   timeout=_until(wake_at + ([paused] if paused > time.monotonic() else [])))
            finally:
                for w in waiters:
                    w.cancel()

    def _skip(self, lane: int, seq: int, reason: str) -> None:
        """Quarantine a WAL record that cannot be sent; the lane's mark moves past it once all before it is acked."""
        self.figures.quarantined += 1
        self._wals[lane].quarantine(seq, reason)
        self._sent[lane] = max(self._sent[lane], seq)
        self._skipped[lane].add(seq)
        self._advance_past_skipped(lane)

    def _advance_past_skipped(self, lane: int) -> None:
        skipped = self._skipped[lane]
        moved = False
        while self.acked[lane] + 1 in skipped:
            skipped.discard(self.acked[lane] + 1)
            self.acked[lane] += 1
            moved = True
        if moved:
            self._wals[lane].truncate(self.acked[lane])
            self._acked_changed.set()

    def _on_ack(self, ack: pb.IngestAck) -> None:
        self.figures.connected = True
        lane = ack.lane
        self.credit[lane] = ack.credit_bytes if ack.HasField("credit_bytes") else None
        if ack.retry_after_ms:
            self.figures.backpressure += 1
            self._sent[lane] = min(self._sent[lane], ack.durable_seq)
            self._rewinds[lane] += 1
            self._inflight[lane].clear()  # everything after the mark is resent
            self._paused_until[lane] = time.monotonic() + ack.retry_after_ms / 1000
        elif ack.error:
            self.figures.refused_by_spine += 1
            log.error("shipper: spine refused WAL record %d: %s; quarantining it", ack.durable_seq, ack.error)
            self._wals[lane].quarantine(ack.durable_seq, f"refused by spine: {ack.error}")
        inflight = self._inflight[lane]
        while inflight and inflight[0][0] <= ack.durable_seq:
            inflight.popleft()
        if ack.durable_seq > self.acked[lane]:
            self.figures.records_acked[lane] += 1
            self.acked[lane] = ack.durable_seq
            self._wals[lane].truncate(ack.durable_seq)
        if self._skipped[lane]:
            self._skipped[lane] = {seq for seq in self._skipped[lane] if seq > self.acked[lane]}
            self._advance_past_skipped(lane)
        self._acked_changed.set()


def _until(paused: list[float]) -> float | None:
    """Seconds until the first paused lane may send again (never None while one is paused)."""
    return max(0.0, min(paused) - time.monotonic()) if paused else None
