"""The store writer: a consumer of the spine's lane WALs that inserts their records into the store.

Lanes are served by priority: alerts by a thread of their own (``store-writer-alerts``) on the
store's urgent connection (``Store.urgent``), so an alert waits neither behind the decoding and
conversion of a routine run nor behind the routine INSERT in flight: the two INSERTs run side by
side; the other lanes by the ``store-writer`` thread, anomalies before routine data. Each lane's
cursor is not kept anywhere of its own: it is recovered from the
store itself (the highest ``spine_seq`` stored for that lane), so a restart neither loses nor
duplicates rows. One INSERT may have landed partly when the process died (ClickHouse commits
an insert part by part); recovery compares, for every record still in the WAL, the rows stored
against the rows the record holds, deletes a partial record's rows and inserts it again.
WAL records are truncated only once the store has them on disk: the store's filesystem is synced
at most every ``sync_interval_s`` by a thread of its own, and the WALs truncated behind it; the
states of that sync (idle, due, syncing, uncertain after a failure) and their transitions are
drawn in ``ben.spine.store_sync``. The writer notes, for each INSERT, the store's ``generation``
read before it (never newer than the engine that took it), so a sync by another store engine
checks the records before they leave the WAL.

Each writer thread's step is three steps, each returning what it did (``_step``): read a run of
records from the lane's WAL (``_read`` -> ``Run``), insert it (``_insert`` -> ``Inserted``, or None
after a failure), record it (``_record``: figures, cursor, what the sync must wait for, the next
consumer). Shared fields: ``cursor`` under ``_lock`` (written by the lane's thread), the figures
under ``_figures_lock``, the sync's fields under its own lock (``StoreSync``).

A failed INSERT may also have landed in part or entirely (a ClickHouse server that died, or a
connection that broke after the server committed but before it answered). So after a failure the
next attempt at that run of records first asks the store what it holds of them: whole records are
not inserted again, partial ones are deleted and re-inserted, like the recovery at start.
Expired data is dropped by ``store.enforce_retention`` every ``retention_check_interval_s``.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import pyarrow as pa

from ben.core.errors import BenError, StorageError
from ben.core.figures import RecentSamples
from ben.core.lanes import ALERT, LANES, NAMES
from ben.core.transport import backoff
from ben.core.wal import Wal
from ben.store import rows, schema
from ben.spine.store_sync import StoreSync
from ben.store.base import Store

log = logging.getLogger(__name__)

READ_RECORDS = 4096
DELETE_RUN = 16_384  # seqs listed in one DELETE of a repair (13 digits each stay under 256 KiB)
ALERT_DELAYS_KEPT = 100_000  # alert delays kept for the figures at most (the window may hold fewer)


@dataclass
class WriterFigures:
    """What the store writer did (``ben status`` and the metrics show these)."""

    rows_stored: Counter = field(default_factory=Counter)  # by lane
    inserts: int = 0
    insert_errors: int = 0
    repaired_records: int = 0
    quarantined_records: int = 0     # WAL records that could not be decoded: set aside, never stored
    last_insert_s: float = 0.0
    last_error: str = ""
    # Seconds from each alert's event time (the SDK's stamp) to the return of the INSERT that stored
    # it, stamped with that return: what an operator waits for an alert. Summarised over a window.
    alert_delays_s: RecentSamples = field(default_factory=lambda: RecentSamples(ALERT_DELAYS_KEPT))


class Run(NamedTuple):
    """A run of one lane's WAL records read for one INSERT."""

    records: list   # (seq, IngestRequest), in order; empty if every record read was quarantined
    rows: int       # events in them
    skipped: int    # the seq of the last quarantined record read past, 0 if none


class Inserted(NamedTuple):
    """What one INSERT stored, for ``_record``."""

    table: pa.Table | None   # the rows as Arrow (None: they went as JSON rows)
    event_ts: list[int]      # the events' times, when they went as JSON rows
    generation: int          # the store's generation read before the INSERT
    started: float           # perf_counter when it began


