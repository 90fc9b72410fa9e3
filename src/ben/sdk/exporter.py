"""Streams sealed batches to the sidecar and hands its acknowledgements back to the buffer.

Every Client of a process runs on one asyncio loop in one daemon thread (``shared_loop``), never
closed: gRPC's asyncio layer polls completions for every loop of the process from one poller,
and a loop closed by one Client's shutdown made it print "Event loop is closed" tracebacks in
the others. After a broken stream the exporter reconnects with backoff and resends every batch
not yet acknowledged; the sidecar stores each batch once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time

import grpc

from ben.core import transport
from ben.core.lanes import LANES
from ben.sdk.buffer import Buffer
from ben.v1 import telemetry_pb2 as pb
from ben.v1 import telemetry_pb2_grpc as pb_grpc

log = logging.getLogger(__name__)

_shared: asyncio.AbstractEventLoop | None = None
_shared_lock = threading.Lock()


def shared_loop() -> asyncio.AbstractEventLoop:
    """The process's SDK event loop, running in a daemon thread (started at first use, never closed)."""
    global _shared
    with _shared_lock:
        if _shared is None or _shared.is_closed():
            loop = asyncio.new_event_loop()
            threading.Thread(target=_run_forever, args=(loop,), name="ben-sdk-loop", daemon=True).start()
            _shared = loop
        return _shared


def _run_forever(loop: asyncio.AbstractEventLoop) -> None:
    asyncio.set_event_loop(loop)
    loop.run_forever()


def _forget_after_fork() -> None:
    """A forked child has the loop but not its thread: its Clients start a loop of their own."""
    global _shared, _shared_lock
    _shared, _shared_lock = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_after_fork)


