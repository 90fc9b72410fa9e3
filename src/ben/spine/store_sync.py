"""The store writer's syncs: when the store's filesystem is synced and the WALs truncated behind it.

Inserts are not fsync'd one by one (that costs tens of milliseconds per INSERT, which alerts would
wait for); instead the store's filesystem is synced (syncfs) at most every ``interval_s`` (at once
while a ``force_flush`` waits), by a thread of its own, and then every WAL is truncated up to what
had been inserted before the sync. A crash before the sync loses nothing: the records are still in
the WAL and the writer's recovery re-inserts whatever the store lacks.

A sync makes durable only what the store engine that runs it holds: chDB in a store process keeps
alerts in a buffer in its memory, lost with that process, and the next call quietly starts a new
one whose sync flushes an empty buffer. So each INSERT not yet synced is noted with the store's
``generation`` read before it (``Unsynced``), and the generation is read again after each sync:
where they differ, the records about to be truncated are checked (repaired) first. A store that does
not make what it acknowledged durable by itself (``durable_after_s``) keeps its records in the WAL
until their INSERT returned that long ago.

States (``SyncState``), all under one lock (``_lock``, with the marks of what was inserted)::

    state       meaning                                       event                         next
    ---------   -------------------------------------------   ---------------------------   ---------
    IDLE        nothing inserted since the last sync           an INSERT returned            DUE
    DUE         inserted, not synced; a sync is due at         due (interval over, or a      SYNCING
                synced_at + interval_s (at once while a        force_flush waits; never
                force_flush waits), never before retry_at      before retry_at)
    SYNCING     the sync thread syncs and truncates (a job:    synced, every mark truncated  IDLE
                the marks when it began, and whether it        synced, marks remain          DUE
                checks what it truncates)                      synced, checked in part only  UNCERTAIN
                                                               the sync failed               UNCERTAIN
                                                               unexpected failure            DUE / UNCERTAIN
    UNCERTAIN   a sync failed since some of these records      due (as DUE)                  SYNCING
                were inserted: it may have stored part of a                                  (checking)
                buffer twice; the next sync checks (repairs)
                the records before the WALs drop them

A failure sets ``retry_at`` one second ahead (no sync before it, whatever the state). INSERTs that
return while SYNCING only raise the marks: the state after the sync says whether any remain.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections.abc import Callable
from typing import NamedTuple

from ben.core.errors import BenError
from ben.core.lanes import NAMES
from ben.core.wal import Wal
from ben.spine.unsynced import Taken, Unsynced
from ben.store.base import Store

log = logging.getLogger(__name__)

RETRY_AFTER_FAILURE_S = 1.0   # no sync for this long after a failed one
IDLE_WAIT_S = 0.5             # what due_in() says when no sync is due


class SyncState(enum.Enum):
    """Where the store's sync stands (the table is in the module's docstring)."""

    IDLE = "idle"
    DUE = "due"
    SYNCING = "syncing"
    UNCERTAIN = "uncertain"


class SyncJob(NamedTuple):
    """One sync: truncate each lane up to ``upto`` once synced; ``check``: repair them first."""

    upto: dict[int, int]
    check: bool


class StoreSync:
    """Syncs the store and truncates the WALs behind it, on a thread of its own (``store-sync``).

    ``repair(lane, first, last)`` stores again the records the store holds in part, twice or not at
    all (the writer's); ``on_done()`` is called after every sync (the writers wake); ``note_error(text)``
    records a failure for the figures."""

    def __init__(self, wals: dict[int, Wal], store: Store, *, interval_s: float,
                 repair: Callable[[int, int, int], int], on_done: Callable[[], None],
                 note_error: Callable[[str], None]):
        self._wals = wals
        self._store = store
        self.interval_s = interval_s
        self._repair = repair
        self._on_done = on_done
        self._note_error = note_error
        self._lock = threading.Lock()  # every field below, shared by the writer threads and the sync thread
        self._state = SyncState.IDLE
        self._inserted = {lane: 0 for lane in wals}  # inserted, not yet synced: the WALs keep these
        self._unsynced = Unsynced(wals)  # each INSERT still in the WALs: which store engine took it, when
        self._synced_at = time.monotonic()
        self._retry_at = 0.0
        self._draining = 0  # force_flush calls waiting: sync at once
        self._job: SyncJob | None = None
        self._thread: threading.Thread | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()

    @property
    def state(self) -> SyncState:
        with self._lock:
            return self._state

    def inserted(self, lane: int, upto: int, generation: int) -> None:
        """An INSERT of ``lane``'s records up to ``upto`` returned (taken by store ``generation``)."""
        with self._lock:
            self._inserted[lane] = upto
            self._unsynced.note(lane, Taken(upto, generation, time.monotonic()))
            if self._state is SyncState.IDLE:
                self._state = SyncState.DUE

    def idle(self) -> bool:
        """Nothing inserted is waiting for a sync, and no sync runs."""
        with self._lock:
            return self._state is SyncState.IDLE

    def drain(self, waiting: bool) -> None:
        """A force_flush starts (True) or stops (False) waiting: while one waits, syncs are due at once."""
        with self._lock:
            self._draining += 1 if waiting else -1

    def schedule(self) -> None:
        """Hand a sync to the sync thread if one is due (see the table); return at once.

        The sync runs in its own thread: syncfs waits for every dirty page of the filesystem
        (tens of milliseconds under load), and alerts must not wait behind it. Nor is it run
        whenever a writer goes idle: that was after every alert and every routine burst, 25
        syncs a second under the lanes benchmark, each flushing the urgent buffer (a part in
        ben.events for a single alert, with the buffer locked meanwhile) and the whole filesystem.
        """
        with self._lock:
            if self._state not in (SyncState.DUE, SyncState.UNCERTAIN) or time.monotonic() < self._retry_at:
                return
            if not self._draining and time.monotonic() - self._synced_at < self.interval_s:
                return
            self._job = SyncJob(dict(self._inserted), check=self._state is SyncState.UNCERTAIN)
            self._state = SyncState.SYNCING
            if self._thread is None:  # one thread for the writer's life, woken per sync
                self._thread = threading.Thread(target=self._loop, name="store-sync", daemon=True)
                self._thread.start()
        self._wake.set()

    def due_in(self) -> float:
        """Seconds until a sync is due (IDLE_WAIT_S when none is: the sync thread wakes the writers when it ends)."""
        with self._lock:
            if self._state not in (SyncState.DUE, SyncState.UNCERTAIN):
                return IDLE_WAIT_S
            due = self._retry_at if self._draining else max(self._synced_at + self.interval_s, self._retry_at)
        return min(IDLE_WAIT_S, max(0.001, due - time.monotonic()))

    def shutdown(self, timeout: float) -> None:
        """Let a sync in flight finish (the WALs close after this), then stop the thread."""
        self._stop.set()
        with self._lock:
            thread = self._thread
        if thread is not None:
            self._wake.set()
            thread.join(timeout=max(1.0, timeout))

    # -- the sync thread --------------------------------------------------------------------
    def _loop(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            with self._lock:
                job, self._job = self._job, None
            if job is not None:
                self._sync(job)
            if self._stop.is_set():
                return

    def _sync(self, job: SyncJob) -> None:
        owed = job.check  # a check still owed when this sync ends
        failed = False
        try:
            self._store.sync()
            with self._lock:
                durable = self._unsynced.durable_part(job.upto, self._store.durable_after_s, time.monotonic())
            replaced = self._replaced_since(durable, self._store.generation)
            if owed or replaced:
                self._check(durable if owed else {lane: durable[lane] for lane in replaced})
                owed = owed and durable != job.upto  # the rest: checked at a later sync
            for lane, upto in durable.items():
                if upto:
                    self._wals[lane].truncate(upto)
            with self._lock:
                for lane, upto in durable.items():
                    if upto:
                        self._unsynced.drop(lane, upto)
                    if upto and self._inserted[lane] == upto:
                        self._inserted[lane] = 0
        except BenError as exc:  # the WAL keeps everything; the next sync tries again
            owed = failed = True
            self._note_error(str(exc))
            log.error("store writer: sync failed (the WAL keeps the data): %s", exc)
        except Exception:
            failed = True
            log.exception("store writer: unexpected failure in sync (the WAL keeps the data)")
        finally:
            with self._lock:
                now = time.monotonic()
                if failed:
                    self._retry_at = now + RETRY_AFTER_FAILURE_S
                if owed:
                    self._state = SyncState.UNCERTAIN
                elif any(self._inserted.values()):
                    self._state = SyncState.DUE
                else:
                    self._state = SyncState.IDLE
                self._synced_at = now
            self._on_done()

    def _replaced_since(self, done: dict[int, int], synced: int) -> list[int]:
        """The lanes of ``done`` with an INSERT taken by a store engine other than the one that
        synced (generation ``synced``): what it held in memory may be gone."""
        with self._lock:
            replaced = self._unsynced.replaced(done, synced)
        if replaced:
            log.warning("store writer: the store process was replaced since %s records were inserted (now "
                        "generation %d); checking them before the WAL drops them",
                        ", ".join(NAMES[lane] for lane in replaced), synced)
        return replaced

    def _check(self, done: dict[int, int]) -> None:
        """After a failed sync, or a sync by another store engine than the one that took some of the
        INSERTs, before truncating: the records about to leave the WALs are in the store once,
        whole (repaired if not), and durable.

        A store's flush of its urgent buffer is not atomic (chDB's Buffer writes a part per
        partition, and keeps the whole block when one part fails): a failed flush may have stored
        part of the buffer, which the next flush stores again.
        """
        repaired = 0
        for lane, upto in done.items():
            first = self._wals[lane].first_seq
            if upto and first is not None and first <= upto:
                repaired += self._repair(lane, first, upto)
        if repaired:
            self._store.sync()
