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

Realtime scheduling (``realtime_priority``, off by default; ADR 0027). Under normal scheduling a
woken thread that carries an alert waits for the running thread's time slice to end, on each of
the dozen hand-overs of an alert's way, and on a host whose cores are busy (the application
beside the sidecar, ben's own routine work) those waits make the tail of the alert latency. With
``realtime_priority`` set, the sidecar and the spine (and the spine's store process, which
inherits it) run their threads under ``SCHED_RR`` at that priority: a woken thread of ben's
preempts every normally scheduled thread at once. Background threads are always put back to
normal scheduling (at ``background_nice``), so compactions and merges never run at realtime
priority; the kernel keeps 5 % of every second for normally scheduled threads whatever happens
(``sched_rt_runtime_us``). It needs CAP_SYS_NICE or an RLIMIT_RTPRIO that allows the priority;
without either the process logs a warning and runs with normal scheduling.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable

from ben.core.figures import Figure, gauge

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

#: Scheduling policies under which a thread preempts every normally scheduled one.
REALTIME_POLICIES = frozenset({os.SCHED_FIFO, os.SCHED_RR})

#: How often background threads are looked for while the process runs at realtime priority:
#: a pool thread started meanwhile inherits realtime scheduling until the next scan finds it.
REALTIME_SCAN_S = 0.5


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


def realtime_priority(tid: int = 0) -> int:
    """The realtime priority a thread (0: the calling one) runs at; 0 under normal scheduling."""
    try:
        if os.sched_getscheduler(tid) in REALTIME_POLICIES:
            return os.sched_getparam(tid).sched_priority
    except OSError:  # the thread ended
        pass
    return 0


def set_realtime(priority: int) -> int:
    """Run this process's threads under ``SCHED_RR`` at ``priority`` (1-99), all of them now; the
    threads they start later inherit it (so does a child process). Background threads are put back
    to normal scheduling by :class:`BackgroundPriority`. Returns how many threads were set; 0,
    after a warning, if the system does not permit it (no CAP_SYS_NICE, RLIMIT_RTPRIO too low):
    the process then runs as before."""
    if not 1 <= priority <= 99:
        raise ValueError(f"realtime priority must be 1..99, got {priority}")
    param = os.sched_param(priority)
    try:
        os.sched_setscheduler(0, os.SCHED_RR, param)  # this thread first: the one that starts the others
    except OSError as exc:
        log.warning("realtime_priority = %d asked for, but the system refused SCHED_RR (%s); running with "
                    "normal scheduling. Grant CAP_SYS_NICE (systemd: AmbientCapabilities=CAP_SYS_NICE) or "
                    "raise RLIMIT_RTPRIO (systemd: LimitRTPRIO=%d) to use it", priority, exc, priority)
        return 0
    done = 1
    me = threading.get_native_id()
    for tid, name in thread_names().items():
        if tid == me:
            continue
        try:
            os.sched_setscheduler(tid, os.SCHED_RR, param)
            done += 1
        except OSError as exc:  # the thread ended meanwhile
            log.debug("realtime priority: thread %d (%s): %s", tid, name, exc)
    log.info("realtime scheduling on: SCHED_RR priority %d (%d threads)", priority, done)
    return done


def figures() -> list[Figure]:
    """The process's scheduling, for ``ben status``."""
    return [gauge("realtime_priority", realtime_priority(),
                  "SCHED_RR priority of the process's threads (0: normal scheduling; ADR 0027)")]


class BackgroundPriority:
    """Keeps this process's threads with the given names at normal scheduling and ``nice`` (start /
    shutdown). A matching thread found under realtime scheduling (inherited from the thread that
    started it) is put back to normal scheduling, whatever ``nice`` is."""

    def __init__(self, names: Iterable[str], nice: int = BACKGROUND_NICE, interval_s: float = 5.0):
        if not 0 <= nice <= 19:
            raise ValueError(f"nice must be 0..19 (a lower priority), got {nice}")
        self.names = frozenset(names)
        self.nice = nice
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def apply(self) -> int:
        """Lower every matching thread still above ``nice`` or under realtime scheduling; how many
        were lowered now."""
        done = 0
        for tid, name in thread_names().items():
            if name not in self.names:
                continue
            try:
                lowered = False
                if os.sched_getscheduler(tid) in REALTIME_POLICIES:
                    os.sched_setscheduler(tid, os.SCHED_OTHER, os.sched_param(0))
                    lowered = True
                if os.getpriority(os.PRIO_PROCESS, tid) < self.nice:
                    os.setpriority(os.PRIO_PROCESS, tid, self.nice)
                    lowered = True
                done += lowered
            except OSError as exc:  # the thread ended, or a policy forbids it: never fatal
                log.debug("background priority: thread %d (%s): %s", tid, name, exc)
        return done

    def start(self) -> None:
        """Lower the matching threads now and at every scan; scans run only when there is something
        to keep lower (a nice above 0, or this process under realtime scheduling)."""
        realtime = realtime_priority() > 0
        if self._thread is not None or (self.nice == 0 and not realtime):
            return
        if realtime:
            self.interval_s = min(self.interval_s, REALTIME_SCAN_S)
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
