"""Streams sealed batches to the sidecar and hands its acknowledgements back to the buffer.

The sending is ``ben.core.sender``'s (the sidecar's shipper uses the same engine): one stream
per lane, at most ``window_batches`` in flight per lane and no more bytes than the sidecar's
credit, back-pressure pauses the lane and resends from the sidecar's mark. This module is the
buffer's side of it (``BufferSource``) and the SDK's event loop.

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

import grpc

from ben.core import transport
from ben.core.address import NOT_BEN, foreign_peer
from ben.core.sender import Dial, Item, Sender
from ben.core.sparse_log import Sparse
from ben.sdk.buffer import Buffer
from ben.v1 import telemetry_pb2 as pb

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


#: The pid of the parent this process was forked from while the SDK's loop (and gRPC's threads) ran in it, or 0.
#: gRPC does not survive such a fork: a Client made in the child never reached its sidecar (ADR 0033).
forked_from_running_sdk = 0


def _forget_after_fork() -> None:
    """A forked child has the loop but not its thread: its Clients start a loop of their own."""
    global _shared, _shared_lock, forked_from_running_sdk
    if _shared is not None:
        forked_from_running_sdk = os.getppid()
    _shared, _shared_lock = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_after_fork)


class BufferSource:
    """The SDK's buffer as a sender's source: sealed batches, each built into a request as it is sent."""

    def __init__(self, buffer: Buffer, source: pb.Source, producer_id: str):
        self._buffer = buffer
        self._source = source
        self._producer_id = producer_id
        self._waits = Sparse(log)  # a wait with its reason: a line a minute, each one counted in stats

    def start_mark(self, lane: int) -> int:
        return self._buffer.acked_seq

    def has_after(self, lane: int, seq: int) -> bool:
        return self._buffer.last_seq > seq

    async def read(self, lane: int, after_seq: int, max_items: int, max_bytes: int) -> list[Item]:
        return [Item(b.first_seq, b.last_seq, 0, b) for b in self._buffer.unsent(lane, after_seq, max_items)]

    def encode(self, lane: int, item: Item) -> tuple[pb.IngestRequest, int]:
        b = item.body
        request = pb.IngestRequest(sender_id=self._producer_id, first_seq=b.first_seq, last_seq=b.last_seq,
                                   lane=lane, batch=b.build(self._source, self._producer_id))
        self._counts(request.producer_counts)
        return request, request.ByteSize()  # encodes: what cannot be encoded fails here, not in the stream

    def set_aside(self, lane: int, item: Item, error: Exception) -> None:
        """A batch that cannot be encoded is dropped and counted (``stats.quarantined``), never sent."""
        self._buffer.discard(lane, item.body, f"{type(error).__name__}: {error}")

    def sent(self, lane: int, item: Item) -> None:
        pass

    def acked(self, lane: int, ack: pb.IngestAck) -> None:
        if ack.retry_after_ms:  # back-pressure: not stored; the sender resends this lane from the mark later
            self._buffer.stats.backpressure += 1
            if ack.error:  # a wait that names its cause (a full WAL, the sidecar's senders per client: ADR 0045,
                # round 15) is said, a line a minute: before, only a count said the SDK was held back
                self._waits.warning("waits", "ben sdk: the sidecar holds these events back for now (resent in %d ms): "
                                    "%s", ack.retry_after_ms, ack.error)
        elif ack.error:
            log.error("ben sdk: sidecar refused events up to %d: %s", ack.durable_seq, ack.error)
        self._buffer.ack(lane, ack.durable_seq, ack.error)

    def _counts(self, out: pb.ProducerCounts) -> None:
        """What this SDK dropped or changed so far: it travels to the sidecar, for `ben status`."""
        st = self._buffer.stats
        out.dropped_full, out.dropped_closed, out.invalid = st.dropped_full, st.dropped_closed, st.invalid
        out.truncated, out.replaced_strings = st.truncated, st.replaced_strings
        out.quarantined, out.rejected = st.quarantined, st.rejected


class Exporter:
    """The SDK's sender (``Sender`` over a ``BufferSource``) on the shared loop, and its batch timer."""

    def __init__(self, buffer: Buffer, target: str, source: pb.Source, producer_id: str,
                 flush_interval_s: float, window_batches: int, backoff_ms: tuple[int, int], dial: Dial | None = None):
        """dial: opens the channel to the sidecar (default: a gRPC channel to target)."""
        self._buffer = buffer
        self._target = target
        self._flush_interval = flush_interval_s
        self._loop = shared_loop()
        dial = dial or (lambda: grpc.aio.insecure_channel(target, options=transport.CHANNEL_OPTIONS))
        self._sender = Sender(BufferSource(buffer, source, producer_id), dial,
                              peer="sidecar", window_items=window_batches, window_bytes=None,
                              backoff_ms=backoff_ms, on_break=self._on_break)
        self._stopping: asyncio.Event | None = None
        self._ready = threading.Event()
        self._done = None  # concurrent.futures.Future of _main
        self.reconnects = 0
        self.last_error = ""

    def start(self) -> None:
        self._done = asyncio.run_coroutine_threadsafe(self._main(), self._loop)
        self._ready.wait()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The exporter's event loop (the SDK's command channel runs on it too)."""
        return self._loop

    @property
    def connected(self) -> bool:
        """The sidecar acknowledged something since the stream last broke."""
        return self._sender.connected

    def wake(self) -> None:
        """Thread-safe: a batch was sealed."""
        if not self._loop.is_closed():
            try:
                self._loop.call_soon_threadsafe(self._sender.notify)
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
        self._stopping = asyncio.Event()
        self._ready.set()
        ticker = asyncio.create_task(self._tick())
        runner = asyncio.create_task(self._sender.run())
        await self._stopping.wait()
        for task in (ticker, runner):
            task.cancel()
        await asyncio.gather(ticker, runner, return_exceptions=True)

    async def _tick(self) -> None:
        """Seal a batch once it is flush_interval old, however small."""
        while True:
            await asyncio.sleep(self._flush_interval / 2)
            self._buffer.seal(older_than_s=self._flush_interval)

    def _on_break(self, exc: Exception | None) -> None:
        if isinstance(exc, grpc.aio.AioRpcError):
            said = f"{exc.code().name}: {exc.details()}"
            # A write racing a foreign server's end of the stream says only INTERNAL: it keeps what was seen of it.
            if not (exc.code() is grpc.StatusCode.INTERNAL and NOT_BEN in self.last_error):
                self.last_error = foreign_peer(self._target, said) or said
        elif isinstance(exc, (TimeoutError, OSError)):
            self.last_error = f"sidecar {self._target} unreachable: {exc or type(exc).__name__}"
        elif exc is not None:  # e.g. a write racing the end of the stream: reconnect all the same
            self.last_error = f"stream to sidecar {self._target} broke: {type(exc).__name__}: {exc}"
        else:
            self.last_error = f"stream to sidecar {self._target} ended"
        self.reconnects += 1
        log.debug("ben sdk: %s; reconnecting", self.last_error)
