"""One small RocksDB per component for the control plane (``<data_dir>/control/db``).

Key prefixes: ``a`` audit entries, ``i``/``s``/``h`` the sidecar's ledger of seen commands
(ids, per-issuer sequences), ``c`` the spine's commands, ``m`` metadata. Writes that must
survive a crash (``sync=True``) return only after the fsync.

Damage and a full disk (ADR 0046, 2026-12 amendment). The audit chain and the ledger are what
prove a command ran once; a database that silently lost part of them would renumber the chain
over entries it no longer sees and let a redelivered command run again. So:

* opening replays RocksDB's log in ``absolute_consistency`` mode and reads every key once
  (block checksums verified). A torn tail of the log (a write cut short: only the last batch,
  never acknowledged) is dropped, after its log files are copied to ``<db>.damaged-<UTC>/``,
  with one warning line. Any other damage (inside the log, a table file, the MANIFEST) refuses
  the start with one line naming the database and how to recover; nothing is dropped silently;
* a scan that stops on an error raises (before, it ended early as if the keys were not there);
* a failed write (no space left) puts RocksDB in read-only mode until it is reopened; the next
  write reopens it, once there is room, in the same process (no restart needed).
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from rocksdict import DBRecoveryMode, Options, Rdict, WriteBatch, WriteOptions

from ben.core.errors import WalError

log = logging.getLogger(__name__)


def _options(mode: DBRecoveryMode) -> Options:
    opts = Options(raw_mode=True)
    opts.create_if_missing(True)
    opts.set_paranoid_checks(True)
    opts.set_keep_log_file_num(2)
    opts.set_wal_recovery_mode(mode)
    return opts


#: Free bytes needed to reopen after a failed write (RocksDB writes a new log and options file).
REOPEN_FREE_BYTES = 1 << 20


def _free_bytes(path: Path) -> int:
    try:
        st = os.statvfs(path)
    except OSError:
        return 1 << 62
    return (st.f_bfree if os.geteuid() == 0 else st.f_bavail) * st.f_frsize


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def _is_corruption(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "corruption" in text or "checksum" in text or "size mismatch" in text


class ControlDb:
    """The control plane's own RocksDB (ledger, orders, audit), opened with paranoid checks."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self._sync = WriteOptions()
        self._sync.sync = True
        self.lock = threading.RLock()
        self._closed = False
        self._failed = ""  # the write error RocksDB holds since (reopened before the next write)
        self._db = self._open()
        self._check_all()

    # -- opening ----------------------------------------------------------------------------------------
    def _open(self) -> Rdict:
        try:
            return Rdict(str(self.path), _options(DBRecoveryMode.absolute_consistency()))
        except Exception as exc:  # rocksdict raises plain Exception
            first = exc
        if "lock" in str(first).lower() and not _is_corruption(first):
            from ben.core.dirlock import lock_holder

            holder = lock_holder(self.path / "LOCK")
            raise WalError(f"control database {self.path} is in use by another process "
                           f"({holder + '; ' if holder else ''}is the component running? then ask it "
                           "instead)") from first
        if not _is_corruption(first):
            raise WalError(f"cannot open control database {self.path}: {_one_line(first)}") from first
        # A torn tail (a write cut short) opens when an incomplete last record may be dropped; damage
        # anywhere else still refuses in that mode.
        saved = self._save_logs()
        try:
            db = Rdict(str(self.path), _options(DBRecoveryMode.tolerate_corrupted_tail_records()))
        except Exception:
            raise self._damaged(first, saved) from first
        log.warning("control database %s: its log ends in an incomplete write, dropped from there on (a crash "
                    "inside a write leaves only its own batch, never acknowledged; more means the file was cut: "
                    "`ben audit verify` then reports the chain shorter than its store copy); the files as found are "
                    "kept in %s", self.path, saved or "(could not be copied)")
        return db

    def _save_logs(self) -> Path | None:
        """Copy the database's files aside, as they are, for an operator to inspect (it is small)."""
        target = self.path.with_name(f"{self.path.name}.damaged-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}")
        try:
            target.mkdir(exist_ok=True)
            for item in self.path.iterdir():
                if item.is_file() and item.name != "LOCK":
                    shutil.copy2(item, target / item.name)
            return target
        except OSError as exc:
            log.error("control database %s: cannot copy its log files aside (%s)", self.path, exc)
            return None

    def _damaged(self, exc: BaseException, saved: Path | None = None) -> WalError:
        copy = f" (its files as found are copied to {saved})" if saved else ""
        return WalError(
            f"control database {self.path} is damaged: {_one_line(exc)[:300]}{copy}. Its audit log and command "
            f"ledger cannot be read whole, so the component does not start on it. To recover: move it aside "
            f"(mv {self.path} {self.path}.bad) and start again with an empty one (the spine's ben.audit table "
            "keeps the entries it mirrored); a sidecar's lost ledger no longer knows which commands ran, so "
            "check `ben command list` for commands delivered without a receipt before they are delivered again")

    def _check_all(self) -> None:
        """Read every key once: a damaged table block is found now, not by a later scan."""
        try:
            it = self._db.iter()
            it.seek_to_first()
            while it.valid():
                it.value()
                it.next()
            it.status()
        except Exception as exc:
            self._db.close()
            if _is_corruption(exc):
                raise self._damaged(exc, self._save_logs()) from exc
            raise WalError(f"cannot read control database {self.path}: {_one_line(exc)}") from exc

    def _reopen_after_failure(self) -> None:
        """RocksDB refuses every write after one failed (a full disk) until it is reopened: reopen it once
        there is room again (reopening writes a new log and options file itself)."""
        if self._db is not None:
            if _free_bytes(self.path) < REOPEN_FREE_BYTES:
                raise WalError(f"control database {self.path}: still cannot write after {self._failed} (less than "
                               f"{REOPEN_FREE_BYTES >> 20} MiB free; it writes again, without a restart, once there "
                               "is room)")
            try:
                self._db.close()
            except Exception:  # "Writer has previous error": expected here
                pass
            self._db = None
        try:
            self._db = Rdict(str(self.path), _options(DBRecoveryMode.tolerate_corrupted_tail_records()))
        except Exception as exc:
            raise WalError(f"control database {self.path}: still cannot write after {self._failed} "
                           f"(reopening: {_one_line(exc)})") from exc
        log.warning("control database %s: reopened after a failed write (%s); writing again", self.path,
                    self._failed)
        self._failed = ""

    def _live(self) -> Rdict:
        if self._db is None:
            with self.lock:
                self._reopen_after_failure()
        return self._db

    # -- use --------------------------------------------------------------------------------------------
    def get(self, key: bytes) -> bytes | None:
        try:
            return self._live().get(key)
        except WalError:
            raise
        except Exception as exc:
            raise WalError(f"control database {self.path}: read failed: {_one_line(exc)}") from exc

    def write(self, puts: dict[bytes, bytes], deletes: tuple[bytes, ...] = (), *, sync: bool = True) -> None:
        wb = WriteBatch(raw_mode=True)
        for key, value in puts.items():
            wb.put(key, value)
        for key in deletes:
            wb.delete(key)
        with self.lock:
            if self._failed:
                self._reopen_after_failure()
            try:
                self._db.write(wb, self._sync if sync else WriteOptions())
            except Exception as exc:
                self._failed = _one_line(exc)
                raise WalError(f"control database {self.path}: write failed: {self._failed}") from exc

    def scan(self, prefix: bytes, start: bytes | None = None) -> Iterator[tuple[bytes, bytes]]:
        """Keys with ``prefix`` in order, from ``start`` (a key with that prefix) if given; raises
        ``WalError`` if RocksDB stops on an error (never a silently shorter scan)."""
        it = self._live().iter()
        it.seek(start or prefix)
        while it.valid():
            key = it.key()
            if not key.startswith(prefix):
                return
            yield key, it.value()
            it.next()
        try:
            it.status()
        except Exception as exc:
            raise WalError(f"control database {self.path}: reading stopped on an error: {_one_line(exc)}") from exc

    def close(self) -> None:
        with self.lock:
            if not self._closed:
                self._closed = True
                try:
                    if self._db is not None:
                        self._db.close()
                except Exception as exc:  # after a failed write RocksDB reports it again here
                    log.warning("control database %s: closed after an earlier failed write (%s)", self.path,
                                _one_line(exc))
