"""The shipper in-process, with real WALs and a recording stand-in for the spine's stream (no network)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from ben.core.lanes import ALERT, LANES, ROUTINE, open_wals
from ben.sidecar.shipper import Shipper
from ben.v1 import telemetry_pb2 as pb
from tests.core.ingest_fake import FakeChannel, wait_until


class _Stream:
    """Records what the shipper writes (the spine's side of the stream)."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, int]] = []
        self.written = asyncio.Event()

    async def write(self, request: pb.IngestRequest) -> None:
        self.sent.append((request.lane, request.first_seq))
        self.written.set()


def test_a_lane_with_nothing_new_is_not_read_when_another_lane_is_appended(tmp_path: Path) -> None:
    """Every append wakes every lane's sender; the alert lane, read on the loop, must not pay a WAL read
    (an iterator and a seek) for each routine append when it has nothing new."""

    async def go():
        wals = open_wals(tmp_path)
        reads = {lane: 0 for lane in wals}
        for lane, wal in wals.items():
            def counting(*args, _read=wal.read, _lane=lane, **kwargs):
                reads[_lane] += 1
                return _read(*args, **kwargs)
            wal.read = counting
        shipper = Shipper(wals, "sc", "unix:///nowhere", window=64, backoff_ms=(10, 100))
        stream = _Stream()
        tasks = [asyncio.ensure_future(shipper._sender._send(lane, stream)) for lane in (ALERT, ROUTINE)]
        try:
            for i in range(5):
                wals[ROUTINE].append([pb.Batch().SerializeToString()])
                shipper.notify()
                await asyncio.wait_for(stream.written.wait(), 5)
                stream.written.clear()
            assert stream.sent == [(ROUTINE, seq) for seq in range(1, 6)]
            assert reads[ALERT] == 0 and reads[ROUTINE] == 5
            wals[ALERT].append([pb.Batch().SerializeToString()])
            shipper.notify()
            await asyncio.wait_for(stream.written.wait(), 5)
            assert stream.sent[-1] == (ALERT, 1) and reads[ALERT] == 1
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for wal in wals.values():
                wal.close()

    asyncio.run(go())


def test_acknowledged_records_leave_the_wal_refused_and_undecodable_ones_are_quarantined(tmp_path: Path) -> None:
    """The WAL's side of the sender: truncate on ack, quarantine what the spine refuses or what cannot be
    decoded, and move the lane's mark past it."""

    async def go():
        wals = open_wals(tmp_path)
        channel = FakeChannel()
        shipper = Shipper(wals, "sc", "unix:///nowhere", window=64, backoff_ms=(10, 100), dial=channel.dial)
        shipper.start()
        try:
            await wait_until(lambda: len(channel.calls) == len(LANES))
            routine = channel.calls[list(LANES).index(ROUTINE)]
            wal = wals[ROUTINE]
            wal.append([pb.Batch(producer_id=f"p{i}").SerializeToString() for i in range(3)])
            shipper.notify()
            await wait_until(lambda: routine.seqs == [1, 2, 3])
            routine.ack(ROUTINE, 2)
            routine.ack(ROUTINE, 3, error="invalid batch")
            assert await shipper.force_flush(5) and shipper.acked[ROUTINE] == 3 and wal.depth == 0
            assert shipper.figures.records_acked[ROUTINE] == 2 and shipper.figures.refused_by_spine == 1
            wal.append([b"\xff\xff not a batch", pb.Batch().SerializeToString()])
            shipper.notify()
            await wait_until(lambda: routine.seqs[3:] == [5])  # 4 cannot be decoded: set aside
            assert shipper.figures.quarantined == 1 and shipper.acked[ROUTINE] == 4  # past 4; 5 not acknowledged yet
            routine.ack(ROUTINE, 5)
            assert await shipper.force_flush(5) and shipper.acked[ROUTINE] == 5 and wal.depth == 0
            quarantined = sorted(int(p.stem.rsplit("-", 1)[1]) for p in (tmp_path / "quarantine").glob("wal-routine-*.bin"))
            assert quarantined == [3, 4]
        finally:
            await shipper.shutdown(0)
            for wal in wals.values():
                wal.close()

    asyncio.run(go())


def test_the_backoff_starts_low_again_only_after_an_acknowledgement_as_in_the_sdk(tmp_path: Path) -> None:
    """A session in which requests were sent but nothing was acknowledged (a spine dying before it
    answers) does not count as one that worked: the shipper resets its backoff by the SDK's rule."""

    async def go():
        wals = open_wals(tmp_path)
        channel = FakeChannel()
        shipper = Shipper(wals, "sc", "unix:///nowhere", window=64, backoff_ms=(10, 100), dial=channel.dial)
        shipper.start()
        try:
            await wait_until(lambda: len(channel.calls) == len(LANES))
            routine = channel.calls[list(LANES).index(ROUTINE)]
            wals[ROUTINE].append([pb.Batch(producer_id="p").SerializeToString()])
            shipper.notify()
            await wait_until(lambda: routine.seqs == [1])
            assert shipper._sender.sent_in_session > 0 and not shipper._sender._succeeded()
            routine.ack(ROUTINE, 1)
            await wait_until(lambda: shipper.acked[ROUTINE] == 1)
            assert shipper._sender._succeeded()
        finally:
            await shipper.shutdown(0)
            for wal in wals.values():
                wal.close()

    asyncio.run(go())
