"""The store: ClickHouse. Embedded chDB is the default backend; a ClickHouse server is the other.

Public API: ``open_store(config, path)`` returns a ``Store`` (schema migrated, retention set): for
chDB, a ``ChdbProcessStore`` (chDB in a child process, so that its GIL-holding calls never stall
the spine; ``ben.store.process``); tools that run alone (replay, offline queries) open a
``ChdbStore`` in their own process;
``rows.to_table`` turns spine WAL records into the Arrow table the store inserts.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ben.core.priority import BACKGROUND_NICE

if TYPE_CHECKING:
    from ben.store.base import Store
    from ben.store.chdb import ChdbStore
    from ben.store.process import ChdbProcessStore
    from ben.store.server import ClickHouseStore

__all__ = ["ChdbProcessStore", "ChdbStore", "ClickHouseStore", "Store", "open_store"]


def __getattr__(name: str):
    """The backends, imported at their first use (ADR 0048): a process that needs one module of the store
    (``ben query`` to a running spine checks its SQL with ``ben.store.query``) no longer loads pyarrow, chDB's
    module and both backends with the package. ``open_store`` imports the configured backend when the
    component starts, so a backend that cannot load still fails the start."""
    if name == "Store":
        from ben.store.base import Store as value
    elif name == "ChdbStore":
        from ben.store.chdb import ChdbStore as value
    elif name == "ChdbProcessStore":
        from ben.store.process import ChdbProcessStore as value
    elif name == "ClickHouseStore":
        from ben.store.server import ClickHouseStore as value
    else:
        raise AttributeError(f"module 'ben.store' has no attribute {name!r}")
    globals()[name] = value
    return value


def open_store(config, path: Path | str, background_nice: int = BACKGROUND_NICE) -> Store:
    """The store a ``StoreConfig`` names; ``path`` is the chDB directory (unused for a server);
    chDB's background threads run at ``background_nice`` (ADR 0024)."""
    if config.backend == "chdb":
        from ben.store.process import ChdbProcessStore

        return ChdbProcessStore(path, retention_days=config.retention_days, background_nice=background_nice)
    if config.backend == "clickhouse":
        import os

        from ben.store.server import ClickHouseStore

        store = ClickHouseStore(config.host, config.port, config.user, config.password(), config.secure,
                                config.connect_timeout_s, retention_days=config.retention_days,
                                writeback_wait_s=config.writeback_wait_s)
        if config.query_user:  # operator queries as a read-only user (ADR 0032)
            store.query_credentials = (config.query_user, os.environ.get(config.query_password_env, "")
                                       if config.query_password_env else "")
        return store
    from ben.core.errors import StorageError

    raise StorageError(f"unknown store backend {config.backend!r}")
