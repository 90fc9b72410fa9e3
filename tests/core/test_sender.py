"""The sender engine without a network: window, credit, back-pressure (pause and rewind), resend, backoff.

The SDK's exporter and the sidecar's shipper are thin users of it; their integration tests with real
processes (tests/sdk, tests/sidecar, tests/crash) cover the rest.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import pytest

from ben.core.lanes import ROUTINE
from ben.core.sender import CREDIT_PROBE_S, Flight, InFlight, Mode, Room, Sender, plan
from tests.core.ingest_fake import FakeCall, FakeChannel, MemorySource, settle, wait_until


def _flight(*, inflight: tuple[int, ...] = (), credit: int | None = None, probe_at: float = 0.0,
            paused_until: float = 0.0) -> Flight:
    flight = Flight(credit=credit, probe_at=probe_at, paused_until=paused_until)
    for seq, size in enumerate(inflight, start=1):
        flight.inflight.append(InFlight(seq, size))
        flight.inflight_bytes += size
    return flight


@pytest.mark.parametrize(
    ("flight", "window_items", "window_bytes", "room"),
    [
        (_flight(), 4, 1000, Room(Mode.OPEN, 4, 1000, None)),
        (_flight(inflight=(100, 100)), 4, 1000, Room(Mode.OPEN, 2, 800, None)),
        (_flight(inflight=(100,), credit=350), 4, 1000, Room(Mode.OPEN, 3, 250, None)),  # credit below the window
        (_flight(inflight=(100,) * 4), 4, 1000, Room(Mode.FULL, 0, 0, None)),  # window of items used
        (_flight(inflight=(600, 400)), 4, 1000, Room(Mode.FULL, 0, 0, None)),  # window of bytes used
        (_flight(inflight=(100,), credit=100), 4, 1000, Room(Mode.FULL, 0, 0, None)),  # credit used: wait for acks
        (_flight(credit=0, probe_at=10.0), 4, 1000, Room(Mode.PROBE, 1, 1, None)),  # no credit: one item to probe
        (_flight(credit=0, probe_at=10.5), 4, 1000, Room(Mode.HELD, 0, 0, 0.5)),  # ... not before the probe is due
        (_flight(paused_until=10.25), 4, 1000, Room(Mode.PAUSED, 0, 0, 0.25)),  # back-pressure
    ],
)
def test_plan_draws_the_modes_of_a_lane(flight: Flight, window_items: int, window_bytes: int, room: Room) -> None:
    assert plan(flight, 10.0, window_items, window_bytes) == room


def _run(source: MemorySource, channel: FakeChannel, test: Callable[[Sender], Awaitable[None]], *,
         window_items: int = 10, window_bytes: int | None = None, backoff_ms: tuple[int, int] = (10, 10),
         breaks: list | None = None) -> None:
    async def go() -> None:
        sender = Sender(source, channel.dial, peer="the fake receiver", window_items=window_items,
                        window_bytes=window_bytes, backoff_ms=backoff_ms,
                        on_break=breaks.append if breaks is not None else lambda exc: None, lanes=(ROUTINE,))
        task = asyncio.ensure_future(sender.run())
        try:
            await test(sender)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    asyncio.run(go())


async def _stream(channel: FakeChannel, session: int = 1) -> FakeCall:
    await wait_until(lambda: len(channel.calls) >= session, what=f"session {session}")
    return channel.calls[session - 1]


async def _written(call: FakeCall, n: int) -> list[int]:
    """The sequence numbers written once there are n writes and the sender has nothing more to do."""
    await wait_until(lambda: len(call.writes) >= n, what=f"{n} writes")
    await settle()
    return call.seqs


def test_the_window_keeps_at_most_window_items_in_flight_until_acks_free_room() -> None:
    source, channel = MemorySource(), FakeChannel()
    source.add(ROUTINE, 1, 2, 3, 4, 5)

    async def test(sender: Sender) -> None:
        call = await _stream(channel)
        assert await _written(call, 2) == [1, 2]
        call.ack(ROUTINE, 1)
        assert await _written(call, 3) == [1, 2, 3]
        call.ack(ROUTINE, 3)
        assert await _written(call, 5) == [1, 2, 3, 4, 5]

    _run(source, channel, test, window_items=2)


def test_new_items_are_sent_when_the_source_notifies() -> None:
    source, channel = MemorySource(), FakeChannel()

    async def test(sender: Sender) -> None:
        call = await _stream(channel)
        await settle()
        source.add(ROUTINE, 1)
        sender.notify()
        await wait_until(lambda: call.seqs == [1])

    _run(source, channel, test)


def test_the_receivers_credit_bounds_the_bytes_in_flight_and_no_credit_probes_with_one_item() -> None:
    source, channel = MemorySource(), FakeChannel()
    source.add(ROUTINE, 1)

    async def test(sender: Sender) -> None:
        call = await _stream(channel)
        await wait_until(lambda: call.seqs == [1])
        source.add(ROUTINE, *range(2, 11))  # 100 bytes each
        call.ack(ROUTINE, 1, credit_bytes=250)
        # 250 bytes of credit: items go while less than that is sent (the last one may pass it, as a WAL read does)
        assert await _written(call, 4) == [1, 2, 3, 4] and sender.credit(ROUTINE) == 250
        call.ack(ROUTINE, 2, credit_bytes=0)
        await settle()
        assert call.seqs == [1, 2, 3, 4]  # no credit, 3 and 4 in flight: wait for their acks
        call.ack(ROUTINE, 4, credit_bytes=0)
        assert await _written(call, 5) == [1, 2, 3, 4, 5]  # no credit, nothing in flight: one probe
        call.ack(ROUTINE, 5, credit_bytes=0)
        assert await _written(call, 6) == [1, 2, 3, 4, 5, 6]  # the next probe, not before it is due
        assert call.writes[5].at - call.writes[4].at >= CREDIT_PROBE_S * 0.95
        call.ack(ROUTINE, 6)  # no credit_bytes: the receiver sets no limit
        assert await _written(call, 10) == list(range(1, 11)) and sender.credit(ROUTINE) is None

    _run(source, channel, test)


def test_back_pressure_pauses_the_lane_and_resends_from_the_mark() -> None:
    source, channel = MemorySource(), FakeChannel()
    source.add(ROUTINE, 1, 2, 3, 4, 5)

    async def test(sender: Sender) -> None:
        call = await _stream(channel)
        await wait_until(lambda: len(call.writes) >= 5)
        refused_at = time.monotonic()
        call.ack(ROUTINE, 2, retry_after_ms=150)  # stored up to 2; 3 and later were not
        assert await _written(call, 8) == [1, 2, 3, 4, 5, 3, 4, 5]
        assert call.writes[5].at - refused_at >= 0.15 * 0.95  # paused for retry_after_ms

    _run(source, channel, test)


def test_a_rewind_during_a_write_cannot_move_the_lane_forward() -> None:
    """The receiver refuses while the sender is writing item 3: 3 must be sent again, not skipped."""
    refused = []

    async def on_write(call: FakeCall, request) -> None:
        if request.first_seq == 3 and not refused:
            refused.append(request.first_seq)
            call.ack(ROUTINE, 2, retry_after_ms=20)
            await settle()  # the ack is read before this write returns

    source, channel = MemorySource(), FakeChannel(on_write)
    source.add(ROUTINE, 1, 2, 3, 4, 5)

    async def test(sender: Sender) -> None:
        call = await _stream(channel)
        assert await _written(call, 6) == [1, 2, 3, 3, 4, 5]

    _run(source, channel, test)


def test_after_a_break_the_next_session_resends_everything_not_acknowledged() -> None:
    source, channel, breaks = MemorySource(), FakeChannel(), []
    source.add(ROUTINE, 1, 2, 3, 4)

    async def test(sender: Sender) -> None:
        first = await _stream(channel)
        await wait_until(lambda: len(first.writes) >= 4)
        first.ack(ROUTINE, 2)
        await wait_until(lambda: sender.connected)
        first.end()
        second = await _stream(channel, session=2)
        assert await _written(second, 2) == [3, 4]
        assert len(breaks) == 1 and isinstance(breaks[0], ConnectionError)
        assert "the fake receiver closed the stream" in str(breaks[0]) and not sender.connected

    _run(source, channel, test, breaks=breaks)


def test_reconnects_back_off_while_nobody_listens() -> None:
    source, channel, breaks = MemorySource(), FakeChannel(), []
    channel.refuse = True

    async def test(sender: Sender) -> None:
        await wait_until(lambda: len(channel.dials) >= 4)
        gaps = [b - a for a, b in zip(channel.dials, channel.dials[1:])]
        assert min(gaps) >= 0.1 * 0.95, gaps  # backoff_ms=(100, 100): never sooner
        assert all(isinstance(exc, ConnectionRefusedError) for exc in breaks)
        channel.refuse = False
        source.add(ROUTINE, 1)
        call = await _stream(channel)
        await wait_until(lambda: call.seqs == [1])

    _run(source, channel, test, backoff_ms=(100, 100), breaks=breaks)


def test_an_item_that_cannot_be_sent_is_set_aside_once_and_the_lane_goes_on() -> None:
    source, channel = MemorySource(), FakeChannel()
    source.add(ROUTINE, 1)
    source.add(ROUTINE, 2, bad=True)  # the last item: the lane must move past it, not read it again

    async def test(sender: Sender) -> None:
        call = await _stream(channel)
        await wait_until(lambda: source.set_aside_seqs)
        await settle()
        assert call.seqs == [1] and source.set_aside_seqs == [2]
        source.add(ROUTINE, 3)
        sender.notify()
        assert await _written(call, 2) == [1, 3] and source.set_aside_seqs == [2]

    _run(source, channel, test)
