"""Verifying a stopped component's audit log straight from its data directory (``ben audit verify --data-dir``)."""

from __future__ import annotations

import json
from pathlib import Path

from ben.control.anchor import read_anchor
from ben.control.audit import QUERY_PREFIX, read_positions, report, verify_copy, verify_entries
from ben.control.component import component_public, control_dir
from ben.control.db import ControlDb
from ben.core.errors import ConfigError
from ben.store.schema import AUDIT


def verify_data_dir(data_dir: Path, key: Path | None = None, store_path: Path | None = None, *, store=None,
                    with_store: bool = True) -> list[dict]:
    """Verify <data_dir>/control/db (and, for a spine, the ben.audit copy in its chDB); a report per copy.

    ``store``: an already open store to read ``ben.audit`` from; ``with_store=False``: the local log only.
    """
    data_dir = Path(data_dir)
    if not (control_dir(data_dir) / "db").is_dir():
        raise ConfigError("no control database here (expected <data_dir>/control/db)", source=str(data_dir),
                          field="--data-dir")
    name = "spine" if (control_dir(data_dir) / "spine.pub").exists() else "sidecar"
    keys = component_public(data_dir, name, key)
    if not keys:
        raise ConfigError(f"no public key to verify signatures with (expected control/{name}.pub or --key)",
                          source=str(data_dir), field="--data-dir")
    db = ControlDb(control_dir(data_dir) / "db")
    try:
        positions = read_positions(db)
        queries = read_positions(db, QUERY_PREFIX)  # the spine's query log (ADR 0045, 2026-12)
        anchor, unreadable = read_anchor(db, QUERY_PREFIX)  # ... trimmed behind a signed anchor (round 4)
    finally:
        db.close()
    local_entries = [e for _, e in positions if e is not None]
    verdicts = [verify_entries(positions, keys, "local log")]
    if queries or anchor is not None or unreadable:
        verdicts.append(verify_entries(queries, keys, "query log", anchor))
        if unreadable:
            verdicts[-1].problems.insert(0, f"query log: {unreadable}")
    chdb_dir = store_path or (data_dir / "chdb" if name == "spine" else None)
    sql = f"SELECT * FROM {AUDIT} ORDER BY seq"
    if store is not None:
        verdicts.append(verify_copy(json.loads(store.query_json(sql))["data"], keys, local_entries, AUDIT))
    elif with_store and chdb_dir is not None and chdb_dir.is_dir():
        from ben.store.chdb import ChdbStore

        opened = ChdbStore(chdb_dir)
        try:
            rows = json.loads(opened.query_json(sql))["data"]
        finally:
            opened.close()
        verdicts.append(verify_copy(rows, keys, local_entries, AUDIT))
    return report(verdicts)
