"""Background threads at a lower priority: by name, in this process and in real ben processes."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from ben.cli.procs import wait_for
from ben.core.priority import (CHDB_BACKGROUND, ROCKSDB_BACKGROUND, BackgroundPriority, realtime_priority, set_realtime,
                               thread_names)


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
        wait_for(lambda: os.getpriority(os.PRIO_PROCESS, tid) == 5, 60, "the periodic scan to lower the new thread")
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


# -- realtime scheduling (ADR 0027) ---------------------------------------------------------------

def _policies_by_name(pid: int) -> dict[str, set[tuple[str, int, int]]]:
    """{thread name: {(policy, realtime priority, nice)}} of a process's threads."""
    names = {os.SCHED_OTHER: "other", os.SCHED_RR: "rr", os.SCHED_FIFO: "fifo", os.SCHED_BATCH: "batch",
             os.SCHED_IDLE: "idle"}
    out: dict[str, set[tuple[str, int, int]]] = {}
    for tid, name in thread_names(pid).items():
        try:
            out.setdefault(name, set()).add((names.get(os.sched_getscheduler(tid), "?"), realtime_priority(tid),
                                             os.getpriority(os.PRIO_PROCESS, tid)))
        except OSError:
            continue
    return out


def _realtime_permitted() -> bool:
    """Whether this system lets a process of this user run under SCHED_RR (probed in a child)."""
    import subprocess
    import sys

    probe = "import os; os.sched_setscheduler(0, os.SCHED_RR, os.sched_param(1))"
    return subprocess.run([sys.executable, "-c", probe], capture_output=True, timeout=30).returncode == 0


_REALTIME_CHILD = r"""
import json, os, queue, threading
from ben.core.priority import BackgroundPriority, realtime_priority, set_realtime

stop = threading.Event()

def named(name):
    tids = queue.Queue()
    def run():
        with open(f"/proc/self/task/{threading.get_native_id()}/comm", "w") as f:
            f.write(name)
        tids.put(threading.get_native_id())
        stop.wait(30)
    threading.Thread(target=run, daemon=True).start()
    return tids.get(timeout=10)

bg_before = named("ben-test-bg")   # exists before: set, like every thread
fg_before = named("ben-test-fg")
done = set_realtime(3)
bg_after = named("ben-test-bg")    # started by a realtime thread: inherits it
fg_after = named("ben-test-fg")
inherited = (realtime_priority(bg_before), realtime_priority(bg_after))
BackgroundPriority(("ben-test-bg",), nice=6).apply()   # puts both back to normal scheduling
print(json.dumps({"done": done, "main": realtime_priority(), "fg_before": realtime_priority(fg_before),
                  "fg_after": realtime_priority(fg_after), "bg_realtime": inherited,
                  "bg": [(realtime_priority(t), os.getpriority(os.PRIO_PROCESS, t)) for t in (bg_before, bg_after)],
                  "permitted": done > 0}))
stop.set()
"""


def test_set_realtime_sets_every_thread_new_threads_inherit_it_and_background_ones_go_back() -> None:
    """In a child process (this one keeps normal scheduling): the threads there are, and those
    started later, run under SCHED_RR 3; a background thread, set or inherited, is put back to
    normal scheduling at its nice by the scan."""
    import json
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run([sys.executable, "-c", _REALTIME_CHILD], capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got["permitted"] == _realtime_permitted()
    if not got["permitted"]:  # a system that refuses SCHED_RR: nothing changed, and it said why
        assert got["main"] == got["fg_before"] == got["fg_after"] == 0
        assert "CAP_SYS_NICE" in out.stderr
        return
    assert got["done"] >= 3
    assert got["main"] == got["fg_before"] == got["fg_after"] == 3
    assert got["bg_realtime"] == [3, 3]  # set, and inherited: what the scan is for
    assert got["bg"] == [[0, 6], [0, 6]]


def test_refused_realtime_warns_names_the_remedy_and_changes_nothing(monkeypatch, caplog) -> None:
    def refuse(*args):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "sched_setscheduler", refuse)
    with caplog.at_level("WARNING", logger="ben.core.priority"):
        assert set_realtime(5) == 0
    assert "realtime_priority = 5" in caplog.text and "CAP_SYS_NICE" in caplog.text and "LimitRTPRIO" in caplog.text
    assert realtime_priority() == 0


def test_realtime_priority_out_of_range_is_refused() -> None:
    for bad in (0, 100, -1):
        with pytest.raises(ValueError, match="realtime priority must be 1..99"):
            set_realtime(bad)


def test_ben_processes_run_at_the_configured_realtime_priority(make_cluster, home: Path) -> None:
    """realtime_priority = 2 on both: the sidecar's, the spine's and the store process's threads run
    under SCHED_RR 2 and say so in their status, except the background ones (RocksDB compactions,
    chDB merges), which run normally scheduled at background_nice."""
    cluster = make_cluster(spine={"realtime_priority": 2}, sidecar={"realtime_priority": 2}).start()
    spine, sidecar = cluster.spine.pid, cluster.sidecar.pid
    store = [p for p in _children(spine) if b"ben.store.worker" in Path(f"/proc/{p}/cmdline").read_bytes()]
    assert len(store) == 1, store
    permitted = _realtime_permitted()
    assert (cluster.status("spine")["realtime_priority"] > 0) == permitted
    if not permitted:  # the system refused: the processes said why
        assert cluster.status("sidecar")["realtime_priority"] == 0
        assert "CAP_SYS_NICE" in (home / "logs" / "spine.log").read_text()
        return

    def settled() -> bool:
        return (_policies_by_name(spine).get(ROCKSDB_BACKGROUND[0]) == {("other", 0, 10)}
                and _policies_by_name(store[0]).get("MergeMutate") == {("other", 0, 10)})

    wait_for(settled, 30, "the background threads back at normal scheduling, nice 10")
    assert cluster.status("sidecar")["realtime_priority"] == 2
    assert cluster.status("spine")["realtime_priority"] == 2
    for pid in (spine, sidecar, store[0]):
        assert _policies_by_name(pid)["python"] == {("rr", 2, 0)}, pid  # the loop, the writers, the WAL syncs
    assert _policies_by_name(store[0])["ThreadPool"] == {("rr", 2, 0)}  # queries and INSERTs
    in_store = _policies_by_name(store[0])
    assert {name for name in in_store if ("other", 0, 10) in in_store[name]} <= set(CHDB_BACKGROUND)
    assert all(policy == "rr" for name, found in in_store.items() if name not in CHDB_BACKGROUND
               for policy, _, _ in found), in_store
