"""SIGTERM drains or persists what is in flight within the configured timeout; a second signal exits at once."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time

import pytest

from ben.cli.procs import wait_for
from ben.core.service import PARENT_GONE, REPEAT_WINDOW_S
from ben.sdk import Client
from tests.helpers import Load, assert_exactly_once


def emit_acked(cluster, n: int) -> Client:
    client = Client("signals", sidecar=cluster.sidecar_addr, max_batch_events=100)
    for i in range(n):
        client.gauge("n", float(i))
    assert client.flush(timeout=30)
    client.shutdown()
    return client


def test_sigterm_under_load_then_restart(module_cluster) -> None:
    cluster = module_cluster
    load = Load(cluster.sidecar_addr, 30_000, rate=15_000)
    load.wait_emitted(10_000)
    started = time.monotonic()
    assert cluster.sidecar.stop(timeout=30) == 0
    assert time.monotonic() - started < 5 + 2  # shutdown_timeout_ms (5 s) plus the server's grace
    cluster.start_sidecar()
    load.finish()
    cluster.wait_drained()
    assert_exactly_once(cluster.spine_addr, load.client.producer_id, 30_000)


def test_sigterm_drains_to_the_spine(module_cluster) -> None:
    cluster = module_cluster
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
    first = time.monotonic()
    side.signal(signal.SIGTERM)  # it now waits up to 60 s for the spine to take the WAL
    wait_for(lambda: "shutting down" in side.tail(), 60, "the sidecar to start shutting down")
    # an operator's second signal, not a copy of the first (those come within REPEAT_WINDOW_S)
    wait_for(lambda: time.monotonic() - first > REPEAT_WINDOW_S + 0.2, 5, "the repeat window to pass")
    started = time.monotonic()
    side.signal(signal.SIGTERM)
    assert side.popen.wait(timeout=10) == 1
    assert time.monotonic() - started < 3
    assert "second signal" in side.tail()
    cluster.start_sidecar()
    cluster.start_spine()
    cluster.wait_drained()
    assert_exactly_once(cluster.spine_addr, client.producer_id, 5_000)


def test_a_stop_signal_sent_twice_at_once_is_one_stop(module_cluster) -> None:
    """``timeout ben sidecar`` sends SIGTERM to the sidecar and then to its process group: two at once.
    Before, the second was taken as an operator's second signal: exit 1 at once, without the drain."""
    cluster = module_cluster
    client = emit_acked(cluster, 2_000)
    side = cluster.sidecar
    first = time.monotonic()
    side.signal(signal.SIGTERM)
    # the second after the first was handled (two sent back to back are one pending signal to the kernel)
    wait_for(lambda: "shutting down" in side.tail(), 60, "the sidecar to start shutting down", interval=0.01)
    side.signal(signal.SIGTERM)
    assert time.monotonic() - first < REPEAT_WINDOW_S, "the test was too slow to send a copy of the first stop"
    assert side.popen.wait(timeout=60) == 0, side.tail()
    assert "second signal" not in side.tail()
    # the copy came while it drained (said so), or after it had stopped (ignored: it only exits then)
    tail = side.tail()
    assert "SIGTERM again at once, the same stop" in tail or tail.rstrip().endswith("sidecar: stopped"), tail
    cluster.start_sidecar()
    assert cluster.status("sidecar")["wal_records"] == 0  # it drained before it exited
    cluster.wait_drained()
    assert_exactly_once(cluster.spine_addr, client.producer_id, 2_000)


def test_the_parent_gone_signal_is_one_stop_however_often_the_kernel_sends_it(module_cluster) -> None:
    """A component `ben demo` started gets PARENT_GONE once per thread the kernel reparents when the
    demo dies: each after the first must not be taken as an operator's second signal (before, with
    SIGTERM, the spine and sidecar skipped their drain and exited 1 at once)."""
    cluster = module_cluster
    client = emit_acked(cluster, 2_000)
    side = cluster.sidecar
    for _ in range(5):
        side.signal(PARENT_GONE)
    assert side.popen.wait(timeout=60) == 0, side.tail()
    assert "the process that started it exited, shutting down" in side.tail()
    assert "second signal" not in side.tail()
    cluster.start_sidecar()
    assert cluster.status("sidecar")["wal_records"] == 0  # it drained before it exited
    cluster.wait_drained()
    assert_exactly_once(cluster.spine_addr, client.producer_id, 2_000)


