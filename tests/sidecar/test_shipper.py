"""The shipper in-process, with real WALs and a recording stand-in for the spine's stream."""

from __future__ import annotations

import asyncio
from pathlib import Path

from ben.core.lanes import ALERT, ROUTINE, open_wals
from ben.sidecar.shipper import Shipper
from ben.v1 import telemetry_pb2 as pb


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
