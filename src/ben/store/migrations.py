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

A migration may also have a ``run`` step (Python, after its statements) for what DDL alone cannot
do, such as moving data; its checksum covers ``run_text``, which names what the step does.

Rules for new migrations: never edit a released one (add a new number); every statement and step
must be idempotent (``IF NOT EXISTS``, ``ADD COLUMN IF NOT EXISTS`` on modern servers; a step finds
where a crash left it), because a crash between the DDL and its record runs it again.
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
    """One numbered schema migration: its statements per server capability, and its checksum."""

    version: int
    name: str
    statements: Callable[[Capabilities], list[str]]
    run: Callable[[Executor, Capabilities], None] | None = None
    run_text: str = ""  # what ``run`` does, for the checksum: change it whenever the step changes

    @property
    def checksum(self) -> str:
        text = "\n;\n".join(s.strip() for caps in (schema.PORTABLE, schema.MODERN) for s in self.statements(caps))
        if self.run_text:
            text += "\n;\n" + self.run_text
        return hashlib.sha256(text.encode()).hexdigest()


def _tables(ex: Executor) -> set[str]:
    return {str(r[0]) for r in ex.rows(f"SELECT name FROM system.tables WHERE database = '{schema.DATABASE}'")}


_NEW_EVENTS = f"{schema.DATABASE}.events_by_lane"    # the copy being built
_OLD_EVENTS = f"{schema.DATABASE}.events_by_day"     # the previous table, until the copy replaced it


def repartition_events(ex: Executor, caps: Capabilities) -> None:
    """Migration 5: ben.events partitioned by (day, lane) instead of by day.

    A partition key cannot be altered, so the table is copied: a new table with the new key, every
    day of ben.events copied into it (logged day by day: a large store takes a while), then the new
    table takes the name. Each state a crash can leave is recognised by the tables that exist:
    ``events`` + ``events_by_lane`` (copy not finished: start it again on an emptied copy),
    ``events_by_day`` + ``events_by_lane`` (between the two renames: finish them), ``events`` +
    ``events_by_day`` (the old table not yet dropped: drop it).
    """
    tables = _tables(ex)
    short = lambda name: name.split(".", 1)[1]  # noqa: E731
    if short(_OLD_EVENTS) not in tables or "events" in tables:
        if "events" not in tables:  # no events table at all: nothing to copy
            ex.execute(schema.create_events(caps, partition=schema.EVENTS_PARTITION))
            return
        if short(_OLD_EVENTS) in tables:  # the copy replaced events; the old table was not dropped yet
            _drop(ex, _OLD_EVENTS)
            return
        if short(_NEW_EVENTS) in tables:
            ex.execute(f"TRUNCATE TABLE {_NEW_EVENTS}")  # a copy a crash interrupted: start it again
        ex.execute(schema.create_events(caps, table=_NEW_EVENTS, partition=schema.EVENTS_PARTITION))
        days = [int(r[0]) for r in ex.rows(
            f"SELECT DISTINCT {schema.EVENTS_PARTITION_BY_DAY} AS day FROM {schema.EVENTS} ORDER BY day")]
        total = 0
        for i, day in enumerate(days, 1):
            ex.execute(f"INSERT INTO {_NEW_EVENTS} SELECT * FROM {schema.EVENTS} "
                       f"WHERE {schema.EVENTS_PARTITION_BY_DAY} = {day}")
            total = int(ex.rows(f"SELECT count() FROM {_NEW_EVENTS}")[0][0])
            log.info("store: migration 5 copied day %d (%d of %d) into the table partitioned by lane; "
                     "%d rows so far", day, i, len(days), total)
        ex.execute(f"RENAME TABLE {schema.EVENTS} TO {_OLD_EVENTS}")
    ex.execute(f"RENAME TABLE {_NEW_EVENTS} TO {schema.EVENTS}")
    _drop(ex, _OLD_EVENTS)


def add_anomaly_unit(ex: Executor, caps: Capabilities) -> None:
    """Migration 9: ``ben.anomalies.unit``, the unit an anomaly's baseline and observed values are in as
    said ("ms", "bytes per s"; '' in rows written before: their name's suffix says it). Added where it
    is missing (a check every server answers, 18.16 too): a crash before the record runs it again."""
    have = ex.rows(f"SELECT count() FROM system.columns WHERE database = '{schema.DATABASE}' "
                   "AND table = 'anomalies' AND name = 'unit'")
    if not int(have[0][0]):
        ex.execute(f"ALTER TABLE {schema.ANOMALIES} ADD COLUMN unit String DEFAULT ''")


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "events", lambda caps: [schema.create_events(caps)]),
    Migration(2, "anomalies_incidents", lambda caps: [schema.create_anomalies(caps), schema.create_incidents(caps)]),
    Migration(3, "commands_audit", lambda caps: [schema.create_commands(), schema.create_audit()]),
    Migration(4, "friendly_views", schema.create_views),
    Migration(5, "events_by_lane", lambda caps: [], repartition_events,
              "copy ben.events into a table PARTITION BY (day, lane), rename it to ben.events, drop the old one"),
    Migration(6, "spans_view", lambda caps: [schema.create_spans_view()]),
    Migration(7, "federated_incidents", lambda caps: [schema.create_federated_incidents(caps)]),
    Migration(8, "incident_labels", lambda caps: [schema.create_incident_labels(caps)]),
    Migration(9, "anomaly_unit", lambda caps: [], add_anomaly_unit,
              "ALTER TABLE ben.anomalies ADD COLUMN unit String DEFAULT '' where system.columns lacks it"),
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
        if m.run is not None:
            m.run(ex, caps)
        ex.insert_values(schema.MIGRATIONS, ["version", "name", "applied_ts", "checksum", "features"],
                         [(m.version, m.name, time.time_ns(), m.checksum, caps.features())])
        ran.append(m.version)
        log.info("store: applied migration %d (%s) in %.2fs", m.version, m.name, time.monotonic() - started)
    return ran
