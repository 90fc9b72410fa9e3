"""Write-ahead log on RocksDB (rocksdict): ordered, checksummed, fsync'd records.

Layout inside one RocksDB directory::

    b"r" + seq (8 bytes big-endian)  ->  crc32 (4 B) | appended_at_ns (8 B) | payload
    b"m" + name                      ->  metadata written atomically with appends

``append`` writes a whole group of records (and any metadata) in one WriteBatch with
``sync=True``: it returns only when the group is on disk, so callers acknowledge after it
(group commit: callers gather everything that arrived while the previous commit ran).
Records are deleted only by ``truncate(upto)``, which the consumer calls once the next hop
made them durable. A record whose checksum does not match is moved to a side file in
``quarantine_dir`` (``<name>-<seq>.bin``), counted in ``corrupt_records``, and skipped: it
never stops the process.

Damaged RocksDB files
---------------------
Opening replays RocksDB's own log in ``absolute_consistency`` mode (any damaged log record
is reported) and reads every record once (table block checksums are verified); later reads
verify checksums too. Whatever RocksDB reports, the Wal counts it in ``corruption_events``,
logs an error naming the damaged file, keeps the damaged bytes in ``quarantine_dir`` (in
``<name>.damaged-<UTC time>/``, for an operator to inspect and then delete), and carries on:

* a torn log tail (RocksDB's ``*.log`` ends in an incomplete write, e.g. the process was
  killed inside a write): the log files are copied to quarantine and RocksDB drops the
  incomplete batch in place. That batch was never acknowledged (``append`` returns after
  its fsync); every acknowledged record survives.
* any other damage (inside the log, in a table file, in the MANIFEST), at open or found by a
  read later: the whole damaged database is moved, untouched, to quarantine (or next to
  ``path`` if the quarantine dir is on another filesystem) and a fresh one is rebuilt at
  ``path`` from everything still readable in it. What survives:

  - damage inside the log (records written, not yet flushed to a table): RocksDB cannot find
    the next record boundary inside a damaged 32 KiB log block, so the records from the
    damaged one to the end of that block are lost; records in every other block survive;
  - damage inside a table file (``*.sst``): the records of the damaged data block (4 KiB, or
    one record when a record is larger) are lost; the rebuild seeks past the block and keeps
    every other one;
  - damage to a table's index or footer, or to the MANIFEST: RocksDB's repair runs on a copy;
    it sets aside whole unreadable tables, whose records are lost;
  - metadata (high-water marks, ``last_seq``) lives in the same files and is lost the same
    way. Numbering never goes back: if ``last_seq`` is lost, the next seq is placed above
    RocksDB's own sequence number, which is never below a seq this WAL handed out
    (``advance`` excepted: its callers re-advance from their own state).

* a record failing its own (value-level) checksum: only that record is lost; it goes to a
  side file ``<name>-<seq>.bin`` and is counted in ``corrupt_records``.

Rebuilding needs free space of about the size of the readable data. Without it the damaged
database is put back where it was (nothing is lost or renumbered) and the Wal serves what
RocksDB can read, refusing writes, until there is room; if even that fails, opening raises
``WalError`` naming the path.

Write errors (a full disk)
--------------------------
A failed write (no space left, an I/O error) puts RocksDB in read-only mode. ``append``
raises ``WalError`` saying so and naming the path; nothing of that batch counts as written
and everything appended before stays readable. Later writes are refused the same way until
there is room again (RocksDB's log size plus ``RESUME_SLACK_BYTES``); then the next write
reopens the database inside the Wal (no restart), undoes the failed batch should part of it
have reached the disk after all, and rebuilds the in-memory index from the disk.
``truncate`` is skipped meanwhile (the records stay until a later truncate). A Wal opened on
a full disk starts read-only the same way.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import re
import shutil
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from rocksdict import AccessType, DBRecoveryMode, Options, Rdict, ReadOptions, WriteBatch, WriteOptions

from ben.core.errors import WalError

log = logging.getLogger(__name__)

_REC = b"r"
_META = b"m"
_LAST_SEQ = _META + b"last_seq"
_HEADER = struct.Struct(">IQ")  # crc32, appended_at_ns
_SEQ = struct.Struct(">Q")

#: Seconds between attempts to reopen a database after a failed write.
RESUME_INTERVAL_S = 0.5
#: Free bytes wanted, beyond the size of RocksDB's log files, before reopening after a failed write
#: (reopening flushes the log to a table).
RESUME_SLACK_BYTES = 1 << 20
_SALVAGE_BATCH_BYTES = 4 << 20

T = TypeVar("T")


def _key(seq: int) -> bytes:
    return _REC + _SEQ.pack(seq)


@dataclass(frozen=True, slots=True)
class Record:
    seq: int
    appended_at_ns: int
    payload: bytes


class _Corrupt(Exception):
    """RocksDB reported corruption (internal: always handled or turned into a WalError)."""


class _NoRoom(WalError):
    """A write failed because the disk is full."""


def _is_corruption(error: BaseException | str) -> bool:
    return "corruption" in str(error).lower()


def _is_disk_full(error: BaseException | str) -> bool:
    text = str(error).lower()
    return "no space left" in text or "nospace" in text or "disk full" in text


def _get(db: Rdict, key: bytes) -> bytes | None:
    try:
        return db.get(key)
    except Exception as exc:  # rocksdict raises plain Exception
        if _is_corruption(exc):
            raise _Corrupt(str(exc)) from exc
        raise


WRITE_BUFFER_BYTES = 8 << 20


def _options(mode: DBRecoveryMode, *, create: bool = True, paranoid: bool = True) -> Options:
    opts = Options(raw_mode=True)
    opts.create_if_missing(create)
    opts.set_paranoid_checks(paranoid)
    opts.set_wal_recovery_mode(mode)
    opts.set_keep_log_file_num(4)  # every (re)open starts a new info LOG; keep few of them
    # Small memtables: a backlog lives on disk, not in memory (RocksDB's default is 64 MiB each).
    opts.set_write_buffer_size(WRITE_BUFFER_BYTES)
    opts.set_max_write_buffer_number(2)
    return opts


def _open_mode() -> DBRecoveryMode:
    return DBRecoveryMode.absolute_consistency()  # report any damaged log record


def _resume_mode() -> DBRecoveryMode:
    return DBRecoveryMode.tolerate_corrupted_tail_records()  # a failed write may leave a torn tail


def _salvage_mode() -> DBRecoveryMode:
    return DBRecoveryMode.skip_any_corrupted_record()


def _free_bytes(path: Path) -> int:
    """Bytes this process may still write on path's filesystem (root may use the reserve)."""
    try:
        st = os.statvfs(path if path.exists() else path.parent)
    except OSError:
        return 1 << 62
    return (st.f_bfree if os.geteuid() == 0 else st.f_bavail) * st.f_frsize


