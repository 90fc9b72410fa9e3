"""An OTLP success is answered only once the request is in the WAL, fsync'd: the ingest receiver and its
real RocksDB WALs in-process, the routine WAL's append held open. (End to end, with kill -9 of a real
sidecar after its answers: test_transports.py::test_full_wal_is_refused_with_retry_info_and_nothing_
acknowledged_is_lost.)"""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

from ben.cli.procs import wait_for
from ben.core.lanes import ROUTINE, open_wals
from ben.core.receiver import IngestReceiver
from ben.otlp.convert import Converter
from ben.otlp.exporting import OK, Exporting
from ben.otlp.sender import Slots
from tests.otlp.test_transports import logs_request


def test_success_is_answered_after_the_fsync_and_survives_a_reopen(tmp_path: Path):
    order: list[str] = []
    entered, release = threading.Event(), threading.Event()

    async def go():
        wals = open_wals(tmp_path)
        real_append = wals[ROUTINE].append

        def held_append(payloads, meta=None):
            order.append("append started")
            entered.set()
            release.wait(30)
            result = real_append(payloads, meta)          # RocksDB write with sync=True: the fsync
            order.append("append returned")
            return result

        wals[ROUTINE].append = held_append
        receiver = IngestReceiver(wals, lambda r: r.SerializeToString())
        receiver.start()
        exporting = Exporting(Slots(receiver, "sc-test", 2), Converter())
        body = logs_request([f"durable {i}" for i in range(3)]).SerializeToString()
        task = asyncio.create_task(exporting.export("logs", "http", body))
        task.add_done_callback(lambda _: order.append("answered"))
        await asyncio.to_thread(wait_for, entered.is_set, 30, "the WAL append to start")
        # The append is held: an answer sent before the fsync would come now. Give it every chance.
        deadline = time.monotonic() + 0.5
        while time.monotonic() < deadline and not task.done():
            await asyncio.sleep(0.01)
        assert not task.done(), order
        release.set()
        answer = await asyncio.wait_for(task, 30)
        await receiver.shutdown(5)
        exporting.shutdown()
        for wal in wals.values():
            wal.close()
        return answer

    answer = asyncio.run(go())
    assert answer.outcome == OK and order == ["append started", "append returned", "answered"]
    wals = open_wals(tmp_path)                              # what was answered is there after a reopen
    try:
        assert wals[ROUTINE].depth == 1
        records = wals[ROUTINE].read(0)
        assert len(records) == 1 and b"durable 2" in records[0].payload
    finally:
        for wal in wals.values():
            wal.close()
