"""The per-lane sender of every hop that streams numbered data to an ingest receiver.

One engine serves the SDK (sealed batches in its in-memory ``Buffer`` -> the sidecar) and the
sidecar (records of its RocksDB WALs -> the spine), as OpenTelemetry's SDK runs every signal
through one batch engine. What differs between them is a ``Source``: where the items are read,
how one becomes an ``IngestRequest``, what is done with one that cannot be sent, and what an
acknowledgement means to the one who holds the data. Everything else is here: one channel with
one stream per lane (a lane's backlog never sits in front of an alert), the window, the
receiver's credit, back-pressure (pause and rewind), resending after a break, and reconnecting
with exponential backoff and jitter (``transport.keep_connected``).

The connection::

    DISCONNECTED --dial, one stream per lane--> STREAMING --a stream fails or ends--> DISCONNECTED
         ^                                                                                  |
         +------------------- backoff (starts low again after a session that worked) -------+

Every new session resends each lane from ``source.start_mark(lane)``, everything not yet
acknowledged; the receiver recognises what it already holds and acknowledges it again.

Each lane's task decides, on every round, what it may do (``plan``, a pure function of the
lane's ``Flight`` and the clock)::

    mode    when                                               then
    PAUSED  back-pressure: now < paused_until                  wait until the pause ends
    FULL    window_items or window_bytes in flight, or the     wait for an ack (it frees room
            credit used up with something in flight            and brings fresh credit)
    HELD    no credit, nothing in flight, probe not yet due    wait until it is due
    PROBE   no credit, nothing in flight, probe due            send one item (its ack says the credit)
    OPEN    room left                                          read up to the room; encode and
                                                               write one item at a time;
                                                               nothing new: wait for ``notify``

and on every acknowledgement of the lane::

    credit_bytes       credit = it (absent: the receiver sets no limit)
    retry_after_ms     rewind: sent = min(sent, durable_seq), nothing in flight, rewinds += 1,
                       PAUSED for retry_after_ms; then everything after the mark is sent again
    durable_seq        what is in flight up to it leaves the flight; ``source.acked``

A write that was under way when a rewind arrived must not move ``sent`` forward again: every
rewind bumps ``rewinds``, and a send loop that sees it changed stops and plans again.
"""

from __future__ import annotations

import asyncio
import enum
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

import grpc

from ben.core import transport
from ben.core.lanes import LANES
from ben.v1 import telemetry_pb2 as pb
from ben.v1 import telemetry_pb2_grpc as pb_grpc

#: With no credit left and nothing in flight, a lane sends one item this often: its ack brings fresh credit.
CREDIT_PROBE_S = 0.2
#: No byte limit (a window in bytes that was not set, or no credit).
UNLIMITED = sys.maxsize


@dataclass(frozen=True, slots=True)
class Item:
    """One numbered unit a source hands the sender (a sealed batch, a WAL record), not yet encoded."""

    first_seq: int
    last_seq: int
    size: int  # bytes, when the source knows them before encoding (a WAL record); else 0
    body: object  # the source's own: what ``encode`` and ``set_aside`` need


class Source(Protocol):
    """Where a ``Sender`` reads, and whom it tells what the receiver answered (called on the loop)."""

    def start_mark(self, lane: int) -> int:
        """A new session sends the lane's items after this sequence number (the acknowledged mark)."""

    def has_after(self, lane: int, seq: int) -> bool:
        """Cheap: may there be items after seq? False spares a read."""

    async def read(self, lane: int, after_seq: int, max_items: int, max_bytes: int) -> list[Item]:
        """Items after after_seq, oldest first: at most max_items and, where the source knows sizes
        before encoding, no more once max_bytes are reached (the last one may pass it: at least one
        item comes back when there is one)."""

    def encode(self, lane: int, item: Item) -> tuple[pb.IngestRequest, int]:
        """The request for an item and its size in bytes; raises if it cannot be encoded."""

    def set_aside(self, lane: int, item: Item, error: Exception) -> None:
        """An item that cannot be encoded (``encode`` raised error): drop or quarantine it, count it."""

    def sent(self, lane: int, item: Item) -> None:
        """The item was written to the lane's stream."""

    def acked(self, lane: int, ack: pb.IngestAck) -> None:
        """The receiver answered: durable up to ack.durable_seq, or refused it (ack.error), or said
        not now (ack.retry_after_ms; the sender has rewound already)."""