def _iter_error(it) -> str | None:
    """The iterator's error, if it stopped on one."""
    try:
        it.status()
    except Exception as exc:  # rocksdict raises plain Exception
        return str(exc)
    return None


class _Gate:
    """Many threads using the open database at once, or one thread replacing it."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._users = 0
        self._replacing = False

    @contextlib.contextmanager
    def use(self) -> Iterator[None]:
        with self._cond:
            while self._replacing:
                self._cond.wait()
            self._users += 1
        try:
            yield
        finally:
            with self._cond:
                self._users -= 1
                if not self._users:
                    self._cond.notify_all()

    @contextlib.contextmanager
    def replace(self) -> Iterator[None]:
        with self._cond:
            while self._replacing:
                self._cond.wait()
            self._replacing = True
            while self._users:
                self._cond.wait()
        try:
            yield
        finally:
            with self._cond:
                self._replacing = False
                self._cond.notify_all()


class _ReadableEntries:
    """Every readable (key, value) of a damaged database in key order, seeking past damaged blocks."""

    KEY_BYTES = 64  # probe keys are compared as numbers of this many bytes

    def __init__(self, db: Rdict):
        self._db = db
        self.errors: list[str] = []

    def __iter__(self) -> Iterator[tuple[bytes, bytes]]:
        start: bytes | None = None
        while True:
            it = self._db.iter()
            if start is None:
                it.seek_to_first()
            else:
                it.seek(start)
            last = start
            while it.valid():
                last = it.key()
                yield last, it.value()
                it.next()
            error = _iter_error(it)
            del it
            if error is None:
                return
            self.errors.append(error)
            start = self._next_readable(last)
            if start is None:
                return

    def _as_int(self, key: bytes | None) -> int:
        return -1 if key is None else int.from_bytes(key[: self.KEY_BYTES].ljust(self.KEY_BYTES, b"\0"), "big")

    def _readable(self, x: int) -> bool:
        it = self._db.iter()
        it.seek(x.to_bytes(self.KEY_BYTES, "big"))
        ok = it.valid() or _iter_error(it) is None
        del it
        return ok

    def _next_readable(self, after: bytes | None) -> bytes | None:
        """The smallest probe key past the damage that follows `after` (None: past the end)."""
        bad = self._as_int(after)
        top = 1 << (8 * self.KEY_BYTES)
        step = 1
        while True:  # gallop: small steps first, so a readable block right after is not jumped over
            good = bad + step
            if good >= top:
                return None
            if self._readable(good):
                break
            bad, step = good, step * 2
        while good - bad > 1:
            mid = (bad + good) // 2
            if self._readable(mid):
                good = mid
            else:
                bad = mid
        return good.to_bytes(self.KEY_BYTES, "big")


class Wal:
    """A durable, ordered log of byte records. Thread-safe.

    Counters: ``corrupt_records`` (records failing their checksum), ``quarantined_records``
    (records moved to side files), ``corruption_events`` (damaged RocksDB files repaired),
    ``write_errors`` (failed writes: full disk, I/O errors).
    """

    def __init__(self, path: Path | str, quarantine_dir: Path | str | None = None):
        self.path = Path(path)
        self.quarantine_dir = Path(quarantine_dir) if quarantine_dir else self.path.parent / "quarantine"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._sync = WriteOptions()
        self._sync.sync = True
        self._nosync = WriteOptions()
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
        self._open_at_start()

    # -- open -----------------------------------------------------------------------------
    def _open_at_start(self) -> None:
        try:
            self._open_and_load(_open_mode)
        except WalError as exc:
            if "in use by another process" in str(exc) or not self._readable_anyway(exc):
                raise
            log.error("WAL %s cannot be written (%s); serving reads only until it can", self.path, exc)
            self._broken = str(exc)
            self.write_errors += 1

    def _readable_anyway(self, exc: WalError) -> bool:
        """After a failed read-write open (full disk, read-only filesystem): open read-only."""
        if not self.path.is_dir():
            return False
        try:
            self._db = self._open(_salvage_mode(), read_only=True)
            self._load_index()
        except (WalError, _Corrupt) as ro_exc:
            log.error("WAL %s: cannot open read-only either: %s", self.path, ro_exc)
            self._close_db()
            return False
        return True

    def _open(self, mode: DBRecoveryMode, *, read_only: bool = False, path: Path | None = None,
              paranoid: bool = True) -> Rdict:
        path = path or self.path
        try:
            if read_only:
                return Rdict(str(path), _options(mode, create=False, paranoid=paranoid),
                             access_type=AccessType.read_only(False))
            return Rdict(str(path), _options(mode, paranoid=paranoid))
        except Exception as exc:  # rocksdict raises plain Exception
            text = str(exc)
            if "lock" in text.lower() and not read_only:
                raise WalError(f"WAL at {path} is in use by another process "
                               "(is another ben component running on the same data_dir?)") from exc
            if _is_corruption(exc):
                raise _Corrupt(text) from exc
            if _is_disk_full(exc):
                raise _NoRoom(f"cannot open WAL at {path}: disk full: {text}") from exc
            raise WalError(f"cannot open WAL at {path}: {text}") from exc

    def _open_and_load(self, mode: Callable[[], DBRecoveryMode]) -> None:
        """(Re)open the database at self.path and rebuild the index; rebuild a damaged database once."""
        for attempt in (1, 2):
            try:
                self._db = self._open_past_torn_tail(mode)
                self._apply_undo()
                self._load_index()
                return
            except BaseException as exc:
                self._close_db()
                if not isinstance(exc, _Corrupt):
                    raise
                if attempt == 2:
                    raise WalError(f"WAL {self.path} is still damaged after rebuilding it: {exc}") from None
                self._rebuild_damaged(str(exc))

    def _open_past_torn_tail(self, mode: Callable[[], DBRecoveryMode]) -> Rdict:
        """Open; if RocksDB's log is damaged only at its end (a torn write), save the log and drop that tail.

        Other damage raises _Corrupt (the caller rebuilds the database).
        """
        try:
            return self._open(mode())
        except _Corrupt as exc:
            if mode is _resume_mode:  # that mode drops a torn tail itself: this is other damage
                raise
            reason = str(exc)
        damaged = self._damaged_files(reason, self.path)  # before the open below replaces the log
        saved = self._save_logs()
        try:
            db = self._open(_resume_mode())  # tolerates a damaged tail only
        except _Corrupt:
            if saved is not None:
                shutil.rmtree(saved, ignore_errors=True)  # the whole database goes to quarantine instead
            raise _Corrupt(reason) from None
        self.corruption_events += 1
        log.error("WAL %s: RocksDB's log ends in a torn write (%s) in %s; dropped that last batch (it was never "
                  "acknowledged: appends return after their fsync)%s", self.path, reason, damaged,
                  f"; the damaged log is saved in {saved}" if saved else "")
        return db

    def _save_logs(self) -> Path | None:
        """Copy RocksDB's log files to the quarantine dir, as they are (None if that fails)."""
        target = self._quarantine_target(self.quarantine_dir)
        try:
            target.mkdir(parents=True)
            for log_file in sorted(self.path.glob("*.log")):
                shutil.copy2(log_file, target / log_file.name)
        except OSError as exc:
            log.error("WAL %s: cannot save its damaged log to %s: %s", self.path, target, exc)
            shutil.rmtree(target, ignore_errors=True)
            return None
        return target

    def _quarantine_target(self, parent: Path) -> Path:
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        target = parent / f"{self.path.name}.damaged-{stamp}"
        n = 1
        while target.exists():
            n += 1
            target = parent / f"{self.path.name}.damaged-{stamp}-{n}"
        return target

    def _load_index(self) -> None:
        """Read every record once (checksums verified) and rebuild the in-memory index."""
        db = self._db
        last = int.from_bytes(_get(db, _LAST_SEQ) or b"\0", "big")
        index: collections.deque[tuple[int, int, int]] = collections.deque()
        nbytes = 0
        bulk = ReadOptions()
        bulk.fill_cache(False)  # a one-off full scan: keep the block cache for the reads that follow
        it = db.iter(bulk)
        try:
            it.seek(_REC)
            while it.valid():
                key = it.key()
                if not key.startswith(_REC):
                    break
                value = it.value()
                seq = _SEQ.unpack(key[1:])[0]
                appended = _HEADER.unpack_from(value)[1] if len(value) >= _HEADER.size else 0
                index.append((seq, len(value), appended))
                nbytes += len(value)
                last = max(last, seq)
                it.next()
            error = _iter_error(it)
        finally:
            del it  # before raising: a live iterator keeps the database open
        self._raise_read_error(error)
        with self._index_lock:
            self._index, self._bytes = index, nbytes
        self._last_seq = max(self._last_seq, last)
        self._generation += 1

    def _raise_read_error(self, error: str | None) -> None:
        if error is None:
            return
        if _is_corruption(error):
            raise _Corrupt(error)
        raise WalError(f"WAL read failed at {self.path}: {error}")

    def _close_db(self) -> None:
        db, self._db = self._db, None
        if db is None:
            return
        try:
            db.close()
        except Exception as exc:  # a database that failed a write cannot flush on close: its log has it all
            log.debug("WAL %s: close: %s", self.path, exc)

    def _handle(self) -> Rdict:
        if self._db is None:
            raise WalError(f"WAL {self.path} is not open" + (f" ({self._broken})" if self._broken else ""))
        return self._db

    # -- damaged RocksDB files ------------------------------------------------------------------
    def _rebuild_damaged(self, reason: str) -> None:
        """Move the damaged database aside (untouched) and rebuild self.path from what is readable.

        The database must be closed. On failure the damaged database is put back and WalError raised.
        """
        damaged = self._move_aside()
        try:
            kept, missing, errors = self._salvage(damaged)
        except Exception as exc:
            shutil.rmtree(self.path, ignore_errors=True)
            os.rename(damaged, self.path)  # put back: nothing is lost or renumbered
            full = " (disk full)" if _is_disk_full(exc) or isinstance(exc, _NoRoom) else ""
            raise WalError(f"WAL {self.path} is damaged ({reason}) and could not be rebuilt{full}: {exc}; "
                           "rebuilding needs free space of about the size of its data") from exc
        self.corruption_events += 1
        gaps = ", ".join(f"{a}..{b}" for a, b in missing[:20]) or "none"
        log.error("WAL %s: RocksDB reports damage (%s) in %s; moved the damaged database to %s and rebuilt the "
                  "WAL from what was readable: %d records kept, seqs missing between them: %s%s",
                  self.path, reason, self._damaged_files(reason, damaged), damaged, kept, gaps,
                  f"; unreadable blocks skipped: {errors[:5]}" if errors else "")

    def _move_aside(self) -> Path:
        error: OSError | None = None
        for parent in (self.quarantine_dir, self.path.parent):
            target = self._quarantine_target(parent)
            try:
                parent.mkdir(parents=True, exist_ok=True)
                os.rename(self.path, target)
                return target
            except OSError as exc:  # e.g. the quarantine dir is on another filesystem
                error = exc
        raise WalError(f"WAL {self.path} is damaged and cannot be moved aside: {error}")

    @staticmethod
    def _damaged_files(reason: str, damaged: Path) -> str:
        named = re.findall(r"[\w./-]*?(\d+\.(?:sst|log|blob)|MANIFEST-\d+|CURRENT)\b", reason)
        if named:
            return ", ".join(str(damaged / name) for name in dict.fromkeys(named))
        logs = sorted(str(p) for p in damaged.glob("*.log"))
        return "one of " + ", ".join(logs) if logs else str(damaged)

    def _salvage(self, damaged: Path) -> tuple[int, list[tuple[int, int]], list[str]]:
        """Copy every readable entry of the damaged database into a new one at self.path.

        Returns (records kept, seq ranges missing between kept records, unreadable spots).
        """
        try:
            src = self._open(_salvage_mode(), read_only=True, path=damaged, paranoid=False)
        except (WalError, _Corrupt) as exc:  # e.g. a damaged MANIFEST: let RocksDB repair a copy
            log.warning("WAL %s: cannot read the damaged database as it is (%s); repairing a copy", self.path, exc)
            return self._salvage_repaired_copy(damaged)
        try:
            return self._copy_readable(src)
        finally:
            src.close()

    def _salvage_repaired_copy(self, damaged: Path) -> tuple[int, list[tuple[int, int]], list[str]]:
        work = self.path.with_name(f".{self.path.name}.repair")
        shutil.rmtree(work, ignore_errors=True)
        try:
            shutil.copytree(damaged, work)
            Rdict.repair(str(work), _options(_salvage_mode(), paranoid=False))
            src = self._open(_salvage_mode(), read_only=True, path=work, paranoid=False)
            try:
                return self._copy_readable(src)
            finally:
                src.close()
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def _copy_readable(self, src: Rdict) -> tuple[int, list[tuple[int, int]], list[str]]:
        dst = self._open(_open_mode())
        try:
            scan = _ReadableEntries(src)
            wb, size, kept, last_meta = WriteBatch(raw_mode=True), 0, [], None
            for key, value in scan:
                wb.put(key, value)
                size += len(key) + len(value)
                if key.startswith(_REC):
                    kept.append(_SEQ.unpack(key[1:])[0])
                elif key == _LAST_SEQ:
                    last_meta = value
                if size >= _SALVAGE_BATCH_BYTES:
                    dst.write(wb, self._nosync)
                    wb, size = WriteBatch(raw_mode=True), 0
            if last_meta is None:  # never hand out a seq again: RocksDB's sequence is above ours
                last = max(kept[-1] if kept else 0, src.latest_sequence_number())
                wb.put(_LAST_SEQ, last.to_bytes(8, "big"))
            dst.write(wb, self._sync)
        except Exception as exc:
            raise WalError(f"rebuilding WAL {self.path} failed: {exc}") from exc
        finally:
            try:
                dst.close()
            except Exception as exc:  # only after a failed write: that error is the one raised
                log.debug("WAL %s: closing the rebuilt database: %s", self.path, exc)
        missing = [(a + 1, b - 1) for a, b in zip(kept, kept[1:]) if b - a > 1]
        return len(kept), missing, scan.errors

    def _recover_at_runtime(self, reason: str, generation: int) -> None:
        """A read hit corruption: rebuild the database (unless another thread just did)."""
        with self._lock:
            if generation != self._generation:
                return
            if time.monotonic() < self._next_attempt:
                raise WalError(f"WAL {self.path} is damaged ({reason}); not rebuilt yet")
            self._next_attempt = time.monotonic() + RESUME_INTERVAL_S
            with self._gate.replace():
                self._close_db()
                before = self.depth
                try:
                    self._rebuild_damaged(reason)
                    self._open_and_load(_open_mode)
                except WalError:
                    self._fall_back_to_reads(f"WAL {self.path} is damaged and was not rebuilt")
                    raise
            log.error("WAL %s: %d of %d records survived the damage", self.path, self.depth, before)

    def _fall_back_to_reads(self, why: str) -> None:
        """Serve what is readable, refuse writes (called with the database closed)."""
        self._broken = self._broken or why
        try:
            self._db = self._open(_salvage_mode(), read_only=True, paranoid=False)
        except (WalError, _Corrupt) as exc:
            log.error("WAL %s: cannot open read-only either: %s", self.path, exc)
        self._generation += 1

    # -- write ----------------------------------------------------------------------------
    def append(self, payloads: list[bytes], meta: dict[str, bytes] | None = None) -> tuple[int, int]:
        """Append records (and metadata) durably in one fsync'd batch; return (first, last) seq.

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
            for name, value in (meta or {}).items():
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
        """Write one batch (the caller holds self._lock); WalError if it is not written."""
        self._ensure_writable()
        try:
            with self._gate.use():
                self._handle().write(wb, self._sync if sync else self._nosync)
        except WalError:
            raise
        except Exception as exc:  # rocksdict raises plain Exception
            raise self._write_failed(exc, what, undo) from exc

    def _write_failed(self, exc: Exception, what: str, undo: list[bytes]) -> WalError:
        """RocksDB is read-only from now on: remember how to undo this batch, refuse writes until reopened."""
        with self._gate.use():
            db = self._handle()
            for key in undo:  # a failed batch never reached the memtable: these are the old values
                if key not in self._undo:
                    try:
                        self._undo[key] = db.get(key)
                    except Exception:  # unknown: a record did not exist before; a metadata entry stays as is
                        if key.startswith(_REC):
                            self._undo[key] = None
        self.write_errors += 1
        first = self._broken is None
        self._next_attempt = time.monotonic() + RESUME_INTERVAL_S
        if _is_disk_full(exc):
            self._broken = f"disk full (no space left on device under {self.path})"
            message = (f"WAL {self.path}: {what} failed, disk full (no space left on device): nothing of it was "
                       f"written; writes are refused until space is freed ({exc})")
            error: WalError = _NoRoom(message)
        else:
            self._broken = f"write failed: {exc}"
            message = (f"WAL {self.path}: {what} failed: nothing of it was written; writes are refused until the "
                       f"database can be reopened ({exc})")
            error = WalError(message)
        if first:
            log.error("%s", message)
        return error

    def _ensure_writable(self) -> None:
        """Refuse while a failed write is not cleared; reopen the database when there is room again."""
        if self._broken is None:
            return
        need = self._room_to_resume()
        free = _free_bytes(self.path)
        if time.monotonic() < self._next_attempt or free < need:
            cls = _NoRoom if _is_disk_full(self._broken) else WalError
            raise cls(f"WAL {self.path}: {self._broken}; writes are refused until it is cleared "
                      f"({free} bytes free, {need} needed to reopen)")
        self._resume()

    def _room_to_resume(self) -> int:
        try:
            logs = sum(p.stat().st_size for p in self.path.glob("*.log"))
        except OSError:
            logs = 0
        return logs + RESUME_SLACK_BYTES

    def _resume(self) -> None:
        """Reopen the database after a failed write (the caller holds self._lock)."""
        self._next_attempt = time.monotonic() + RESUME_INTERVAL_S
        why = self._broken
        with self._gate.replace():
            self._close_db()
            try:
                self._open_and_load(_resume_mode)
            except WalError as exc:
                self._fall_back_to_reads(why or str(exc))
                cls = _NoRoom if isinstance(exc, _NoRoom) or _is_disk_full(exc) else WalError
                raise cls(f"WAL {self.path}: {why}; reopening failed, writes stay refused: {exc}") from exc
        self._broken = None
        log.warning("WAL %s is writable again (after: %s); %d records in it, last seq %d",
                    self.path, why, self.depth, self._last_seq)

    def _apply_undo(self) -> None:
        """Undo a batch reported as failed, in case it reached the disk after all (the caller's view wins)."""
        if not self._undo:
            return
        wb = WriteBatch(raw_mode=True)
        for key, old in self._undo.items():
            if old is None:
                wb.delete(key)
            else:
                wb.put(key, old)
        try:
            self._db.write(wb, self._sync)
        except Exception as exc:
            if _is_corruption(exc):
                raise _Corrupt(str(exc)) from exc
            cls = _NoRoom if _is_disk_full(exc) else WalError
            raise cls(f"WAL {self.path}: undoing a failed write failed: {exc}") from exc
        self._undo.clear()

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
            side.write_bytes(value)
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
        """
        with self._lock:
            with self._index_lock:
                if not self._index or self._index[0][0] > upto_seq:
                    return
            if self._broken is not None:
                return
            wb = WriteBatch(raw_mode=True)
            wb.delete_range(_key(0), _key(upto_seq + 1))
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
        """False while writes are refused after a failed write (until the database is reopened)."""
        return self._broken is None

    def oldest_age_s(self) -> float:
        with self._index_lock:
            if not self._index:
                return 0.0
            return max(0.0, (time.time_ns() - self._index[0][2]) / 1e9)

    def close(self) -> None:
        with self._lock, self._gate.replace():
            db, self._db = self._db, None
            if db is None:
                return
            try:
                db.close()  # flushes the memtable to a table file
            except Exception as exc:
                if self._broken is None and not _is_disk_full(exc):
                    raise WalError(f"WAL close failed at {self.path}: {exc}") from exc
                # Closed all the same; every append is in RocksDB's fsync'd log, replayed at the next open.
                log.warning("WAL %s closed without flushing (%s); what was appended is in its log", self.path, exc)
