"""Commands under attack and load, against real spine and sidecar processes: a burst is delivered
once per command; a rogue sidecar cannot attach; signed fields with arbitrary Unicode never break
a stream nor run; refusals open the circuit breaker; the two-person rule; the CLI refuses bad
text cleanly and picks the only key there is."""

from __future__ import annotations

import json
import os
import queue
import threading
from unittest import mock

import grpc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ben.cli.procs import wait_for
from ben.control import canonical, client
from ben.control.actions import typed_params
from ben.control.documents import Envelope, Signed, attach_proof, make_envelope, new_nonce, now_ns
from ben.core.errors import ControlError, PolicyError, SignatureError
from ben.core.transport import CHANNEL_OPTIONS
from ben.v1 import control_pb2 as pb
from ben.v1 import control_pb2_grpc as pb_grpc
from tests.control.conftest import SIDECAR_ID
from tests.control.test_commands import audit_for, ben, ben_process

LET_THROUGH = ("pending", "delivered", "accepted")


def receipts(live, ids: list[str], timeout: float = 60) -> dict[str, dict]:
    got: dict[str, dict] = {}

    def done() -> bool:
        for i in ids:
            if i not in got:
                rec = client.get_command(live.cluster.spine_addr, i)
                if not rec.get("receipt"):
                    return False
                got[i] = rec
        return True

    wait_for(done, timeout, f"{len(ids)} receipts")
    return got


