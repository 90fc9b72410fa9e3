"""Background threads at a lower CPU priority: merges and compactions yield to the alert path.

On a busy host ben's own background work competes for the cores with the threads that carry
alerts: chDB's merges and its other background pools in the store process, RocksDB's
compactions in the sidecar's and the spine's WALs. None of it is urgent: a merge that waits a
few milliseconds costs nothing, an alert that waits behind it is late. Linux lets any process
raise the nice value of its own threads (no privilege needed), and the threads of those
libraries carry names (``/proc/self/task/TID/comm``), so a process finds them by name and lowers
them; the scheduler then gives them a small share of a contended core, and all of an idle one.
Pools start threads as they grow, so the scan is repeated every ``interval_s`` (a few dozen
small reads of ``/proc``). Threads that carry queries, INSERTs or WAL writes are never touched.

See ADR 0024.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable

log = logging.getLogger(__name__)

#: The nice value given to background threads (0 is the default; 19 the lowest priority).
#: At 10 a thread weighs about a tenth of a default one when the cores are contended.
BACKGROUND_NICE = 10

#: chDB's (ClickHouse's) background pools: merges and mutations, part moves and fetches, the
#: common pool (old parts' clean-up) and the schedule pools that plan them. Not the global
#: ``ThreadPool`` (queries and INSERTs run there) nor ``BgBufSchPool`` (Buffer flushes).
CHDB_BACKGROUND = ("MergeMutate", "Move", "Fetch", "Common", "BgSchPool", "BgStrmSchPool", "BgDistSchPool")

#: RocksDB's low-priority pool: compactions. Not ``rocksdb:high`` (memtable flushes, which
#: writes wait for when the memtables are full).
ROCKSDB_BACKGROUND = ("rocksdb:low",)


def thread_names(pid: int | str = "self") -> dict[int, str]:
    """{thread id: name} of a process's threads (those that exit meanwhile are left out)."""
    out = {}
    base = f"/proc/{pid}/task"
    try:
        tids = os.listdir(base)
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"{base}/{tid}/comm") as f:
                out[int(tid)] = f.read().strip()
        except (OSError, ValueError):
            continue
    return out


class BackgroundPriority:
    """Keeps this process's threads with the given names at ``nice`` (start / shutdown)."""

    def __init__(self, names: Iterable[str], nice: int = BACKGROUND_NICE, interval_s: float = 5.0):
        if not 0 <= nice <= 19:
            raise ValueError(f"nice must be 0..19 (a lower priority), got {nice}")
        self.names = frozenset(names)
        self.nice = nice
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def apply(self) -> int:
        """Lower every matching thread still above ``nice``; how many were lowered now."""
        if self.nice == 0:
            return 0
        done = 0
        for tid, name in thread_names().items():
            if name not in self.names:
                continue
            try:
                if os.getpriority(os.PRIO_PROCESS, tid) < self.nice:
                    os.setpriority(os.PRIO_PROCESS, tid, self.nice)
                    done += 1
            except OSError as exc:  # the thread ended, or a policy forbids it: never fatal
                log.debug("background priority: thread %d (%s): %s", tid, name, exc)
        return done

    def start(self) -> None:
        if self._thread is not None or self.nice == 0:
            return
        self.apply()
        self._thread = threading.Thread(target=self._run, name="ben-priority", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.apply()
            except Exception:  # a lower priority is an optimisation: log, never stop the process
                log.exception("background priority: scan failed")

    def shutdown(self, timeout: float = 1.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
