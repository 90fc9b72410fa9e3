"""The store: ClickHouse. Embedded chDB is the default backend.

Public API: ``open_store(config)`` returns a ``Store``; ``rows.to_table`` turns spine WAL
records into the Arrow table the store inserts.
"""

from ben.store.chdb import ChdbStore, Store, open_store

__all__ = ["ChdbStore", "Store", "open_store"]