def test_a_burst_is_pushed_once_per_command(live) -> None:
    """Each Send pushed every in-flight command again (hundreds of deliveries per command); now one."""
    s, addr = live.setup, live.cluster.spine_addr
    envelopes = [make_envelope(s.alice, "ping", "shop", {}, f"burst {i}") for i in range(120)]

    def send(part) -> None:
        for _, signed in part:
            assert client.send(addr, signed).state in LET_THROUGH

    threads = [threading.Thread(target=send, args=(envelopes[i::3],)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ids = [env.id for env, _ in envelopes]
    got = receipts(live, ids)
    assert {r["state"] for r in got.values()} == {"accepted"}
    assert [got[i]["deliveries"] for i in ids] == [1] * len(ids)
    assert all(live.recorder.count(i) == 1 for i in ids)
    deliveries = [e for e in client.audit_entries(addr) if e["kind"] == "delivery" and e["command_id"] in set(ids)]
    assert len(deliveries) == len(ids)
    sidecar = [e for e in client.audit_entries(live.cluster.sidecar_addr) if e["command_id"] in set(ids)]
    assert not [e for e in sidecar if e["kind"] == "refusal"]  # no replays to refuse


def _attach(addr: str, hello) -> grpc.RpcError:
    """A raw Control.Attach: read the challenge, say hello(challenge), return how the spine ended it."""
    outbox: queue.Queue = queue.Queue()

    def requests():
        while (msg := outbox.get()) is not None:
            yield msg

    with grpc.insecure_channel(addr, options=CHANNEL_OPTIONS) as channel:
        call = pb_grpc.ControlStub(channel).Attach(requests(), timeout=20)
        try:
            first = next(call)
            outbox.put(pb.SidecarUp(hello=hello(first.challenge)))
            for _ in call:
                pass
        except grpc.RpcError as exc:
            return exc
        finally:
            outbox.put(None)
    raise AssertionError("the spine kept a rogue sidecar attached")


@pytest.mark.parametrize("case, code", [("unpinned_id", "unknown_sidecar"), ("its_own_key", "sidecar_key_mismatch"),
                                        ("pinned_key_without_it", "bad_proof")])
def test_a_rogue_sidecar_cannot_attach_and_take_commands(live, case: str, code: str) -> None:
    s, addr = live.setup, live.cluster.spine_addr
    rogue = s.stranger
    sidecar_id, public, signer = {
        "unpinned_id": ("rogue-1", rogue.public_text, rogue),
        "its_own_key": (SIDECAR_ID, rogue.public_text, rogue),
        "pinned_key_without_it": (SIDECAR_ID, s.sidecar.public_text, rogue),
    }[case]
    err = _attach(addr, lambda challenge: pb.SidecarHello(
        sidecar_id=sidecar_id, public_key=public, targets=["shop"],
        proof=signer.sign(attach_proof(sidecar_id, challenge))))
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED, err
    entries = [e for e in client.audit_entries(addr) if e["kind"] == "refusal" and e["command_id"] == ""]
    assert json.loads(entries[-1]["body"])["code"] == code
    env, signed = make_envelope(s.alice, "ping", "shop", {}, "after the rogue")
    client.send(addr, signed)
    assert receipts(live, [env.id])[env.id]["sidecar_id"] == SIDECAR_ID and live.recorder.count(env.id) == 1


ODD = st.sampled_from(["\ud800", "\udcff", "\n", "\x00", "\x85", "\x7f", "\u2028", "\ufeff", "é", "😀"])
FUZZ_TEXT = st.text(alphabet=st.one_of(st.characters(), ODD), min_size=1, max_size=12)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(["id", "action", "target", "reason", "incident_id", "param_name", "param_value"]),
       text=FUZZ_TEXT)
def test_every_signed_field_fuzzed_with_any_unicode_against_the_real_processes(live, field: str, text: str) -> None:
    s, addr = live.setup, live.cluster.spine_addr
    doc = Envelope(id="cmd-" + new_nonce()[:16], action="ping", target="shop", params={}, issuer=s.alice.id,
                   issued_at=now_ns(), expires_at=now_ns() + 600 * 10**9, nonce=new_nonce(),
                   seq=s.alice.next_sequence(), reason="fuzz").to_dict()
    if field == "param_name":
        doc["params"] = {text: "v"}
    elif field == "param_value":
        doc["params"] = {"p": text}
    else:
        doc[field] = text
    body = canonical.encode(doc)
    signed = Signed(body, s.alice.sign(body))
    try:
        Envelope.parse(body)
        valid = True
    except SignatureError:
        valid = False
    reply = client.send(addr, signed)  # never a transport error: the spine answers
    rec = json.loads(reply.record_json)
    if not valid:
        assert reply.state == "refused" and rec["code"] == "malformed", rec
    if any(0xD800 <= ord(c) <= 0xDFFF or ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in text):
        assert not valid, f"{field}={text!r} was accepted"
    if valid and reply.state in LET_THROUGH and doc["target"] == "shop" and field != "id":
        assert receipts(live, [rec["id"]])[rec["id"]]["state"] in ("accepted", "refused")


def test_the_streams_survive_the_fuzzing(live) -> None:
    """After the fuzzed sends (this module's previous test), an ordinary command still runs once."""
    s, c = live.setup, live.cluster
    env, signed = make_envelope(s.alice, "ping", "shop", {}, "still alive?")
    assert client.send(c.spine_addr, signed).state in LET_THROUGH
    assert receipts(live, [env.id])[env.id]["state"] == "accepted" and live.recorder.count(env.id) == 1
    assert c.status("sidecar").get("control_connected") == 1


def test_refusals_open_the_circuit_breaker(live) -> None:
    """breaker_failures = 2: two commands the sidecar refuses (no handler for it) open it."""
    s, addr = live.setup, live.cluster.spine_addr
    sent = [make_envelope(s.alice, "fragile", "shop", {}, f"fragile {i}") for i in range(2)]
    for _, signed in sent:
        client.send(addr, signed)
    got = receipts(live, [env.id for env, _ in sent])
    assert {(r["state"], r["code"]) for r in got.values()} == {("refused", "no_handler")}
    reply = client.send(addr, make_envelope(s.alice, "fragile", "shop", {}, "third")[1])
    assert reply.state == "refused" and json.loads(reply.record_json)["code"] == "breaker_open", reply


def test_two_person_rule(live) -> None:
    s, c = live.setup, live.cluster
    env, signed = make_envelope(s.alice, "two_person", "shop", {}, "needs a second pair of eyes")
    reply = client.send(c.spine_addr, signed)
    assert reply.state == "awaiting_approval"
    out = ben("command", "approve", env.id, "--reason", "mine", "--key", str(s.home / "keys" / "alice.key"),
              "--spine", c.spine_addr)
    assert out.returncode == 2 and "may not approve it too" in out.stderr, out.stderr
    assert audit_for(c.spine_addr, env.id)[-1]["body"]["code"] == "same_approver"
    out = ben("command", "approve", env.id, "--reason", "checked", "--key", str(s.home / "keys" / "bob.key"),
              "--spine", c.spine_addr)
    assert out.returncode == 0, out.stderr
    assert receipts(live, [env.id])[env.id]["state"] == "accepted" and live.recorder.count(env.id) == 1


@pytest.mark.parametrize("flag, value, message", [
    ("--reason", "restart \udcff now", "lone surrogate"),
    ("--reason", "two\nlines", "control character"),
    ("--target", "shop\n", "--target"),
])
def test_the_cli_refuses_bad_text_cleanly(live, flag: str, value: str, message: str) -> None:
    s, c = live.setup, live.cluster
    args = {"--reason": "ok", "--target": "shop", flag: value}
    out = ben_process("command", "send", "ping", "--target", args["--target"], "--reason", args["--reason"],
                      "--key", str(s.home / "keys" / "alice.key"), "--spine", c.spine_addr)
    assert out.returncode == 2 and flag in out.stderr and message in out.stderr, out.stderr
    assert "Traceback" not in out.stderr


def test_send_picks_the_only_key_or_says_which_exist(live, home) -> None:
    import shutil

    s, c = live.setup, live.cluster
    (home / "keys").mkdir()
    with mock.patch.dict(os.environ, {"BEN_HOME": str(home)}):
        os.environ.pop("BEN_KEY", None)
        out = ben("command", "send", "ping", "--target", "shop", "--reason", "r", "--spine", c.spine_addr)
        assert out.returncode == 2 and "no key in" in out.stderr, out.stderr
        for name in ("bob.key", "bob.pub"):
            shutil.copy(s.home / "keys" / name, home / "keys" / name)
        out = ben("command", "send", "ping", "--target", "shop", "--reason", "bob's", "--json", "--spine", c.spine_addr)
        assert out.returncode == 0 and json.loads(out.stdout)["issuer_name"] == "bob", out.stderr
        shutil.copy(s.home / "keys" / "victor.key", home / "keys" / "victor.key")
        out = ben("command", "send", "ping", "--target", "shop", "--reason", "r", "--spine", c.spine_addr)
        assert out.returncode == 2 and "2 keys" in out.stderr and "bob, victor" in out.stderr, out.stderr


def test_typed_parameters_refuse_a_boolean_as_a_number() -> None:
    with pytest.raises(PolicyError) as err:
        typed_params("throttle_job", {"job": "nightly", "rate_per_s": True})
    assert err.value.reason == "bad_params" and "rate_per_s" in str(err.value)
    assert typed_params("throttle_job", {"job": "nightly", "rate_per_s": 5}).rate_per_s == 5


@pytest.mark.parametrize("field, value", [("target", "shop\n"), ("id", "cmd-1\n"), ("action", "ping\n"),
                                          ("reason", "why\udc80"), ("reason", "a\x1b[31mred"),
                                          ("incident_id", "inc-1\n")])
def test_patterns_anchor_at_the_very_end_and_text_is_clean(field: str, value: str) -> None:
    from ben.control.keys import generate

    import tempfile
    from pathlib import Path

    signer = generate(Path(tempfile.mkdtemp(dir="/tmp")), "k")
    doc = make_envelope(signer, "ping", "shop", {}, "ok", seq=1)[0].to_dict()
    doc[field] = value
    with pytest.raises(ControlError) as err:
        Envelope.parse(canonical.encode(doc))
    assert err.value.reason == "malformed" and repr(field) in str(err.value)


def test_a_replayed_earlier_off_order_cannot_lift_the_kill_switch(live) -> None:
    """The reported attack, end to end: an approver's "off" signed before her "on", replayed within
    its 5 minutes, is refused and audited; the sidecars keep the switch on and say so."""
    from ben.control.documents import KillSwitch

    s, c = live.setup, live.cluster

    def order(on: bool) -> Signed:
        return KillSwitch(on=on, issuer=s.alice.id, issued_at=now_ns(), nonce=new_nonce(),
                          reason="stop" if on else "resume").sign(s.alice)

    earlier_off, on = order(False), order(True)
    client.kill_switch(c.spine_addr, on)
    try:
        wait_for(lambda: c.status("sidecar").get("kill_switch") == 1, 60, "the sidecar to hold the order")
        wait_for(lambda: c.status("spine").get("kill_switch_unacknowledged", 1) == 0, 60, "the acknowledgement")
        with pytest.raises(ControlError) as err:
            client.kill_switch(c.spine_addr, earlier_off)
        assert err.value.reason == "stale_order"
        refused = [json.loads(e["body"]) for e in client.audit_entries(c.spine_addr) if e["kind"] == "refusal"]
        assert refused[-1]["code"] == "stale_order"
        reply = client.send(c.spine_addr, make_envelope(s.bot, "ping", "shop", {}, "bot after the replay")[1])
        assert json.loads(reply.record_json)["code"] == "kill_switch"
        assert c.status("sidecar").get("kill_switch") == 1
    finally:
        client.kill_switch(c.spine_addr, order(False))
    wait_for(lambda: c.status("sidecar").get("kill_switch") == 0, 60, "the switch lifted")


def test_keys_trust_pins_a_sidecar_in_the_trust_store(home) -> None:
    from ben.control.keys import generate
    from ben.control.trust_store import TrustStore

    trust = home / "trust.toml"
    trust.write_text('[roles.operator]\nkind = "human"\nactions = ["*"]\ntargets = ["*"]\n')
    sidecar, other = generate(home / "a", "sidecar"), generate(home / "b", "sidecar")
    out = ben("keys", "trust", "--sidecar", "web-1", str(home / "a" / "sidecar.pub"), "--trust", str(trust))
    assert out.returncode == 0 and sidecar.id in out.stdout, out.stderr
    assert TrustStore.load(trust).sidecars == {"web-1": sidecar.public_text}
    out = ben("keys", "trust", "--sidecar", "web-1", other.public_text, "--trust", str(trust))
    assert out.returncode == 2 and "already pinned to another key" in out.stderr
    out = ben("keys", "trust", "--sidecar", "web 1", other.public_text, "--trust", str(trust))
    assert out.returncode == 2 and "--sidecar 'web 1'" in out.stderr
    assert TrustStore.load(trust).sidecars == {"web-1": sidecar.public_text}
