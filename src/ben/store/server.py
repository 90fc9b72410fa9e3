"""ClickHouse server backend over the native protocol (clickhouse-driver).

Works with Debian's ClickHouse 18.16 and with modern servers (see ``schema.Capabilities``).
Every call goes through one lock (one connection; clickhouse-driver reconnects by itself on the
next call after a broken one). Driver errors are translated here: a server that cannot be
reached is a ``StoreUnavailableError`` (retryable), a refused statement a ``StorageError``, a bad
operator query a ``QueryError``.

Durability: an INSERT the server acknowledged is in its files (page cache); it survives a crash
of the server process (kill -9), not a power loss, and the spine's WAL must keep a record until
the server made it durable (ADR 0031). Where the server has the MergeTree setting
``fsync_after_insert`` (ClickHouse 21+), ben turns it on for ``ben.events`` (with
``fsync_part_directory``) at every open: each acknowledged INSERT is then on disk, and ``sync``
stays a no-op. Where it has not (Debian's 18.16), the store says so with ``durable_after_s``
(``writeback_wait_s``, 35 s by default: Linux writes dirty pages back once they are 30 s old,
checking every 5 s), and the store writer keeps each record in its WAL that long after the
server acknowledged it. Replicated tables with ``insert_quorum`` (ADR 0016) are not built yet.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import logging
import math
import threading
import time
import uuid
from typing import NamedTuple

import pyarrow as pa

from ben.core.errors import QueryError, StorageError, StoreUnavailableError
from ben.store import schema
from ben.store.base import SqlStore
from ben.store.query import QueryLimits, check_host_calls, check_no_file_words, check_read_only, explain_error

log = logging.getLogger(__name__)
# The driver logs a traceback at WARNING for every failed connect; this module reports the failure
# itself (once per attempt, as a StoreUnavailableError), so the driver's copy is noise.
logging.getLogger("clickhouse_driver.connection").setLevel(logging.ERROR)

#: How long delete_spine_seqs waits for its mutation (18.16 has no mutations_sync).
MUTATION_TIMEOUT_S = 120.0
#: Without fsync_after_insert: seconds a record stays in the WAL after the server acknowledged it
#: (vm.dirty_expire_centisecs 30 s + vm.dirty_writeback_centisecs 5 s, Linux's defaults).
WRITEBACK_WAIT_S = 35.0
#: MergeTree settings that make an acknowledged INSERT durable, where the server has them.
FSYNC_SETTINGS = ("fsync_after_insert", "fsync_part_directory")


class InsertDurability(NamedTuple):
    """How an INSERT the server acknowledged becomes durable."""

    how: str         # "fsync_after_insert" or "writeback_wait"
    wait_s: float    # seconds the spine's WAL keeps a record after its INSERT returned


def make_inserts_durable(ex, writeback_wait_s: float = WRITEBACK_WAIT_S) -> InsertDurability:
    """Turn on fsync_after_insert (and fsync_part_directory) for ben.events where the server has it."""
    names = ", ".join(f"'{n}'" for n in FSYNC_SETTINGS)
    have = {str(n) for (n,) in ex.rows(f"SELECT name FROM system.merge_tree_settings WHERE name IN ({names})")}
    if "fsync_after_insert" in have:
        ex.execute(f"ALTER TABLE {schema.EVENTS} MODIFY SETTING "
                   + ", ".join(f"{n} = 1" for n in FSYNC_SETTINGS if n in have))
        return InsertDurability("fsync_after_insert", 0.0)
    log.warning("store: this ClickHouse has no fsync_after_insert: an INSERT it acknowledged is durable only once "
                "the kernel wrote it back; the spine's WAL keeps each record %.0fs after its INSERT "
                "(store.writeback_wait_s)", writeback_wait_s)
    return InsertDurability("writeback_wait", float(writeback_wait_s))

_ARROW_TYPES = {
    "Int8": pa.int8(), "Int16": pa.int16(), "Int32": pa.int32(), "Int64": pa.int64(),
    "UInt8": pa.uint8(), "UInt16": pa.uint16(), "UInt32": pa.uint32(), "UInt64": pa.uint64(),
    "Float32": pa.float32(), "Float64": pa.float64(), "String": pa.string(),
}


def arrow_type(ch_type: str) -> pa.DataType | None:
    """The Arrow type for a ClickHouse column type (None: let Arrow infer it)."""
    for wrapper in ("LowCardinality(", "Nullable("):
        if ch_type.startswith(wrapper):
            return arrow_type(ch_type[len(wrapper):-1])
    if ch_type.startswith("Array("):
        inner = arrow_type(ch_type[6:-1])
        return pa.list_(inner) if inner is not None else None
    if ch_type.startswith("Enum"):
        return pa.string()
    return _ARROW_TYPES.get(ch_type)


def _plain(value):
    """A driver value as JSON (the shape of ClickHouse's own JSON output)."""
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):  # as ClickHouse's output_format_json_quote_denormals
            return "nan" if math.isnan(value) else "inf" if value > 0 else "-inf"
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    if isinstance(value, (decimal.Decimal, uuid.UUID, bytes)):
        return value.decode(errors="replace") if isinstance(value, bytes) else str(value)
    return value


