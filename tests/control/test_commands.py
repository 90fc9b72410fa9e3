"""Signed commands end to end: real spine and sidecar processes, an SDK client with handlers in
this process, the `ben` CLI as an operator runs it. Every refusal names its reason and leaves an
audit entry; the same command runs once."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import uuid
from contextlib import redirect_stderr, redirect_stdout
from unittest import mock

import pytest

from ben.cli.procs import query_rows, wait_for
from ben.control import client
from ben.control.actions import SetMode
from ben.control.documents import Receipt, Signed, make_envelope, now_ns
from ben.control.keys import public_from_text, verify

# a directory no one has: not /nonexistent, which anything else on the machine may create
ABSENT_DIR = f"/tmp/ben-absent-{uuid.uuid4().hex}/x"

S = 10**9
LET_THROUGH = ("pending", "delivered", "accepted")


def ben_process(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """The `ben` command as a separate process."""
    return subprocess.run([sys.executable, "-m", "ben", *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ})


def ben(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """The `ben` command's entry point (``ben.cli.main``) in this process: the same code, seconds faster."""
    from ben.cli import main

    out, err, code = io.StringIO(), io.StringIO(), 0
    with redirect_stdout(out), redirect_stderr(err), mock.patch.object(sys, "argv", ["ben", *args]):
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return subprocess.CompletedProcess(["ben", *args], code, out.getvalue(), err.getvalue())


def audit_for(address: str, command_id: str) -> list[dict]:
    return [{**e, "body": json.loads(e["body"])} for e in client.audit_entries(address)
            if e["command_id"] == command_id]


def wait_receipt(live, command_id: str, seen: int = 1) -> dict:
    return wait_for(lambda: (r := client.get_command(live.cluster.spine_addr, command_id))["receipts_seen"] >= seen
                    and r, 30, f"receipt #{seen} of {command_id}")


def test_cli_send_runs_once_with_a_signed_receipt_and_audit(live) -> None:
    c, s = live.cluster, live.setup
    out = ben_process("command", "send", "set_mode", "--target", "shop", "--param", "mode=degraded", "--reason",
              "checkout p99 at 2 s: shed optional work", "--key", str(s.home / "keys" / "alice.key"),
              "--wait", "30", "--json", "--spine", c.spine_addr)
    assert out.returncode == 0, out.stderr
    rec = json.loads(out.stdout)
    assert rec["state"] == "accepted" and rec["issuer_name"] == "alice", rec
    calls = [x for x in live.recorder.calls if x.id == rec["id"]]
    assert len(calls) == 1 and isinstance(calls[0].params, SetMode) and calls[0].params.mode == "degraded"
    assert calls[0].reason == "checkout p99 at 2 s: shed optional work"
    # The receipt is signed by the sidecar's key and says why.
    receipt = Signed.from_json(rec["receipt"])
    sidecar_pub = public_from_text((c.home / "sidecar" / "control" / "sidecar.pub").read_text())
    assert verify(sidecar_pub, receipt.signature, receipt.body)
    parsed = Receipt.parse(receipt.body)
    assert (parsed.status, parsed.reason, parsed.result["done"]) == ("accepted", rec["reason"], "set_mode")
    # Audited at the spine (mirrored in ClickHouse) and at the sidecar, each entry with the reason.
    kinds = [e["kind"] for e in audit_for(c.spine_addr, rec["id"])]
    assert kinds == ["command", "delivery", "receipt"], kinds
    assert all(e["body"]["reason"] for e in audit_for(c.spine_addr, rec["id"]))
    assert [e["kind"] for e in audit_for(c.sidecar_addr, rec["id"])] == ["execution", "receipt"]
    # The store's copy follows the control log within a mirror batch (ADR 0035): wait for it.
    sql = f"SELECT state, reason, issuer FROM ben.commands FINAL WHERE id = '{rec['id']}'"
    stored = wait_for(lambda: [r for r in query_rows(c.spine_addr, sql) if r["state"] == "accepted"], 30,
                      "the command's receipt in the store")
    assert stored == [{"state": "accepted", "reason": rec["reason"], "issuer": s.alice.id}]
    wait_for(lambda: query_rows(c.spine_addr, f"SELECT count() AS n FROM ben.audit WHERE command_id = "
                                              f"'{rec['id']}'")[0]["n"] == 3, 30, "three audit entries in the store")
    listed = ben("command", "list", "--json", "--spine", c.spine_addr)
    assert rec["id"] in [r["id"] for r in json.loads(listed.stdout)]
    table = ben("command", "list", "--spine", c.spine_addr)
    assert table.returncode == 0 and "commands" in table.stdout and "alice" in table.stdout, table.stdout
    out = ben("audit", "verify", "--spine", c.spine_addr)
    assert out.returncode == 0 and "audit: intact" in out.stdout, out.stdout + out.stderr
    out = ben("audit", "verify", "--sidecar", c.sidecar_addr)
    assert out.returncode == 0 and "audit: intact" in out.stdout, out.stdout + out.stderr