class StoreWriter:
    """Stores the records of the spine's lane WALs, by priority, and truncates the WALs once the store
    has them on disk (see the module's docstring).

    Settings: ``insert_max_rows`` / ``insert_max_bytes`` per INSERT; ``max_rows_per_s`` for every lane
    but alerts (0: no limit); ``sync_interval_s`` between syncs of the store's filesystem;
    ``alert_delay_window_s`` for ``alert_delay_quantiles``; ``min_free_bytes`` kept free on the store's
    disk (0: not checked); ``retention_check_interval_s`` between retention checks."""

    def __init__(self, wals: dict[int, Wal], store: Store, insert_max_rows: int = 200_000,
                 insert_max_bytes: int = 32 << 20, on_stored: Callable[[int, pa.Table], None] | None = None,
                 max_rows_per_s: int = 0, *, sync_interval_s: float = 0.2, alert_delay_window_s: float = 60.0,
                 min_free_bytes: int = 0, retention_check_interval_s: float = 3600.0):
        self._wals = wals
        self._store = store
        # The alert lane writes over the store's urgent connection: beside a routine INSERT, not after it.
        self._stores = {lane: store.urgent() if lane == ALERT else store for lane in wals}
        self._max_rows = insert_max_rows
        self._max_bytes = insert_max_bytes
        self._on_stored = on_stored  # next consumer of what was stored (detection), in spine order; not alerts
        # Optional rate limit for every lane but alerts (protects the store from ingest storms).
        self._rate = max_rows_per_s
        self._tokens = 0.0
        self._refilled = time.monotonic()
        self.alert_delay_window_s = alert_delay_window_s
        self.min_free_bytes = min_free_bytes
        self._room_lock = threading.Lock()
        self._room_generation: int | None = None
        self._parts_yielded = False
        self.retention_check_interval_s = retention_check_interval_s
        self._sync = StoreSync(wals, store, interval_s=sync_interval_s, repair=self._repair,
                               on_done=self._wake_all, note_error=self._note_error)
        # One thread per group of lanes, each woken by its own event: alerts, then the others by priority.
        self._groups = [[lane for lane in LANES if lane in wals and lane == ALERT],
                        [lane for lane in LANES if lane in wals and lane != ALERT]]
        self._groups = [g for g in self._groups if g]
        self._wakes = [threading.Event() for _ in self._groups]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._figures_lock = threading.Lock()  # figures are updated by every writer thread
        self._lock = threading.Lock()  # cursor: written by its lane's thread, read by others
        self.cursor = {lane: 0 for lane in wals}
        self.recovered = dict(self.cursor)
        self.figures = WriterFigures()
        self._delays = {lane: None for lane in wals}
        self._suspect = {lane: False for lane in wals}  # an INSERT of this lane failed: check before retrying
        self._retention_at = 0.0  # monotonic time of the next retention check (0: at the first idle moment)

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> None:
        rows.warm_up()  # not at the first alert
        for lane in self._wals:
            self.cursor[lane] = self.recover(lane)
        self.recovered = dict(self.cursor)  # what the store held (whole) when this start began
        for lanes, wake in zip(self._groups, self._wakes):
            name = "store-writer-alerts" if lanes == [ALERT] else "store-writer"
            thread = threading.Thread(target=self._run, args=(lanes, wake), name=name, daemon=True)
            self._threads.append(thread)
            thread.start()

    def notify(self) -> None:
        """New records are durable in a WAL."""
        self._wake_all()

    def _wake_all(self) -> None:
        for wake in self._wakes:
            wake.set()

    def alert_delay_quantiles(self) -> dict[float, float]:
        """Event time to stored, quantiles over the alerts stored in the last ``alert_delay_window_s``."""
        return self.figures.alert_delays_s.quantiles(self.alert_delay_window_s, (0.5, 0.9, 0.99, 1.0))

    @property
    def sync_interval_s(self) -> float:
        """Seconds between syncs of the store's filesystem (at once while force_flush waits)."""
        return self._sync.interval_s

    @sync_interval_s.setter
    def sync_interval_s(self, seconds: float) -> None:
        self._sync.interval_s = seconds

    def cursors(self) -> dict[int, int]:
        """Each lane's cursor (the last WAL record stored), read under the lock they are written under."""
        with self._lock:
            return dict(self.cursor)

    def stored_all(self) -> bool:
        """Everything in the WALs is stored and synced (the cursors read before the sync's state:
        an INSERT is noted by the sync before its cursor moves)."""
        cursor = self.cursors()
        return self._sync.idle() and all(cursor[lane] >= wal.last_seq for lane, wal in self._wals.items())

    def _note_error(self, text: str) -> None:
        with self._figures_lock:
            self.figures.last_error = text

    def force_flush(self, timeout: float) -> bool:
        """Wait until everything in the WALs is stored and synced; False on timeout."""
        deadline = time.monotonic() + timeout
        self._sync.drain(True)
        try:
            while not self.stored_all():
                if time.monotonic() >= deadline or not self._threads or not all(t.is_alive() for t in self._threads):
                    return False
                self._wake_all()
                time.sleep(0.01)
            return True
        finally:
            self._sync.drain(False)

    def shutdown(self, timeout: float) -> bool:
        drained = self.force_flush(timeout)
        self._stop.set()
        self._wake_all()
        for thread in self._threads:
            thread.join(timeout=max(1.0, timeout))
        self._sync.shutdown(timeout)  # the WALs close after this: let a sync in flight finish with them
        return drained

    # -- recovery -----------------------------------------------------------------------------
    def recover(self, lane: int) -> int:
        wal = self._wals[lane]
        stored = self._store.max_spine_seq(lane)
        if stored > wal.last_seq:
            log.warning("store holds %s spine_seq %d beyond the WAL's %d (WAL replaced?); continuing after it",
                        NAMES[lane], stored, wal.last_seq)
            wal.advance(stored)
        first = wal.first_seq
        if first is not None and first <= stored:
            self._repair(lane, first, stored)
        self._store.sync()  # what the store holds may be in the page cache only: make it durable first
        if self._store.durable_after_s and first is not None and first <= stored:
            # a server that does not fsync: truncated once that wait is over
            self._sync.inserted(lane, stored, self._store.generation)
        else:
            wal.truncate(stored)
        log.info("store writer: %s cursor %d recovered from the store; %d WAL records to store",
                 NAMES[lane], stored, wal.depth)
        return stored

    def _unstored(self, lane: int, batch: list) -> list:
        """After a failed INSERT: the records of batch the store lacks (partial ones deleted first)."""
        store = self._stores[lane]
        counts = store.count_by_spine_seq(lane, batch[0][0], batch[-1][0])
        partial = [seq for seq, req in batch if 0 < counts.get(seq, 0) != len(req.batch.ts_unix_nano)]
        if partial:
            log.warning("store writer: a failed %s INSERT left %d records in part; deleting them before the retry",
                        NAMES[lane], len(partial))
            store.delete_spine_seqs(lane, partial)
            with self._figures_lock:
                self.figures.repaired_records += len(partial)
        whole = {seq for seq, req in batch if counts.get(seq, 0) == len(req.batch.ts_unix_nano)}
        if whole:
            log.warning("store writer: %d %s records of a failed INSERT were stored after all; not inserting them "
                        "again", len(whole), NAMES[lane])
        return [(seq, req) for seq, req in batch if seq not in whole]

    def _repair(self, lane: int, first: int, last: int) -> int:
        """Store again, once, the WAL records up to last that the store holds in part, twice or
        not at all; how many."""
        counts = self._store.count_by_spine_seq(lane, first, last)
        partial = []
        after = first - 1
        while after < last:
            records = [r for r in self._wals[lane].read(after, READ_RECORDS) if r.seq <= last]
            if not records:
                break
            for record in records:
                req = self._decode(lane, record)
                if req is not None and counts.get(record.seq, 0) != len(req.batch.ts_unix_nano):
                    partial.append((record.seq, req))
            after = records[-1].seq
        if not partial:
            return 0
        seqs = [seq for seq, _ in partial]
        log.warning("store writer: %d %s WAL records were stored partly, more than once or not at all; "
                    "re-inserting them: %s", len(seqs), NAMES[lane], seqs[:20])
        # In runs: a delete lists its seqs in the statement (tens of thousands of alerts lost with
        # store processes killed one after another overflowed chDB's max_query_size, 256 KiB, and
        # the repair failed at every sync); records the store lacks entirely need no delete.
        present = [seq for seq in seqs if counts.get(seq, 0)]
        for i in range(0, len(present), DELETE_RUN):
            self._store.delete_spine_seqs(lane, present[i:i + DELETE_RUN])
        for i in range(0, len(partial), READ_RECORDS):
            self._store.insert_events(rows.to_table(partial[i:i + READ_RECORDS]))
        with self._figures_lock:
            self.figures.repaired_records += len(seqs)
        return len(seqs)

    # -- the loop -------------------------------------------------------------------------------
    def _decode(self, lane: int, record):
        """A WAL record's request, or None after quarantining a record that cannot be decoded (ADR 0033)."""
        try:
            return rows.decode(record)
        except Exception as exc:  # one bad record must never stop the lane
            self._wals[lane].quarantine(record.seq, f"could not be decoded: {type(exc).__name__}: {exc}")
            with self._figures_lock:
                self.figures.quarantined_records += 1
            return None

    def _check_room(self) -> None:
        """Stop inserting before the store's disk is full: a store that runs out of space in the
        middle of a write or a merge can leave a damaged part behind."""
        if not self.min_free_bytes or self._store.path is None:  # a server minds its own disk
            return
        free = shutil.disk_usage(self._store.path).free
        self._yield_merged_parts(free)
        if free < self.min_free_bytes:
            raise StorageError(f"store disk nearly full at {self._store.path}: {free / 2**20:.0f} MiB free, "
                               f"keeping {self.min_free_bytes / 2**20:.0f} MiB free (store.min_free_bytes); "
                               "the WAL keeps the data")

    def _yield_merged_parts(self, free: int) -> None:
        """A merge's source parts are kept ``OLD_PARTS_LIFETIME_S`` (the rows of a merged part the engine sets aside at
        an open fall back to them). On a store disk below ``min_free_bytes`` they are what holds the room (on a
        small disk, a hundred MiB of small parts for 8 minutes, ingest paused all that time: ADR 0046): kept 0 s
        there, and again ``OLD_PARTS_LIFETIME_S`` once twice ``min_free_bytes`` are free (a new store process sets
        that at its open)."""
        generation = getattr(self._store, "generation", 0)
        with self._room_lock:
            if generation != self._room_generation:
                self._room_generation, self._parts_yielded = generation, False
            if free < self.min_free_bytes and not self._parts_yielded:
                seconds = 0
            elif free >= 2 * self.min_free_bytes and self._parts_yielded:
                seconds = schema.OLD_PARTS_LIFETIME_S
            else:
                return
            try:
                self._store.execute(schema.keep_merged_parts(seconds))
            except BenError as exc:
                log.warning("store writer: could not set how long merged-away parts are kept: %s", exc)
                return
            self._parts_yielded = seconds == 0
        log.warning("store writer: store disk at %s: %.0f MiB free; merged-away parts of ben.events kept %d s",
                    self._store.path, free / 2**20, seconds)

    def _retention(self) -> None:
        """Drop expired data now and then (when idle, so it never delays inserts)."""
        if not self._store.retention_days or time.monotonic() < self._retention_at:
            return
        self._retention_at = time.monotonic() + self.retention_check_interval_s
        try:
            self._store.enforce_retention()
        except BenError as exc:
            log.error("store writer: retention failed (tried again in %.0fs): %s", self.retention_check_interval_s, exc)

    def _allowance(self, lane: int) -> int:
        """Rows this lane may insert now (alerts: always the maximum; 0: wait).

        Under ``max_rows_per_s`` a lane inserts a burst's worth (a fifth of a second of the rate)
        at a time, not whatever trickle of tokens came since the last INSERT: chDB's fixed cost
        per INSERT (about 10 ms) paid 40 times a second kept the store busy all the time, and an
        alert's INSERT waited behind one routine INSERT after another.
        """
        if lane == ALERT or not self._rate:
            return self._max_rows
        now = time.monotonic()
        burst = self._burst()
        self._tokens = min(burst, self._tokens + (now - self._refilled) * self._rate)
        self._refilled = now
        if self._tokens < burst:
            return 0
        return min(self._max_rows, int(self._tokens))

    def _burst(self) -> float:
        return max(1.0, min(self._rate / 5, self._max_rows))  # 200 ms of the rate

    def _idle_wait(self, lanes: list[int]) -> float:
        if self._rate and self._tokens < self._burst() and lanes != [ALERT]:
            return min(0.5, (self._burst() - self._tokens) / self._rate)
        return 0.5

    def _run(self, lanes: list[int], wake: threading.Event) -> None:
        """One writer thread: store its lanes' backlogs, the first lane first, until stopped."""
        while not self._stop.is_set():
            try:
                wake.clear()  # before looking: a notify() from now on is not lost
                busy = any(self._step(lane) for lane in lanes)
                self._sync.schedule()
                if not busy:
                    if ALERT not in lanes:
                        self._retention()
                    wake.wait(min(self._idle_wait(lanes), self._sync.due_in()))
            except Exception:  # never let the writer die silently: log, back off, go on
                log.exception("store writer: unexpected failure; retrying in 1s")
                self._stop.wait(1.0)

    def _failed(self, lane: int, exc: BenError, suspect: bool) -> None:
        """An INSERT (``suspect``: it may have landed in part) or the room check failed: back off."""
        if suspect:
            self._suspect[lane] = True
        with self._figures_lock:
            self.figures.insert_errors += 1
            self.figures.last_error = str(exc)
        self._delays[lane] = self._delays[lane] or backoff(100, 5_000)
        delay = next(self._delays[lane])
        log.error("store writer: insert failed, retrying in %.2fs (the WAL keeps the data): %s", delay, exc)
        self._stop.wait(delay)

    def _step(self, lane: int) -> bool:
        """Store the next run of one lane's records (up to insert_max_rows / _bytes); False if none.

        The byte cap bounds memory too: a failing store is retried with the same bounded run.
        """
        allowed = self._allowance(lane)
        if allowed < 1 or self._wals[lane].last_seq <= self.cursor[lane]:
            return False
        try:
            self._check_room()  # before reading and converting a run that could not be inserted
        except StorageError as exc:
            self._failed(lane, exc, suspect=False)
            return True
        run = self._read(lane, allowed)
        if run is None:
            return False
        if not run.records:  # every record read was quarantined: the lane goes on past them
            with self._lock:
                self.cursor[lane] = run.skipped
            return True
        inserted = self._insert(lane, run)
        if inserted is not None:
            self._record(lane, run, inserted)
        return True

    def _read(self, lane: int, allowed: int) -> Run | None:
        """The next run of the lane's records after its cursor, up to ``allowed`` rows (and the byte
        cap); None if there is none."""
        batch, n_rows, skipped = [], 0, 0
        for record in self._wals[lane].read(self.cursor[lane], READ_RECORDS, max_bytes=self._max_bytes):
            req = self._decode(lane, record)
            if req is None:  # quarantined: the lane goes on past it
                skipped = record.seq
                continue
            batch.append((record.seq, req))
            n_rows += len(req.batch.ts_unix_nano)
            if n_rows >= allowed:
                break
        if not batch and not skipped:
            return None
        return Run(batch, n_rows, skipped)

    def _insert(self, lane: int, run: Run) -> Inserted | None:
        """INSERT the run (after a failure: only what the store lacks); None if it failed (backed off)."""
        batch, n_rows = run.records, run.rows
        if lane != ALERT and self._rate:
            self._tokens -= n_rows
        started = time.perf_counter()
        store = self._stores[lane]
        generation = store.generation  # before the INSERT: never newer than the engine that takes it
        # A few alerts go as JSON rows where the store takes them (chDB): no Arrow table on their way
        # (ADR 0024); an alert storm's long runs go as Arrow, cheaper past rows.INLINE_MAX_ROWS.
        as_json = (lane == ALERT and n_rows <= rows.INLINE_MAX_ROWS and not self._suspect[lane]
                   and hasattr(store, "insert_event_json"))
        table = None if as_json else rows.to_table(batch)
        event_ts: list[int] = []
        try:
            if as_json:
                lines, event_ts = rows.to_json_rows(batch)
                store.insert_event_json(lines)
            elif self._suspect[lane]:
                missing = self._unstored(lane, batch)
                if missing:
                    store.insert_events(table if len(missing) == len(batch) else rows.to_table(missing))
            else:
                store.insert_events(table)
        except BenError as exc:
            self._failed(lane, exc, suspect=True)
            return None
        self._delays[lane] = None
        self._suspect[lane] = False
        return Inserted(table, event_ts, generation, started)

    def _record(self, lane: int, run: Run, done: Inserted) -> None:
        """After an INSERT returned: figures, the cursor, what the sync waits for, the next consumer."""
        if lane == ALERT:  # after the INSERT returned: the alerts are stored
            now, at = time.time_ns(), time.monotonic()
            ts = done.event_ts if done.table is None else done.table.column("ts").to_pylist()
            delays = [(now - t) / 1e9 for t in ts]
        with self._figures_lock:
            if lane == ALERT:
                self.figures.alert_delays_s.extend(delays, at)
            self.figures.last_error = ""
            self.figures.inserts += 1
            self.figures.rows_stored[lane] += run.rows
            self.figures.last_insert_s = time.perf_counter() - done.started
        cursor = max(run.records[-1][0], run.skipped)
        self._sync.inserted(lane, cursor, done.generation)  # before the cursor moves: see stored_all
        with self._lock:
            self.cursor[lane] = cursor
        if self._on_stored is not None and lane != ALERT:
            try:
                self._on_stored(lane, done.table)
            except Exception:  # detection must never stop storage
                log.exception("store writer: the consumer of stored rows failed")
