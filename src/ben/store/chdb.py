"""Embedded ClickHouse (chDB) backend.

chDB lets one process own a data directory; a second opener fails with an unhelpful message,
which is translated here. Every call on a connection goes through its lock; :meth:`ChdbStore.urgent`
opens a second connection to the same engine, whose statements run in parallel with the first's.
Inserts go through Arrow: small tables as Arrow IPC bytes read from a memfd, large ones read by
``INSERT ... SELECT * FROM Python(table)`` (whichever costs less at that size; see ``_insert_arrow``).
The urgent connection's INSERTs land in a Buffer table in front of ben.events, flushed by ``sync``.
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import threading
from pathlib import Path
import pyarrow as pa

from ben.core.errors import QueryError, StorageError
from ben.store import schema
from ben.store.schema import OLD_PARTS_LIFETIME_S, keep_merged_parts
from ben.store.chdb_env import open_error
from ben.store.rows import INLINE_MAX_ROWS, ipc_bytes
from ben.store.base import SqlStore, Store  # noqa: F401  (Store re-exported)
from ben.store.query import (MARK, QueryLimits, check_ast, check_canonical, check_read_only, check_show, explain_error,
                             quote)

log = logging.getLogger(__name__)


_libc = None


def sync_filesystem(path: Path) -> None:
    """syncfs(2) on the filesystem holding path (os.sync() where syncfs is not available)."""
    global _libc
    try:
        if _libc is None:
            _libc = ctypes.CDLL(None, use_errno=True)
        fd = os.open(path, os.O_RDONLY)
        try:
            if _libc.syncfs(fd) != 0:
                raise OSError(ctypes.get_errno(), f"syncfs({path}) failed")
        finally:
            os.close(fd)
    except AttributeError:
        os.sync()
    except OSError as exc:
        raise StorageError(f"cannot make the store durable: {exc}") from exc


#: chDB's defaults log every query, its threads and processors into system tables (MergeTree tables
#: flushed and merged in the background) and sample stacks every second. ben's store serves ben:
#: nothing reads those logs, and their flushes and merges share the disk and cores with ingest. With
#: them off a one-row INSERT took 2.0 ms instead of 3.6 (reference machine, ext4).
QUIET_SETTINGS = (
    "log_queries = 0", "log_query_threads = 0", "log_processors_profiles = 0",
    "query_profiler_real_time_period_ns = 0", "query_profiler_cpu_time_period_ns = 0",
)
#: How every session writes JSON results (the store's own and the operator queries' sandbox alike):
#: 64-bit integers as numbers; NaN, inf and -inf as "nan", "inf", "-inf", not null (ADR 0033).
JSON_SETTINGS = ("output_format_json_quote_64bit_integers = 0", "output_format_json_quote_denormals = 1")


#: Arrow tables up to this size are inserted from Arrow IPC bytes, larger ones through Python(table).
STREAM_MAX_BYTES = 1 << 20

#: The settings of an INSERT whose rows are JSON inside the statement (a few events: an alert).
#: Rows are matched to columns by their keys, and a key that names no column fails the INSERT
#: instead of being dropped (chDB's default skips it). One thread does the whole INSERT: with the
#: defaults a one-row INSERT handed its row between chDB's pool threads ~25 times (parallel
#: parsing, the pipeline), and each hand-over waits for a core when the cores are busy. Measured
#: on the reference machine (2 cores, nothing else running), one row into the alert buffer:
#: 2.84 ms with the column list and the defaults, 1.77 ms like this (``SELECT 1``: 1.36 ms);
#: beside three busy processes 5.34 ms and 3.59 ms. ADR 0025.
INLINE_SETTINGS = ("SETTINGS input_format_skip_unknown_fields = 0, input_format_parallel_parsing = 0, "
                   "max_threads = 1, max_insert_threads = 1")


def _in_use(path: Path) -> bool:
    """Whether another engine holds the chDB directory: its ``status`` file is locked (ClickHouse's flock)."""
    import fcntl

    try:
        fd = os.open(path / "status", os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


class ChdbStore(SqlStore):
    """The events store in an embedded chDB data directory."""

    def __init__(self, path: Path | str, retention_days: int = 0, *, prepare: bool = True):
        """prepare: migrate the schema and set the retention (False: one more connection to an
        engine this process already opened, see :meth:`urgent`)."""
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._memfd: int | None = None  # small INSERTs' Arrow bytes, read by chDB's file() (see _insert_arrow)
        self._urgent: ChdbStore | None = None
        self._urgent_lock = threading.Lock()
        self._sandbox: QuerySandbox | None = None  # operator queries (see operator_query)
        try:
            from chdb import session as chdb_session

            self._session = chdb_session.Session(str(self.path))
        except Exception as exc:
            if _in_use(self.path):  # was any "EmbeddedServer" error: a damaged store was said to be in use
                from ben.core.dirlock import lock_holder

                holder = lock_holder(self.path / "status")
                raise StorageError(
                    f"chDB data directory {self.path} is in use by another process "
                    f"({holder + '; ' if holder else ''}is a spine running on it? then query through the "
                    "spine: ben query)") from exc
            raise open_error(self.path, exc, f"cannot open chDB at {self.path}: a damaged store, or not a chDB "
                             "store") from exc
        for setting in JSON_SETTINGS + QUIET_SETTINGS:
            self._run(f"SET {setting}")
        self._events = schema.EVENTS  # where insert_events writes (the urgent connection: its buffer)
        if not prepare:
            self.retention_days = retention_days
            return
        try:
            # The urgent buffer is re-created at every open (it holds nothing across restarts), and
            # dropped before the migrations: one may rename ben.events, and a Buffer flushing into a
            # table that is gone discards its rows.
            self._run(f"DROP TABLE IF EXISTS {schema.EVENTS_URGENT}")
            self._prepare(retention_days)
            # chDB removes a merge's source parts at its next clean-up (old_parts_lifetime 0): a merged part
            # found broken at the next open (a merge on a full disk left one of empty files, seed 8901) then
            # held the only copy of its rows. Kept as long as ClickHouse keeps them (ADR 0046, round 7).
            self._run(keep_merged_parts(OLD_PARTS_LIFETIME_S))
            self._run(schema.create_urgent_buffer())
        except BaseException:
            self.close()
            raise

    def urgent(self) -> ChdbStore:
        """A second connection to the same engine, for writes that must not wait (alerts).

        chDB runs statements of different connections in parallel (and releases the GIL while
        they run), so an alert's INSERT on this connection proceeds while a routine INSERT is in
        flight on the other, instead of queueing behind it. Its INSERTs go to the buffer in front
        of ben.events (``schema.create_urgent_buffer``): no part written per alert. Opened once;
        closed with this store.
        """
        with self._urgent_lock:
            if self._urgent is None:
                self._urgent = ChdbStore(self.path, self.retention_days, prepare=False)
                self._urgent.capabilities = self.capabilities
                self._urgent._events = schema.EVENTS_URGENT
            return self._urgent

    def _run(self, sql: str, fmt: str = "CSV", **params):
        try:
            with self._lock:
                return self._session.query(sql, fmt, **params)
        except Exception as exc:
            raise StorageError(f"chDB: {str(exc).strip()}") from exc

    def insert_events(self, table: pa.Table) -> None:
        try:
            if table.num_rows <= INLINE_MAX_ROWS:
                self._insert_inline(self._events, table)
            else:
                self._insert_arrow(self._events, schema.EVENT_COLUMNS, table)
        except Exception as exc:
            raise StorageError(f"chDB insert of {table.num_rows} rows failed: {str(exc).strip()}") from exc

    def insert_rows(self, target: str, table: pa.Table) -> None:
        """Insert an Arrow table whose columns are the target table's, in order."""
        try:
            self._insert_arrow(target, table.column_names, table)
        except Exception as exc:
            raise StorageError(f"chDB insert into {target} failed: {str(exc).strip()}") from exc

    def _insert_inline(self, target: str, table: pa.Table) -> None:
        """A few events (an alert) as JSON rows inside the INSERT statement itself.

        chDB's fixed cost per INSERT is most of a one-row INSERT, and the cheapest statement is one
        that reads no table function: 3.7 ms against 7.2 through a memfd for one row into the
        alert buffer (reference machine, nothing else running), p50 8.7 ms against 19.4 beside
        back-to-back routine INSERTs. JSON keeps every value of the events' columns exactly
        (64-bit integers, NaN and infinities, any string; ``tests/store/test_chdb.py`` compares
        the two paths), but costs 90 ms for 3,000 rows: only up to ``INLINE_MAX_ROWS``.
        """
        self._insert_json(target, "\n".join(map(json.dumps, table.to_pylist())))

    def _insert_json(self, target: str, lines: str) -> None:
        with self._lock:
            self._session.query(f"INSERT INTO {target} {INLINE_SETTINGS} FORMAT JSONEachRow\n{lines}")

    def insert_event_json(self, lines: str) -> None:
        """Events given as JSONEachRow lines (``rows.to_json_rows``): the alert lane's INSERT,
        with no Arrow table on the way (see ``_insert_inline``)."""
        try:
            self._insert_json(self._events, lines)
        except Exception as exc:
            raise StorageError(f"chDB insert of {lines.count(chr(10)) + 1} rows failed: {str(exc).strip()}") from exc

    def _insert_arrow(self, target: str, columns, table: pa.Table) -> None:
        """One INSERT of an Arrow table, by whichever of two paths costs less for its size.

        Small tables (alerts, a trickle of rows) are written as Arrow IPC bytes into a memfd that
        chDB reads with ``file()``: about a third of the fixed cost of ``INSERT ... SELECT FROM
        Python(table)`` (7 ms against 20 for one row, reference machine). Past ``STREAM_MAX_BYTES``
        chDB's parse of Arrow IPC holds the interpreter longer than its read of the table (16,000
        rows of 2 KB bodies: 1,054 ms against 359, the GIL held up to 87 ms at a time against 20),
        so large tables go through ``Python(table)``.

        Not chDB's streamed insert (``send_insert``): in chDB 4.4 its ``finish()`` reports every row
        written when the INSERT failed (a full disk, a violated constraint) and nothing was stored.
        Both paths here are plain queries, whose failures raise.
        """
        names = ", ".join(f"`{c}`" for c in columns)
        if table.nbytes > STREAM_MAX_BYTES:
            with self._lock:
                self._session.query(f"INSERT INTO {target} ({names}) SELECT * FROM Python(table)")
            return
        data = memoryview(ipc_bytes(table))
        with self._lock:
            if self._memfd is None:
                self._memfd = os.memfd_create("ben-insert", os.MFD_CLOEXEC)
            fd = self._memfd   # empty: every INSERT truncates it when done
            try:
                written = 0
                while written < len(data):
                    written += os.pwrite(fd, data[written:], written)
                # One path for tables of every shape: no schema cached by path.
                self._session.query(f"INSERT INTO {target} ({names}) SELECT * FROM file('/proc/self/fd/{fd}', "
                                    "'ArrowStream') SETTINGS schema_inference_use_cache_for_file = 0")
            finally:
                os.ftruncate(fd, 0)

    def query_arrow(self, sql: str) -> pa.Table:
        """Run one read-only statement; an Arrow table."""
        statement = check_read_only(sql)
        try:
            with self._lock:
                return self._session.query(statement, "ArrowTable")
        except Exception as exc:
            raise QueryError(str(exc).strip()) from exc

    def execute(self, sql: str) -> None:
        self._run(sql)

    def rows(self, sql: str) -> list[tuple]:
        text = self._run(sql, "JSONCompact").bytes()
        return [tuple(r) for r in json.loads(text)["data"]] if text.strip() else []

    # The store's own reads and deletes see every INSERT that returned: the buffer is flushed first
    # (reading through a Buffer while it flushes may see a row twice or not at all).
    def max_spine_seq(self, lane: int) -> int:
        self.flush()
        return super().max_spine_seq(lane)

    def count_rows(self) -> int:
        self.flush()
        return super().count_rows()

    def count_by_spine_seq(self, lane: int, low: int, high: int) -> dict[int, int]:
        self.flush()
        return super().count_by_spine_seq(lane, low, high)

    def delete_spine_seqs(self, lane: int, seqs: list[int]) -> None:
        if not seqs:
            return
        self.flush()
        listed = ", ".join(str(int(s)) for s in seqs)
        self._run(f"ALTER TABLE {schema.EVENTS} DELETE WHERE {schema.lane_is(lane)} AND spine_seq IN ({listed}) "
                  "SETTINGS mutations_sync = 2")

    def query_json(self, sql: str) -> bytes:
        """Run one read-only statement; ClickHouse JSON output."""
        statement = check_read_only(sql)
        try:
            with self._lock:
                return self._session.query(statement, "JSON").bytes()
        except Exception as exc:
            raise QueryError(str(exc).strip()) from exc

    def flush(self) -> None:
        """Move the urgent connection's buffered rows into ben.events. A failed flush raises and
        keeps them buffered (and the spine keeps them in its WAL)."""
        self._run(f"OPTIMIZE TABLE {schema.EVENTS_URGENT}")

    def sync(self) -> None:
        """Make every INSERT that returned so far durable: flush the buffer, then syncfs on the
        store's filesystem."""
        self.flush()
        sync_filesystem(self.path)

    def operator_query(self, sql: str, query_id: str, limits: QueryLimits) -> bytes:
        """Run an operator's statement in the query sandbox (ADR 0032); ClickHouse JSON output.
        Runs beside this store's other calls, on sessions of its own."""
        with self._urgent_lock:
            if self._sandbox is None or self._sandbox.limits != limits:
                if self._sandbox is not None:
                    self._sandbox.close()
                self._sandbox = QuerySandbox(self.path, limits)
            sandbox = self._sandbox
        return sandbox.run(sql, query_id)

    def cancel_query(self, query_id: str) -> None:
        """Stop the operator query ``query_id`` if it runs (from any thread)."""
        sandbox = self._sandbox
        if sandbox is not None:
            sandbox.cancel(query_id)

    def close(self) -> None:
        with self._urgent_lock:
            urgent, self._urgent = self._urgent, None
            sandbox, self._sandbox = self._sandbox, None
        if sandbox is not None:
            sandbox.close()
        if urgent is not None:
            urgent.close()
        with self._lock:
            try:
                self._session.close()
            except Exception as exc:  # closing must not hide the reason we are closing
                log.warning("chDB close: %s", exc)
            if self._memfd is not None:
                os.close(self._memfd)
                self._memfd = None


class QuerySandbox:
    """Two chDB sessions for operator queries: ``readonly = 1`` with the limits set before it (the
    statements run there, one at a time), and one that only cancels them (``KILL QUERY``), so a
    cancel never waits behind the statement it stops or behind an INSERT. ADR 0032."""

    def __init__(self, path: Path, limits: QueryLimits):
        self.path = path
        self.limits = limits
        self._lock = threading.Lock()
        self._session = self._killer = None
        self._cancelled: set[str] = set()  # cancelled before their statement started
        self._open()

    def _open(self) -> None:
        """(Re)open both sessions: after a statement failed, chDB 4.4 may hand its late result
        to the next statement of the same session, so a failure costs the session."""
        self._close_sessions()
        try:
            from chdb import session as chdb_session

            self._session = chdb_session.Session(str(self.path))
            self._killer = chdb_session.Session(str(self.path))
            for setting in JSON_SETTINGS + QUIET_SETTINGS:
                self._session.query(f"SET {setting}")
            for name, value in self.limits.settings().items():
                self._session.query(f"SET {name} = {quote(value) if isinstance(value, str) else value}")
            self._session.query("SET readonly = 1")  # last: from here on no setting changes
        except Exception as exc:
            raise open_error(self.path, exc, "chDB: cannot open the query sandbox") from exc

    def _engine(self, sql: str) -> list[str]:
        """One value a line (the engine's parse of an operator statement), on the read-only session."""
        raw = self._session.query(sql, "TabSeparatedRaw").bytes().decode(errors="replace")
        return raw.splitlines()

    def run(self, sql: str, query_id: str) -> bytes:
        statement = check_read_only(sql)
        with self._lock:
            if query_id in self._cancelled:
                self._cancelled.discard(query_id)
                raise explain_error("", self.limits, cancelled=True)
            try:
                formatted = "\n".join(self._engine(f"SELECT formatQuerySingleLine({quote(statement)})"))
                check_canonical(formatted)
                check_show(formatted, self.limits.system_tables)
                check_ast(self._engine(f"EXPLAIN AST {formatted}"), self.limits.system_tables)
                return self._session.query(MARK.format(query_id) + statement, "JSON").bytes()
                # (a late cancel leaves its id in _cancelled: ids are never reused)
            except QueryError:
                raise
            except Exception as exc:
                self._open()
                raise explain_error(str(exc), self.limits) from exc

    def cancel(self, query_id: str = "") -> None:
        """KILL the operator query ``query_id`` ("": every operator query) if it is running."""
        prefix = MARK.format(query_id) if query_id else MARK.partition("{")[0]
        if query_id:
            if len(self._cancelled) > 1000:
                self._cancelled.clear()
            self._cancelled.add(query_id)
        try:
            self._killer.query(f"KILL QUERY WHERE startsWith(query, {quote(prefix)}) ASYNC")
        except Exception as exc:  # a cancel that fails leaves max_execution_time to end the query
            log.warning("chDB: cannot cancel operator query %s: %s", query_id or "(all)", str(exc).strip())

    def close(self) -> None:
        self.cancel()
        with self._lock:  # the statement in flight returns (cancelled)
            self._close_sessions()

    def _close_sessions(self) -> None:
        for session in (self._session, self._killer):
            if session is not None:
                try:
                    session.close()
                except Exception as exc:
                    log.warning("chDB close of the query sandbox: %s", exc)
        self._session = self._killer = None