class Exporter:
    def __init__(self, buffer: Buffer, target: str, source: pb.Source, producer_id: str,
                 flush_interval_s: float, window_batches: int, backoff_ms: tuple[int, int]):
        self._buffer = buffer
        self._target = target
        self._source = source
        self._producer_id = producer_id
        self._flush_interval = flush_interval_s
        self._window = window_batches
        self._backoff_ms = backoff_ms
        self._loop = shared_loop()
        self._wakeup: asyncio.Event | None = None
        self._stopping: asyncio.Event | None = None
        self._ready = threading.Event()
        self._done = None  # concurrent.futures.Future of _main
        self.connected = False
        self.reconnects = 0
        self._sent: dict[int, int] = {}
        self._paused_until: dict[int, float] = {}
        self._rewinds: dict[int, int] = {}  # bumped when an ack rewinds a lane's sending
        self._wakeups: dict[int, asyncio.Event] = {}
        self.last_error = ""

    def start(self) -> None:
        self._done = asyncio.run_coroutine_threadsafe(self._main(), self._loop)
        self._ready.wait()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The exporter's event loop (the SDK's command channel runs on it too)."""
        return self._loop

    def wake(self) -> None:
        """Thread-safe: a batch was sealed."""
        if self._wakeup is not None and not self._loop.is_closed():
            try:
                self._loop.call_soon_threadsafe(self._wakeup.set)
            except RuntimeError:  # loop closed meanwhile
                pass

    def stop(self, timeout: float) -> None:
        if self._stopping is not None and not self._loop.is_closed():
            try:
                self._loop.call_soon_threadsafe(self._stopping.set)
            except RuntimeError:
                pass
        if self._done is not None:
            try:
                self._done.result(timeout)
            except Exception:  # noqa: BLE001 - stopping: a timeout or a failure leaves nothing to do
                pass

    # -- on the shared loop -----------------------------------------------------------------------

    async def _main(self) -> None:
        self._wakeup = asyncio.Event()
        self._stopping = asyncio.Event()
        self._ready.set()
        ticker = asyncio.create_task(self._tick())
        runner = asyncio.create_task(self._connect_loop())
        await self._stopping.wait()
        for task in (ticker, runner):
            task.cancel()
        await asyncio.gather(ticker, runner, return_exceptions=True)

    async def _tick(self) -> None:
        """Seal a batch once it is flush_interval old, however small."""
        while True:
            await asyncio.sleep(self._flush_interval / 2)
            self._buffer.seal(older_than_s=self._flush_interval)

    async def _connect_loop(self) -> None:
        await transport.keep_connected(self._session, self._backoff_ms, self._on_break, lambda: self.connected)

    def _on_break(self, exc: Exception | None) -> None:
        if isinstance(exc, grpc.aio.AioRpcError):
            self.last_error = f"{exc.code().name}: {exc.details()}"
        elif isinstance(exc, (TimeoutError, OSError)):
            self.last_error = f"sidecar {self._target} unreachable: {exc or type(exc).__name__}"
        elif exc is not None:  # e.g. a write racing the end of the stream: reconnect all the same
            self.last_error = f"stream to sidecar {self._target} broke: {type(exc).__name__}: {exc}"
        else:
            self.last_error = f"stream to sidecar {self._target} ended"
        self.connected = False
        self.reconnects += 1
        log.debug("ben sdk: %s; reconnecting", self.last_error)

    async def _session(self) -> None:
        """One channel, one stream per lane: routine batches never sit in front of an alert."""
        async with grpc.aio.insecure_channel(self._target, options=transport.CHANNEL_OPTIONS) as channel:
            stub = pb_grpc.IngestStub(channel)
            # Per lane: the last event number sent, and until when the sidecar asked us to wait.
            self._sent = {lane: self._buffer.acked_seq for lane in LANES}  # resend all unacknowledged
            self._paused_until = {lane: 0.0 for lane in LANES}
            self._rewinds = {lane: 0 for lane in LANES}
            self._wakeups = {lane: asyncio.Event() for lane in LANES}
            tasks = []
            for lane in LANES:
                call = stub.Stream(wait_for_ready=False)  # fail fast when nobody listens
                tasks.append(asyncio.ensure_future(self._send(lane, call)))
                tasks.append(asyncio.ensure_future(self._read_acks(call)))
            relay = asyncio.ensure_future(self._relay_wakeups())
            try:
                done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            finally:
                for task in (*tasks, relay):
                    task.cancel()
                await asyncio.gather(*tasks, relay, return_exceptions=True)
            for task in done:
                if not task.cancelled() and task.exception() is not None:
                    raise task.exception()

    async def _relay_wakeups(self) -> None:
        """The buffer wakes one event (any thread); every lane's sender looks."""
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            for event in self._wakeups.values():
                event.set()

    async def _send(self, lane: int, call) -> None:
        wakeup = self._wakeups[lane]
        while True:
            wakeup.clear()
            paused = self._paused_until[lane]
            batches = [] if paused > time.monotonic() else self._buffer.unsent(lane, self._sent[lane], self._window)
            rewinds = self._rewinds[lane]
            for b in batches:
                try:
                    request = pb.IngestRequest(sender_id=self._producer_id, first_seq=b.first_seq,
                                               last_seq=b.last_seq, lane=lane,
                                               batch=b.build(self._source, self._producer_id))
                    self._counts(request.producer_counts)
                    request.ByteSize()  # encodes: what cannot be encoded fails here, not in the stream
                except Exception as exc:  # one bad batch must not break the stream for good: drop it, go on
                    self._buffer.discard(lane, b, f"{type(exc).__name__}: {exc}")
                    self._sent[lane] = max(self._sent[lane], b.last_seq)
                    continue
                await call.write(request)
                if self._rewinds[lane] != rewinds:  # an ack rewound this lane meanwhile
                    break
                self._sent[lane] = b.last_seq
            if batches:
                continue
            try:
                await asyncio.wait_for(wakeup.wait(), timeout=_until([paused] if paused > time.monotonic() else []))
            except TimeoutError:
                pass

    def _counts(self, out: pb.ProducerCounts) -> None:
        """What this SDK dropped or changed so far: it travels to the sidecar, for `ben status`."""
        st = self._buffer.stats
        out.dropped_full, out.dropped_closed, out.invalid = st.dropped_full, st.dropped_closed, st.invalid
        out.truncated, out.replaced_strings = st.truncated, st.replaced_strings
        out.quarantined, out.rejected = st.quarantined, st.rejected

    async def _read_acks(self, call) -> None:
        async for ack in call:
            self.connected = True
            if ack.retry_after_ms:  # back-pressure: not stored; resend this lane from the mark later
                self._buffer.stats.backpressure += 1
                self._sent[ack.lane] = min(self._sent[ack.lane], ack.durable_seq)
                self._rewinds[ack.lane] += 1
                self._paused_until[ack.lane] = time.monotonic() + ack.retry_after_ms / 1000
            elif ack.error:
                log.error("ben sdk: sidecar refused events up to %d: %s", ack.durable_seq, ack.error)
            self._buffer.ack(ack.lane, ack.durable_seq, ack.error)
            self._wakeups[ack.lane].set()
        raise ConnectionError("sidecar closed the stream")


def _until(paused: list[float]) -> float | None:
    """Seconds until the first paused lane may send again (never None while one is paused)."""
    return max(0.0, min(paused) - time.monotonic()) if paused else None
