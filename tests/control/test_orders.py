"""The spine's ControlPlane in-process over a real RocksDB: every refusal is an audit entry with its
reason; kill-switch orders and approvals only move forward; sidecar keys are pinned in the trust
store (every change audited) and a receipt counts only from the sidecar the command was delivered to;
the mirror never leaves a command half-recorded; the audit key can live outside the data dir."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ben.control.audit import Entry
from ben.control.documents import (Approval, KillSwitch, Receipt, Signed, make_envelope, new_nonce, now_ns)
from ben.control.keys import generate
from ben.control.offline import verify_data_dir
from ben.control.plane import ControlPlane
from ben.core.config import ControlConfig
from ben.core.errors import ControlError
from tests.control.conftest import SIDECAR_ID, make_setup

S = 10**9


class Store:
    """What the plane asks of a store; ``fail`` makes the next inserts raise (any exception)."""

    def __init__(self):
        self.rows: dict[str, list] = {"ben.audit": [], "ben.commands": []}
        self.fail = 0

    def query_json(self, sql: str) -> bytes:
        if "ben.incidents" in sql:
            return json.dumps({"data": [{"n": 0}]}).encode()
        if "ben.commands" in sql:
            stamps = [r["updated_ts"] for r in self.rows["ben.commands"]]
            return json.dumps({"data": [{"t": max(stamps, default=0), "n": len(stamps)}]}).encode()
        seqs = [r["seq"] for r in self.rows["ben.audit"]]
        return json.dumps({"data": [{"m": max(seqs, default=0), "n": len(seqs)}]}).encode()

    def insert_rows(self, target: str, table) -> None:
        if self.fail:
            self.fail -= 1
            raise UnicodeEncodeError("utf-8", "\udc80", 0, 1, "surrogates not allowed")
        self.rows[target] += table.to_pylist()


@pytest.fixture
def spine(home: Path):
    setup = make_setup(home)
    plane = ControlPlane(ControlConfig(trust=setup.trust, policy=setup.policy), home / "spine")
    yield setup, plane
    plane.close()


def order(signer, on: bool, issued_at: int | None = None) -> Signed:
    return KillSwitch(on=on, issuer=signer.id, issued_at=now_ns() if issued_at is None else issued_at,
                      nonce=new_nonce(), reason="stop" if on else "resume").sign(signer)


def decision(signer, rec: dict, verdict: str = "approve", reason: str = "looked at it") -> Signed:
    envelope = Signed.from_json(rec["envelope"])
    return Approval(command_id=rec["id"], envelope_hash=envelope.hash, decision=verdict, issuer=signer.id,
                    issued_at=now_ns(), nonce=new_nonce(), reason=reason).sign(signer)


def receipt(signer, rec: dict, sidecar_id: str = SIDECAR_ID, status: str = "accepted") -> Signed:
    return Receipt(command_id=rec["id"], envelope_hash=rec["envelope_hash"], sidecar_id=sidecar_id,
                   target=rec["target"], status=status, code="ok" if status == "accepted" else "no_handler",
                   reason="r", result={}, received_at=now_ns(), finished_at=now_ns(), issuer=signer.id).sign(signer)


def refusals(plane: ControlPlane) -> list[tuple[str, str]]:
    return [(e.command_id, e.body["code"]) for e in plane.audit.entries() if e.kind == "refusal"]


def test_every_refusal_at_the_spine_is_an_audit_entry_with_its_reason(spine) -> None:
    s, plane = spine
    now = now_ns()
    sends = {  # every reason send() refuses with
        "malformed": lambda: make_envelope(s.alice, "ping", "shop", {}, "ok")[1].__class__(b"{}", b"x" * 64),
        "unknown_key": lambda: make_envelope(s.stranger, "ping", "shop", {}, "who")[1],
        "bad_signature": lambda: Signed(make_envelope(s.alice, "ping", "shop", {}, "f")[1].body, b"\x00" * 64),
        "wrong_role": lambda: make_envelope(s.victor, "set_mode", "shop", {"mode": "normal"}, "no")[1],
        "wrong_target": lambda: make_envelope(s.victor, "ping", "batch", {}, "no")[1],
        "expired": lambda: make_envelope(s.alice, "ping", "shop", {}, "old", issued_at=now - 900 * S, ttl_s=60)[1],
        "not_yet_valid": lambda: make_envelope(s.alice, "ping", "shop", {}, "soon", issued_at=now + 120 * S)[1],
        "ttl_too_long": lambda: make_envelope(s.alice, "ping", "shop", {}, "long", ttl_s=10 * 86_400)[1],
        "action_not_allowed": lambda: make_envelope(s.alice, "reboot", "shop", {}, "no rule")[1],
    }
    for code, make in sends.items():
        rec = plane.send(make())
        assert rec["code"] == code, (code, rec)
        assert refusals(plane)[-1] == (rec["id"], code), code
    _, first = make_envelope(s.alice, "ping", "shop", {}, "first")
    plane.send(first)
    env = json.loads(first.body)
    again = make_envelope(s.alice, "ping", "shop", {}, "same id", command_id=env["id"])[1]
    assert plane.send(again)["code"] == "replayed_id" and refusals(plane)[-1] == (env["id"], "replayed_id")
    reseq = make_envelope(s.alice, "ping", "shop", {}, "same seq", seq=env["seq"])[1]
    assert plane.send(reseq)["code"] == "replayed_sequence" and refusals(plane)[-1][1] == "replayed_sequence"
    for i in range(4):  # rate = 3 (limited): the 4th is over
        plane.send(make_envelope(s.alice, "limited", "shop", {}, f"r{i}")[1])
    assert refusals(plane)[-1][1] == "over_rate"
    plane.set_kill_switch(order(s.alice, True))
    assert plane.send(make_envelope(s.bot, "ping", "shop", {}, "bot")[1])["code"] == "kill_switch"
    assert refusals(plane)[-1][1] == "kill_switch"

    # decide(): approving twice, unknown, expired, mismatched, replayed, by a non-approver, by the signer
    # under the two-person rule: each refused *and* audited
    proposal = plane.send(make_envelope(s.alice, "quarantine_artifact", "shop", {"artifact": "m"}, "q")[1])
    short = plane.send(make_envelope(s.alice, "quarantine_artifact", "shop", {"artifact": "n"}, "q", ttl_s=1)[1])
    two = plane.send(make_envelope(s.alice, "two_person", "shop", {}, "needs two")[1])
    assert two["state"] == "awaiting_approval" and two["code"] == "distinct_approver_required"
    first_ok = decision(s.alice, proposal)
    assert plane.decide(first_ok)["state"] == "pending"
    other = dict(proposal, id="cmd-nope")
    mismatched = Approval(command_id=proposal["id"], envelope_hash="0" * 64, decision="approve", issuer=s.alice.id,
                          issued_at=now_ns(), nonce=new_nonce(), reason="x").sign(s.alice)
    short["expires_at"] = now_ns() - 120 * S  # as if the clock moved on (the record is the plane's own)
    plane.records[short["id"]]["expires_at"] = short["expires_at"]
    cases = [
        (decision(s.alice, proposal), "state"),          # approving twice
        (first_ok, "replayed_nonce"),                    # the same approval again
        (decision(s.alice, other), "unknown"),
        (decision(s.alice, short), "expired"),
        (mismatched, "approval_mismatch"),
        (decision(s.victor, two), "wrong_role"),
        (decision(s.alice, two), "same_approver"),
    ]
    for signed, code in cases:
        with pytest.raises(ControlError) as err:
            plane.decide(signed)
        assert err.value.reason == code, (code, err.value)
        assert refusals(plane)[-1][1] == code, code
    assert plane.decide(decision(s.bob, two))["state"] == "pending"  # a second person

    # kill-switch orders: a non-approver's, a stale one (5 min), an older one, a replayed one
    held = order(s.alice, False)
    plane.set_kill_switch(held)
    for signed, code in [(order(s.victor, True), "wrong_role"), (order(s.alice, True, now - 600 * S), "expired"),
                         (order(s.alice, True, json.loads(held.body)["issued_at"] - 1), "stale_order"),
                         (held, "replayed_nonce"), (Signed(held.body, b"\x01" * 64), "bad_signature")]:
        with pytest.raises(ControlError) as err:
            plane.set_kill_switch(signed)
        assert err.value.reason == code and refusals(plane)[-1] == ("", code), code
    assert plane.kill["on"] is False

    # receipts: unsigned by the pinned key, or from a sidecar the command was not delivered to
    rec = plane.send(make_envelope(s.alice, "ping", "shop", {}, "deliver me")[1])
    plane.claim(SIDECAR_ID, {"shop"}, 100)
    plane.receipt(SIDECAR_ID, receipt(s.stranger, rec))
    assert refusals(plane)[-1] == (rec["id"], "bad_receipt")
    plane.receipt("rogue", receipt(s.stranger, rec, "rogue"))
    assert refusals(plane)[-1][1] in ("bad_receipt", "wrong_sidecar")
    assert plane.records[rec["id"]]["state"] == "delivered"
    assert plane.verify_audit()[0]["ok"]


def test_a_command_whose_signer_was_revoked_while_it_waited_is_not_released_by_its_approval(spine) -> None:
    """ADR 0045 round 9: the approval checked the approver's key, not the signer's. alice's command awaiting a
    second person was released by bob's approval after alice's key had been taken out of the spine's trust store
    (a theft found) or her role had lost the action: delivered to every sidecar whose own trust store was not yet
    updated. Now the approval refuses it for good, naming why, audited."""
    from tests.control.conftest import trust_toml

    s, plane = spine
    waiting = [plane.send(make_envelope(s.alice, "two_person", "shop", {}, f"needs two {i}")[1]) for i in range(2)]
    assert [w["state"] for w in waiting] == ["awaiting_approval"] * 2
    original = s.trust.read_text()
    s.trust.write_text(original.replace('actions = ["*"]', 'actions = ["ping"]', 1))  # alice's role loses it
    rec = plane.decide(decision(s.bob, waiting[0]))
    assert (rec["state"], rec["code"]) == ("refused", "wrong_role") and "no longer may" in rec["refusal"]
    assert refusals(plane)[-1] == (waiting[0]["id"], "wrong_role")
    s.trust.write_text(trust_toml(s.bob, s.bot, s.victor, s.sidecar))  # alice revoked (bob kept, as the operator)
    rec = plane.decide(decision(s.bob, waiting[1]))
    assert (rec["state"], rec["code"]) == ("refused", "unknown_key"), rec
    assert refusals(plane)[-1] == (waiting[1]["id"], "unknown_key")
    assert plane.claim(SIDECAR_ID, {"shop"}, 100) == []  # nothing was released to a sidecar
    assert plane.verify_audit()[0]["ok"]


def test_a_replayed_older_kill_switch_order_cannot_lift_it(spine) -> None:
    """The reported attack: an approver's earlier "off", replayed after "on", within its 5 minutes."""
    s, plane = spine
    earlier_off = order(s.alice, False, now_ns() - 10 * S)
    plane.set_kill_switch(order(s.alice, True))
    with pytest.raises(ControlError) as err:
        plane.set_kill_switch(earlier_off)
    assert err.value.reason == "stale_order" and plane.kill["on"] is True
    assert plane.send(make_envelope(s.bot, "ping", "shop", {}, "bot")[1])["code"] == "kill_switch"
    plane.close()
    plane.__init__(plane.cfg, plane.data_dir)  # persisted: a restart keeps the order and its nonce
    with pytest.raises(ControlError):
        plane.set_kill_switch(earlier_off)
    assert plane.kill["on"] is True


