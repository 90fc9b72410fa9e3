"""The sidecar process is the enforcement point: a stand-in spine in this process pushes envelopes
(good, forged, replayed, fuzzed) to a real sidecar process and reads its signed receipts."""

from __future__ import annotations

import json
import os
import queue
import shutil
import tempfile
import threading
from concurrent import futures
from pathlib import Path

import grpc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ben.cli.procs import Cluster, wait_for
from ben.control import client, keys
from ben.control.documents import Approval, Receipt, Signed, make_envelope, new_nonce, now_ns
from ben.control.keys import public_from_text, verify
from ben.core.transport import SERVER_OPTIONS
from ben.v1 import control_pb2 as pb
from ben.v1 import control_pb2_grpc as pb_grpc
from tests.control.conftest import Recorder, attach, make_setup, trust_toml
from tests.conftest import dump_logs

S = 10**9


class FakeSpine(pb_grpc.ControlServicer):
    """Only the Control.Attach side of a spine: push deliveries, collect receipts."""

    def __init__(self, address: str):
        self.outbox: queue.Queue = queue.Queue()
        self.receipts: queue.Queue = queue.Queue()
        self.public = ""
        self.attached = threading.Event()
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), options=SERVER_OPTIONS)
        pb_grpc.add_ControlServicer_to_server(self, self.server)
        self.server.add_insecure_port(address)
        self.server.start()

    def Attach(self, request_iterator, context):
        def read():
            try:
                for msg in request_iterator:
                    which = msg.WhichOneof("msg")
                    if which == "hello":
                        self.public = msg.hello.public_key
                        self.attached.set()
                    elif which == "receipt":
                        self.receipts.put(Signed.from_proto(msg.receipt))
            except grpc.RpcError:
                pass
        threading.Thread(target=read, daemon=True).start()
        yield pb.Delivery()
        while context.is_active():
            try:
                yield self.outbox.get(timeout=0.05)
            except queue.Empty:
                continue

    def deliver(self, signed: Signed, approvals=()) -> tuple[Receipt, Signed]:
        self.outbox.put(pb.Delivery(envelope=signed.to_proto(pb.Signed),
                                    approvals=[a.to_proto(pb.Signed) for a in approvals]))
        raw = self.receipts.get(timeout=30)
        public = public_from_text(self.public)
        assert verify(public, raw.signature, raw.body), "receipt not signed by the sidecar's key"
        return Receipt.parse(raw.body), raw


class Rig:
    def __init__(self, home: Path):
        self.home = home
        self.setup = make_setup(home)
        self.spine = FakeSpine(f"unix://{home / 'fake-spine.sock'}")
        self.cluster = Cluster(home, f"unix://{home / 'fake-spine.sock'}", sidecar=self.setup.sidecar_options())
        self.recorder = Recorder()
        self.clients = []

    def start(self) -> Rig:
        self.spine.attached.clear()
        self.cluster.start_sidecar()
        assert self.spine.attached.wait(30), "the sidecar did not attach to the (fake) spine"
        if not self.clients:
            self.clients = [attach(self.cluster.sidecar_addr, "shop", self.recorder, self.cluster)]
        else:
            wait_for(lambda: self.cluster.status("sidecar").get("subsystems_attached", 0) >= 1, 30, "reattached")
        return self

    def audit(self, command_id: str) -> list[dict]:
        import json

        return [{**e, "body": json.loads(e["body"])} for e in client.audit_entries(self.cluster.sidecar_addr)
                if e["command_id"] == command_id]

    def close(self) -> None:
        for c in self.clients:
            c.shutdown(timeout=2)
        self.cluster.stop()
        self.spine.server.stop(None)


@pytest.fixture(scope="module")
def rig():
    home = Path(tempfile.mkdtemp(prefix="bs-", dir="/tmp"))
    r = Rig(home)
    try:
        yield r.start()
    finally:
        r.close()
        dump_logs(home)
        shutil.rmtree(home, ignore_errors=True)


def _forge(signed: Signed) -> Signed:
    return Signed(signed.body, bytes(b ^ 0x80 if i == 10 else b for i, b in enumerate(signed.signature)))