def _pylist(column: pa.ChunkedArray) -> list:
    """A column as the Python list the driver sends; list columns without per-row Arrow objects
    (4x faster than to_pylist for the attributes arrays)."""
    array = column.combine_chunks()
    if pa.types.is_list(array.type) and array.null_count == 0:
        flat = array.flatten().to_pylist()
        offsets = array.offsets.to_numpy()
        bounds = (offsets - offsets[0]).tolist()
        return [flat[a:b] for a, b in zip(bounds, bounds[1:])]
    return array.to_pylist()


class ClickHouseStore(SqlStore):
    """The events store in a ClickHouse server (database ``ben``)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 9000, user: str = "default", password: str = "",
                 secure: bool = False, connect_timeout_s: float = 10.0, query_timeout_s: float = 300.0,
                 retention_days: int = 0, prepare: bool = True, connect: bool = True,
                 writeback_wait_s: float = WRITEBACK_WAIT_S):
        """prepare: probe the server, migrate the schema, set the retention and make inserts durable
        (False: a reader only); connect: check now that the server answers (False: at the first
        call, see ``urgent``); writeback_wait_s: see the module docstring."""
        from clickhouse_driver import Client

        self.address = f"{host}:{port}"
        self.path = None
        self._lock = threading.Lock()
        self._params = dict(host=host, port=port, user=user, password=password, secure=secure,
                            connect_timeout_s=connect_timeout_s, query_timeout_s=query_timeout_s)
        self._urgent: ClickHouseStore | None = None
        self._urgent_lock = threading.Lock()
        self._reader: ClickHouseStore | None = None  # operator queries' connection (see operator_query)
        #: (user, password) operator queries connect as (a read-only user, ADR 0032); None: this store's.
        self.query_credentials: tuple[str, str] | None = None
        self._queries_running: set[str] = set()  # operator query ids in flight (close cancels them)
        #: How an acknowledged INSERT is durable, and seconds the WAL keeps a record after it (above).
        self.durability, self.durable_after_s = "unknown", float(writeback_wait_s)
        self._client = Client(host=host, port=port, user=user, password=password, secure=secure,
                              connect_timeout=connect_timeout_s, send_receive_timeout=query_timeout_s,
                              sync_request_timeout=connect_timeout_s, client_name="ben",
                              settings={"strings_as_bytes": False})
        try:
            if prepare:
                self._prepare(retention_days)
                durable = make_inserts_durable(self, writeback_wait_s)
                self.durability, self.durable_after_s = durable.how, durable.wait_s
            elif connect:
                self.rows("SELECT 1")  # reachable?
        except BaseException:
            self.close()
            raise

    # -- the edge: every driver call goes through here ------------------------------------------
    def _call(self, what: str, fn, *args, error=StorageError, **kwargs):
        from clickhouse_driver import errors as ch_errors

        try:
            with self._lock:
                return fn(*args, **kwargs)
        except (ch_errors.NetworkError, ch_errors.SocketTimeoutError, ch_errors.UnexpectedPacketFromServerError,
                EOFError, OSError) as exc:
            self._disconnect()
            raise StoreUnavailableError(f"ClickHouse at {self.address} unreachable during {what}: "
                                        f"{str(exc).strip() or type(exc).__name__}") from exc
        except ch_errors.Error as exc:
            first = " ".join(str(exc).split("Stack trace:")[0].split())[:1000]
            if isinstance(exc, ch_errors.ServerException) and error is StorageError and exc.code in (
                    ch_errors.ErrorCodes.TOO_MANY_SIMULTANEOUS_QUERIES, ch_errors.ErrorCodes.TOO_MANY_PARTS,
                    ch_errors.ErrorCodes.MEMORY_LIMIT_EXCEEDED):
                raise StoreUnavailableError(f"ClickHouse at {self.address} busy during {what}: {first}") from exc
            raise error(f"ClickHouse at {self.address}, {what}: {first}") from exc

    def _disconnect(self) -> None:
        try:
            self._client.disconnect()
        except Exception:  # the connection is already broken; the next call reconnects
            pass

    def execute(self, sql: str) -> None:
        self._call("a statement", self._client.execute, sql)

    def rows(self, sql: str) -> list[tuple]:
        return self._call("a query", self._client.execute, sql)

    def insert_values(self, target: str, columns: list[str], rows: list[tuple]) -> None:
        self._call(f"an insert into {target}", self._client.execute,
                   f"INSERT INTO {target} ({', '.join(columns)}) VALUES", rows)

    # -- inserts ------------------------------------------------------------------------------
    def _insert(self, target: str, columns: list[str], table: pa.Table) -> None:
        names = ", ".join(f"`{c}`" for c in columns)
        data = [_pylist(table.column(i)) for i in range(table.num_columns)]
        self._call(f"an insert of {table.num_rows} rows into {target}", self._client.execute,
                   f"INSERT INTO {target} ({names}) VALUES", data, columnar=True)

    def insert_events(self, table: pa.Table) -> None:
        self._insert(schema.EVENTS, list(schema.EVENT_COLUMNS), table)

    def insert_rows(self, target: str, table: pa.Table) -> None:
        """Insert an Arrow table whose columns are the target table's, by name."""
        self._insert(target, table.column_names, table)

    # -- repair ------------------------------------------------------------------------------
    def delete_spine_seqs(self, lane: int, seqs: list[int]) -> None:
        """Delete rows of some spine records (an ALTER ... DELETE mutation) and wait until it is done."""
        if not seqs:
            return
        listed = ", ".join(str(int(s)) for s in seqs)
        self.execute(f"ALTER TABLE {schema.EVENTS} DELETE WHERE {schema.lane_is(lane)} AND spine_seq IN ({listed})")
        deadline = time.monotonic() + MUTATION_TIMEOUT_S
        while True:
            pending = self.rows(f"SELECT count() FROM system.mutations WHERE database = '{schema.DATABASE}' "
                                "AND table = 'events' AND is_done = 0")
            if not pending[0][0]:
                return
            if time.monotonic() > deadline:
                raise StorageError(f"ClickHouse at {self.address}: deleting spine records {seqs[:10]} did not finish "
                                   f"within {MUTATION_TIMEOUT_S:.0f}s (see system.mutations)")
            time.sleep(0.05)

    # -- operator queries -----------------------------------------------------------------------
    def _select(self, sql: str):
        statement = check_read_only(sql)
        return self._call("a query", self._client.execute, statement, with_column_types=True, columnar=True,
                          settings={"readonly": 2}, error=QueryError)

    def query_arrow(self, sql: str) -> pa.Table:
        """Run one read-only statement; an Arrow table."""
        columns, types = self._select(sql)
        arrays = [pa.array(list(col), type=arrow_type(t)) for col, (_, t) in zip(columns, types)]
        if not columns:  # no rows: the driver returns no columns
            arrays = [pa.array([], type=arrow_type(t) or pa.null()) for _, t in types]
        return pa.Table.from_arrays(arrays, names=[n for n, _ in types])

    def query_json(self, sql: str) -> bytes:
        """Run one read-only statement; JSON shaped like ClickHouse's JSON format (meta, data, rows)."""
        columns, types = self._select(sql)
        names = [n for n, _ in types]
        data = [dict(zip(names, (_plain(v) for v in row))) for row in zip(*columns)] if columns else []
        out = {"meta": [{"name": n, "type": t} for n, t in types], "data": data, "rows": len(data)}
        return json.dumps(out).encode()

    def operator_query(self, sql: str, query_id: str, limits: QueryLimits) -> bytes:
        """Run an operator's statement on a connection of its own with ``readonly = 1`` and the
        limits as query settings (the server enforces them; the statement cannot change them):
        the query sandbox on a server (ADR 0032). Use a read-only user too (ADR 0032 shows one).
        JSON shaped like ClickHouse's JSON format."""
        statement = check_read_only(sql)
        check_no_file_words(statement)  # the server ignores INTO OUTFILE; refused anyway, as on chDB
        check_host_calls(statement)  # no EXPLAIN AST on the server: the host's facts found in the text
        with self._urgent_lock:
            if self._reader is None:
                params = dict(self._params)
                if self.query_credentials is not None:
                    params["user"], params["password"] = self.query_credentials
                self._reader = ClickHouseStore(**params, prepare=False, connect=False)
            reader = self._reader
        settings = {"readonly": 1, **{k: v for k, v in limits.settings().items()
                                      if k in ("max_execution_time", "max_result_bytes", "result_overflow_mode",
                                               "timeout_overflow_mode", "max_memory_usage")}}
        self._queries_running.add(query_id)
        try:
            columns, types = reader._call("a query", reader._client.execute, statement, with_column_types=True,
                                          columnar=True, settings=settings, query_id=query_id, error=QueryError)
        except QueryError as exc:
            raise explain_error(str(exc).partition(": ")[2], limits) from exc
        finally:
            self._queries_running.discard(query_id)
        names = [n for n, _ in types]
        data = [dict(zip(names, (_plain(v) for v in row))) for row in zip(*columns)] if columns else []
        return json.dumps({"meta": [{"name": n, "type": t} for n, t in types], "data": data,
                           "rows": len(data)}).encode()

    def cancel_query(self, query_id: str) -> None:
        """Stop the operator query ``query_id`` (KILL QUERY on a short connection of its own)."""
        from clickhouse_driver import Client

        p = self._params
        client = Client(host=p["host"], port=p["port"], user=p["user"], password=p["password"], secure=p["secure"],
                        connect_timeout=p["connect_timeout_s"], send_receive_timeout=p["connect_timeout_s"])
        try:
            client.execute(f"KILL QUERY WHERE query_id = '{query_id}' ASYNC")
        except Exception as exc:  # the query's max_execution_time still ends it
            log.warning("ClickHouse at %s: cannot cancel query %s: %s", self.address, query_id, exc)
        finally:
            client.disconnect()

    def sync(self) -> None:
        """No-op: what the server acknowledged survives a crash of its process (see the module doc)."""

    def urgent(self) -> ClickHouseStore:
        """A second connection to the server for the alert lane's writes (opened at first use):
        an alert's INSERT runs beside the routine INSERT in flight on this one."""
        with self._urgent_lock:
            if self._urgent is None:
                self._urgent = ClickHouseStore(**self._params, retention_days=self.retention_days, prepare=False,
                                               connect=False)
                self._urgent.capabilities = self.capabilities
                self._urgent.durability, self._urgent.durable_after_s = self.durability, self.durable_after_s
            return self._urgent

    def close(self) -> None:
        for query_id in list(self._queries_running):  # the reader's lock is held until they end
            self.cancel_query(query_id)
        with self._urgent_lock:
            urgent, self._urgent = self._urgent, None
            reader, self._reader = self._reader, None
        for other in (urgent, reader):
            if other is not None:
                other.close()
        with self._lock:
            self._disconnect()
