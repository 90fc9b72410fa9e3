"""The SDK's exporter on its shared loop, with a fake sidecar stream (``tests/core/ingest_fake.py``)."""

from __future__ import annotations

import asyncio

from ben.cli.procs import wait_for
from ben.core.lanes import LANES, ROUTINE
from ben.sdk.buffer import Buffer, FullPolicy
from ben.sdk.exporter import Exporter
from ben.v1 import telemetry_pb2 as pb
from tests.core.ingest_fake import FakeCall, FakeChannel, settle


def test_the_exporter_honours_the_sidecars_credit() -> None:
    """Before the one sender engine the SDK ignored ``credit_bytes`` and sent its whole window."""
    channel = FakeChannel()
    exporters: list[Exporter] = []
    buffer = Buffer(1000, 10, FullPolicy.DROP, None, lambda: exporters[0].wake())
    exporter = Exporter(buffer, "unix:///nowhere", pb.Source(subsystem="test"), "p1", flush_interval_s=60,
                        window_batches=32, backoff_ms=(10, 10), dial=channel.dial)
    exporters.append(exporter)
    exporter.start()
    loop = exporter.loop

    def routine() -> FakeCall:
        return channel.calls[list(LANES).index(ROUTINE)]

    def emit(n: int) -> None:
        for _ in range(n):
            assert buffer.append(1, "m", 1.0, "", None, 0) is not None

    def idle() -> None:
        asyncio.run_coroutine_threadsafe(settle(), loop).result(5)

    try:
        emit(10)  # one batch of 10
        wait_for(lambda: len(channel.calls) == len(LANES) and routine().seqs == [1], 10, "the first batch")
        loop.call_soon_threadsafe(lambda: routine().ack(ROUTINE, 10, credit_bytes=1))
        wait_for(lambda: buffer.acked_seq == 10, 10, "the ack")
        emit(30)  # three more batches: the credit admits one in flight
        wait_for(lambda: len(routine().writes) >= 2, 10, "the second batch")
        idle()
        assert routine().seqs == [1, 11]
        loop.call_soon_threadsafe(lambda: routine().ack(ROUTINE, 20, credit_bytes=1 << 20))
        wait_for(lambda: len(routine().writes) >= 4, 10, "the rest")
        idle()
        assert routine().seqs == [1, 11, 21, 31]
    finally:
        exporter.stop(timeout=2.0)