def test_the_spine_follows_what_sidecars_hold(spine) -> None:
    s, plane = spine
    plane.set_kill_switch(order(s.alice, False))
    newer = order(s.alice, True)  # reached a sidecar directly (e.g. through another spine) and is newer
    plane.orders.acknowledged(SIDECAR_ID, True, "", "", newer)
    assert plane.kill["on"] is True and plane.kill["order"] == newer.to_json()
    assert [e.body.get("adopted_from") for e in plane.audit.entries() if e.kind == "kill_switch"][-1] == SIDECAR_ID
    plane.orders.acknowledged(SIDECAR_ID, False, "stale_order", "older than the order held", newer)
    assert refusals(plane)[-1] == ("", "stale_order") and plane.orders.unacknowledged() == 0
    plane.orders.acknowledged("sc-2", True, "", "", None)
    assert plane.figures()["kill_switch_unacknowledged"] == 1


def test_sidecar_pins_come_from_the_trust_store_and_every_change_is_audited(spine, home: Path) -> None:
    s, plane = spine
    pins = [e.body for e in plane.audit.entries() if e.kind == "pin"]
    assert [(p["sidecar_id"], p["change"], p["new_key_id"]) for p in pins] == [(SIDECAR_ID, "added", s.sidecar.id)]
    assert plane.sidecar_key("rogue") is None  # no trust on first use
    other = generate(home / "other", "sidecar")
    s.trust.write_text(s.trust.read_text().replace(s.sidecar.public_text, other.public_text))
    assert plane.sidecar_key(SIDECAR_ID) == other.public_text
    change = [e.body for e in plane.audit.entries() if e.kind == "pin"][-1]
    assert (change["change"], change["old_key_id"], change["new_key_id"]) == ("changed", s.sidecar.id, other.id)