def test_valid_runs_once_and_a_replay_gets_the_same_receipt(rig: Rig) -> None:
    env, signed = make_envelope(rig.setup.alice, "set_mode", "shop", {"mode": "read_only"}, "db failover")
    first, raw1 = rig.spine.deliver(signed)
    assert (first.status, first.reason) == ("accepted", "db failover")
    again, raw2 = rig.spine.deliver(signed)
    assert raw2 == raw1 and rig.recorder.count(env.id) == 1
    kinds = [(e["kind"], e["body"].get("code")) for e in rig.audit(env.id)]
    assert kinds == [("execution", None), ("receipt", "ok"), ("refusal", "replayed_id")], kinds


@pytest.mark.parametrize("case, code", [
    ("forged_signature", "bad_signature"),
    ("unknown_key", "unknown_key"),
    ("wrong_role", "wrong_role"),
    ("expired", "expired"),
    ("not_yet_valid", "not_yet_valid"),
    ("replayed_sequence", "replayed_sequence"),
    ("wrong_target", "wrong_target"),
    ("approval_missing", "approval_required"),
    ("forged_approval", "approval_required"),
    ("another_kind", "malformed"),  # round 7: an operator's validly signed approval, sent as a command
])
def test_the_sidecar_refuses_with_the_reason_and_an_audit_entry(rig: Rig, case: str, code: str) -> None:
    s, now = rig.setup, now_ns()
    approvals = []
    if case == "replayed_sequence":
        _, first = make_envelope(s.alice, "ping", "shop", {}, "first")
        assert rig.spine.deliver(first)[0].status == "accepted"
        seq = int(__import__("json").loads(first.body)["seq"])
    signed = {
        "forged_signature": lambda: _forge(make_envelope(s.alice, "ping", "shop", {}, "r")[1]),
        "unknown_key": lambda: make_envelope(s.stranger, "ping", "shop", {}, "r")[1],
        "wrong_role": lambda: make_envelope(s.victor, "set_mode", "shop", {"mode": "normal"}, "r")[1],
        "expired": lambda: make_envelope(s.alice, "ping", "shop", {}, "r", issued_at=now - 700 * S, ttl_s=60)[1],
        "not_yet_valid": lambda: make_envelope(s.alice, "ping", "shop", {}, "r", issued_at=now + 300 * S)[1],
        "replayed_sequence": lambda: make_envelope(s.alice, "ping", "shop", {}, "again", seq=seq)[1],
        "wrong_target": lambda: make_envelope(s.alice, "limited", "batch", {}, "r")[1],
        "approval_missing": lambda: make_envelope(s.alice, "quarantine_artifact", "shop", {"artifact": "m"}, "r")[1],
        "forged_approval": lambda: make_envelope(s.alice, "quarantine_artifact", "shop", {"artifact": "m"}, "r")[1],
        "another_kind": lambda: Approval(command_id="c-1", envelope_hash="0" * 64, decision="approve",
                                         issuer=s.alice.id, issued_at=now, nonce=new_nonce(), reason="ok").sign(s.alice),
    }[case]()
    if case == "forged_approval":
        env_id = __import__("json").loads(signed.body)["id"]
        approval = Approval(command_id=env_id, envelope_hash=signed.hash, decision="approve", issuer=s.alice.id,
                            issued_at=now, nonce=new_nonce(), reason="ok").sign(s.alice)
        approvals = [_forge(approval)]
    receipt, _ = rig.spine.deliver(signed, approvals)
    assert (receipt.status, receipt.code) == ("refused", code), receipt.reason
    entries = rig.audit(receipt.command_id)
    assert entries[-1]["kind"] == "refusal" and entries[-1]["body"]["code"] == code and entries[-1]["body"]["reason"]
    assert rig.recorder.count(receipt.command_id) == 0


def test_over_rate_and_blast_radius_at_the_sidecar(rig: Rig) -> None:
    s = rig.setup
    codes = [rig.spine.deliver(make_envelope(s.alice, "limited", t, {}, "r")[1])[0].code
             for t in ("shop", "shop-eu")]
    assert codes == ["ok", "unknown_target"]  # shop-eu is not attached here: refused, and not counted
    codes = [rig.spine.deliver(make_envelope(s.alice, "limited", "shop", {}, "r")[1])[0].code for _ in range(3)]
    assert codes == ["ok", "ok", "over_rate"]  # rate = 3 per window, counted at this sidecar too
    assert rig.audit(rig.recorder.calls[-1].id)[-1]["kind"] == "receipt"


json_text = st.text(alphabet=st.characters(codec="ascii"), max_size=40)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(st.binary(max_size=300), json_text.map(str.encode)), mutate=st.integers(0, 400),
       byte=st.integers(0, 255), sign=st.booleans())