#: Opens a channel to the receiver (used as ``async with dial() as channel``).
Dial = Callable[[], AbstractAsyncContextManager[grpc.aio.Channel]]


class Mode(enum.Enum):
    """What a lane may do now (the table in the module docstring)."""

    OPEN = "open"
    PROBE = "probe"
    HELD = "held"
    FULL = "full"
    PAUSED = "paused"


class Room(NamedTuple):
    """``plan``'s answer: how much a lane may read now, and when to look again without a wake-up."""

    mode: Mode
    items: int
    bytes: int
    wait_s: float | None  # None: until woken (an ack, new data)


class InFlight(NamedTuple):
    """One item written and not yet acknowledged."""

    last_seq: int
    size: int


@dataclass
class Flight:
    """One lane's sending state. ``sent``: the last sequence number written this session."""

    sent: int = 0
    inflight: deque[InFlight] = field(default_factory=deque)  # oldest first
    inflight_bytes: int = 0
    credit: int | None = None  # bytes the receiver would admit now; None: it sets no limit
    probe_at: float = 0.0
    paused_until: float = 0.0
    rewinds: int = 0
    wakeup: asyncio.Event = field(default_factory=asyncio.Event)

    def restart(self, mark: int) -> None:
        """A new session: resend everything after the mark (the pause and the credit still hold)."""
        self.sent = mark
        self.inflight.clear()
        self.inflight_bytes = 0

    def wrote(self, last_seq: int, size: int) -> None:
        self.inflight.append(InFlight(last_seq, size))
        self.inflight_bytes += size

    def acked_upto(self, seq: int) -> None:
        inflight = self.inflight
        while inflight and inflight[0].last_seq <= seq:
            self.inflight_bytes -= inflight.popleft().size

    def rewind(self, mark: int, paused_until: float) -> None:
        """Back-pressure: nothing after the mark was stored; send it again once the pause ends."""
        self.sent = min(self.sent, mark)
        self.rewinds += 1
        self.inflight.clear()
        self.inflight_bytes = 0
        self.paused_until = paused_until


def plan(flight: Flight, now: float, window_items: int, window_bytes: int = UNLIMITED) -> Room:
    """What the lane may send now (pure: the caller moves ``probe_at`` when it probes)."""
    if flight.paused_until > now:
        return Room(Mode.PAUSED, 0, 0, flight.paused_until - now)
    items = window_items - len(flight.inflight)
    room_bytes = window_bytes - flight.inflight_bytes
    credit = flight.credit
    if credit is not None:  # the receiver's credit bounds what may be in flight
        if credit > flight.inflight_bytes:
            room_bytes = min(room_bytes, credit - flight.inflight_bytes)
        elif flight.inflight:
            return Room(Mode.FULL, 0, 0, None)  # wait for acks: they bring fresh credit
        elif now >= flight.probe_at:
            return Room(Mode.PROBE, 1, 1, None)
        else:
            return Room(Mode.HELD, 0, 0, flight.probe_at - now)
    if items <= 0 or room_bytes <= 0:
        return Room(Mode.FULL, 0, 0, None)
    return Room(Mode.OPEN, items, room_bytes, None)


