"""The sidecar's enforcement point in-process, on a real RocksDB: every refusal has its reason
code and an audit entry; the same command runs once; a reopened ledger still remembers."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ben.control.audit import AuditLog
from ben.control.db import ControlDb
from ben.control.documents import Approval, Receipt, Signed, make_envelope, new_nonce, now_ns
from ben.control.gate import Gate, Outcome
from ben.control.keys import generate, verify
from ben.control.ledger import Ledger
from ben.control.policy import Policy
from ben.control.trust_store import TrustStore
from ben.control.verify import Verifier
from tests.control.conftest import make_setup

S = 10**9


class Bench:
    """A Gate over a real RocksDB in a temp dir; reopen() simulates a restart."""

    def __init__(self, home: Path, with_policy: bool = True):
        self.home = home
        self.setup = make_setup(home)
        self.signer = generate(home / "sc", "sidecar")
        self.ran: list[str] = []
        self.with_policy = with_policy
        self.routes = {"shop": {"set_mode", "throttle_job", "quarantine_artifact", "ping", "boom"},
                       "shop-eu": {"set_mode", "ping"}, "batch": {"throttle_job"}}
        self.open()

    def open(self) -> None:
        self.db = ControlDb(self.home / "sc" / "db")
        self.audit = AuditLog(self.db, self.signer, "sidecar:test")
        trust = TrustStore.load(self.setup.trust)
        policy = Policy.load(self.setup.policy) if self.with_policy else None
        self.gate = Gate(Verifier(trust, clock_skew_ms=5_000), policy, Ledger(self.db), self.audit, self.signer,
                         "sc-test", lambda: self.routes, self._run)

    def reopen(self) -> None:
        self.db.close()
        self.open()

    async def _run(self, env):
        self.ran.append(env.id)
        if env.action == "boom":
            return Outcome(False, {}, "RuntimeError: boom")
        return Outcome(True, {"ok": True})

    def handle(self, signed: Signed, approvals=()) -> Receipt:
        out = asyncio.run(self.gate.handle(signed, list(approvals)))
        assert verify(self.signer.public, out.signature, out.body), "receipt signature"
        return Receipt.parse(out.body)

    def last_audit(self) -> dict:
        entry = self.audit.entries()[-1]
        return {"kind": entry.kind, **entry.body, "command_id": entry.command_id}


@pytest.fixture
def bench(home: Path) -> Bench:
    b = Bench(home)
    yield b
    b.db.close()


def envelope(signer, action="set_mode", target="shop", params=None, reason="test", **kw):
    return make_envelope(signer, action, target, {"mode": "degraded"} if params is None else params, reason, **kw)


def test_valid_command_runs_once_and_redelivery_returns_the_same_receipt(bench: Bench) -> None:
    env, signed = envelope(bench.setup.alice, incident_id="inc-1234", reason="checkout p99 at 2 s; shed load")
    first = bench.handle(signed)
    assert (first.status, first.code) == ("accepted", "ok") and first.reason == "checkout p99 at 2 s; shed load"
    assert first.incident_id == "inc-1234" and first.result == {"ok": True}
    assert bench.last_audit()["kind"] == "receipt"
    second = asyncio.run(bench.gate.handle(signed, []))
    assert second.body == Receipt.parse(second.body).body() and Receipt.parse(second.body) == first
    assert bench.ran == [env.id]
    assert bench.last_audit()["kind"] == "refusal" and bench.last_audit()["code"] == "replayed_id"
    bench.reopen()  # a restart does not reopen replay
    assert bench.handle(signed) == first and bench.ran == [env.id]


def _forge(signed: Signed) -> Signed:
    sig = bytearray(signed.signature)
    sig[5] ^= 0x01
    return Signed(signed.body, bytes(sig))


@pytest.mark.parametrize("case, code", [
    ("forged_signature", "bad_signature"),
    ("altered_body", "bad_signature"),
    ("unknown_key", "unknown_key"),
    ("wrong_role", "wrong_role"),
    ("wrong_role_target", "wrong_target"),
    ("expired", "expired"),
    ("not_yet_valid", "not_yet_valid"),
    ("ttl_too_long", "ttl_too_long"),
    ("not_canonical", "malformed"),
    ("policy_target", "wrong_target"),
    ("no_rule", "action_not_allowed"),
    ("unknown_target", "unknown_target"),
    ("no_handler", "no_handler"),
    ("bad_params", "bad_params"),
    ("approval_missing", "approval_required"),
])
def test_refusals_have_their_reason_and_an_audit_entry(bench: Bench, case: str, code: str) -> None:
    s = bench.setup
    now = now_ns()
    signed = {
        "forged_signature": lambda: _forge(envelope(s.alice)[1]),
        "altered_body": lambda: Signed(envelope(s.alice)[1].body.replace(b"degraded", b"read_only"),
                                       envelope(s.alice)[1].signature),
        "unknown_key": lambda: envelope(s.stranger)[1],
        "wrong_role": lambda: envelope(s.bot, "quarantine_artifact", params={"artifact": "a"})[1],
        "wrong_role_target": lambda: envelope(s.victor, "ping", "shop-eu", params={})[1],
        "expired": lambda: envelope(s.alice, issued_at=now - 700 * S, ttl_s=600)[1],
        "not_yet_valid": lambda: envelope(s.alice, issued_at=now + 60 * S)[1],
        "ttl_too_long": lambda: envelope(s.alice, ttl_s=10 * 86_400)[1],
        "not_canonical": lambda: _respaced(s.alice),
        "policy_target": lambda: envelope(s.alice, "set_mode", "batch")[1],
        "no_rule": lambda: envelope(s.alice, "reboot", params={})[1],
        "unknown_target": lambda: envelope(s.alice, "ping", "nowhere", params={})[1],
        "no_handler": lambda: envelope(s.alice, "throttle_job", "shop-eu", params={"job": "j", "rate_per_s": 1})[1],
        "bad_params": lambda: envelope(s.alice, params={"mode": "turbo"})[1],
        "approval_missing": lambda: envelope(s.alice, "quarantine_artifact", params={"artifact": "model-7"})[1],
    }[case]()
    receipt = bench.handle(signed)
    assert (receipt.status, receipt.code) == ("refused", code), receipt.reason
    assert bench.ran == []
    audit = bench.last_audit()
    assert audit["kind"] == "refusal" and audit["code"] == code
    assert receipt.reason and audit["reason"]
    if "receipt" in audit:
        assert Receipt.parse(Signed.from_json(audit["receipt"]).body).code == code
    assert bench.gate.decisions[code] == 1


def _respaced(signer) -> Signed:
    body = envelope(signer)[1].body.replace(b'"action":', b'"action": ')
    return Signed(body, signer.sign(body))  # validly signed, but not the canonical form


def test_replayed_sequence_and_reused_id(bench: Bench) -> None:
    s = bench.setup
    env, signed = envelope(s.alice, seq=7)
    assert bench.handle(signed).status == "accepted"
    _, again = envelope(s.alice, seq=7)  # a new id, the same sequence number
    receipt = bench.handle(again)
    assert (receipt.status, receipt.code) == ("refused", "replayed_sequence") and "already used" in receipt.reason
    assert bench.last_audit()["kind"] == "refusal"
    _, same_id = envelope(s.alice, command_id=env.id)  # the same id, other bytes
    receipt = bench.handle(same_id)
    assert (receipt.status, receipt.code) == ("refused", "replayed_id")
    assert bench.last_audit()["code"] == "replayed_id"
    bench.reopen()
    assert bench.handle(envelope(s.alice, seq=7)[1]).code == "replayed_sequence"  # persisted
    assert bench.ran == [env.id]


def test_approval_attached_lets_it_run_and_a_forged_one_does_not(bench: Bench) -> None:
    s = bench.setup
    env, signed = envelope(s.bot, "throttle_job", "shop", params={"job": "nightly", "rate_per_s": 5})
    bench.setup.policy.write_text(bench.setup.policy.read_text().replace(
        "breaker_failures = 3", "breaker_failures = 3\nrequire_approval = true"))
    bench.reopen()
    approval = Approval(command_id=env.id, envelope_hash=signed.hash, decision="approve", issuer=s.alice.id,
                        issued_at=now_ns(), nonce=new_nonce(), reason="ok, it is the nightly job")
    by_bot = Approval(**{**approval.__dict__, "issuer": s.bot.id})
    assert bench.handle(signed, [by_bot.sign(s.bot)]).code == "approval_required"  # automation may not approve
    env, signed = envelope(s.bot, "throttle_job", "shop", params={"job": "nightly", "rate_per_s": 5})
    other = Approval(**{**approval.__dict__, "command_id": env.id})  # hash of another envelope
    assert bench.handle(signed, [other.sign(s.alice)]).code == "approval_required"
    env, signed = envelope(s.bot, "throttle_job", "shop", params={"job": "nightly", "rate_per_s": 5})
    good = Approval(**{**approval.__dict__, "command_id": env.id, "envelope_hash": signed.hash})
    receipt = bench.handle(signed, [good.sign(s.alice)])
    assert receipt.status == "accepted" and bench.ran == [env.id]
    assert bench.audit.entries()[-2].body["approved_by"] == s.alice.id


def test_local_rate_blast_radius_breaker_and_kill_switch(bench: Bench) -> None:
    s = bench.setup
    codes = [bench.handle(envelope(s.alice, target=t)[1]).code for t in ("shop", "shop-eu", "shop", "shop-x")]
    assert codes == ["ok", "ok", "ok", "over_blast_radius"]  # blast_radius = 2 targets per window
    codes = [bench.handle(envelope(s.alice)[1]).code for _ in range(2)]
    assert codes == ["ok", "over_rate"]  # rate = 4 per window
    assert bench.last_audit()["code"] == "over_rate" and "at most 4" in bench.last_audit()["reason"]
    boom = [bench.handle(envelope(s.alice, "boom", params={})[1]) for _ in range(3)]
    assert [r.status for r in boom] == ["failed"] * 3 and "boom" in boom[0].reason
    bench.setup.policy.write_text(bench.setup.policy.read_text().replace(
        "[actions.boom]", "[actions.boom]\nbreaker_failures = 3"))
    bench.reopen()
    assert bench.handle(envelope(s.alice, "boom", params={})[1]).code == "breaker_open"
    bench.setup.policy.write_text("kill_switch = true\n" + bench.setup.policy.read_text().replace(
        "kill_switch = false\n", ""))
    bench.reopen()
    assert bench.handle(envelope(s.bot, "ping", "batch", params={})[1]).code == "kill_switch"
    assert bench.handle(envelope(s.alice, "ping", "shop", params={})[1]).code == "ok"  # humans still may


def test_interrupted_run_is_not_run_again(bench: Bench) -> None:
    """Claimed (persisted before the handler) but no receipt: the sidecar died mid-run."""
    env, signed = envelope(bench.setup.alice)
    bench.db.write(bench.gate.ledger.claim(env, signed, "claimed"))
    bench.reopen()
    receipt = bench.handle(signed)
    assert (receipt.status, receipt.code) == ("refused", "interrupted") and bench.ran == []
    assert bench.handle(signed) == receipt  # and that answer is kept


def test_without_a_policy_the_sidecar_still_verifies(home: Path) -> None:
    b = Bench(home, with_policy=False)
    try:
        assert b.handle(envelope(b.setup.alice, "ping", "shop", params={})[1]).code == "ok"
        assert b.handle(_forge(envelope(b.setup.alice)[1])).code == "bad_signature"
    finally:
        b.db.close()


def _approve(signer, env, signed) -> Signed:
    return Approval(command_id=env.id, envelope_hash=signed.hash, decision="approve", issuer=signer.id,
                    issued_at=now_ns(), nonce=new_nonce(), reason="looked at it").sign(signer)


def test_two_person_rule_at_the_sidecar(bench: Bench) -> None:
    """require_distinct_approver: the signer's own approval does not count here either."""
    s = bench.setup
    bench.routes["shop"].add("two_person")
    env, signed = envelope(s.alice, "two_person", "shop", params={})
    assert bench.handle(signed).code == "approval_required"
    env, signed = envelope(s.alice, "two_person", "shop", params={})
    assert bench.handle(signed, [_approve(s.alice, env, signed)]).code == "approval_required"
    env, signed = envelope(s.alice, "two_person", "shop", params={})
    assert bench.handle(signed, [_approve(s.bob, env, signed)]).status == "accepted" and bench.ran == [env.id]


