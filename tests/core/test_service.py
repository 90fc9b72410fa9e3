"""SIGTERM drains or persists what is in flight within the configured timeout; a second signal exits at once."""

from __future__ import annotations

import signal
import time

from ben.cli.procs import wait_for
from ben.sdk import Client
from tests.helpers import Load, assert_exactly_once


def emit_acked(cluster, n: int) -> Client:
    client = Client("signals", sidecar=cluster.sidecar_addr, max_batch_events=100)
    for i in range(n):
        client.gauge("n", float(i))
    assert client.flush(timeout=30)
    client.shutdown()
    return client


def test_sigterm_under_load_then_restart(cluster) -> None:
    load = Load(cluster.sidecar_addr, 30_000, rate=15_000)
    load.wait_emitted(10_000)
    started = time.monotonic()
    assert cluster.sidecar.stop(timeout=30) == 0
    assert time.monotonic() - started < 5 + 2  # shutdown_timeout_ms (5 s) plus the server's grace
    cluster.start_sidecar()
    load.finish()
    cluster.wait_drained()
    assert_exactly_once(cluster.spine_addr, load.client.producer_id, 30_000)


def test_sigterm_drains_to_the_spine(cluster) -> None:
    client = emit_acked(cluster, 5_000)
    assert cluster.sidecar.stop() == 0
    cluster.start_sidecar()
    assert cluster.status("sidecar")["wal_records"] == 0  # everything was shipped before it exited
    cluster.wait_drained()
    assert_exactly_once(cluster.spine_addr, client.producer_id, 5_000)


def test_sigterm_persists_when_the_spine_is_down(make_cluster) -> None:
    cluster = make_cluster(sidecar={"shutdown_timeout_ms": 1_000})
    cluster.start()
    cluster.spine.stop()
    client = emit_acked(cluster, 5_000)
    started = time.monotonic()
    assert cluster.sidecar.stop() == 0
    assert time.monotonic() - started < 1 + 2
    cluster.start_sidecar()
    assert cluster.status("sidecar")["wal_records"] > 0  # kept on disk for the next start
    cluster.start_spine()
    cluster.wait_drained()
    assert_exactly_once(cluster.spine_addr, client.producer_id, 5_000)


def test_second_signal_exits_at_once_without_losing_acknowledged_data(make_cluster) -> None:
    cluster = make_cluster(sidecar={"shutdown_timeout_ms": 60_000})
    cluster.start()
    cluster.spine.stop()
    client = emit_acked(cluster, 5_000)
    side = cluster.sidecar
    side.signal(signal.SIGTERM)  # it now waits up to 60 s for the spine to take the WAL
    wait_for(lambda: "shutting down" in side.tail(), 60, "the sidecar to start shutting down")
    started = time.monotonic()
    side.signal(signal.SIGTERM)
    assert side.popen.wait(timeout=10) == 1
    assert time.monotonic() - started < 3
    assert "second signal" in side.tail()
    cluster.start_sidecar()
    cluster.start_spine()
    cluster.wait_drained()
    assert_exactly_once(cluster.spine_addr, client.producer_id, 5_000)


def test_keep_connected_reconnects_with_backoff_and_starts_low_after_a_success() -> None:
    """The one reconnect loop of every stream client: each end is reported, the wait grows, a
    session that had worked starts the backoff low again, and cancellation ends it."""
    import asyncio

    from ben.core import transport

    ends: list = []
    worked = [False]
    sessions = [0]

    async def session() -> None:
        sessions[0] += 1
        if sessions[0] == 3:
            worked[0] = True
            return  # the peer closed a stream that had worked
        worked[0] = False
        raise ConnectionError(f"refused {sessions[0]}")

    async def main() -> None:
        task = asyncio.ensure_future(transport.keep_connected(session, (1, 4), ends.append, lambda: worked[0]))
        while len(ends) < 5:
            await asyncio.sleep(0.001)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        assert task.cancelled()

    asyncio.run(main())
    assert [type(e).__name__ if e else None for e in ends[:5]] == \
        ["ConnectionError", "ConnectionError", None, "ConnectionError", "ConnectionError"]
    assert str(ends[0]) == "refused 1"