def _forged(signer):
    _, signed = make_envelope(signer, "ping", "shop", {}, "forged")
    return Signed(signed.body, bytes(b ^ 1 if i == 0 else b for i, b in enumerate(signed.signature)))


@pytest.mark.parametrize("case, code", [
    ("forged_signature", "bad_signature"),
    ("unknown_key", "unknown_key"),
    ("wrong_role", "wrong_role"),
    ("expired", "expired"),
    ("not_yet_valid", "not_yet_valid"),
    ("wrong_target", "wrong_target"),
    ("unknown_incident", "unknown_incident"),
])
def test_the_spine_refuses_with_the_reason_and_an_audit_entry(live, case: str, code: str) -> None:
    s = live.setup
    now = now_ns()
    signed = {
        "forged_signature": lambda: _forged(s.alice),
        "unknown_key": lambda: make_envelope(s.stranger, "ping", "shop", {}, "who am I")[1],
        "wrong_role": lambda: make_envelope(s.bot, "quarantine_artifact", "shop", {"artifact": "m"}, "bot")[1],
        "expired": lambda: make_envelope(s.alice, "ping", "shop", {}, "old", issued_at=now - 900 * S, ttl_s=60)[1],
        "not_yet_valid": lambda: make_envelope(s.alice, "ping", "shop", {}, "future", issued_at=now + 120 * S)[1],
        "wrong_target": lambda: make_envelope(s.alice, "set_mode", "batch", {"mode": "normal"}, "outside")[1],
        "unknown_incident": lambda: make_envelope(s.alice, "ping", "shop", {}, "see it", incident_id="inc-nope")[1],
    }[case]()
    reply = client.send(live.cluster.spine_addr, signed)
    rec = json.loads(reply.record_json)
    assert reply.state == "refused" and rec["code"] == code, rec
    assert reply.reason
    entries = audit_for(live.cluster.spine_addr, rec["id"])
    assert entries[-1]["kind"] == "refusal" and entries[-1]["body"]["code"] == code
    # recorded refusals keep the command's own reason beside why it was refused
    assert reply.reason in (entries[-1]["body"]["reason"], entries[-1]["body"].get("refusal"))


def test_replayed_id_and_sequence_are_refused(live) -> None:
    s, addr = live.setup, live.cluster.spine_addr
    env, signed = make_envelope(s.alice, "ping", "shop", {}, "first")
    assert client.send(addr, signed).state in LET_THROUGH
    rec = wait_receipt(live, env.id)
    assert client.send(addr, signed).command_id == env.id  # the same bytes again: the same command
    _, again = make_envelope(s.alice, "ping", "shop", {}, "same id", command_id=env.id)
    reply = client.send(addr, again)
    assert reply.state == "refused" and json.loads(reply.record_json)["code"] == "replayed_id"
    _, reseq = make_envelope(s.alice, "ping", "shop", {}, "same seq", seq=env.seq)
    reply = client.send(addr, reseq)
    assert reply.state == "refused" and json.loads(reply.record_json)["code"] == "replayed_sequence"
    assert audit_for(addr, reply.command_id)[-1]["body"]["code"] == "replayed_sequence"
    assert [e["body"]["code"] for e in audit_for(addr, env.id) if e["kind"] == "refusal"] == ["replayed_id"]
    assert live.recorder.count(env.id) == 1 and rec["state"] == "accepted"


def test_rate_and_blast_radius_bound_a_human(live) -> None:
    s, addr = live.setup, live.cluster.spine_addr

    def send(target: str) -> str:
        reply = client.send(addr, make_envelope(s.alice, "limited", target, {}, f"limited on {target}")[1])
        return json.loads(reply.record_json)["code"]

    assert [send(t) for t in ("shop", "shop-eu", "shop-x", "shop", "shop")] == [
        "ok", "ok", "over_blast_radius", "ok", "over_rate"]
    refusals = [e for e in client.audit_entries(addr) if e["kind"] == "refusal"]
    codes = [json.loads(e["body"])["code"] for e in refusals[-2:]]
    assert codes == ["over_blast_radius", "over_rate"]


