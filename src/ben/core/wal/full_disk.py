"""Write errors (a full disk): refuse writes after a failed one, reopen the database once there is room.

``_FullDiskResume`` is a mixin of ``Wal``: it works on the Wal's own state (see ``Wal.__init__``).

Two thresholds make the refusal hysteretic (ADR 0031), so a WAL on a nearly full disk does not
flap between "disk full" and "writable again":

- ``min_free_bytes``: below this much free space, appends are refused *before* RocksDB fails
  (a statvfs per append). RocksDB never went read-only, so nothing is reopened: writes resume by
  themselves once ``resume_free_bytes`` are free. Deletes (truncate, quarantine) go on meanwhile:
  they are what frees the space.
- ``resume_free_bytes``: free space wanted before writes resume, after either kind of refusal;
  after a write RocksDB failed (someone else filled the disk), plus the size of RocksDB's log
  files (reopening flushes them to a table). A reopen that fails is tried again after a doubling
  interval (``RESUME_INTERVAL_S`` up to ``RESUME_INTERVAL_MAX_S``); while there is not enough
  room nothing is reopened at all, so memory stays what it was (each reopen of RocksDB cost
  memory that was not all given back: 220 -> 400 MiB of RSS over 14 reopens in 30 s).
"""

from __future__ import annotations

import logging
import time

from rocksdict import WriteBatch

from ben.core.errors import WalError
from ben.core.wal.layout import _REC
from ben.core.wal.rocks import _Corrupt, _free_bytes, _is_corruption, _is_disk_full, _NoRoom, _resume_mode

log = logging.getLogger(__package__)  # "ben.core.wal", as for every part of the WAL

#: Seconds between attempts to reopen a database after a failed write (doubling after each
#: failed reopen, up to RESUME_INTERVAL_MAX_S).
RESUME_INTERVAL_S = 0.5
RESUME_INTERVAL_MAX_S = 8.0
#: Free bytes wanted, beyond the size of RocksDB's log files, before reopening after a failed write
#: (reopening flushes the log to a table).
RESUME_SLACK_BYTES = 1 << 20


class _FullDiskResume:
    """Remember how to undo a failed batch, refuse writes, and resume without a restart."""

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

    def _ensure_writable(self, grows: bool = True) -> None:
        """Refuse while a failed write is not cleared; reopen the database when there is room again.
        ``grows``: the write adds data (an append), refused too while the disk is short of room."""
        if self._broken is None:
            if grows and self.min_free_bytes:
                self._check_room()
            return
        need = self._room_to_resume()
        free = _free_bytes(self.path)
        if time.monotonic() < self._next_attempt or free < need:
            cls = _NoRoom if _is_disk_full(self._broken) else WalError
            raise cls(f"WAL {self.path}: {self._broken}; writes are refused until it is cleared "
                      f"({free} bytes free, {need} needed to reopen)")
        self._resume()

    def _check_room(self) -> None:
        """Refuse an append below ``min_free_bytes`` free, until ``resume_free_bytes`` are free
        (RocksDB stays open and writable: nothing to reopen)."""
        free = _free_bytes(self.path)
        if self._short is None:
            if free >= self.min_free_bytes:
                return
            self._short = (f"disk full ({free} bytes free under {self.path}, below the {self.min_free_bytes} "
                           "kept free)")
            self.write_errors += 1
            log.error("WAL %s: %s; appends are refused until %d bytes are free", self.path, self._short,
                      self.resume_free_bytes)
        elif free >= self.resume_free_bytes:
            log.warning("WAL %s is writable again (%d bytes free; after: %s)", self.path, free, self._short)
            self._short = None
            self.resumes += 1
            return
        raise _NoRoom(f"WAL {self.path}: {self._short}; appends are refused until {self.resume_free_bytes} "
                      f"bytes are free ({free} now)")

    def _room_to_resume(self) -> int:
        try:
            logs = sum(p.stat().st_size for p in self.path.glob("*.log"))
        except OSError:
            logs = 0
        return logs + max(self.resume_free_bytes, RESUME_SLACK_BYTES)

    def _resume(self) -> None:
        """Reopen the database after a failed write (the caller holds self._lock)."""
        self._resume_interval_s = min(RESUME_INTERVAL_MAX_S, self._resume_interval_s * 2)
        self._next_attempt = time.monotonic() + self._resume_interval_s
        why = self._broken
        self.reopens += 1
        with self._gate.replace():
            self._close_db()
            try:
                self._open_and_load(_resume_mode)
            except WalError as exc:
                self._fall_back_to_reads(why or str(exc))
                cls = _NoRoom if isinstance(exc, _NoRoom) or _is_disk_full(exc) else WalError
                raise cls(f"WAL {self.path}: {why}; reopening failed, writes stay refused: {exc}") from exc
        self._broken = None
        self._resume_interval_s = RESUME_INTERVAL_S / 2
        self.resumes += 1
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
