"""Labels audited, then stored, with a pending key between the two (ADR 0046 round 6): unit tests on a real
control database and a store double (the kill -9 case with real processes is ``test_label_kills``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ben.baseline.labels import PENDING, record_label, store_pending
from ben.control.plane import ControlPlane
from ben.core.config import ControlConfig
from tests.control.conftest import make_setup


class Store:
    """What ``record_label`` asks of a store: the incident is there; label rows kept (the last insert fails
    when ``fail`` is set); the queries it made."""

    def __init__(self):
        self.rows: list[tuple] = []
        self.fail = False
        self.queries: list[str] = []

    def query_json(self, sql: str) -> str:
        self.queries.append(sql)
        if "count()" in sql:
            return json.dumps({"data": [{"n": 1}]})
        return json.dumps({"data": [{"audit_seq": r[5]} for r in self.rows]})

    def insert_values(self, target: str, columns: list[str], rows: list[tuple]) -> None:
        if self.fail:
            raise OSError("the store process is gone")
        self.rows += rows


def pending(plane: ControlPlane) -> list[bytes]:
    return [k for k, _ in plane.db.scan(PENDING)]


def test_a_label_the_store_refused_stays_pending_and_is_stored_once_by_the_next_call(home: Path) -> None:
    setup = make_setup(home)
    plane = ControlPlane(ControlConfig(trust=setup.trust, policy=setup.policy), home / "spine")
    store = Store()
    try:
        first = record_label(store, plane, "inc-1", "real", "spike", "", "alice")
        assert [r[5] for r in store.rows] == [first] and pending(plane) == []
        store.fail = True
        with pytest.raises(OSError):
            record_label(store, plane, "inc-2", "noise", "", "", "bob")
        assert len(pending(plane)) == 1                              # audited, not stored: pending
        store.fail = False
        assert store_pending(store, plane) == 1 and pending(plane) == []
        row = store.rows[-1]
        entry = plane.audit.entries(after=row[5] - 1, limit=1)[0]
        assert row == ("inc-2", "noise", "other", "", "bob", entry.seq, entry.ts, entry.ts)   # the entry's row
        scans = sum("DISTINCT audit_seq" in q for q in store.queries)
        assert store_pending(store, plane) == 0 and record_label(store, plane, "inc-2", "real", "", "", "bob")
        assert sum("DISTINCT audit_seq" in q for q in store.queries) == scans == 1   # the log is checked once
        assert [r[0] for r in store.rows] == ["inc-1", "inc-2", "inc-2"] and store.rows[-1][7] > row[7]
        assert all(v["ok"] for v in plane.verify_audit())
    finally:
        plane.close()


def test_labels_audited_before_pending_keys_existed_and_not_stored_are_stored_once(home: Path) -> None:
    setup = make_setup(home)
    plane = ControlPlane(ControlConfig(trust=setup.trust, policy=setup.policy), home / "spine")
    store = Store()
    try:   # as the old code left it: an entry of kind label, no pending key, no row
        entry = plane.audit.append("label", "inc-9", {"reason": "incident labelled real (level)",
                                                      "incident_id": "inc-9", "label": "real", "kind": "level",
                                                      "note": "", "by": "carol"}, "carol")
        assert store_pending(store, plane) == 1 and [r[5] for r in store.rows] == [entry.seq]
        assert store_pending(store, plane) == 0 and len(store.rows) == 1
    finally:
        plane.close()