def test_a_receipt_counts_only_from_the_sidecar_the_command_was_delivered_to(home: Path) -> None:
    setup = make_setup(home)
    second = generate(home / "sc2", "sidecar")
    pin = f'\n[[sidecars]]\nid = "sc-2"\npublic_key = "{second.public_text}"\n'
    setup.trust.write_text(setup.trust.read_text() + pin)
    plane = ControlPlane(ControlConfig(trust=setup.trust, policy=setup.policy), home / "spine")
    try:
        rec = plane.send(make_envelope(setup.alice, "ping", "shop", {}, "for the real one")[1])
        assert plane.receipt("sc-2", receipt(second, rec, "sc-2")) is None  # not delivered yet: to nobody
        [claimed] = plane.claim(SIDECAR_ID, {"shop"}, 10)
        assert plane.claim("sc-2", {"shop"}, 10) == []  # one sidecar takes it
        assert plane.receipt("sc-2", receipt(second, rec, "sc-2", status="refused")) is None
        assert refusals(plane)[-1] == (rec["id"], "wrong_sidecar")
        assert plane.records[rec["id"]]["state"] == "delivered"
        assert plane.receipt(SIDECAR_ID, receipt(setup.sidecar, rec))["state"] == "accepted"
    finally:
        plane.close()