_HANGS = {
    "in its shutdown": "async def shutdown(self, timeout):\n        threading.Event().wait()",
    "in a thread the interpreter waits for": ("async def shutdown(self, timeout):\n"
                                              "        threading.Thread(target=threading.Event().wait).start()"),
}


@pytest.mark.parametrize("where", sorted(_HANGS))
def test_a_stop_that_hangs_ends_by_force_after_its_deadline(where: str) -> None:
    """Whatever hangs after the stop signal (the service's shutdown, a non-daemon thread the interpreter
    joins at exit), the process is gone ``force_exit_after_s`` later, and says why."""
    script = textwrap.dedent("""
        import asyncio, threading
        from ben.core.service import serve

        class Hangs:
            name = "hangs"
            async def start(self):
                pass
            HANG

        asyncio.run(serve(Hangs(), 1.0, force_exit_after_s=2.0))
    """).replace("HANG", _HANGS[where].replace("\n", "\n    "))
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "hangs: ready"
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=60)
    finally:
        proc.kill()
        _, err = proc.communicate()
    assert code == 1, err
    assert "hangs: still running 2 s after the stop began; exiting now" in err


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


def test_a_sighup_during_the_start_is_applied_once_started(tmp_path) -> None:
    """ADR 0046 round 6: a SIGHUP while the component started (the spine waits for its store, seconds) was
    ignored with a warning, so a manifest changed after the start had read it stayed out of force (the spine
    watches no file: until the next SIGHUP). It is now applied once the start has finished."""
    gate = tmp_path / "go"
    script = textwrap.dedent(f"""
        import asyncio, logging, os
        from ben.core.service import serve

        logging.basicConfig(level=logging.INFO, format="%(message)s")

        class Slow:
            name = "slow"
            async def start(self):
                print("starting", flush=True)
                while not os.path.exists({str(gate)!r}):   # the start waits on something (the store)
                    await asyncio.sleep(0.01)
            def reload(self):
                print("reloaded", flush=True)
            async def shutdown(self, timeout):
                pass

        asyncio.run(serve(Slow(), 1.0))
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "starting"
        proc.send_signal(signal.SIGHUP)
        while "SIGHUP before the start finished" not in (line := proc.stderr.readline()):
            assert line, "the process ended without a word about the SIGHUP"
        assert "reloading once started" in line, line
        gate.touch()
        assert proc.stdout.readline().strip() == "reloaded"   # in force before it says it is ready
        assert proc.stdout.readline().strip() == "slow: ready"
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=60)
        out, err = proc.communicate()
    finally:
        proc.kill()
    assert code == 0 and "reloaded" not in out, err
    assert "reloading, as a SIGHUP during the start asked" in err


def test_the_start_heap_is_frozen_after_a_young_collection_not_a_full_one() -> None:
    """``freeze_heap`` (every component's start, before "ready"): the start's objects are exempted from later
    collections, a cycle the start just dropped is collected first, and no full collection runs (one found 0-47
    objects at a start for 0.06-0.1 s of CPU; ADR 0048, fifth round). In a process of its own: freezing the
    test process's heap would change the tests after it."""
    code = textwrap.dedent("""
        import gc, weakref
        from ben.core.service import freeze_heap
        class Node:
            pass
        dropped = Node()
        dropped.me = dropped
        gone = weakref.ref(dropped)
        del dropped
        full = gc.get_stats()[2]["collections"]
        freeze_heap()
        print(gone() is None, gc.get_stats()[2]["collections"] - full, gc.get_freeze_count() > 1000)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.split() == ["True", "0", "True"]
