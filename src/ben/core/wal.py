"""Write-ahead log on RocksDB (rocksdict): ordered, checksummed, fsync'd records.

Layout inside one RocksDB directory::

    b"r" + seq (8 bytes big-endian)  ->  crc32 (4 B) | appended_at_ns (8 B) | payload
    b"m" + name                      ->  metadata written atomically with appends

``append`` writes a whole group of records (and any metadata) in one WriteBatch with
``sync=True``: it returns only when the group is on disk, so callers acknowledge after it
(group commit: callers gather everything that arrived while the previous commit ran).
Records are deleted only by ``truncate(upto)``, which the consumer calls once the next hop
made them durable. A record whose checksum does not match is moved to a side file in
``quarantine_dir``, counted, and skipped: it never stops the process.
"""

from __future__ import annotations

import collections
import logging
import struct
import threading
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

from rocksdict import Options, Rdict, WriteBatch, WriteOptions

from ben.core.errors import WalError

log = logging.getLogger(__name__)

_REC = b"r"
_META = b"m"
_HEADER = struct.Struct(">IQ")  # crc32, appended_at_ns
_SEQ = struct.Struct(">Q")


def _key(seq: int) -> bytes:
    return _REC + _SEQ.pack(seq)


@dataclass(frozen=True, slots=True)
class Record:
    seq: int
    appended_at_ns: int
    payload: bytes


