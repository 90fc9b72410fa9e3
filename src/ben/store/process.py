"""chDB in a process of its own: the spine's store, without chDB holding the spine's interpreter.

chDB runs every query and INSERT with the GIL held (measured: a 3,000-row INSERT stops every
other Python thread of the process for 10-16 ms; a scan of 20 M rows for 30-60 ms). In the spine
that froze the event loop that receives alerts, the alert commit task and the alert store
writer alike, for every routine INSERT. So the spine runs its :class:`~ben.store.chdb.ChdbStore`
in a child process (``python -m ben.store.worker``) and talks to it over a socket pair:
each call is one pickled request ``(method, args, n_tables)``, followed by each Arrow table
argument as an Arrow IPC stream message of its own (a third of pickle's cost to encode, nothing to
decode: the child reads the table in place), and one pickled reply, in order. While a call
is in the child the spine's threads wait on a socket, with the GIL free.

Lifecycle and faults (the caller sees ``StorageError`` and retries; its WAL keeps the data):

- ``start`` spawns the child and waits for it to open the data directory (``ready``). A
  directory still held by a child of a spine that was killed a moment ago is retried for
  ``open_wait_s``.
- The child exits at once when its socket closes (the spine exited or was killed), without
  closing chDB: what it had inserted is on disk or recovered from the spine's WAL, exactly as
  after a kill -9 of a spine that ran chDB itself.
- A child that died (crash, OOM) makes the call in flight fail with ``StorageError``; the next
  call starts a new child.
- ``close`` asks the child to close chDB and waits for it to exit (then kills it).

``sync`` (syncfs) runs in the calling process: it needs no chDB, and must not wait behind an
INSERT in the child.
"""

from __future__ import annotations

import logging
import pickle
import socket
import subprocess
import sys
import threading
from multiprocessing.connection import Connection
from pathlib import Path

import pyarrow as pa

from ben.core.errors import BenError, StorageError
from ben.store import schema
from ben.store.chdb import sync_filesystem

log = logging.getLogger(__name__)

READY_TIMEOUT_S = 120.0  # a large store may take a while to load its parts
CLOSE_TIMEOUT_S = 30.0
OPEN_WAIT_S = 10.0       # a directory still held by a dying child: keep trying this long

#: The methods a child answers (the Store protocol and SqlStore's helpers).
METHODS = frozenset({
    "insert_events", "insert_rows", "insert_values", "max_spine_seq", "count_rows", "count_by_spine_seq",
    "delete_spine_seqs", "enforce_retention", "query_json", "query_arrow", "execute", "rows",
    "schema_version", "capabilities",
})


class TableRef:
    """Stands in a call's arguments for the Arrow table sent after it as IPC bytes (its index)."""

    __slots__ = ("index",)

    def __init__(self, index: int):
        self.index = index


def ipc_bytes(table: pa.Table) -> pa.Buffer:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


