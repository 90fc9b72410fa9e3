"""A fake ingest receiver for unit tests of ``ben.core.sender``: no network, acks put by the test.

``FakeChannel.dial`` stands in for opening a ``grpc.aio`` channel: the generated ``IngestStub``
calls ``stream_stream`` on it, and every ``Stream()`` opens a ``FakeCall`` that records what
the sender writes and yields the acknowledgements the test puts (``ack``) until ``end``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ben.core.sender import Item
from ben.v1 import telemetry_pb2 as pb


@dataclass(frozen=True)
class Write:
    """One request the sender wrote, and when."""

    lane: int
    first_seq: int
    last_seq: int
    at: float


class FakeCall:
    """One ingest stream, the receiver's side."""

    def __init__(self, on_write: Callable[[FakeCall, pb.IngestRequest], Awaitable[None]] | None = None):
        self.writes: list[Write] = []
        self._acks: asyncio.Queue[pb.IngestAck | None] = asyncio.Queue()
        self._on_write = on_write

    @property
    def seqs(self) -> list[int]:
        return [w.first_seq for w in self.writes]

    async def write(self, request: pb.IngestRequest) -> None:
        self.writes.append(Write(request.lane, request.first_seq, request.last_seq, time.monotonic()))
        if self._on_write is not None:
            await self._on_write(self, request)

    def ack(self, lane: int, durable_seq: int, *, retry_after_ms: int = 0, credit_bytes: int | None = None,
            error: str = "") -> None:
        ack = pb.IngestAck(durable_seq=durable_seq, lane=lane, retry_after_ms=retry_after_ms, error=error)
        if credit_bytes is not None:
            ack.credit_bytes = credit_bytes
        self._acks.put_nowait(ack)

    def end(self) -> None:
        """The receiver closes the stream."""
        self._acks.put_nowait(None)

    def __aiter__(self) -> FakeCall:
        return self

    async def __anext__(self) -> pb.IngestAck:
        ack = await self._acks.get()
        if ack is None:
            raise StopAsyncIteration
        return ack


class FakeChannel:
    """Stands in for a channel to the receiver; ``refuse`` makes every dial fail (nobody listens)."""

    def __init__(self, on_write: Callable[[FakeCall, pb.IngestRequest], Awaitable[None]] | None = None):
        self.calls: list[FakeCall] = []
        self.dials: list[float] = []
        self.refuse = False
        self._on_write = on_write

    def dial(self) -> FakeChannel:
        self.dials.append(time.monotonic())
        if self.refuse:
            raise ConnectionRefusedError("nobody listens")
        return self

    async def __aenter__(self) -> FakeChannel:
        return self

    async def __aexit__(self, *exc) -> None:
        return None

    def stream_stream(self, method: str, **kwargs) -> Callable[..., FakeCall]:
        return self._open

    def _open(self, wait_for_ready: bool | None = None) -> FakeCall:
        call = FakeCall(self._on_write)
        self.calls.append(call)
        return call


class MemorySource:
    """A sender's source of numbered items in memory (one item per sequence number)."""

    def __init__(self) -> None:
        self.items: dict[int, Item] = {}
        self.mark = 0
        self.set_aside_seqs: list[int] = []
        self.acks: list[pb.IngestAck] = []

    def add(self, lane: int, *seqs: int, size: int = 100, bad: bool = False) -> None:
        """Items of `size` bytes; `bad` ones cannot be encoded."""
        for seq in seqs:
            self.items[seq] = Item(seq, seq, size, None if bad else lane)

    def start_mark(self, lane: int) -> int:
        return self.mark

    def has_after(self, lane: int, seq: int) -> bool:
        return bool(self.items) and max(self.items) > seq

    async def read(self, lane: int, after_seq: int, max_items: int, max_bytes: int) -> list[Item]:
        out, size = [], 0
        for seq in sorted(s for s in self.items if s > after_seq):
            if len(out) >= max_items or size >= max_bytes:
                break
            out.append(self.items[seq])
            size += self.items[seq].size
        return out

    def encode(self, lane: int, item: Item) -> tuple[pb.IngestRequest, int]:
        if item.body is None:
            raise ValueError("cannot be encoded")
        return pb.IngestRequest(sender_id="fake", first_seq=item.first_seq, last_seq=item.last_seq, lane=lane), item.size

    def set_aside(self, lane: int, item: Item, error: Exception) -> None:
        self.set_aside_seqs.append(item.first_seq)

    def sent(self, lane: int, item: Item) -> None:
        pass

    def acked(self, lane: int, ack: pb.IngestAck) -> None:
        self.acks.append(ack)
        self.mark = max(self.mark, ack.durable_seq)


async def settle() -> None:
    """Let every ready task run until the loop is idle (the fakes do no I/O and start no threads)."""
    for _ in range(50):
        await asyncio.sleep(0)


async def wait_until(condition: Callable[[], bool], timeout: float = 5.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.002)