def test_automation_outside_bounds_proposes_and_a_human_decides(live) -> None:
    s, c = live.setup, live.cluster
    # set_mode is an action the bot's role may sign on batch*, but the policy allows it on shop* only:
    env, signed = make_envelope(s.bot, "set_mode", "batch", {"mode": "maintenance"},
                                "batch queue stuck for 10 min", incident_id="")
    reply = client.send(c.spine_addr, signed)
    assert reply.state == "awaiting_approval" and json.loads(reply.record_json)["code"] == "wrong_target"
    assert live.recorder.count(env.id) == 0
    out = ben("command", "list", "--state", "awaiting_approval", "--json", "--spine", c.spine_addr)
    assert env.id in [r["id"] for r in json.loads(out.stdout)]
    out = ben("command", "approve", env.id, "--reason", "yes: batch is drained", "--key",
              str(s.home / "keys" / "alice.key"), "--spine", c.spine_addr)
    assert out.returncode == 0 and re.match(rf"{env.id}: (pending|delivered|accepted)\. ", out.stdout), out
    rec = wait_receipt(live, env.id)
    assert rec["state"] == "accepted" and rec["approved_by"] == "alice" and live.recorder.count(env.id) == 1
    kinds = [e["kind"] for e in audit_for(c.spine_addr, env.id)]
    assert kinds == ["proposal", "approval", "delivery", "receipt"], kinds
    # Refused by a human: never delivered.
    env2, signed2 = make_envelope(s.bot, "set_mode", "batch", {"mode": "normal"}, "try again")
    assert client.send(c.spine_addr, signed2).state == "awaiting_approval"
    out = ben("command", "refuse", env2.id, "--reason", "not tonight", "--key", str(s.home / "keys" / "alice.key"),
              "--spine", c.spine_addr)
    assert out.returncode == 0 and "refused" in out.stdout and "not tonight" in out.stdout, out
    # An automation key cannot approve.
    env3, signed3 = make_envelope(s.bot, "set_mode", "batch", {"mode": "normal"}, "and again")
    client.send(c.spine_addr, signed3)
    out = ben("command", "approve", env3.id, "--reason", "self-service", "--key", str(s.home / "keys" / "bot.key"),
              "--spine", c.spine_addr)
    assert out.returncode == 2 and "may not approve" in out.stderr, out.stderr
    assert live.recorder.count(env2.id) == live.recorder.count(env3.id) == 0


def test_approval_required_waits_for_a_human(live) -> None:
    s, c = live.setup, live.cluster
    env, signed = make_envelope(s.alice, "quarantine_artifact", "shop", {"artifact": "model-7"}, "bad model")
    reply = client.send(c.spine_addr, signed)
    assert reply.state == "awaiting_approval" and json.loads(reply.record_json)["code"] == "approval_required"
    assert audit_for(c.spine_addr, env.id)[-1]["kind"] == "proposal"
    assert live.recorder.count(env.id) == 0


def test_kill_switch_stops_all_automation(live) -> None:
    s, c = live.setup, live.cluster
    key = str(s.home / "keys" / "alice.key")
    out = ben("command", "kill-switch", "on", "--reason", "runaway automation", "--key", key, "--spine", c.spine_addr)
    assert out.returncode == 0, out.stderr
    try:
        wait_for(lambda: c.status("sidecar").get("kill_switch") == 1, 60, "the order to reach the sidecar")
        reply = client.send(c.spine_addr, make_envelope(s.bot, "ping", "shop", {}, "bot ping")[1])
        assert reply.state == "refused" and json.loads(reply.record_json)["code"] == "kill_switch"
        assert "runaway automation" in reply.reason
        reply = client.send(c.spine_addr, make_envelope(s.alice, "ping", "shop", {}, "human ping")[1])
        assert reply.state in LET_THROUGH
        out = ben("command", "kill-switch", "off", "--reason", "mine", "--key", str(s.home / "keys" / "victor.key"),
                  "--spine", c.spine_addr)
        assert out.returncode == 2 and "may not approve" in out.stderr
    finally:
        out = ben("command", "kill-switch", "off", "--reason", "fixed", "--key", key, "--spine", c.spine_addr)
        assert out.returncode == 0, out.stderr
    wait_for(lambda: c.status("sidecar").get("kill_switch") == 0, 60, "the sidecar to lift it")
    reply = client.send(c.spine_addr, make_envelope(s.bot, "ping", "shop", {}, "bot ping")[1])
    assert reply.state in LET_THROUGH
    assert [e["kind"] for e in client.audit_entries(c.spine_addr) if e["kind"] == "kill_switch"] == ["kill_switch"] * 2


def test_handler_failure_is_a_failed_receipt(live) -> None:
    env, signed = make_envelope(live.setup.alice, "boom", "batch", {}, "try the job runner")
    client.send(live.cluster.spine_addr, signed)
    rec = wait_receipt(live, env.id)
    assert rec["state"] == "failed" and "the job runner is down" in rec["refusal"]


