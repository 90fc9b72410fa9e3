"""The store writer: a consumer of the spine WAL that inserts its records into the store.

Its cursor is not kept anywhere of its own: it is recovered from the store itself (the highest
``spine_seq`` stored), so a restart neither loses nor duplicates rows. One INSERT may have
landed partly when the process died (ClickHouse commits an insert part by part); recovery
compares, for every record still in the WAL, the rows stored against the rows the record
holds, deletes a partial record's rows and inserts it again.
WAL records are truncated only after the store has them.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from ben.core.errors import BenError
from ben.core.transport import backoff
from ben.core.wal import Wal
from ben.store import rows
from ben.store.chdb import Store

log = logging.getLogger(__name__)

READ_RECORDS = 4096


@dataclass
class WriterFigures:
    rows_stored: int = 0
    inserts: int = 0
    insert_errors: int = 0
    repaired_records: int = 0
    last_insert_s: float = 0.0


class StoreWriter:
    def __init__(self, wal: Wal, store: Store, insert_max_rows: int = 200_000):
        self._wal = wal
        self._store = store
        self._max_rows = insert_max_rows
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.cursor = 0
        self.figures = WriterFigures()
        self._delays = None

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> None:
        self.cursor = self.recover()
        self._thread = threading.Thread(target=self._run, name="store-writer", daemon=True)
        self._thread.start()

    def notify(self) -> None:
        """New records are durable in the WAL."""
        self._wake.set()

    def force_flush(self, timeout: float) -> bool:
        """Wait until everything in the WAL is stored; False on timeout."""
        deadline = time.monotonic() + timeout
        while self.cursor < self._wal.last_seq:
            if time.monotonic() >= deadline or self._thread is None or not self._thread.is_alive():
                return False
            self._wake.set()
            time.sleep(0.01)
        return True

    def shutdown(self, timeout: float) -> bool:
        drained = self.force_flush(timeout)
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=max(1.0, timeout))
        return drained

    # -- recovery -----------------------------------------------------------------------------
    def recover(self) -> int:
        stored = self._store.max_spine_seq()
        if stored > self._wal.last_seq:
            log.warning("store holds spine_seq %d beyond the WAL's %d (WAL replaced?); continuing after it",
                        stored, self._wal.last_seq)
            self._wal.advance(stored)
        first = self._wal.first_seq
        if first is not None and first <= stored:
            self._repair(first, stored)
        self._wal.truncate(stored)
        log.info("store writer: cursor %d recovered from the store; %d WAL records to store",
                 stored, self._wal.depth)
        return stored

    def _repair(self, first: int, last: int) -> None:
        counts = self._store.count_by_spine_seq(first, last)
        partial = []
        after = first - 1
        while after < last:
            records = [r for r in self._wal.read(after, READ_RECORDS) if r.seq <= last]
            if not records:
                break
            for record in records:
                req = rows.decode(record)
                if counts.get(record.seq, 0) != len(req.batch.ts_unix_nano):
                    partial.append((record.seq, req))
            after = records[-1].seq
        if not partial:
            return
        seqs = [seq for seq, _ in partial]
        log.warning("store writer: %d WAL records were stored partly or not at all before a restart; "
                    "re-inserting them: %s", len(seqs), seqs[:20])
        self._store.delete_spine_seqs(seqs)
        self._store.insert_events(rows.to_table(partial))
        self.figures.repaired_records += len(seqs)

    # -- the loop -------------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._step()
            except Exception:  # never let the writer die silently: log, back off, go on
                log.exception("store writer: unexpected failure; retrying in 1s")
                self._stop.wait(1.0)

    def _step(self) -> None:
        """Store the next run of WAL records (up to insert_max_rows rows), or wait for some."""
        batch, n_rows = [], 0
        for record in self._wal.read(self.cursor, READ_RECORDS):
            req = rows.decode(record)
            batch.append((record.seq, req))
            n_rows += len(req.batch.ts_unix_nano)
            if n_rows >= self._max_rows:
                break
        if not batch:
            self._wake.wait(0.5)
            self._wake.clear()
            return
        started = time.perf_counter()
        try:
            self._store.insert_events(rows.to_table(batch))
        except BenError as exc:
            self.figures.insert_errors += 1
            self._delays = self._delays or backoff(100, 5_000)
            delay = next(self._delays)
            log.error("store writer: insert failed, retrying in %.2fs (the WAL keeps the data): %s", delay, exc)
            self._stop.wait(delay)
            return
        self._delays = None
        self.figures.inserts += 1
        self.figures.rows_stored += n_rows
        self.figures.last_insert_s = time.perf_counter() - started
        self.cursor = batch[-1][0]
        self._wal.truncate(self.cursor)
