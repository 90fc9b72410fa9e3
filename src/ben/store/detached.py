"""Parts the store engine set aside: counted and said at every open of the store (ADR 0046, round 7).

ClickHouse (chDB alike) loads a MergeTree table's parts when it opens the data; a part it cannot load
(a file missing, empty or torn; a checksum that does not match) is not refused but moved aside, to the
table's ``detached/`` directory under a name saying why (``broken-on-start_``, ``unexpected_``,
``ignored_``, ``covered-by-broken_`` ...), and its rows quietly leave every query. Nothing else says so:
a store opened that way answers as if those rows had never been stored, and the WAL that held them was
truncated long ago. ben never detaches a part itself, so every part listed in ``system.detached_parts``
of ben's database is one the engine set aside: the store says them in one warning line at its open
(table, reason, how many) and counts them (``store_detached_parts`` on the spine's metrics). They stay
where the engine put them, for an operator to inspect (``ALTER TABLE ... ATTACH PART`` takes back a part
that was only set aside as a precaution).
"""

from __future__ import annotations

import logging

from ben.core.errors import StorageError
from ben.store import schema

log = logging.getLogger(__name__)

#: The words of the warning line (the crash harness looks for them in the spine's log).
SAID = "store: the store engine set aside"


def count(ex) -> dict[tuple[str, str], int]:
    """``(table, reason) -> parts`` of ben's database in ``system.detached_parts`` (``{}`` where a server has
    no such table or no ``reason`` column, as 18.16)."""
    try:
        rows = ex.rows(f"SELECT table, reason, count() FROM system.detached_parts "
                       f"WHERE database = '{schema.DATABASE}' GROUP BY table, reason ORDER BY table, reason")
    except StorageError as exc:
        log.debug("store: system.detached_parts not read: %s", exc)
        return {}
    return {(str(table), str(reason) or "detached by a statement"): int(n) for table, reason, n in rows}


def say(ex, where: object) -> int:
    """Count the parts set aside and, if any, say them in one warning line naming ``where`` (the data
    directory or server); how many."""
    found = count(ex)
    total = sum(found.values())
    if total:
        listed = ", ".join(f"{schema.DATABASE}.{table}: {n} {reason}" for (table, reason), n in found.items())
        log.warning("%s %d part%s it could not load when it opened %s (%s): their rows are not in the store; "
                    "they are kept in the tables' detached/ directories (system.detached_parts)",
                    SAID, total, "" if total == 1 else "s", where, listed)
    return total
