"""The spine's ControlPlane in-process (real RocksDB; a small stand-in for the store): the incident
link travels with the command, and records survive a reopen."""

from __future__ import annotations

import json
from pathlib import Path

from ben.control.documents import make_envelope
from ben.control.plane import ControlPlane
from ben.core.config import ControlConfig
from tests.control.conftest import make_setup


class Incidents:
    """Answers only what the plane asks of a store: does an incident exist; rows it mirrors."""

    def __init__(self, known: set[str]):
        self.known = known
        self.rows: list = []

    def query_json(self, sql: str) -> bytes:
        if "ben.incidents" in sql:
            return json.dumps({"data": [{"n": int(any(f"'{i}'" in sql for i in self.known))}]}).encode()
        return json.dumps({"data": [{"m": 0, "n": 0, "t": 0}]}).encode()

    def insert_rows(self, target: str, table) -> None:
        self.rows.append((target, table.to_pylist()))


def test_incident_link_and_reason_travel_with_the_command(home: Path) -> None:
    setup = make_setup(home)
    store = Incidents({"inc-3f2a9c0d1e"})
    cfg = ControlConfig(trust=setup.trust, policy=setup.policy)
    plane = ControlPlane(cfg, home / "spine", store)
    try:
        env, signed = make_envelope(setup.alice, "ping", "shop", {}, "probe checkout after the latency incident",
                                    incident_id="inc-3f2a9c0d1e")
        rec = plane.send(signed)
        assert rec["state"] == "pending" and rec["incident_id"] == "inc-3f2a9c0d1e"
        entry = plane.audit.entries()[-1]
        assert entry.body["incident_id"] == "inc-3f2a9c0d1e" and entry.body["reason"].startswith("probe checkout")
        assert plane.force_flush(10)  # mirrored in the background
        commands = [r for t, rows in store.rows if t == "ben.commands" for r in rows]
        assert commands[-1]["incident_id"] == "inc-3f2a9c0d1e" and commands[-1]["reason"] == env.reason
        assert plane.send(signed)["id"] == env.id  # sent twice: one command, and the repeat is audited
        assert plane.audit.entries()[-1].body["repeat"] is True
        _, other = make_envelope(setup.alice, "ping", "shop", {}, "x", incident_id="inc-0000000000")
        assert plane.send(other)["code"] == "unknown_incident"
    finally:
        plane.close()
    plane = ControlPlane(cfg, home / "spine", store)  # reopened: the records and the chain continue
    try:
        assert plane.records[env.id]["incident_id"] == "inc-3f2a9c0d1e"
        assert plane.verify_audit()[0]["ok"] and plane.audit.last_seq == 4  # the sidecar pin, then 3
    finally:
        plane.close()


def test_record_appends_an_operators_record_to_the_chain(home):
    """The cortex's recommendations, decisions and outcomes (ADR 0039): chained, signed, checked."""
    import pytest as _pytest

    from ben.control.plane import ControlPlane
    from ben.core.config import ControlConfig
    from ben.core.errors import ControlError
    from tests.control.conftest import make_setup

    setup = make_setup(home)
    plane = ControlPlane(ControlConfig(trust=setup.trust, policy=setup.policy), home / "spine")
    try:
        first = plane.audit.last_seq
        row = plane.record("recommendation", "inc-1", '{"reason": "cortex recommended watch for inc-1"}')
        assert row["seq"] == first + 1 and row["kind"] == "recommendation" and row["command_id"] == "inc-1"
        plane.record("decision", "inc-1", '{"reason": "ann dismissed", "decision": "dismiss", "operator": "mallory"}')
        for kind, subject, body in (("command", "inc-1", '{"reason": "x"}'), ("outcome", "inc'1", '{"reason": "x"}'),
                                    ("outcome", "inc-1", '{"no": "reason"}'), ("outcome", "inc-1", "[1]"),
                                    ("outcome", "inc-1", '{"reason": "x", "reward": 0.5}')):
            with _pytest.raises(ControlError, match="kind|subject|body_json"):   # floats: not canonical
                plane.record(kind, subject, body)
        assert plane.audit.last_seq == first + 2
        assert plane.verify_audit()[0]["ok"]
        [entry] = [e for e in plane.audit.entries(first + 1)]
        assert entry.prev_hash == plane.audit.entries(first)[0].hash and entry.body["decision"] == "dismiss"
        assert entry.body.get("operator") != "mallory"      # the caller is recorded, not what the body claims
    finally:
        plane.close()
