"""Write errors (a full disk): refuse writes after a failed one, reopen the database once there is room.

``_FullDiskResume`` is a mixin of ``Wal``: it works on the Wal's own state (see ``Wal.__init__``).
"""

from __future__ import annotations

import logging
import time

from rocksdict import WriteBatch

from ben.core.errors import WalError
from ben.core.wal.layout import _REC
from ben.core.wal.rocks import _Corrupt, _free_bytes, _is_corruption, _is_disk_full, _NoRoom, _resume_mode

log = logging.getLogger(__package__)  # "ben.core.wal", as for every part of the WAL

#: Seconds between attempts to reopen a database after a failed write.
RESUME_INTERVAL_S = 0.5
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
