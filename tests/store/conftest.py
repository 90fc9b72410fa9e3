"""The storage suite runs on both backends: embedded chDB and a real ClickHouse server (18.16)."""

from __future__ import annotations

import pytest

from ben.store import ChdbStore, ClickHouseStore


@pytest.fixture(params=["chdb", "clickhouse"])
def backend(request) -> str:
    return request.param


@pytest.fixture
def open_backend(backend, tmp_path, request):
    """A function that opens (or re-opens) a store of this backend on the same data."""
    opened = []
    server = request.getfixturevalue("clickhouse") if backend == "clickhouse" else None

    def open_(retention_days: int = 0):
        if server is None:
            store = ChdbStore(tmp_path / "chdb", retention_days=retention_days)
        else:
            store = ClickHouseStore(server.host, server.port, retention_days=retention_days)
        opened.append(store)
        return store

    yield open_
    for store in opened:
        store.close()


@pytest.fixture
def store(open_backend):
    return open_backend()
