"""RocksDB plumbing: options and recovery modes, error classification, the reader/writer gate."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from rocksdict import DBRecoveryMode, Options, Rdict

from ben.core.errors import WalError
from ben.core.figures import RecentSamples


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


#: Durations of the latest syncs kept per WAL for its figures (the window may hold fewer).
SYNCS_KEPT = 20_000


class LogSync:
    """Makes what RocksDB wrote to its log files durable: fdatasync, with the interpreter free.

    rocksdict holds the GIL through a write with ``sync=True``, fsync included (measured: another
    thread stalled 28-43 ms while 4 MB batches were synced; an alert path in the same process
    waits that long for every routine group commit). So the Wal writes without ``sync`` (RocksDB
    still hands the batch to the kernel before ``write`` returns: ``manual_wal_flush`` is off)
    and then calls :meth:`sync`, which fdatasyncs every log file in the database directory with
    ``os.fdatasync`` (it releases the GIL), and fsyncs the directory when a log file is new.

    Every ``*.log`` file present is synced, not only the newest: a memtable switch may have moved
    RocksDB to a new log between the write and the sync. A log file already deleted was flushed
    to a table file first, which RocksDB syncs itself.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self._fds: dict[tuple[str, int], int] = {}  # (name, inode) -> an open descriptor
        self.syncs = 0
        # Seconds each of the latest syncs took: how long the disk made a durable write wait
        # (``Wal.sync_quantiles``).
        self.recent = RecentSamples(SYNCS_KEPT)

    def sync(self) -> None:
        """fdatasync the log files (OSError if the kernel reports a failure)."""
        started = time.monotonic()
        try:
            self._sync()
        finally:
            ended = time.monotonic()
            self.syncs += 1
            self.recent.extend((ended - started,), at=ended)

    def _sync(self) -> None:
        present = {(e.name, e.inode()) for e in os.scandir(self.path) if e.name.endswith(".log")}
        for key in [k for k in self._fds if k not in present]:
            os.close(self._fds.pop(key))
        new = False
        for key in sorted(present - self._fds.keys()):
            try:
                self._fds[key] = os.open(self.path / key[0], os.O_RDONLY | os.O_CLOEXEC)
            except FileNotFoundError:  # deleted since the scan: flushed to a synced table file
                continue
            new = True
        for fd in list(self._fds.values()):
            os.fdatasync(fd)
        if new:  # a new log's directory entry must be durable too
            dirfd = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            try:
                os.fsync(dirfd)
            finally:
                os.close(dirfd)

    def close(self) -> None:
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()