def test_kill_switch_orders_only_move_forward_at_the_sidecar(bench: Bench) -> None:
    from ben.control.documents import KillSwitch

    s = bench.setup

    def order(on: bool, at: int) -> Signed:
        return KillSwitch(on=on, issuer=s.alice.id, issued_at=at, nonce=new_nonce(), reason="r").sign(s.alice)

    t0 = now_ns()
    on = order(True, t0)
    assert asyncio.run(bench.gate.set_kill_switch(on)).taken
    ack = asyncio.run(bench.gate.set_kill_switch(on))  # the spine hands it again on attach: no refusal
    assert (ack.taken, ack.code) == (False, "same_order")
    ack = asyncio.run(bench.gate.set_kill_switch(order(False, t0 - 1)))
    assert (ack.taken, ack.code) == (False, "stale_order") and Signed.from_proto(ack.held) == on
    assert bench.last_audit()["code"] == "stale_order"
    bench.reopen()  # persisted: the order held and its nonce
    replay = Signed(on.body, on.signature)
    assert bench.gate.kill["on"] is True
    assert asyncio.run(bench.gate.set_kill_switch(replay)).code == "same_order"
    assert [e.body.get("code") for e in bench.audit.entries() if e.kind == "refusal"] == ["stale_order"]


def test_an_internal_error_is_refused_and_audited(bench: Bench) -> None:
    def broken():
        raise RuntimeError("routes table is gone")

    bench.gate.routes = broken
    env, signed = envelope(bench.setup.alice)
    receipt = bench.handle(signed)
    assert (receipt.status, receipt.code) == ("refused", "internal_error") and bench.ran == []
    assert bench.last_audit()["kind"] == "refusal" and bench.last_audit()["code"] == "internal_error"