class ChdbProcessStore:
    """A :class:`~ben.store.chdb.ChdbStore` run by a child process; the same methods, called over a socket."""

    def __init__(self, path: Path | str, retention_days: int = 0, *, open_wait_s: float = OPEN_WAIT_S,
                 ready_timeout_s: float = READY_TIMEOUT_S):
        self.path = Path(path)
        self.retention_days = retention_days
        self._open_wait_s = open_wait_s
        self._ready_timeout_s = ready_timeout_s
        self._lock = threading.Lock()  # one call at a time, in order
        self._proc: subprocess.Popen | None = None
        self._conn: Connection | None = None
        self.capabilities = schema.PORTABLE
        self.starts = 0
        with self._lock:
            self._start()
        self.capabilities = self._call("capabilities")

    # -- lifecycle ------------------------------------------------------------------------------
    def _start(self) -> None:
        """Spawn the child and wait until it has opened the store (the caller holds the lock)."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "ben.store.worker", str(theirs.fileno()), str(self.path),
                 str(self.retention_days), str(self._open_wait_s)],
                pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, close_fds=True)
        except OSError as exc:
            ours.close()
            raise StorageError(f"cannot start the store process for {self.path}: {exc}") from exc
        finally:
            theirs.close()
        self._conn = Connection(ours.detach())
        self.starts += 1
        try:
            if not self._conn.poll(self._ready_timeout_s):
                raise StorageError(f"the store process for {self.path} did not open it within "
                                   f"{self._ready_timeout_s:.0f}s")
            status, value = self._conn.recv()
        except (EOFError, OSError) as exc:
            self._reap()
            raise StorageError(f"the store process for {self.path} exited while opening it "
                               f"(exit code {self._exit_code()})") from exc
        except StorageError:
            self._reap()
            raise
        if status != "ready":
            self._reap()
            raise value if isinstance(value, BenError) else StorageError(str(value))

    def _exit_code(self):
        if self._proc is None:
            return None
        try:
            return self._proc.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            return None

    def _reap(self) -> None:
        """Forget the child: close the socket (it exits on EOF), kill it if it lingers."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._proc is not None:
            try:
                self._proc.wait(timeout=5.0)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None

    def close(self) -> None:
        with self._lock:
            if self._conn is None:
                return
            try:
                self._conn.send(("close", (), 0))
                if self._conn.poll(CLOSE_TIMEOUT_S):
                    self._conn.recv()
            except (EOFError, OSError):
                pass
            if self._proc is not None:
                try:
                    self._proc.wait(timeout=CLOSE_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    log.warning("store process %d did not exit after close; killing it", self._proc.pid)
            self._reap()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    # -- calls ----------------------------------------------------------------------------------
    def _call(self, method: str, *args):
        with self._lock:
            if self._conn is None:
                self._start()  # the previous child died: a new one
            wire, tables = [], []
            for arg in args:
                if isinstance(arg, pa.Table):
                    wire.append(TableRef(len(tables)))
                    tables.append(ipc_bytes(arg))
                else:
                    wire.append(arg)
            try:
                self._conn.send((method, tuple(wire), len(tables)))
                for data in tables:
                    self._conn.send_bytes(data)
                status, value = self._conn.recv()
            except (EOFError, OSError, pickle.PickleError) as exc:
                code = self._exit_code() if not isinstance(exc, pickle.PickleError) else None
                self._reap()
                raise StorageError(f"the store process for {self.path} failed during {method} "
                                   f"({type(exc).__name__}, exit code {code}); a new one starts at the next call"
                                   ) from exc
        if status == "ok":
            return value
        raise value

    def insert_events(self, table: pa.Table) -> None:
        self._call("insert_events", table)

    def insert_rows(self, target: str, table: pa.Table) -> None:
        self._call("insert_rows", target, table)

    def insert_values(self, target: str, columns: list[str], rows: list[tuple]) -> None:
        self._call("insert_values", target, columns, rows)

    def max_spine_seq(self, lane: int) -> int:
        return self._call("max_spine_seq", lane)

    def count_rows(self) -> int:
        return self._call("count_rows")

    def count_by_spine_seq(self, lane: int, low: int, high: int) -> dict[int, int]:
        return self._call("count_by_spine_seq", lane, low, high)

    def delete_spine_seqs(self, lane: int, seqs: list[int]) -> None:
        self._call("delete_spine_seqs", lane, seqs)

    def enforce_retention(self) -> list[str]:
        """Drop expired day partitions, by this object's ``retention_days`` (which may have changed)."""
        return self._call("enforce_retention", self.retention_days)

    def query_json(self, sql: str) -> bytes:
        return self._call("query_json", sql)

    def query_arrow(self, sql: str) -> pa.Table:
        return self._call("query_arrow", sql)

    def execute(self, sql: str) -> None:
        self._call("execute", sql)

    def rows(self, sql: str) -> list[tuple]:
        return self._call("rows", sql)

    def schema_version(self) -> int:
        return self._call("schema_version")

    def sync(self) -> None:
        """Make every INSERT that returned so far durable (syncfs, here: the child need not help)."""
        sync_filesystem(self.path)
