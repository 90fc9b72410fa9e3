"""chDB in a process of its own: the spine's store, without chDB holding the spine's interpreter.

chDB held the GIL through statements when this was built (measured: a 3,000-row INSERT stopped
every other Python thread of the process for 10-16 ms; a scan of 20 M rows for 30-60 ms); chDB
4.4 still does for ``INSERT ... FROM Python(table)``, ben's path for large tables (ADR 0019,
revisited). In the spine that froze the event loop that receives alerts, the alert commit task
and the alert store writer alike. So the spine runs its :class:`~ben.store.chdb.ChdbStore`
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
- A child that died (crash, OOM) makes the call in flight fail with ``StoreUnavailableError``; the
  next call starts a new child (a new ``generation``).
- ``close`` asks the child to close chDB and waits for it to exit (then kills it).

Operator queries (``operator_query``) go over a third channel, ``query``, to the child's query
sandbox (ADR 0032): they never wait behind an INSERT, nor an INSERT behind them, and
``cancel_query`` reaches the child while one runs.

``sync`` (syncfs) runs in the calling process: it needs no chDB, and must not wait behind an
INSERT in the child.
"""

from __future__ import annotations

import logging
import pickle
import socket
import subprocess
import threading
from multiprocessing.connection import Connection
from pathlib import Path

import pyarrow as pa

from ben.core.errors import BenError, QueryError, StorageError, StoreUnavailableError
from ben.core.interpreter import python_argv
from ben.core.priority import BACKGROUND_NICE
from ben.store import schema
from ben.store.chdb import sync_filesystem
from ben.store.query import QueryLimits
from ben.store.rows import ipc_bytes

log = logging.getLogger(__name__)

READY_TIMEOUT_S = 120.0  # silence while opening: the child says "opening" every HEARTBEAT_S until ready
HEARTBEAT_S = 5.0
CLOSE_TIMEOUT_S = 30.0
OPEN_WAIT_S = 10.0       # a directory still held by a dying child: keep trying this long

#: The methods a child answers (the Store protocol and SqlStore's helpers).
METHODS = frozenset({
    "insert_events", "insert_event_json", "insert_rows", "insert_values", "max_spine_seq", "count_rows",
    "count_by_spine_seq", "delete_spine_seqs", "enforce_retention", "query_json", "query_arrow", "execute", "rows",
    "schema_version", "capabilities", "flush",
})


class TableRef:
    """Stands in a call's arguments for the Arrow table sent after it as IPC bytes (its index)."""

    __slots__ = ("index",)

    def __init__(self, index: int):
        self.index = index


class _Channel:
    """One socket to the child, used by one caller at a time, in order."""

    __slots__ = ("name", "lock", "conn", "gen")

    def __init__(self, name: str):
        self.name = name
        self.lock = threading.Lock()
        self.conn: Connection | None = None
        self.gen = 0  # the child this connection belongs to (ChdbProcessStore._gen)


#: The child's channels: ``main`` for everything, ``urgent`` for the alert lane's writes (a
#: connection of its own in the child, so that an alert's INSERT runs beside a routine one),
#: ``query`` for operator queries (the query sandbox's sessions, ADR 0032: a query never waits
#: behind an INSERT, nor an INSERT behind a query).
CHANNELS = ("main", "urgent", "query")


