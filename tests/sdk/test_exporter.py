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


def test_a_foreign_server_seen_stays_said_when_a_later_break_says_only_internal() -> None:
    """A write racing a foreign gRPC server's end of the stream breaks it with "INTERNAL: Internal error from Core"
    instead of "UNIMPLEMENTED: Method not found!"; that later break hid what was seen of the address (a CI run: the
    SDK's last_error was INTERNAL after its reconnects to an OTLP/gRPC port). Any other later error replaces it."""
    import types

    import grpc
    from grpc.aio import AioRpcError, Metadata

    from ben.core.address import NOT_BEN

    exporter = types.SimpleNamespace(_target="127.0.0.1:4317", last_error="", reconnects=0)
    Exporter._on_break(exporter, AioRpcError(grpc.StatusCode.UNIMPLEMENTED, Metadata(), Metadata(),
                                             details="Method not found!"))
    foreign = exporter.last_error
    assert foreign.startswith("127.0.0.1:4317 is a gRPC server") and NOT_BEN in foreign, foreign
    Exporter._on_break(exporter, AioRpcError(grpc.StatusCode.INTERNAL, Metadata(), Metadata(),
                                             details="Internal error from Core"))
    assert exporter.last_error == foreign and exporter.reconnects == 2
    Exporter._on_break(exporter, AioRpcError(grpc.StatusCode.UNAVAILABLE, Metadata(), Metadata(), details="down"))
    assert exporter.last_error == "UNAVAILABLE: down"


def test_a_wait_the_sidecar_asks_for_with_its_reason_is_said_a_line_a_minute(caplog) -> None:
    """A sidecar refuses a new sender past ``max_senders_per_client`` for now (ADR 0045, round 15): acknowledged at
    mark 0 with ``retry_after_ms`` and an error naming the option. The SDK only counted it as back-pressure, so an
    application held back saw no word of why; now a warning a minute names it, every wait still counted."""
    import logging

    from ben.sdk.exporter import BufferSource

    buffer = Buffer(1000, 10, FullPolicy.DROP, None, lambda: None)
    source = BufferSource(buffer, pb.Source(subsystem="test"), "p1")
    why = "too many senders for this client: sidecar.max_senders_per_client = 32; retried later"
    with caplog.at_level(logging.WARNING, logger="ben.sdk"):
        for _ in range(5):
            source.acked(ROUTINE, pb.IngestAck(lane=ROUTINE, durable_seq=0, retry_after_ms=5000, error=why))
        source.acked(ROUTINE, pb.IngestAck(lane=ROUTINE, durable_seq=0, retry_after_ms=5000))  # a plain wait: a count
    lines = [r.getMessage() for r in caplog.records if "holds these events back" in r.getMessage()]
    assert len(lines) == 1 and why in lines[0] and "5000 ms" in lines[0], lines
    assert buffer.stats.backpressure == 6 and buffer.stats.rejected == 0
