"""Retention of raw events: ``store.retention_days`` (0 = keep forever).

Two mechanisms, one meaning ("events whose time is older than N days go"):
- TTL, where the server has it (modern ClickHouse, chDB): ``set_ttl`` puts (or removes) a table
  TTL on ``ben.events`` at every start, from the config, so changing the config changes the table.
  It is configuration, not schema: it is not a migration.
- Dropping whole day partitions, everywhere (the only way on 18.16): ``drop_expired`` drops the
  partitions whose day is entirely older than the retention. The spine's store writer calls it
  periodically. It is also useful with TTL: dropping a partition is immediate, TTL waits for merges.

The partition key is ``(toYYYYMMDD(toDateTime(ts seconds)), lane)`` (before migration 5: the day
alone) in the server's time zone; a partition's id starts with its day, and the cut-off is computed
by the server with the same expression, so the two always agree.
"""

from __future__ import annotations

import logging
import re
import time

from ben.store import schema
from ben.store.migrations import Executor
from ben.store.schema import Capabilities

log = logging.getLogger(__name__)

DAY_NS = 86_400 * 1_000_000_000
_OURS = re.compile(r"^(\d{8}|\(\d{8},'(routine|anomaly|alert)'\))$")  # a partition ben's key makes


def _ttl_expression(days: int, column: str = "ts") -> str:
    return f"toDateTime(intDiv({column}, 1000000000)) + INTERVAL {int(days)} DAY"


def current_ttl(ex: Executor, table: str = schema.EVENTS) -> str:
    rows = ex.rows(f"SELECT create_table_query FROM system.tables WHERE database = '{schema.DATABASE}' "
                   f"AND name = '{table.split('.', 1)[1]}'")
    query = str(rows[0][0]) if rows else ""
    at = query.find(" TTL ")
    if at < 0:
        return ""
    return query[at + 5:].split(" SETTINGS ")[0].strip()


def ttl_days(ttl: str) -> int | None:
    """Days of a TTL clause ben wrote (servers print it as INTERVAL N DAY or toIntervalDay(N))."""
    found = re.search(r"INTERVAL\s+(\d+)\s+DAY|toIntervalDay\((\d+)\)", ttl)
    return int(found.group(1) or found.group(2)) if found else None


def set_ttl(ex: Executor, caps: Capabilities, days: int, table: str = schema.EVENTS, column: str = "ts") -> bool:
    """Make ``table``'s TTL (on ``column``, unix ns) match the config; True if the table changed.
    No-op without TTL support. ben.events by default; ben.federated_incidents on ``received_ts``."""
    if not caps.ttl:
        return False
    have = current_ttl(ex, table)
    if days <= 0:
        if not have:
            return False
        ex.execute(f"ALTER TABLE {table} REMOVE TTL")
        log.info("store: retention off; TTL removed from %s", table)
        return True
    if ttl_days(have) == int(days):
        return False
    ex.execute(f"ALTER TABLE {table} MODIFY TTL {_ttl_expression(days, column)}")
    log.info("store: retention %d days (TTL on %s)", days, table)
    return True


def expired_partitions(ex: Executor, days: int, now_ns: int | None = None) -> list[str]:
    """Partitions of ben.events whose whole day is older than `days` days."""
    if days <= 0:
        return []
    cutoff_s = ((now_ns or time.time_ns()) - int(days) * DAY_NS) // 1_000_000_000
    rows = ex.rows(
        f"SELECT DISTINCT partition FROM system.parts WHERE database = '{schema.DATABASE}' AND table = 'events' "
        f"AND active AND toUInt32(splitByChar('-', partition_id)[1]) < toYYYYMMDD(toDateTime({int(cutoff_s)})) "
        "ORDER BY partition")
    return [str(r[0]) for r in rows]


def drop_expired(ex: Executor, days: int, now_ns: int | None = None) -> list[str]:
    """Drop the expired partitions of ben.events (each day's, every lane's); return them."""
    dropped = []
    for partition in expired_partitions(ex, days, now_ns):
        if not _OURS.match(partition):  # (day, lane), or the day before migration 5: nothing else is ours
            log.warning("store: retention skips unexpected partition %r of %s", partition, schema.EVENTS)
            continue
        ex.execute(f"ALTER TABLE {schema.EVENTS} DROP PARTITION {partition}")
        dropped.append(partition)
    if dropped:
        log.info("store: retention dropped %d day partition(s) of %s: %s", len(dropped), schema.EVENTS,
                 ", ".join(dropped))
    return dropped
