"""Embedded ClickHouse (chDB) backend.

chDB lets one process own a data directory; a second opener fails with an unhelpful message,
which is translated here. Every call on a connection goes through its lock; :meth:`ChdbStore.urgent`
opens a second connection to the same engine, whose statements run in parallel with the first's.
Inserts go through Arrow: small tables streamed as Arrow IPC, large ones read by
``INSERT ... SELECT * FROM Python(table)`` (whichever costs less at that size; see ``_insert_arrow``).
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
from ben.store.base import SqlStore, Store  # noqa: F401  (Store re-exported)
from ben.store.query import check_read_only

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

#: Arrow tables up to this size are inserted as an IPC stream, larger ones through Python(table).
STREAM_MAX_BYTES = 1 << 20


class ChdbStore(SqlStore):
    """The events store in an embedded chDB data directory."""

    def __init__(self, path: Path | str, retention_days: int = 0, *, prepare: bool = True):
        """prepare: migrate the schema and set the retention (False: one more connection to an
        engine this process already opened, see :meth:`urgent`)."""
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._urgent: ChdbStore | None = None
        self._urgent_lock = threading.Lock()
        try:
            from chdb import session as chdb_session

            self._session = chdb_session.Session(str(self.path))
        except Exception as exc:
            if "EmbeddedServer" in str(exc) or "lock" in str(exc).lower():
                raise StorageError(
                    f"chDB data directory {self.path} is in use by another process "
                    "(is a spine running on it? then query through the spine: ben query)"
                ) from exc
            raise StorageError(f"cannot open chDB at {self.path}: {exc}") from exc
        self._run("SET output_format_json_quote_64bit_integers = 0")
        for setting in QUIET_SETTINGS:
            self._run(f"SET {setting}")
        if not prepare:
            self.retention_days = retention_days
            return
        try:
            self._prepare(retention_days)
        except BaseException:
            self.close()
            raise

    def urgent(self) -> ChdbStore:
        """A second connection to the same engine, for writes that must not wait (alerts).

        chDB runs statements of different connections in parallel (and releases the GIL while
        they run), so an alert's INSERT on this connection proceeds while a routine INSERT is in
        flight on the other, instead of queueing behind it. Opened once; closed with this store.
        """
        with self._urgent_lock:
            if self._urgent is None:
                self._urgent = ChdbStore(self.path, self.retention_days, prepare=False)
                self._urgent.capabilities = self.capabilities
            return self._urgent

    def _run(self, sql: str, fmt: str = "CSV", **params):
        try:
            with self._lock:
                return self._session.query(sql, fmt, **params)
        except Exception as exc:
            raise StorageError(f"chDB: {str(exc).strip()}") from exc

    def insert_events(self, table: pa.Table) -> None:
        try:
            self._insert_arrow(schema.EVENTS, schema.EVENT_COLUMNS, table)
        except Exception as exc:
            raise StorageError(f"chDB insert of {table.num_rows} rows failed: {str(exc).strip()}") from exc

    def insert_rows(self, target: str, table: pa.Table) -> None:
        """Insert an Arrow table whose columns are the target table's, in order."""
        try:
            self._insert_arrow(target, table.column_names, table)
        except Exception as exc:
            raise StorageError(f"chDB insert into {target} failed: {str(exc).strip()}") from exc

    def _insert_arrow(self, target: str, columns, table: pa.Table) -> None:
        """One INSERT of an Arrow table, by whichever of chDB's two paths is cheaper for its size.

        Small tables (alerts, a trickle of rows) are streamed as Arrow IPC bytes: about half the
        fixed cost of ``INSERT ... SELECT FROM Python(table)`` (10 ms against 19 for one row, 64
        against 129 for 10,000 small rows, reference machine). Past ``STREAM_MAX_BYTES`` chDB's
        parse of the stream holds the interpreter longer than its read of the table (16,000 rows
        of 2 KB bodies: 1,054 ms against 359, the GIL held up to 87 ms at a time against 20), so
        large tables go through ``Python(table)``.
        """
        names = ", ".join(f"`{c}`" for c in columns)
        if table.nbytes > STREAM_MAX_BYTES:
            with self._lock:
                self._session.query(f"INSERT INTO {target} ({names}) SELECT * FROM Python(table)")
            return
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        data = sink.getvalue().to_pybytes()
        with self._lock, self._session.send_insert(f"INSERT INTO {target} ({names})", "ArrowStream") as inserter:
            inserter.append(data)
            inserter.finish()

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

    def delete_spine_seqs(self, lane: int, seqs: list[int]) -> None:
        if not seqs:
            return
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

    def sync(self) -> None:
        """Make every INSERT that returned so far durable (syncfs on the store's filesystem)."""
        sync_filesystem(self.path)

    def close(self) -> None:
        with self._urgent_lock:
            urgent, self._urgent = self._urgent, None
        if urgent is not None:
            urgent.close()
        with self._lock:
            try:
                self._session.close()
            except Exception as exc:  # closing must not hide the reason we are closing
                log.warning("chDB close: %s", exc)