class Sender:
    """Streams a ``Source``'s lanes to an ingest receiver: window, credit, back-pressure, resend, backoff.

    ``peer`` names the receiver in errors ("sidecar", "the spine"); ``on_break`` gets every
    error that ended a session (None: the peer closed it), to classify, log and count;
    ``succeeded`` says whether the session that just ended worked (the backoff then starts low
    again; default: an acknowledgement arrived). ``run`` until cancelled; ``notify`` (on the
    loop) when the source has new items."""

    def __init__(self, source: Source, dial: Dial, *, peer: str, window_items: int,
                 window_bytes: int | None, backoff_ms: tuple[int, int],
                 on_break: Callable[[Exception | None], None], succeeded: Callable[[], bool] | None = None,
                 lanes: Iterable[int] = LANES):
        self._source = source
        self._dial = dial
        self._peer = peer
        self._window_items = window_items
        self._window_bytes = UNLIMITED if window_bytes is None else window_bytes
        self._backoff_ms = backoff_ms
        self._on_break_hook = on_break
        self._succeeded = succeeded or (lambda: self.connected)
        self.flights: dict[int, Flight] = {lane: Flight() for lane in lanes}
        self.connected = False  # an acknowledgement arrived since the last break
        self.sent_in_session = 0  # items written since the session began

    async def run(self) -> None:
        """Connect, stream, and after any break reconnect with backoff; until cancelled."""
        await transport.keep_connected(self._session, self._backoff_ms, self._on_break, self._succeeded)

    def notify(self) -> None:
        """New items in the source (call on the sender's loop): every lane looks."""
        for flight in self.flights.values():
            flight.wakeup.set()

    def credit(self, lane: int) -> int | None:
        """The receiver's latest credit for the lane (None: no limit, or not heard yet)."""
        return self.flights[lane].credit

    def _on_break(self, exc: Exception | None) -> None:
        self.connected = False
        self._on_break_hook(exc)

    async def _session(self) -> None:
        """One channel, one stream per lane."""
        self.sent_in_session = 0
        for lane, flight in self.flights.items():
            flight.restart(self._source.start_mark(lane))  # resend everything not yet acknowledged
        async with self._dial() as channel:
            stub = pb_grpc.IngestStub(channel)
            tasks = []
            for lane in self.flights:
                call = stub.Stream(wait_for_ready=False)  # fail fast when nobody listens
                tasks.append(asyncio.ensure_future(self._send(lane, call)))
                tasks.append(asyncio.ensure_future(self._read_acks(call)))
            try:
                done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
            for task in done:
                if not task.cancelled() and task.exception() is not None:
                    raise task.exception()

    async def _send(self, lane: int, call) -> None:
        flight, source = self.flights[lane], self._source
        while True:
            flight.wakeup.clear()
            now = time.monotonic()
            room = plan(flight, now, self._window_items, self._window_bytes)
            items: list[Item] = []
            # Nothing past what was sent: no read. Every new item of any lane wakes every lane's
            # sender, and a read that finds nothing may still cost (a WAL's iterator and seek).
            if room.items and source.has_after(lane, flight.sent):
                if room.mode is Mode.PROBE:
                    flight.probe_at = now + CREDIT_PROBE_S
                rewinds, used = flight.rewinds, 0
                items = await source.read(lane, flight.sent, room.items, room.bytes)
                for item in items:
                    # Stop when an ack rewound this lane meanwhile, or the bytes are used (sources that
                    # learn an item's size only by encoding it, the SDK's buffer, are bounded here).
                    if flight.rewinds != rewinds or used >= room.bytes:
                        break
                    try:  # each item is encoded just before it is written: the receiver gets the first one soonest
                        request, size = source.encode(lane, item)
                    except Exception as exc:  # one bad item must not stop the lane: set it aside, go on
                        source.set_aside(lane, item, exc)
                        flight.sent = max(flight.sent, item.last_seq)
                        continue
                    used += size
                    flight.wrote(item.last_seq, size)
                    await call.write(request)
                    if flight.rewinds != rewinds:
                        break
                    flight.sent = item.last_seq
                    self.sent_in_session += 1
                    source.sent(lane, item)
            if items:
                continue
            try:
                await asyncio.wait_for(flight.wakeup.wait(), timeout=room.wait_s)
            except TimeoutError:
                pass

    async def _read_acks(self, call) -> None:
        async for ack in call:
            self._on_ack(ack)
        raise ConnectionError(f"{self._peer} closed the stream")

    def _on_ack(self, ack: pb.IngestAck) -> None:
        self.connected = True
        flight = self.flights[ack.lane]
        flight.credit = ack.credit_bytes if ack.HasField("credit_bytes") else None
        if ack.retry_after_ms:  # back-pressure: not stored; resend this lane from the mark later
            flight.rewind(ack.durable_seq, time.monotonic() + ack.retry_after_ms / 1000)
        flight.acked_upto(ack.durable_seq)
        self._source.acked(ack.lane, ack)
        flight.wakeup.set()
