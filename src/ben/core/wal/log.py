"""The Wal: append, read, quarantine and truncate records; metadata; figures."""

from __future__ import annotations

import collections
import itertools
import logging
import struct
import threading
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from rocksdict import Rdict, WriteBatch, WriteOptions

from ben.core.errors import WalError
from ben.core.files import FILE_MODE, write_atomic
from ben.core.wal.damage import _DamageRepair
from ben.core.wal.full_disk import RESUME_INTERVAL_S, RESUME_SLACK_BYTES, _FullDiskResume
from ben.core.wal.layout import _HEADER, _LAST_SEQ, _META, _REC, _SEQ, Record, _key
from ben.core.wal.opening import _Opening
from ben.core.wal.rocks import LogSync, _Corrupt, _Gate, _get, _is_corruption, _is_disk_full, _iter_error, _NoRoom

log = logging.getLogger(__package__)  # "ben.core.wal", as for every part of the WAL

T = TypeVar("T")


class Wal(_Opening, _DamageRepair, _FullDiskResume):
    """A durable, ordered log of byte records. Thread-safe.

    Counters: ``corrupt_records`` (records failing their checksum), ``quarantined_records``
    (records moved to side files), ``corruption_events`` (damaged RocksDB files repaired),
    ``write_errors`` (failed writes: full disk, I/O errors).

    Opening and closing the database are in ``_Opening`` (opening.py), damaged RocksDB files in
    ``_DamageRepair`` (damage.py), failed writes and resuming in ``_FullDiskResume`` (full_disk.py).
    """

    def __init__(self, path: Path | str, quarantine_dir: Path | str | None = None, *, min_free_bytes: int = 0,
                 resume_free_bytes: int = RESUME_SLACK_BYTES):
        """min_free_bytes: refuse appends below this much free space (0: only when a write fails);
        resume_free_bytes: resume once this much is free (see ``full_disk``)."""
        if resume_free_bytes < min_free_bytes:
            raise WalError(f"WAL {path}: resume_free_bytes ({resume_free_bytes}) is below min_free_bytes "
                           f"({min_free_bytes})")
        self.path = Path(path)
        self.min_free_bytes = min_free_bytes
        self.resume_free_bytes = resume_free_bytes
        self.quarantine_dir = Path(quarantine_dir) if quarantine_dir else self.path.parent / "quarantine"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._sync = WriteOptions()
        self._sync.sync = True
        self._nosync = WriteOptions()
        self._log_sync = LogSync(self.path)     # durable writes: fdatasync without the GIL (see LogSync)
        self._lock = threading.RLock()        # writes, and replacing the database
        self._index_lock = threading.Lock()   # the in-memory index
        self._gate = _Gate()                  # reads vs. replacing the database
        self._db: Rdict | None = None
        self._generation = 0                  # bumped whenever the database is replaced
        # In-memory index of live records, oldest first: (seq, nbytes, appended_at_ns).
        self._index: collections.deque[tuple[int, int, int]] = collections.deque()
        self._bytes = 0
        self._last_seq = 0
        self.corrupt_records = 0
        self.quarantined_records = 0
        self.corruption_events = 0
        self.write_errors = 0
        self._broken: str | None = None       # why writes are refused, until the database is reopened
        self._undo: dict[bytes, bytes | None] = {}  # pre-images of a failed batch's keys
        self._next_attempt = 0.0
        self._resume_interval_s = RESUME_INTERVAL_S / 2  # doubled before each reopen
        self._short: str | None = None        # why appends are refused while the disk is short of room
        self.reopens = 0                      # reopens of the database after a failed write
        self.resumes = 0                      # times writes were taken again after a refusal
        self._open_at_start()

    # -- write ----------------------------------------------------------------------------
    def append(self, payloads: list[bytes], meta: dict[str, bytes | None] | None = None) -> tuple[int, int]:
        """Append records (and metadata; None deletes an entry) durably in one fsync'd batch; return
        (first, last) seq.

        With no payloads, only the metadata is written (still fsync'd). Raises WalError (saying
        whether the disk is full, naming the path) when the batch could not be written: then
        none of it counts as written.
        """
        now = time.time_ns()
        with self._lock:
            first = self._last_seq + 1
            wb = WriteBatch(raw_mode=True)
            entries, undo = [], []
            seq = self._last_seq
            for payload in payloads:
                seq += 1
                body = struct.pack(">Q", now) + payload
                value = struct.pack(">I", zlib.crc32(body)) + body
                wb.put(_key(seq), value)
                entries.append((seq, len(value), now))
                undo.append(_key(seq))
            for name, value in (meta or {}).items():  # a None value deletes the entry, in the same batch
                if value is None:
                    wb.delete(_META + name.encode())
                else:
                    wb.put(_META + name.encode(), value)
                undo.append(_META + name.encode())
            if payloads:
                wb.put(_LAST_SEQ, seq.to_bytes(8, "big"))
                undo.append(_LAST_SEQ)
            self._write(wb, True, "append", undo)
            self._last_seq = seq
            with self._index_lock:
                self._index.extend(entries)
                self._bytes += sum(e[1] for e in entries)
        return first, seq

    def advance(self, seq: int) -> None:
        """Make the next record's seq at least seq + 1 (the log was replaced under a consumer)."""
        with self._lock:
            if seq > self._last_seq:
                wb = WriteBatch(raw_mode=True)
                wb.put(_LAST_SEQ, seq.to_bytes(8, "big"))
                self._write(wb, True, "advance", [_LAST_SEQ])
                self._last_seq = seq

    def put_meta(self, name: str, value: bytes) -> None:
        self.append([], {name: value})

    def _write(self, wb: WriteBatch, sync: bool, what: str, undo: list[bytes]) -> None:
        """Write one batch (the caller holds self._lock); WalError if it is not written.

        ``sync``: durable before this returns. RocksDB writes the batch without syncing, then
        :class:`LogSync` fdatasyncs its log files with the GIL released. If that sync fails, the
        batch is in RocksDB but maybe not on disk: it is undone (old values of its keys, taken
        before the write) when the database is reopened, and counts as not written.
        """
        self._ensure_writable(grows=what not in ("truncate", "quarantine"))
        try:
            with self._gate.use():
                db = self._handle()
                before = {k: _get(db, k) for k in undo if not k.startswith(_REC)} if sync else {}
                db.write(wb, self._nosync)
        except WalError:
            raise
        except Exception as exc:  # rocksdict raises plain Exception
            raise self._write_failed(exc, what, undo) from exc
        if sync:
            try:
                self._log_sync.sync()
            except OSError as exc:
                raise self._sync_failed(exc, what, undo, before) from exc

    def _sync_failed(self, exc: OSError, what: str, undo: list[bytes], before: dict[bytes, bytes | None]) -> WalError:
        """The batch reached RocksDB but its sync failed: refuse writes, undo it at the reopen."""
        for key in undo:
            self._undo.setdefault(key, before.get(key))  # records were new: None deletes them
        self.write_errors += 1
        first = self._broken is None
        self._next_attempt = time.monotonic() + RESUME_INTERVAL_S
        full = _is_disk_full(exc) or getattr(exc, "errno", None) == 28
        self._broken = ("disk full (no space left on device under " + str(self.path) + ")") if full \
            else f"sync failed: {exc}"
        message = (f"WAL {self.path}: {what} failed: syncing the log files failed ({exc}); nothing of it counts "
                   "as written; writes are refused until the database can be reopened")
        if first:
            log.error("%s", message)
        return _NoRoom(message) if full else WalError(message)

    # -- metadata ---------------------------------------------------------------------------
    def get_meta(self, name: str) -> bytes | None:
        return self._reading(lambda db: db.get(_META + name.encode()))

    def iter_meta(self, prefix: str) -> list[tuple[str, bytes]]:
        """Every metadata entry whose name starts with prefix, as (name, value)."""
        start = _META + prefix.encode()

        def scan(db: Rdict) -> list[tuple[str, bytes]]:
            out = []
            it = db.iter()
            try:
                it.seek(start)
                while it.valid() and it.key().startswith(start):
                    out.append((it.key()[1:].decode(), it.value()))
                    it.next()
                error = _iter_error(it)
            finally:
                del it
            self._raise_read_error(error)
            return out

        return self._reading(scan)

    # -- read -----------------------------------------------------------------------------
    def _reading(self, fn: Callable[[Rdict], T]) -> T:
        """fn(db) with the database in use; on corruption, rebuild the database and try once more."""
        for attempt in (1, 2):
            generation = self._generation
            try:
                with self._gate.use():
                    try:
                        return fn(self._handle())
                    except (WalError, _Corrupt):
                        raise
                    except Exception as exc:  # rocksdict raises plain Exception
                        if _is_corruption(exc):
                            raise _Corrupt(str(exc)) from exc
                        raise WalError(f"WAL read failed at {self.path}: {exc}") from exc
            except _Corrupt as exc:
                if attempt == 2:
                    raise WalError(f"WAL {self.path} is damaged: {exc}") from None
                self._recover_at_runtime(str(exc), generation)
        raise AssertionError("unreachable")

    def read(self, after_seq: int, max_records: int = 1024, max_bytes: int = 64 << 20) -> list[Record]:
        """Records with seq > after_seq, oldest first; corrupt ones are quarantined and skipped."""
        rows = self._reading(lambda db: self._read_rows(db, after_seq, max_records, max_bytes))
        out = []
        for seq, value in rows:
            record = self._decode(seq, value)
            if record is not None:
                out.append(record)
        return out

    def _read_rows(self, db: Rdict, after_seq: int, max_records: int, max_bytes: int) -> list[tuple[int, bytes]]:
        rows: list[tuple[int, bytes]] = []
        size, error = 0, None
        it = db.iter()
        try:
            it.seek(_key(after_seq + 1))
            while it.valid() and len(rows) < max_records and size < max_bytes:
                key = it.key()
                if not key.startswith(_REC):
                    break
                value = it.value()
                rows.append((_SEQ.unpack(key[1:])[0], value))
                size += len(value)
                it.next()
            if len(rows) < max_records and size < max_bytes:
                error = _iter_error(it)
        finally:
            del it
        self._raise_read_error(error)
        return rows

    def _decode(self, seq: int, value: bytes) -> Record | None:
        if len(value) >= _HEADER.size:
            crc, appended = _HEADER.unpack_from(value)
            body = value[4:]
            if zlib.crc32(body) == crc:
                return Record(seq, appended, value[_HEADER.size:])
        self._quarantine(seq, value, "failed its checksum")
        self.corrupt_records += 1
        return None

    def quarantine(self, seq: int, reason: str) -> None:
        """Move record seq out of the log into a side file (a later hop refused it)."""
        value = self._reading(lambda db: db.get(_key(seq)))
        if value is not None:
            self._quarantine(seq, value, reason)

    def _quarantine(self, seq: int, value: bytes, reason: str) -> None:
        side = self.quarantine_dir / f"{self.path.name}-{seq:020d}.bin"
        try:
            self.quarantine_dir.mkdir(parents=True, exist_ok=True)
            write_atomic(side, value, FILE_MODE)  # synced before the log's delete below: a power cut keeps one
        except OSError as exc:
            log.error("WAL %s: record %d %s; could not save it to %s: %s", self.path, seq, reason, side, exc)
        else:
            log.error("WAL %s: record %d %s; quarantined to %s", self.path, seq, reason, side)
        self.quarantined_records += 1
        with self._lock:
            if self._broken is not None:
                return  # it stays in the log for now (and is met again on a later read)
            wb = WriteBatch(raw_mode=True)
            wb.delete(_key(seq))
            try:
                self._write(wb, False, "quarantine", [])
            except WalError:
                return
            with self._index_lock:
                self._drop_from_index(seq)

    def _drop_from_index(self, seq: int) -> None:
        for i, entry in enumerate(self._index):
            if entry[0] == seq:
                self._bytes -= entry[1]
                del self._index[i]
                return

    # -- delete ---------------------------------------------------------------------------
    def truncate(self, upto_seq: int) -> None:
        """Delete every record with seq <= upto_seq (the next hop has made them durable).

        Not fsync'd: a lost delete only means a deduplicated resend. While writes fail (a full
        disk) nothing is deleted: the records stay on disk and in the index until a later truncate.

        One point delete per record (every record in the database is in the index), never a range
        deletion: RocksDB keeps range deletions in the memtable until it is flushed and fragments
        them all again for every read and write, so a WAL truncated after each record (the alert
        lane: one record, one truncate) slowed down with every truncate. Measured on raw RocksDB in
        tmpfs after 2,000 append-and-truncate cycles: a get plus a put took 61 ms with a range from 0 each
        time (it grows with the square of the count), 0.75 ms with disjoint ranges (linearly), and
        20 us with point deletes (flat).
        """
        with self._lock:
            with self._index_lock:
                if not self._index or self._index[0][0] > upto_seq:
                    return
                seqs = [entry[0] for entry in itertools.takewhile(lambda e: e[0] <= upto_seq, self._index)]
            if self._broken is not None:
                return
            wb = WriteBatch(raw_mode=True)
            for seq in seqs:
                wb.delete(_key(seq))
            try:
                self._write(wb, False, "truncate", [])
            except WalError:
                return  # logged; the records stay until a later truncate
            with self._index_lock:
                while self._index and self._index[0][0] <= upto_seq:
                    self._bytes -= self._index.popleft()[1]

    # -- figures --------------------------------------------------------------------------
    @property
    def last_seq(self) -> int:
        return self._last_seq

    @property
    def first_seq(self) -> int | None:
        with self._index_lock:
            return self._index[0][0] if self._index else None

    @property
    def depth(self) -> int:
        return len(self._index)

    @property
    def nbytes(self) -> int:
        return self._bytes

    @property
    def writable(self) -> bool:
        """False while writes are refused: after a failed write (until the database is reopened),
        or while the disk is short of room (``min_free_bytes``)."""
        return self._broken is None and self._short is None

    @property
    def refusal(self) -> str:
        """Why appends are refused now ("" when they are not)."""
        return self._broken or self._short or ""

    @property
    def syncs(self) -> int:
        """Syncs of the log files (durable writes, failed ones included) since the WAL was opened."""
        return self._log_sync.syncs

    def sync_quantiles(self, window_s: float, qs=(0.5, 0.99, 1.0)) -> dict[float, float]:
        """{q: seconds} over the syncs that returned in the last window_s ({} if none): what the
        disk made each durable write wait. On a shared disk a sync also waits for what other
        writers put on it since the last flush, so its tail is the disk's, not this WAL's."""
        return self._log_sync.recent.quantiles(window_s, qs)

    def oldest_age_s(self) -> float:
        with self._index_lock:
            if not self._index:
                return 0.0
            return max(0.0, (time.time_ns() - self._index[0][2]) / 1e9)

    def close(self) -> None:
        with self._lock, self._gate.replace():
            db, self._db = self._db, None
            self._log_sync.close()
            if db is None:
                return
            try:
                db.close()  # flushes the memtable to a table file
            except Exception as exc:
                if self._broken is None and not _is_disk_full(exc):
                    raise WalError(f"WAL close failed at {self.path}: {exc}") from exc
                # Closed all the same; every append is in RocksDB's fsync'd log, replayed at the next open.
                log.warning("WAL %s closed without flushing (%s); what was appended is in its log", self.path, exc)