def test_a_failing_mirror_never_leaves_a_command_half_recorded(home: Path) -> None:
    setup = make_setup(home)
    store = Store()
    store.fail = 3  # inserts raise (not a BenError) until the store is back
    plane = ControlPlane(ControlConfig(trust=setup.trust, policy=setup.policy), home / "spine", store)
    try:
        rec = plane.send(make_envelope(setup.alice, "ping", "shop", {}, "while the store is down")[1])
        assert rec["state"] == "pending" and plane.records[rec["id"]]["state"] == "pending"
        assert plane.force_flush(30), "the mirror did not catch up from the log"
        assert plane.mirror.errors >= 1
        assert [r["seq"] for r in store.rows["ben.audit"]] == list(range(1, plane.audit.last_seq + 1))
        assert [r["state"] for r in store.rows["ben.commands"] if r["id"] == rec["id"]][-1] == "pending"
        store.fail = 10**9  # down until after a restart
        late = plane.send(make_envelope(setup.alice, "ping", "shop", {}, "store down until the restart")[1])
    finally:
        plane.close(timeout=0.5)
    store.fail = 0
    plane = ControlPlane(ControlConfig(trust=setup.trust, policy=setup.policy), home / "spine", store)
    try:  # made good from the log at the next start: the entries and the record the mirror missed
        assert plane.force_flush(30)
        assert [r["seq"] for r in store.rows["ben.audit"]] == list(range(1, plane.audit.last_seq + 1))
        assert [r["id"] for r in store.rows["ben.commands"]].count(late["id"]) == 1
    finally:
        plane.close()


def test_the_audit_key_can_live_outside_the_data_dir(home: Path) -> None:
    setup = make_setup(home)
    audit_key = generate(home / "outside", "audit")
    cfg = ControlConfig(trust=setup.trust, policy=setup.policy, audit_key_file=audit_key.path)
    plane = ControlPlane(cfg, home / "spine")
    try:
        plane.send(make_envelope(setup.alice, "ping", "shop", {}, "signed elsewhere")[1])
        assert {e.key_id for e in plane.audit.entries()} == {audit_key.id} and plane.verify_audit()[0]["ok"]
    finally:
        plane.close()
    assert all(c["ok"] for c in verify_data_dir(home / "spine", key=audit_key.path, with_store=False))
    # Someone with the data dir re-signs an entry with the key found there: it is not the audit key.
    from ben.control.audit import _key
    from ben.control.db import ControlDb
    from ben.control.keys import load_signer

    local = load_signer(home / "spine" / "control" / "spine.key")
    db = ControlDb(home / "spine" / "control" / "db")
    try:
        import base64
        import hashlib

        entry = Entry.from_bytes(db.get(_key(2)))
        forged = Entry(**{**entry.__dict__, "body": {**entry.body, "reason": "nothing happened"},
                          "key_id": local.id})
        digest = hashlib.sha256(forged.chained()).hexdigest()
        forged = Entry(**{**forged.__dict__, "hash": digest,
                          "signature": base64.b64encode(local.sign(digest.encode())).decode()})
        db.write({_key(2): forged.to_bytes()})
    finally:
        db.close()
    problems = [p for c in verify_data_dir(home / "spine", key=audit_key.path, with_store=False) for p in c["problems"]]
    assert any("entry 2 is signed by unknown key" in p for p in problems), problems
