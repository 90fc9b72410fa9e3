"""``ben.store`` loads its backends at first use (ADR 0048, fifth round): a process that needs one module of the
store does not pay for pyarrow, chDB's module, both backends and the configuration's pydantic models."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("pyarrow", "pydantic", "ben.core.config", "ben.store.base", "ben.store.chdb", "ben.store.process",
         "ben.store.server")


def loaded(code: str) -> list[str]:
    """The HEAVY modules a fresh interpreter holds after running ``code``."""
    probe = f"{code}\nimport sys\nprint(sorted(m for m in sys.modules if m in {HEAVY!r}))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    return eval(out.stdout)  # noqa: S307 - a list of names this test printed


def test_checking_a_query_loads_neither_arrow_nor_a_backend_nor_the_configuration() -> None:
    """``ben query`` to a running spine checks its SQL with ``ben.store.query``: 0.3 s of CPU less per call."""
    assert loaded("from ben.store.query import QueryLimits, new_query_id, SYSTEM_TABLES\nimport ben.cli.query") == []


def test_the_store_process_loads_no_configuration() -> None:
    """The store process (``ben.store.worker``) reads no configuration file: its arguments say everything."""
    assert loaded("import ben.store.worker") == ["ben.store.base", "ben.store.chdb", "ben.store.process", "pyarrow"]


def test_the_backends_are_still_names_of_the_package() -> None:
    from ben.core.config import QUERY_SYSTEM_TABLES, StoreConfig
    from ben.store import ChdbProcessStore, ChdbStore, ClickHouseStore, Store, open_store
    from ben.store.chdb import ChdbStore as chdb_store
    from ben.store.query import SYSTEM_TABLES

    assert ChdbStore is chdb_store and ClickHouseStore.__module__ == "ben.store.server"
    assert ChdbProcessStore.__module__ == "ben.store.process" and Store.__module__ == "ben.store.base"
    assert open_store.__module__ == "ben.store"
    assert SYSTEM_TABLES == QUERY_SYSTEM_TABLES and StoreConfig().query_system_tables == list(QUERY_SYSTEM_TABLES)
    import ben.store

    with pytest.raises(AttributeError, match="no attribute 'ChDBStore'"):
        ben.store.ChDBStore  # noqa: B018 - a misspelt name is an AttributeError, not an import of something else
