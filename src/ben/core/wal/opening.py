"""Opening the database, loading the in-memory index from it, and closing it.

A mixin of ``Wal``: it works on the Wal's own state (see ``Wal.__init__``).
"""

from __future__ import annotations

import collections
import logging
from collections.abc import Callable
from pathlib import Path

from rocksdict import AccessType, DBRecoveryMode, Rdict, ReadOptions

from ben.core.errors import WalError
from ben.core.wal.layout import _HEADER, _LAST_SEQ, _REC, _SEQ
from ben.core.wal.rocks import (
    _Corrupt,
    _get,
    _is_corruption,
    _is_disk_full,
    _iter_error,
    _NoRoom,
    _open_mode,
    _options,
    _salvage_mode,
)

log = logging.getLogger(__package__)  # "ben.core.wal", as for every part of the WAL


class _Opening:
    """Open (read-write, or read-only when that fails), load the index, close."""

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
                from ben.core.dirlock import lock_holder

                holder = lock_holder(path / "LOCK")
                raise WalError(f"WAL at {path} is in use by another process "
                               f"({holder + '; ' if holder else ''}is another ben component running on the same "
                               "data_dir?)") from exc
            if _is_corruption(exc):
                raise _Corrupt(text) from exc
            if _is_disk_full(exc):
                raise _NoRoom(f"cannot open WAL at {path}: disk full: {text}") from exc
            if path.exists() and not path.is_dir():  # RocksDB's "File exists (os error 17)" said nothing more
                raise WalError(f"cannot open WAL at {path}: a file, not a directory (a WAL is a directory of its "
                               "own; move the file aside)") from exc
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