def test_the_sidecar_signs_its_audit_with_audit_key_file(home: Path) -> None:
    from ben.control.sidecar_side import SidecarControl
    from ben.core.config import ControlConfig

    setup = make_setup(home)
    audit_key = generate(home / "outside", "audit")
    control = SidecarControl(ControlConfig(trust=setup.trust, policy=setup.policy, audit_key_file=audit_key.path),
                             home / "sidecar", "sc-test", "unix:///nonexistent.sock", (50, 100))
    try:
        env, signed = envelope(setup.alice)
        control.gate.routes = lambda: {"shop": {"set_mode"}}

        async def ok(_env):
            return Outcome(True, {})

        control.gate.runner = ok
        asyncio.run(control.gate.handle(signed))
        assert {e.key_id for e in control.audit.entries()} == {audit_key.id} and control.base.verify_local().ok
    finally:
        control.base.close()


def test_a_full_disk_under_the_ledger_runs_nothing_says_why_and_recovers(home: Path, caplog) -> None:
    """The claim cannot be written: the handler does not run, the receipt says why (not "internal
    error: WalError"), no traceback; with room again the ledger is written without a restart."""
    from tests.core.test_wal_faults import fill, tmpfs

    with tmpfs(home / "sc", "8m") as disk:
        bench = Bench(home)
        try:
            filler = fill(disk / "filler")
            env, signed = envelope(bench.setup.alice, "ping", params={})
            rec = bench.handle(signed)
            assert (rec.status, rec.code) == ("refused", "internal_error") and "No space left" in rec.reason, rec
            assert bench.ran == [] and "Traceback" not in caplog.text
            filler.unlink()
            assert bench.handle(signed).status == "accepted" and bench.ran == [env.id]  # never claimed before
            assert bench.handle(signed).status == "accepted" and bench.ran == [env.id]  # once
            assert bench.audit.verify({bench.signer.id: bench.signer.public}).ok
        finally:
            bench.db.close()