def test_fuzzed_envelopes_never_crash_the_sidecar_process_nor_run(rig: Rig, body: bytes, mutate: int, byte: int,
                                                                  sign: bool) -> None:
    if sign:  # a validly signed envelope with one byte changed after signing
        _, good = make_envelope(rig.setup.alice, "ping", "shop", {}, "fuzz")
        b = bytearray(good.body)
        b[mutate % len(b)] = byte
        signed = Signed(bytes(b), good.signature) if bytes(b) != good.body else _forge(good)
    else:
        signed = Signed(body, rig.setup.alice.sign(body))  # signed garbage
    before = len(rig.recorder.calls)
    receipt, _ = rig.spine.deliver(signed)
    assert receipt.status == "refused" and len(rig.recorder.calls) == before
    assert rig.cluster.sidecar.alive()


def test_kill9_while_the_handler_runs_is_never_run_again(rig: Rig) -> None:
    """At most once: the claim is on disk before the handler runs; after a crash, redelivery says so."""
    env, signed = make_envelope(rig.setup.alice, "slow_job", "shop", {}, "long job")
    rig.spine.outbox.put(pb.Delivery(envelope=signed.to_proto(pb.Signed)))
    assert rig.recorder.started.wait(30), "the handler did not start"
    rig.cluster.sidecar.kill()  # SIGKILL while the handler runs
    rig.recorder.release.set()
    rig.start()
    receipt, _ = rig.spine.deliver(signed)
    assert (receipt.status, receipt.code) == ("refused", "interrupted") and rig.recorder.count(env.id) == 1
    assert rig.spine.deliver(signed)[0] == receipt


def test_the_sidecar_enforces_the_spines_kill_switch(rig: Rig) -> None:
    from ben.control.documents import KillSwitch

    s = rig.setup

    def order(signer, on: bool, issued_at: int):
        return KillSwitch(on=on, issuer=signer.id, issued_at=issued_at, nonce=new_nonce(),
                          reason=f"{'stop' if on else 'resume'} automation").sign(signer)

    def push(signed) -> None:
        rig.spine.outbox.put(pb.Delivery(kill_switch=signed.to_proto(pb.Signed)))

    t0 = now_ns()
    push(order(s.victor, True, t0))  # a human without approve = true: ignored, and audited
    push(order(s.alice, True, t0 + 2))
    wait_for(lambda: rig.cluster.status("sidecar").get("kill_switch") == 1, 60, "the kill switch at the sidecar")
    env, signed = make_envelope(s.bot, "ping", "shop", {}, "bot ping")
    receipt, _ = rig.spine.deliver(signed)
    assert (receipt.status, receipt.code) == ("refused", "kill_switch") and "stop automation" in receipt.reason
    assert rig.spine.deliver(make_envelope(s.alice, "ping", "shop", {}, "human ping")[1])[0].status == "accepted"
    push(order(s.alice, False, t0 + 1))  # older than the order held: a replay cannot lift the switch
    assert rig.spine.deliver(make_envelope(s.bot, "ping", "shop", {}, "bot ping")[1])[0].code == "kill_switch"
    push(order(s.alice, False, t0 + 3))
    wait_for(lambda: rig.cluster.status("sidecar").get("kill_switch") == 0, 60, "the kill switch lifted")
    assert rig.spine.deliver(make_envelope(s.bot, "ping", "shop", {}, "bot ping")[1])[0].status == "accepted"
    entries = [e for e in client.audit_entries(rig.cluster.sidecar_addr) if e["command_id"] == ""]
    assert [(e["kind"], json.loads(e["body"]).get("code")) for e in entries] == [
        ("refusal", "wrong_role"), ("kill_switch", None), ("refusal", "stale_order"), ("kill_switch", None)]
    assert rig.recorder.count(env.id) == 0


def test_a_lone_surrogate_in_a_signed_reason_never_breaks_the_sidecar_stream(rig: Rig) -> None:
    """Signed by a trusted key, but not valid Unicode: refused (malformed), audited, nothing run, and the
    stream carries the next command as before."""
    from ben.control import canonical

    s = rig.setup
    env, _ = make_envelope(s.victor, "ping", "shop", {}, "placeholder")
    doc = {**env.to_dict(), "reason": "restart \udc80 now"}
    body = canonical.encode(doc)
    receipt, _ = rig.spine.deliver(Signed(body, s.victor.sign(body)))
    assert (receipt.status, receipt.code) == ("refused", "malformed") and rig.recorder.count(env.id) == 0
    assert rig.audit(env.id)[-1]["kind"] == "refusal"
    env2, signed2 = make_envelope(s.alice, "ping", "shop", {}, "after the bad one")
    assert rig.spine.deliver(signed2)[0].status == "accepted" and rig.recorder.count(env2.id) == 1


