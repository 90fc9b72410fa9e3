"""One small RocksDB per component for the control plane (``<data_dir>/control/db``).

Key prefixes: ``a`` audit entries, ``i``/``s``/``h`` the sidecar's ledger of seen commands
(ids, per-issuer sequences), ``c`` the spine's commands, ``m`` metadata. Writes that must
survive a crash (``sync=True``) return only after the fsync.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

from rocksdict import Options, Rdict, WriteBatch, WriteOptions

from ben.core.errors import WalError


class ControlDb:
    """The control plane's own RocksDB (ledger, orders, audit), opened with paranoid checks."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        opts = Options(raw_mode=True)
        opts.create_if_missing(True)
        opts.set_paranoid_checks(True)
        opts.set_keep_log_file_num(2)
        try:
            self._db = Rdict(str(self.path), opts)
        except Exception as exc:  # rocksdict raises plain Exception
            text = str(exc)
            if "lock" in text.lower():
                raise WalError(f"control database {self.path} is in use by another process (is the component "
                               "running? then ask it instead)") from exc
            raise WalError(f"cannot open control database {self.path}: {text}") from exc
        self._sync = WriteOptions()
        self._sync.sync = True
        self.lock = threading.RLock()
        self._closed = False

    def get(self, key: bytes) -> bytes | None:
        return self._db.get(key)

    def write(self, puts: dict[bytes, bytes], deletes: tuple[bytes, ...] = (), *, sync: bool = True) -> None:
        wb = WriteBatch(raw_mode=True)
        for key, value in puts.items():
            wb.put(key, value)
        for key in deletes:
            wb.delete(key)
        try:
            self._db.write(wb, self._sync if sync else WriteOptions())
        except Exception as exc:
            raise WalError(f"control database {self.path}: write failed: {exc}") from exc

    def scan(self, prefix: bytes, start: bytes | None = None) -> Iterator[tuple[bytes, bytes]]:
        """Keys with ``prefix`` in order, from ``start`` (a key with that prefix) if given."""
        it = self._db.iter()
        it.seek(start or prefix)
        while it.valid():
            key = it.key()
            if not key.startswith(prefix):
                break
            yield key, it.value()
            it.next()

    def close(self) -> None:
        with self.lock:
            if not self._closed:
                self._closed = True
                self._db.close()