class ChdbProcessStore:
    """A :class:`~ben.store.chdb.ChdbStore` run by a child process; the same methods, called over a socket."""

    durable_after_s = 0.0  # what a sync flushed and synced is durable

    def __init__(self, path: Path | str, retention_days: int = 0, *, open_wait_s: float = OPEN_WAIT_S,
                 ready_timeout_s: float = READY_TIMEOUT_S, background_nice: int = BACKGROUND_NICE):
        """background_nice: the child's background threads (chDB's merges and the like) run at
        this nice value (ADR 0024); 0 leaves them alone."""
        self.path = Path(path)
        self.background_nice = background_nice
        self.retention_days = retention_days
        self._open_wait_s = open_wait_s
        self._ready_timeout_s = ready_timeout_s
        self._lock = threading.Lock()  # the child: start and reap
        self._proc: subprocess.Popen | None = None
        self._gen = 0  # bumped at every start
        self._fresh: dict[str, Connection] = {}  # a new child's connections, not yet taken by their channel
        self._channels = {name: _Channel(name) for name in CHANNELS}
        self._urgent = UrgentStore(self)
        self._query_send = threading.Lock()  # the query channel's sends: a call's, or a cancel's
        self._query_running: tuple[str, Connection] | None = None
        self._query_cancelled: set[str] = set()  # cancelled before they started
        self.capabilities = schema.PORTABLE
        self.detached_parts = 0  # parts the latest child's engine set aside at its open (ben.store.detached)
        self.starts = 0
        with self._lock:
            self._start()
        self.capabilities = self._call("capabilities")

    # -- lifecycle ------------------------------------------------------------------------------
    def _start(self) -> None:
        """Spawn the child and wait until it has opened the store (the caller holds ``_lock``)."""
        pairs = {name: socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM) for name in CHANNELS}
        theirs = [pairs[name][1] for name in CHANNELS]
        try:
            self._proc = subprocess.Popen(
                python_argv("-m", "ben.store.worker", *(str(t.fileno()) for t in theirs), str(self.path),
                            str(self.retention_days), str(self._open_wait_s), str(self.background_nice)),
                pass_fds=tuple(t.fileno() for t in theirs), stdin=subprocess.DEVNULL, close_fds=True)
        except OSError as exc:
            for ours, _ in pairs.values():
                ours.close()
            raise StorageError(f"cannot start the store process for {self.path}: {exc}") from exc
        finally:
            for t in theirs:
                t.close()
        self._fresh = {name: Connection(pairs[name][0].detach()) for name in CHANNELS}
        self._gen += 1
        self.starts += 1
        ready = self._fresh["main"]
        try:
            status = "opening"
            while status == "opening":  # a long open (loading parts, a migration copying data) says so
                if not ready.poll(self._ready_timeout_s):
                    raise StorageError(f"the store process for {self.path} gave no sign of life for "
                                       f"{self._ready_timeout_s:.0f}s while opening it")
                status, value = ready.recv()
        except (EOFError, OSError) as exc:
            code = self._reap()
            raise StoreUnavailableError(f"the store process for {self.path} exited while opening it "
                                        f"(exit code {code})") from exc
        except StorageError:
            self._reap()
            raise
        if status != "ready":
            self._reap()
            raise value if isinstance(value, BenError) else StorageError(str(value))
        self.detached_parts = int(value or 0)  # what this child's engine set aside as it opened the data

    def _reap(self):
        """Forget the child (the caller holds ``_lock``): close the connections no channel took yet
        (it exits when any of its sockets closes), kill it if it lingers; its exit code."""
        for conn in self._fresh.values():
            conn.close()
        self._fresh = {}
        code = None
        if self._proc is not None:
            try:
                code = self._proc.wait(timeout=5.0)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                code = self._proc.wait()
            self._proc = None
        return code

    def close(self) -> None:
        main, urgent = self._channels["main"], self._channels["urgent"]
        with main.lock, urgent.lock, self._lock:
            if self._proc is not None:
                conn = main.conn if main.gen == self._gen and main.conn is not None else self._fresh.pop("main", None)
                try:
                    if conn is not None:
                        conn.send(("close", (), 0))
                        if conn.poll(CLOSE_TIMEOUT_S):
                            conn.recv()
                except (EOFError, OSError):
                    pass
                try:
                    self._proc.wait(timeout=CLOSE_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    log.warning("store process %d did not exit after close; killing it", self._proc.pid)
                if conn is not None and conn is not main.conn:
                    conn.close()
                self._reap()
            for ch in (main, urgent):
                if ch.conn is not None:
                    ch.conn.close()
                    ch.conn = None
        query = self._channels["query"]  # a query in flight ends when the child exits (EOF)
        if query.lock.acquire(timeout=CLOSE_TIMEOUT_S):
            try:
                if query.conn is not None:
                    query.conn.close()
                    query.conn = None
            finally:
                query.lock.release()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def generation(self) -> int:
        """The child now serving calls (bumped at every start). What a child holds in memory (the
        urgent buffer) dies with it: the store writer compares the generation it read before an
        INSERT with the one after the sync that should have made it durable (ADR 0031)."""
        return self._gen

    def urgent(self) -> UrgentStore:
        """This store for the alert lane's writes: the child's second connection, so an alert's
        INSERT runs beside the routine INSERT in flight instead of after it."""
        return self._urgent

    # -- calls ----------------------------------------------------------------------------------
    def _connection(self, ch: _Channel) -> Connection:
        """The channel's connection to the current child, starting a child if there is none
        (the caller holds the channel's lock)."""
        with self._lock:
            if self._proc is None:
                self._start()  # the previous child died: a new one
            if ch.gen != self._gen:
                if ch.conn is not None:
                    ch.conn.close()
                ch.conn, ch.gen = self._fresh.pop(ch.name), self._gen
            return ch.conn

    def _call(self, method: str, *args, channel: str = "main"):
        ch = self._channels[channel]
        with ch.lock:
            conn = self._connection(ch)
            wire, tables = [], []
            for arg in args:
                if isinstance(arg, pa.Table):
                    wire.append(TableRef(len(tables)))
                    tables.append(ipc_bytes(arg))
                else:
                    wire.append(arg)
            try:
                conn.send((method, tuple(wire), len(tables)))
                for data in tables:
                    conn.send_bytes(data)
                status, value = conn.recv()
            except (EOFError, OSError, pickle.PickleError) as exc:
                conn.close()  # the child's end sees EOF and exits
                ch.conn = None
                with self._lock:
                    code = self._reap() if ch.gen == self._gen else None
                raise StoreUnavailableError(f"the store process for {self.path} failed during {method} "
                                            f"({type(exc).__name__}, exit code {code}); a new one starts at the "
                                            "next call") from exc
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
        return self._read("query_json", sql)

    def query_arrow(self, sql: str) -> pa.Table:
        return self._read("query_arrow", sql)

    def _read(self, method: str, sql: str):
        """A read of the spine's own (no side effect): asked once more of the new store process when
        the one it met had died (each channel finds a dead process on its own next call; before, the
        first ``ben audit verify`` after a store process was killed failed)."""
        try:
            return self._call(method, sql)
        except StoreUnavailableError as exc:
            log.warning("%s; asking the new store process once more", exc)
            return self._call(method, sql)

    def operator_query(self, sql: str, query_id: str, limits: QueryLimits) -> bytes:
        """An operator's statement in the child's query sandbox (ADR 0032), over the ``query``
        channel: one at a time, beside inserts; ``cancel_query`` stops it from any thread."""
        ch = self._channels["query"]
        with ch.lock:
            conn = self._connection(ch)
            try:
                with self._query_send:  # a cancel comes before this (refused here) or after (sent on)
                    if query_id in self._query_cancelled:
                        self._query_cancelled.discard(query_id)
                        raise QueryError("query cancelled: the client went away or was interrupted")
                    conn.send(("operator_query", (sql, query_id, limits), 0))
                    self._query_running = (query_id, conn)
                status, value = conn.recv()
            except (EOFError, OSError, pickle.PickleError) as exc:
                conn.close()
                ch.conn = None
                with self._lock:
                    code = self._reap() if ch.gen == self._gen else None
                raise StorageError(f"the store process for {self.path} failed during a query "
                                   f"({type(exc).__name__}, exit code {code}); a new one starts at the next call"
                                   ) from exc
            finally:
                with self._query_send:
                    self._query_running = None
        if status == "ok":
            return value
        raise value

    def cancel_query(self, query_id: str) -> None:
        """Stop the operator query ``query_id``: the child kills it if it runs; one still waiting
        for the channel is refused when its turn comes."""
        with self._query_send:
            running = self._query_running
            if running is not None and running[0] == query_id:
                try:
                    running[1].send(("cancel_query", (query_id,), 0))
                except (OSError, ValueError):
                    pass  # the child is gone: the call in flight fails by itself
            else:
                if len(self._query_cancelled) > 1000:
                    self._query_cancelled.clear()
                self._query_cancelled.add(query_id)

    def execute(self, sql: str) -> None:
        self._call("execute", sql)

    def rows(self, sql: str) -> list[tuple]:
        return self._call("rows", sql)

    def schema_version(self) -> int:
        return self._call("schema_version")

    def sync(self) -> None:
        """Make every INSERT that returned so far durable: the child flushes the urgent buffer
        (over the main channel, so no alert waits behind the flush), then syncfs from here."""
        self._call("flush")
        sync_filesystem(self.path)


class UrgentStore:
    """The alert lane's view of a :class:`ChdbProcessStore`: its writes and the checks that go
    with them, over the child's ``urgent`` channel (see :meth:`ChdbProcessStore.urgent`)."""

    def __init__(self, store: ChdbProcessStore):
        self._store = store

    @property
    def path(self) -> Path:
        return self._store.path

    @property
    def generation(self) -> int:
        return self._store.generation

    def insert_events(self, table: pa.Table) -> None:
        self._store._call("insert_events", table, channel="urgent")

    def insert_event_json(self, lines: str) -> None:
        """JSONEachRow lines (``rows.to_json_rows``): a string crosses the socket, not Arrow IPC."""
        self._store._call("insert_event_json", lines, channel="urgent")

    def max_spine_seq(self, lane: int) -> int:
        return self._store._call("max_spine_seq", lane, channel="urgent")

    def count_by_spine_seq(self, lane: int, low: int, high: int) -> dict[int, int]:
        return self._store._call("count_by_spine_seq", lane, low, high, channel="urgent")

    def delete_spine_seqs(self, lane: int, seqs: list[int]) -> None:
        self._store._call("delete_spine_seqs", lane, seqs, channel="urgent")
