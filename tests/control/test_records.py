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


def test_record_keys_are_trimmed_past_the_window_and_a_line_within_it_is_still_audited_once(home: Path) -> None:
    """ADR 0046 round 6: the keys grew with every cortex line for good (about 50 bytes each); those of entries
    older than ``record_dedup_window_s`` go, at each start and hourly as records arrive."""
    setup = make_setup(home)
    cfg = ControlConfig(trust=setup.trust, policy=setup.policy, record_dedup_window_s=3600)
    plane = ControlPlane(cfg, home / "spine")

    def keys() -> int:
        return sum(1 for k, _ in plane.db.scan(b"r") if len(k) == 33)

    try:
        old = [plane.record("outcome", "inc-1", body(i, 100 + i)) for i in range(1, 6)]
        new = plane.record("decision", "inc-1", body(6, 106))
        assert keys() == 6
        # an hour after the sixth line was audited, less a nanosecond: the first five are past the window
        assert plane.record_keys.retain(now_ns=new["ts"] + 3600 * 10**9 - 1) == 5
        assert keys() == 1 and plane.record_keys.retain(now_ns=new["ts"] + 3600 * 10**9 - 1) == 0
        assert plane.record("decision", "inc-1", body(6, 106)) == new            # within the window: once
        again = plane.record("outcome", "inc-1", body(1, 101))                  # past it: audited again
        assert again["seq"] == new["seq"] + 1
        assert records(plane) == [(o["seq"], i) for i, o in enumerate(old, 1)] + [(new["seq"], 6), (again["seq"], 1)]
    finally:
        plane.close()
    plane = ControlPlane(cfg, home / "spine")    # the deletions and the horizon are in the control database
    try:
        assert keys() == 2 and plane.record_keys.horizon_ns > old[-1]["ts"]
        assert plane.record("decision", "inc-1", body(6, 106)) == new
        assert all(v["ok"] for v in plane.verify_audit())
    finally:
        plane.close()


def test_record_keys_of_entries_older_than_the_window_go_at_the_next_start(home: Path) -> None:
    setup = make_setup(home)
    plane = ControlPlane(ControlConfig(trust=setup.trust, policy=setup.policy), home / "spine")
    try:
        first = plane.record("outcome", "inc-1", body(1, 100))
    finally:
        plane.close()
    cfg = ControlConfig(trust=setup.trust, policy=setup.policy, record_dedup_window_s=1e-9)  # every entry is past it
    plane = ControlPlane(cfg, home / "spine")
    try:
        assert plane.record_keys.trimmed == 1 and not any(len(k) == 33 for k, _ in plane.db.scan(b"r"))
        assert records(plane) == [(first["seq"], 1)]
    finally:
        plane.close()
