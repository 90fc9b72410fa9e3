"""Numbered schema migrations, applied at start-up and recorded in ``ben.schema_migrations``.

Each migration is ``(version, name, statements(capabilities))``. At start the store
(``apply``): creates the database and the migrations table, reads what was applied, refuses a
database whose record says a migration was applied with a different checksum (its DDL was edited
after release) or a version this code does not know (a newer ben wrote it), then runs every pending
migration in order and records it. The checksum covers the DDL of every variant (portable and
modern), so it does not depend on the server a migration ran on; ``features`` records which
variant ran.

Migrations 1-2 use ``CREATE TABLE IF NOT EXISTS`` with the DDL that ben wrote before migrations
existed, so an existing deployment (tables, no migrations table) is adopted as it is.

Rules for new migrations: never edit a released one (add a new number); every statement must be
idempotent (``IF NOT EXISTS``, ``ADD COLUMN IF NOT EXISTS`` on modern servers), because a crash
between the DDL and its record runs it again.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from ben.core.errors import StorageError
from ben.store import schema
from ben.store.schema import Capabilities

log = logging.getLogger(__name__)


class Executor(Protocol):
    """What migrations need from a backend: run a statement, fetch rows of a SELECT."""

    def execute(self, sql: str) -> None: ...
    def rows(self, sql: str) -> list[tuple]: ...
    def insert_values(self, target: str, columns: list[str], rows: list[tuple]) -> None: ...


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: Callable[[Capabilities], list[str]]

    @property
    def checksum(self) -> str:
        text = "\n;\n".join(s.strip() for caps in (schema.PORTABLE, schema.MODERN) for s in self.statements(caps))
        return hashlib.sha256(text.encode()).hexdigest()


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "events", lambda caps: [schema.create_events(caps)]),
    Migration(2, "anomalies_incidents", lambda caps: [schema.create_anomalies(caps), schema.create_incidents(caps)]),
    Migration(3, "commands_audit", lambda caps: [schema.create_commands(), schema.create_audit()]),
    Migration(4, "friendly_views", schema.create_views),
)

LATEST = MIGRATIONS[-1].version


def _drop(ex: Executor, table: str) -> None:
    """Drop a scratch table now: SYNC where the server has it (modern servers otherwise drop in a
    background task minutes later, which a chDB process exiting meanwhile does not survive)."""
    try:
        ex.execute(f"DROP TABLE IF EXISTS {table} SYNC")
    except StorageError:  # 18.16: no SYNC, and its DROP is synchronous anyway
        ex.execute(f"DROP TABLE IF EXISTS {table}")


def _probe_ddl(ex: Executor, name: str, columns: str, tail: str = "") -> bool:
    table = f"{schema.DATABASE}.__ben_probe_{name}"
    _drop(ex, table)
    try:
        ex.execute(f"CREATE TABLE {table} ({columns}) ENGINE = MergeTree ORDER BY tuple(){tail}")
    except StorageError:
        return False
    _drop(ex, table)
    return True


def _probe_select(ex: Executor, sql: str) -> bool:
    try:
        ex.rows(sql)
    except StorageError:
        return False
    return True


def probe(ex: Executor) -> Capabilities:
    """Find what the server supports by trying it (scratch tables in the ben database)."""
    version = str(ex.rows("SELECT version()")[0][0])
    ex.execute(schema.create_database())
    caps = Capabilities(
        version=version,
        low_cardinality=_probe_ddl(ex, "lc", "s LowCardinality(String)"),
        codecs=_probe_ddl(ex, "codec", "x Int64 CODEC(Delta, ZSTD)"),
        ttl=_probe_ddl(ex, "ttl", "d Date", " TTL d + INTERVAL 1 DAY"),
        datetime64=_probe_select(ex, "SELECT fromUnixTimestamp64Nano(toInt64(1))"),
        map=_probe_select(ex, "SELECT mapFromArrays(['a'], ['b'])"),
    )
    log.info("store: ClickHouse %s, features: %s", version, caps.features())
    return caps


def applied(ex: Executor) -> dict[int, tuple[str, str]]:
    """version -> (name, checksum) of the migrations recorded in the database."""
    rows = ex.rows(f"SELECT version, name, checksum FROM {schema.MIGRATIONS} ORDER BY version")
    return {int(v): (str(n), str(c)) for v, n, c in rows}


def apply(ex: Executor, caps: Capabilities, migrations: tuple[Migration, ...] = MIGRATIONS) -> list[int]:
    """Bring the schema up to date; return the versions applied now."""
    ex.execute(schema.create_database())
    ex.execute(schema.create_migrations_table())
    done = applied(ex)
    known = {m.version: m for m in migrations}
    for version, (name, checksum) in sorted(done.items()):
        m = known.get(version)
        if m is None:
            raise StorageError(f"the store's schema has migration {version} ({name}) which this ben does not know "
                               f"(it knows 1..{migrations[-1].version}): it was written by a newer ben; upgrade ben")
        if checksum != m.checksum:
            raise StorageError(f"migration {version} ({m.name}) was applied with checksum {checksum[:12]} but this "
                               f"ben's is {m.checksum[:12]}: its DDL changed after release (add a new migration "
                               "instead of editing one)")
    ran = []
    for m in migrations:
        if m.version in done:
            continue
        started = time.monotonic()
        for statement in m.statements(caps):
            ex.execute(statement)
        ex.insert_values(schema.MIGRATIONS, ["version", "name", "applied_ts", "checksum", "features"],
                         [(m.version, m.name, time.time_ns(), m.checksum, caps.features())])
        ran.append(m.version)
        log.info("store: applied migration %d (%s) in %.2fs", m.version, m.name, time.monotonic() - started)
    return ran
