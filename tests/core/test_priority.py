"""Background threads at a lower priority: by name, in this process and in real ben processes."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from ben.cli.procs import wait_for
from ben.core.priority import CHDB_BACKGROUND, ROCKSDB_BACKGROUND, BackgroundPriority, thread_names


def named_thread(name: str):
    """A thread of this process whose kernel name (comm) is `name`; (tid, stop event)."""
    ready, stop = threading.Event(), threading.Event()
    box = {}

    def run() -> None:
        box["tid"] = threading.get_native_id()
        with open(f"/proc/self/task/{box['tid']}/comm", "w") as f:
            f.write(name)
        ready.set()
        stop.wait(30)

    threading.Thread(target=run, daemon=True).start()
    assert ready.wait(10)
    return box["tid"], stop


def test_lowers_the_named_threads_only() -> None:
    tid, stop = named_thread("ben-test-bg")
    try:
        assert thread_names()[tid] == "ben-test-bg"
        prio = BackgroundPriority(("ben-test-bg",), nice=7)
        assert prio.apply() == 1
        assert os.getpriority(os.PRIO_PROCESS, tid) == 7
        assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == 0  # this thread: untouched
        assert prio.apply() == 0  # once per thread
    finally:
        stop.set()


def test_a_thread_started_later_is_lowered_by_the_next_scan() -> None:
    prio = BackgroundPriority(("ben-test-late",), nice=5, interval_s=0.05)
    prio.start()
    try:
        tid, stop = named_thread("ben-test-late")
        wait_for(lambda: os.getpriority(os.PRIO_PROCESS, tid) == 5, 10, "the periodic scan to lower the new thread")
        stop.set()
    finally:
        prio.shutdown()


def test_nice_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match="nice must be 0..19"):
        BackgroundPriority(("x",), nice=-5)
    with pytest.raises(ValueError, match="nice must be 0..19"):
        BackgroundPriority(("x",), nice=20)


def _children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(entry))
            except (OSError, ValueError, IndexError):
                continue
    return out


def _nice_by_name(pid: int) -> dict[str, set[int]]:
    out: dict[str, set[int]] = {}
    for tid, name in thread_names(pid).items():
        try:
            out.setdefault(name, set()).add(os.getpriority(os.PRIO_PROCESS, tid))
        except OSError:
            continue
    return out


def test_ben_processes_run_compactions_and_merges_at_the_configured_nice(make_cluster, home: Path) -> None:
    """The spine (default 10) and its store process lower RocksDB's compaction threads and chDB's
    merge threads; the sidecar, configured with background_nice = 0, leaves them alone. The
    threads that carry queries and writes stay at 0 everywhere."""
    cluster = make_cluster(sidecar={"background_nice": 0}).start()
    spine, sidecar = cluster.spine.pid, cluster.sidecar.pid
    store = [p for p in _children(spine) if b"ben.store.worker" in Path(f"/proc/{p}/cmdline").read_bytes()]
    assert len(store) == 1, store

    def lowered() -> bool:
        return (_nice_by_name(spine).get(ROCKSDB_BACKGROUND[0]) == {10}
                and _nice_by_name(store[0]).get("MergeMutate") == {10})

    wait_for(lowered, 30, "the spine's compactions and its store process's merges at nice 10")
    in_store = _nice_by_name(store[0])
    assert {name for name in in_store if in_store[name] == {10}} <= set(CHDB_BACKGROUND)
    assert in_store["ThreadPool"] == {0}  # queries and INSERTs
    assert _nice_by_name(spine)["python"] == {0}  # the event loop, the writers
    assert _nice_by_name(sidecar)[ROCKSDB_BACKGROUND[0]] == {0}  # background_nice = 0
