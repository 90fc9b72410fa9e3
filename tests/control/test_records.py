"""Operators' records (``Control.Record``, the cortex's lines) in the spine's audit log: a record sent again is
answered with the entry it made, once, also when the copies arrive at once and after a reopen (ADR 0046
round 5; the kill -9 case is ``tests/cortex/test_record_kills.py``)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from ben.control.audit import RECORD_KINDS
from ben.control.plane import ControlPlane
from ben.core.config import ControlConfig
from tests.control.conftest import make_setup


def body(seq: int, at_ns: int) -> str:
    return json.dumps({"reason": f"cortex learned reward 1.00 for watch on inc-1 (line {seq})", "cortex_seq": seq,
                       "incident_id": "inc-1", "at_ns": at_ns, "response": "watch", "reward": "1.0000"})


def records(plane: ControlPlane) -> list[tuple[int, int]]:
    return [(e.seq, e.body["cortex_seq"]) for e in plane.audit.entries() if e.kind in RECORD_KINDS]


def test_a_record_sent_again_is_the_entry_it_made(home: Path) -> None:
    setup = make_setup(home)
    cfg = ControlConfig(trust=setup.trust, policy=setup.policy)
    plane = ControlPlane(cfg, home / "spine")
    try:
        first = plane.record("outcome", "inc-1", body(1, 100))
        assert plane.record("outcome", "inc-1", body(1, 100)) == first
        other = plane.record("outcome", "inc-1", body(1, 101))      # another line (another cortex, another time)
        assert other["seq"] == first["seq"] + 1
        copies: list[dict] = []
        threads = [threading.Thread(target=lambda: copies.append(plane.record("decision", "inc-1", body(2, 200))))
                   for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert len(copies) == 8 and len({c["seq"] for c in copies}) == 1
        assert records(plane) == [(first["seq"], 1), (other["seq"], 1), (copies[0]["seq"], 2)]
    finally:
        plane.close()
    plane = ControlPlane(cfg, home / "spine")    # the keys are in the control database, with the entries
    try:
        assert plane.record("decision", "inc-1", body(2, 200)) == copies[0]
        assert len(records(plane)) == 3
        assert all(v["ok"] for v in plane.verify_audit())
    finally:
        plane.close()
