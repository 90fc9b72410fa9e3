"""What both backends share: the Store protocol, and the cursor, repair, schema and retention
logic written once over two primitives (``execute`` a statement, fetch ``rows`` of a SELECT)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Protocol

import pyarrow as pa

from ben.store import detached, migrations, retention, schema
from ben.store.query import QueryLimits
from ben.store.schema import Capabilities

log = logging.getLogger(__name__)


class Store(Protocol):
    """What the spine needs from a store backend."""

    #: The local directory holding the data (chDB), or None (a server: its disk is its own).
    path: Path | None
    retention_days: int
    #: Which engine instance takes the calls now; it changes when one that may have held acknowledged
    #: INSERTs in memory (chDB's urgent buffer in a store process) is replaced. Constant elsewhere.
    generation: int
    #: Seconds after an INSERT returned before the WAL may drop its records (beyond ``sync``): a
    #: server that does not fsync what it acknowledged (ADR 0031). 0 elsewhere.
    durable_after_s: float
    #: Parts the store engine set aside (``detached/``) as it last opened the data: their rows are not
    #: in the store (``ben.store.detached``, ADR 0046 round 7).
    detached_parts: int

    def insert_events(self, table: pa.Table) -> None: ...
    def insert_rows(self, target: str, table: pa.Table) -> None: ...
    def max_spine_seq(self, lane: int) -> int: ...
    def count_by_spine_seq(self, lane: int, low: int, high: int) -> dict[int, int]: ...
    def delete_spine_seqs(self, lane: int, seqs: list[int]) -> None: ...
    def enforce_retention(self) -> list[str]: ...
    def query_json(self, sql: str) -> bytes: ...
    def query_arrow(self, sql: str) -> pa.Table: ...
    def operator_query(self, sql: str, query_id: str, limits: QueryLimits) -> bytes:
        """An operator's statement in the query sandbox, beside inserts (ADR 0032); JSON."""
        ...
    def cancel_query(self, query_id: str) -> None: ...
    def sync(self) -> None: ...
    def close(self) -> None: ...

    def urgent(self) -> Store:
        """This store for the alert lane's writes: a connection of its own, whose INSERTs run
        beside (not after) the ones in flight on this one. Closed with this store."""
        ...


class SqlStore:
    """Shared half of a backend; subclasses provide execute, rows and the insert/query paths."""

    path: Path | None = None
    retention_days: int = 0
    generation: int = 0  # an engine in this process, or a server: nothing acknowledged lives in memory only
    durable_after_s: float = 0.0  # an acknowledged INSERT is durable after its sync (a server: see server.py)
    capabilities: Capabilities = schema.PORTABLE
    detached_parts: int = 0  # parts the engine set aside when this store opened (ben.store.detached)

    def execute(self, sql: str) -> None:
        raise NotImplementedError

    def rows(self, sql: str) -> list[tuple]:
        raise NotImplementedError

    def insert_values(self, target: str, columns: list[str], rows: list[tuple]) -> None:
        """Insert a few rows of ints and strings (bookkeeping, not events)."""
        def literal(v) -> str:
            if isinstance(v, int):
                return str(v)
            return "'" + str(v).replace("\\", "\\\\").replace("'", "\\'") + "'"
        values = ", ".join("(" + ", ".join(literal(v) for v in row) + ")" for row in rows)
        self.execute(f"INSERT INTO {target} ({', '.join(columns)}) VALUES {values}")

    def _prepare(self, retention_days: int) -> None:
        """Probe the server, apply pending migrations, set the retention (at open)."""
        self.capabilities = migrations.probe(self)
        ran = migrations.apply(self, self.capabilities)
        if ran:
            log.info("store: schema now at version %d (applied %s)", migrations.LATEST, ran)
        self.retention_days = retention_days
        retention.set_ttl(self, self.capabilities, retention_days)
        self.detached_parts = detached.say(self, self.path or f"ClickHouse at {getattr(self, 'address', '?')}")

    def schema_version(self) -> int:
        done = migrations.applied(self)
        return max(done) if done else 0

    def _scalar(self, sql: str) -> int:
        rows = self.rows(sql)
        return int(rows[0][0] or 0) if rows else 0

    def max_spine_seq(self, lane: int) -> int:
        return self._scalar(f"SELECT max(spine_seq) FROM {schema.EVENTS} WHERE {schema.lane_is(lane)}")

    def count_rows(self) -> int:
        return self._scalar(f"SELECT count() FROM {schema.EVENTS}")

    def count_by_spine_seq(self, lane: int, low: int, high: int) -> dict[int, int]:
        rows = self.rows(f"SELECT spine_seq, count() FROM {schema.EVENTS} WHERE {schema.lane_is(lane)} "
                         f"AND spine_seq BETWEEN {int(low)} AND {int(high)} GROUP BY spine_seq")
        return {int(seq): int(n) for seq, n in rows}

    def enforce_retention(self) -> list[str]:
        """Drop day partitions older than the retention (every backend; TTL also acts where supported)."""
        return retention.drop_expired(self, self.retention_days)