def test_a_key_taken_out_of_the_trust_store_is_refused_without_a_restart(rig: Rig) -> None:
    """Revoking an operator's key (taking it out of the trust store, after a theft) did nothing until the
    sidecar restarted: it verified commands with the store it read at start, so the stolen key still ran
    commands. Now the store is read again when its file changed, before each verification."""
    s = rig.setup
    assert rig.spine.deliver(make_envelope(s.bob, "ping", "shop", {}, "before")[1])[0].status == "accepted"
    original = s.trust.read_text()
    try:
        s.trust.write_text(trust_toml(s.alice, s.bot, s.victor, s.sidecar))  # bob revoked
        env, signed = make_envelope(s.bob, "ping", "shop", {}, "after the revocation")
        receipt, _ = rig.spine.deliver(signed)
        assert (receipt.status, receipt.code) == ("refused", "unknown_key"), receipt.reason
        assert rig.recorder.count(env.id) == 0
        assert rig.audit(env.id)[-1]["body"]["code"] == "unknown_key"
        # the other keys are unaffected
        assert rig.spine.deliver(make_envelope(s.alice, "ping", "shop", {}, "alice")[1])[0].status == "accepted"
    finally:
        s.trust.write_text(original)
    assert rig.spine.deliver(make_envelope(s.bob, "ping", "shop", {}, "restored")[1])[0].status == "accepted"


def test_a_key_replaced_within_one_clock_tick_at_the_same_size_is_refused(rig: Rig) -> None:
    """Round 8: the trust store was known to have changed by its mtime and size. bob's key replaced by another
    one (the same length) through a rename, within one tick of the file clock (played here by giving the new
    file the old one's mtime), left both the same: the revoked key went on running commands."""
    s = rig.setup
    assert rig.spine.deliver(make_envelope(s.bob, "ping", "shop", {}, "before")[1])[0].status == "accepted"
    original, was = s.trust.read_text(), s.trust.stat()
    fresh = keys.generate(s.trust.parent / "rotated", "bob")  # bob's key rotated after a theft
    rotated = trust_toml(s.alice, s.bot, s.victor, s.sidecar, bob=fresh)
    assert len(rotated) == len(original)
    try:
        staged = s.trust.with_name(s.trust.name + ".new")
        staged.write_text(rotated)
        os.utime(staged, ns=(was.st_atime_ns, was.st_mtime_ns))
        os.rename(staged, s.trust)
        env, signed = make_envelope(s.bob, "ping", "shop", {}, "the stolen key, after the rotation")
        receipt, _ = rig.spine.deliver(signed)
        assert receipt.status == "refused", receipt
        assert rig.recorder.count(env.id) == 0
        assert rig.spine.deliver(make_envelope(fresh, "ping", "shop", {}, "the new key")[1])[0].status == "accepted"
    finally:
        s.trust.write_text(original)
    assert rig.spine.deliver(make_envelope(s.bob, "ping", "shop", {}, "restored")[1])[0].status == "accepted"


def test_a_backdated_command_counts_in_the_sidecar_s_window(rig: Rig) -> None:
    """The sidecar counted a command in the policy's window at its signer's ``issued_at``: signed two hours
    in the past with a 24-hour time to live (within ``max_ttl_s``), each command was valid and outside the
    one-hour window at once, so rate and blast radius never bound a key that backdates. Now the window
    counts by the sidecar's own clock at arrival."""
    s, hours = rig.setup, 3600 * S
    back = now_ns() - 2 * hours
    codes = [rig.spine.deliver(make_envelope(s.alice, "capped", "shop", {}, "backdated", issued_at=back,
                                             ttl_s=20 * 3600)[1])[0].code for _ in range(3)]
    assert codes == ["ok", "ok", "over_rate"], codes  # rate = 2 per hour
    codes = [rig.spine.deliver(make_envelope(s.alice, "capped", "shop-x", {}, "backdated", issued_at=back,
                                             ttl_s=20 * 3600)[1])[0].code]
    assert codes == ["over_rate"], codes