class Wal:
    """A durable, ordered log of byte records. Thread-safe."""

    def __init__(self, path: Path | str, quarantine_dir: Path | str | None = None):
        self.path = Path(path)
        self.quarantine_dir = Path(quarantine_dir) if quarantine_dir else self.path.parent / "quarantine"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        opts = Options(raw_mode=True)
        opts.create_if_missing(True)
        try:
            self._db = Rdict(str(self.path), opts)
        except Exception as exc:  # rocksdict raises plain Exception
            if "lock" in str(exc).lower():
                raise WalError(f"WAL at {self.path} is in use by another process "
                               "(is another ben component running on the same data_dir?)") from exc
            raise WalError(f"cannot open WAL at {self.path}: {exc}") from exc
        sync = WriteOptions()
        sync.sync = True
        self._sync = sync
        self._lock = threading.Lock()
        # In-memory index of live records, oldest first: (seq, nbytes, appended_at_ns).
        self._index: collections.deque[tuple[int, int, int]] = collections.deque()
        self._bytes = 0
        self.corrupt_records = 0
        self.quarantined_records = 0
        self._last_seq = self._load()

    # -- open -----------------------------------------------------------------------------
    def _load(self) -> int:
        last = int.from_bytes(self.get_meta("last_seq") or b"\0", "big")
        it = self._db.iter()
        it.seek(_REC)
        while it.valid():
            key = it.key()
            if not key.startswith(_REC):
                break
            value = it.value()
            seq = _SEQ.unpack(key[1:])[0]
            appended = _HEADER.unpack_from(value)[1] if len(value) >= _HEADER.size else 0
            self._index.append((seq, len(value), appended))
            self._bytes += len(value)
            last = max(last, seq)
            it.next()
        del it
        return last

    # -- write ----------------------------------------------------------------------------
    def append(self, payloads: list[bytes], meta: dict[str, bytes] | None = None) -> tuple[int, int]:
        """Append records (and metadata) durably in one fsync'd batch; return (first, last) seq.

        With no payloads, only the metadata is written (still fsync'd).
        """
        now = time.time_ns()
        with self._lock:
            first = self._last_seq + 1
            wb = WriteBatch(raw_mode=True)
            entries = []
            seq = self._last_seq
            for payload in payloads:
                seq += 1
                body = struct.pack(">Q", now) + payload
                value = struct.pack(">I", zlib.crc32(body)) + body
                wb.put(_key(seq), value)
                entries.append((seq, len(value), now))
            for name, value in (meta or {}).items():
                wb.put(_META + name.encode(), value)
            if payloads:
                wb.put(_META + b"last_seq", seq.to_bytes(8, "big"))
            try:
                self._db.write(wb, self._sync)
            except Exception as exc:
                raise WalError(f"WAL append failed at {self.path}: {exc}") from exc
            self._last_seq = seq
            self._index.extend(entries)
            self._bytes += sum(e[1] for e in entries)
        return first, seq

    def advance(self, seq: int) -> None:
        """Make the next record's seq at least seq + 1 (the log was replaced under a consumer)."""
        with self._lock:
            if seq > self._last_seq:
                self._db.put(_META + b"last_seq", seq.to_bytes(8, "big"), self._sync)
                self._last_seq = seq

    def put_meta(self, name: str, value: bytes) -> None:
        self.append([], {name: value})

    def get_meta(self, name: str) -> bytes | None:
        return self._db.get(_META + name.encode())

    def iter_meta(self, prefix: str) -> list[tuple[str, bytes]]:
        """Every metadata entry whose name starts with prefix, as (name, value)."""
        start = _META + prefix.encode()
        out = []
        it = self._db.iter()
        it.seek(start)
        while it.valid() and it.key().startswith(start):
            out.append((it.key()[1:].decode(), it.value()))
            it.next()
        del it
        return out

    # -- read -----------------------------------------------------------------------------
    def read(self, after_seq: int, max_records: int = 1024, max_bytes: int = 64 << 20) -> list[Record]:
        """Records with seq > after_seq, oldest first; corrupt ones are quarantined and skipped."""
        out: list[Record] = []
        size = 0
        it = self._db.iter()
        it.seek(_key(after_seq + 1))
        while it.valid() and len(out) < max_records and size < max_bytes:
            key = it.key()
            if not key.startswith(_REC):
                break
            seq = _SEQ.unpack(key[1:])[0]
            value = it.value()
            record = self._decode(seq, value)
            if record is not None:
                out.append(record)
                size += len(value)
            it.next()
        del it
        return out

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
        value = self._db.get(_key(seq))
        if value is not None:
            self._quarantine(seq, value, reason)

    def _quarantine(self, seq: int, value: bytes, reason: str) -> None:
        self.quarantine_dir.mkdir(parents=True, exist_ok=True)
        side = self.quarantine_dir / f"{self.path.name}-{seq:020d}.bin"
        side.write_bytes(value)
        self.quarantined_records += 1
        log.error("WAL %s: record %d %s; quarantined to %s", self.path, seq, reason, side)
        with self._lock:
            self._db.delete(_key(seq))
            self._drop_from_index(seq)

    def _drop_from_index(self, seq: int) -> None:
        for i, entry in enumerate(self._index):
            if entry[0] == seq:
                self._bytes -= entry[1]
                del self._index[i]
                return

    # -- delete ---------------------------------------------------------------------------
    def truncate(self, upto_seq: int) -> None:
        """Delete every record with seq <= upto_seq (the next hop has made them durable)."""
        with self._lock:
            if not self._index or self._index[0][0] > upto_seq:
                return
            wb = WriteBatch(raw_mode=True)
            wb.delete_range(_key(0), _key(upto_seq + 1))
            try:
                self._db.write(wb)  # not fsync'd: a lost delete only means a deduplicated resend
            except Exception as exc:
                raise WalError(f"WAL truncate failed at {self.path}: {exc}") from exc
            while self._index and self._index[0][0] <= upto_seq:
                self._bytes -= self._index.popleft()[1]

    # -- figures --------------------------------------------------------------------------
    @property
    def last_seq(self) -> int:
        return self._last_seq

    @property
    def first_seq(self) -> int | None:
        with self._lock:
            return self._index[0][0] if self._index else None

    @property
    def depth(self) -> int:
        return len(self._index)

    @property
    def nbytes(self) -> int:
        return self._bytes

    def oldest_age_s(self) -> float:
        with self._lock:
            if not self._index:
                return 0.0
            return max(0.0, (time.time_ns() - self._index[0][2]) / 1e9)

    def close(self) -> None:
        with self._lock:
            try:
                self._db.close()
            except Exception as exc:
                raise WalError(f"WAL close failed at {self.path}: {exc}") from exc
