"""Damaged RocksDB files: detect, save the damaged bytes to quarantine, rebuild from what is readable.

What is and is not recoverable is described in the package docstring (``ben.core.wal``).
``_DamageRepair`` is a mixin of ``Wal``: it works on the Wal's own state (see ``Wal.__init__``).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from rocksdict import DBRecoveryMode, Rdict, WriteBatch

from ben.core.errors import WalError
from ben.core.wal.full_disk import RESUME_INTERVAL_S
from ben.core.wal.layout import _LAST_SEQ, _REC, _SEQ
from ben.core.wal.rocks import (
    _Corrupt,
    _is_disk_full,
    _iter_error,
    _NoRoom,
    _open_mode,
    _options,
    _resume_mode,
    _salvage_mode,
)

log = logging.getLogger(__package__)  # "ben.core.wal", as for every part of the WAL

_SALVAGE_BATCH_BYTES = 4 << 20


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


_LOG_BLOCK = 32 << 10  # RocksDB's log is written in blocks of 32 KiB; a physical record never crosses one
_HEADER = 7            # checksum (4), length (2), type (1)
_RECYCLED = range(5, 9)  # the record types of a recycled log (recycle_log_file_num, which ben never sets)


def _recycled_header(path: Path) -> tuple[Path, int] | None:
    """The first record header of a recycled-log type in a RocksDB log of ``path`` (log, byte), else None.

    ben's logs never hold one; damage that makes one (random bytes appended to a log) and claims a length
    past its block made RocksDB 9.8's log reader loop forever, in every recovery mode: the component's start
    hung at full CPU without a word (found by the crash harness, ADR 0046 round 4). The scan reads the
    headers only, up to the first one that is not a plain record (RocksDB says what is wrong with those)."""
    for log_file in sorted(path.glob("*.log")):
        try:
            data = log_file.read_bytes()
        except OSError:
            continue
        pos = 0
        while pos + _HEADER <= len(data):
            left = _LOG_BLOCK - pos % _LOG_BLOCK
            if left < _HEADER:  # a block's trailer
                pos += left
                continue
            length, kind = int.from_bytes(data[pos + 4:pos + 6], "little"), data[pos + 6]
            if kind in _RECYCLED:
                return log_file, pos
            if kind == 0 and length == 0:  # zeros to the block's end
                pos += left
                continue
            if not 1 <= kind <= 4 or _HEADER + length > left:
                break
            pos += _HEADER + length
    return None


class _DamageRepair:
    """A torn log tail is dropped in place; any other damage rebuilds the database from what is readable."""

    def _open_past_torn_tail(self, mode: Callable[[], DBRecoveryMode]) -> Rdict:
        """Open; if RocksDB's log is damaged only at its end (a torn write), save the log and drop that tail.

        Other damage raises _Corrupt (the caller rebuilds the database).
        """
        looping = _recycled_header(self.path)
        if looping is None:
            try:
                return self._open(mode())
            except _Corrupt as exc:
                if mode is _resume_mode:  # that mode drops a torn tail itself: this is other damage
                    raise
                reason = str(exc)
            damaged = self._damaged_files(reason, self.path)  # before the open below replaces the log
            saved = self._save_logs()
        else:  # RocksDB would never return from its open (ADR 0046 round 4): the tail is cut here first
            log_file, offset = looping
            reason, damaged = f"a recycled-log record header at byte {offset} (ben's logs have none)", str(log_file)
            saved = self._save_logs()
            if saved is None or offset // _LOG_BLOCK != (log_file.stat().st_size - 1) // _LOG_BLOCK:
                raise WalError(f"WAL {self.path} is damaged ({reason}) before its last log block, or its log could "
                               f"not be saved; move the directory aside to start with an empty WAL")
            os.truncate(log_file, offset)
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
