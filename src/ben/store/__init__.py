"""The store: ClickHouse. Embedded chDB is the default backend; a ClickHouse server is the other.

Public API: ``open_store(config, path)`` returns a ``Store`` (schema migrated, retention set): for
chDB, a ``ChdbProcessStore`` (chDB in a child process, so that its GIL-holding calls never stall
the spine; ``ben.store.process``); tools that run alone (replay, offline queries) open a
``ChdbStore`` in their own process;
``rows.to_table`` turns spine WAL records into the Arrow table the store inserts.
"""

from __future__ import annotations

from pathlib import Path

from ben.core.priority import BACKGROUND_NICE
from ben.store.base import Store
from ben.store.chdb import ChdbStore
from ben.store.process import ChdbProcessStore
from ben.store.server import ClickHouseStore

__all__ = ["ChdbProcessStore", "ChdbStore", "ClickHouseStore", "Store", "open_store"]


def open_store(config, path: Path | str, background_nice: int = BACKGROUND_NICE) -> Store:
    """The store a ``StoreConfig`` names; ``path`` is the chDB directory (unused for a server);
    chDB's background threads run at ``background_nice`` (ADR 0024)."""
    if config.backend == "chdb":
        return ChdbProcessStore(path, retention_days=config.retention_days, background_nice=background_nice)
    if config.backend == "clickhouse":
        import os

        store = ClickHouseStore(config.host, config.port, config.user, config.password(), config.secure,
                                config.connect_timeout_s, retention_days=config.retention_days,
                                writeback_wait_s=config.writeback_wait_s)
        if config.query_user:  # operator queries as a read-only user (ADR 0032)
            store.query_credentials = (config.query_user, os.environ.get(config.query_password_env, "")
                                       if config.query_password_env else "")
        return store
    from ben.core.errors import StorageError

    raise StorageError(f"unknown store backend {config.backend!r}")