@pytest.mark.parametrize("args, message", [
    (["command", "send", "ping", "--target", "shop", "--reason", "  "], "--reason must say why"),
    (["command", "send", "ping", "--target", "shop", "--reason", "r", "--param", "novalue"], "expected KEY=VALUE"),
    (["command", "send", "Ping!", "--target", "shop", "--reason", "r"], "ACTION 'Ping!'"),
    (["command", "send", "set_mode", "--target", "shop", "--reason", "r", "--param", "mode=turbo"],
     "parameter 'mode'"),
    (["command", "send", "ping", "--target", "shop", "--reason", "r", "--key", "/nonexistent/k.key"],
     "key file not found"),
    (["command", "send", "ping", "--target", "sh op", "--reason", "r"], "--target 'sh op'"),
    (["command", "kill-switch", "maybe", "--reason", "r"], "expected 'on' or 'off'"),
    (["audit", "verify", "--data-dir", ABSENT_DIR], "not a directory"),
])
def test_cli_errors_name_the_flag(args: list[str], message: str) -> None:
    out = ben(*args)
    assert out.returncode == 2, out
    assert message in out.stderr and "Traceback" not in out.stderr, out.stderr


def test_restart_kill9_sidecar_redelivery_returns_the_same_receipt(live) -> None:
    s, c = live.setup, live.cluster
    env, signed = make_envelope(s.alice, "ping", "shop", {}, "before the crash")
    client.send(c.spine_addr, signed)
    first = wait_receipt(live, env.id)
    c.sidecar.kill()  # SIGKILL
    env2, signed2 = make_envelope(s.alice, "ping", "shop-eu", {}, "sent while the sidecar is down")
    assert client.send(c.spine_addr, signed2).state == "pending"  # no sidecar has it now
    c.start_sidecar()
    wait_for(lambda: c.status("sidecar").get("subsystems_attached", 0) == 3, 30, "the subsystems to reattach")
    assert wait_receipt(live, env2.id)["state"] == "accepted"  # delivered after the restart
    out = ben("command", "redeliver", env.id, "--spine", c.spine_addr)
    assert out.returncode == 0, out.stderr
    again = wait_receipt(live, env.id, seen=2)
    assert again["receipt_mismatch"] == 0 and again["receipt"] == first["receipt"]
    assert live.recorder.count(env.id) == 1 and live.recorder.count(env2.id) == 1
    assert audit_for(c.spine_addr, env.id)[-1]["body"]["same_receipt"] is True
    sidecar_audit = audit_for(c.sidecar_addr, env.id)
    assert sidecar_audit[-1]["kind"] == "refusal" and sidecar_audit[-1]["body"]["code"] == "replayed_id"


def test_a_command_for_a_real_incident_is_in_its_explanation(live) -> None:
    """Point 8 end to end: detection opens an incident, an operator acts on it with --incident,
    and `ben explain` shows the command and its reason beside the evidence."""
    import random

    from ben.sdk import Client

    c, s = live.cluster, live.setup
    metrics = Client("shop", sidecar=c.sidecar_addr, max_batch_events=50)
    rng = random.Random(8)
    t0 = 1_767_225_600 * S
    for sec in range(300):  # five minutes of event time: 120 ms latency, then 480 ms from minute 3
        level = 120.0 if sec < 180 else 480.0
        for j in range(5):
            metrics.gauge("p99_latency_ms", rng.gauss(level, 6.0), ts=t0 + sec * S + j * S // 5)
    assert metrics.flush(timeout=60)
    metrics.shutdown()
    incident = wait_for(lambda: query_rows(c.spine_addr, "SELECT id FROM ben.incidents FINAL "
                                                         "WHERE subsystem = 'shop' LIMIT 1"), 60, "an incident")[0]["id"]
    reason = "p99 latency at 480 ms: shed optional work"
    out = ben_process("command", "send", "set_mode", "--target", "shop", "--param", "mode=degraded", "--reason", reason,
                      "--incident", incident, "--key", str(s.home / "keys" / "alice.key"), "--wait", "30", "--json",
                      "--spine", c.spine_addr)
    assert out.returncode == 0, out.stderr
    sent = json.loads(out.stdout)
    assert sent["state"] == "accepted", sent
    def explained_once_mirrored() -> dict | None:  # the store's copy follows within a mirror batch (ADR 0035)
        out = ben("explain", incident, "--json", "--spine", c.spine_addr)
        assert out.returncode == 0, out.stderr
        found = json.loads(out.stdout)
        return found if [x["state"] for x in found["commands"]] == ["accepted"] else None

    explained = wait_for(explained_once_mirrored, 30, "the accepted command in the incident's explanation")
    assert explained["anomalies"], explained
    assert [(x["id"], x["action"], x["reason"], x["state"]) for x in explained["commands"]] == [
        (sent["id"], "set_mode", reason, "accepted")]
    out = ben("explain", incident, "--spine", c.spine_addr)
    assert out.returncode == 0, out.stderr
    assert "commands" in out.stdout and sent["id"] in out.stdout and reason in out.stdout
