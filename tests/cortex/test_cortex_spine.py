"""A real spine and sidecar: an injected fault becomes an incident with explained recommendations;
the accepted one runs as a signed command with a receipt; the outcome teaches the model, which a
restart keeps; a response the command policy refuses is never offered."""

from __future__ import annotations

import json
import os
import random
import shlex
import subprocess
import sys

import grpc
import pytest

from ben.cli.demo import DEMO_TIMING
from ben.cli.procs import query_rows, wait_for
from ben.control.client import audit_entries, verify_audit
from ben.sdk import Client
from ben.v1 import control_pb2, control_pb2_grpc
from tests.control.conftest import Recorder, attach, make_setup

S = 10**9
RESPONSES = """
[[subsystems]]
match = "shop*"
responses = ["watch", "page:payments", "cmd:throttle", "cmd:quarantine", "cmd:reboot"]

[commands.throttle]
action = "throttle_job"
params = { job = "checkout", rate_per_s = 5 }

[commands.quarantine]
action = "quarantine_artifact"
params = { artifact = "build-42" }

[commands.reboot]
action = "reboot_host"
"""


def test_recommend_accept_send_learn_restart(make_cluster, home) -> None:
    setup = make_setup(home)   # keys (alice: operator), trust store, command policy (no reboot_host)
    (home / "responses.toml").write_text(RESPONSES)
    (home / "cx.toml").write_text(f'[cortex]\ndata_dir = "cortex"\nresponses = "responses.toml"\n'
                                  f'[spine.control]\npolicy = "{setup.policy}"\n')
    env = {**os.environ, "BEN_HOME": str(home)}

    def ben(*args: str) -> subprocess.CompletedProcess:
        out = subprocess.run([sys.executable, "-m", "ben", *args, "--spine", cluster.spine_addr],
                             capture_output=True, text=True, timeout=120, env=env)
        assert out.returncode == 0, out.stderr
        return out

    def explain(iid: str) -> dict:
        return json.loads(ben("explain", iid, "--json", "--config", str(home / "cx.toml")).stdout)["recommendations"]

    cluster = make_cluster(spine={**setup.control_options(),
                                  "detect": {"bucket_ms": 1000, "group_window_s": 60.0, "resolve_after_s": 30.0,
                                             "timing": DEMO_TIMING}},
                           sidecar=setup.sidecar_options())
    cluster.start()
    recorder = Recorder()
    shop = attach(cluster.sidecar_addr, "shop", recorder, cluster)
    metrics = Client("shop", sidecar=cluster.sidecar_addr, max_batch_events=50)
    rng, t0 = random.Random(8), 1_767_225_600 * S
    for sec in range(300):  # 120 ms p99, then 480 ms from minute 3
        for j in range(5):
            metrics.gauge("p99_latency_ms", rng.gauss(120.0 if sec < 180 else 480.0, 6.0), ts=t0 + sec * S + j * S // 5)
    metrics.log("Deployed checkout v2.4.1 (rollout 3/3)", ts=t0 + 170 * S)     # a change 10 s before onset
    metrics.log("GET /cart 200", ts=t0 + 175 * S)                              # not a change
    assert metrics.flush(timeout=60)
    metrics.shutdown()
    iid = wait_for(lambda: query_rows(cluster.spine_addr, "SELECT id FROM ben.incidents FINAL WHERE subsystem = "
                                                          "'shop' LIMIT 1"), 60, "an incident")[0]["id"]

    wait_for(lambda: query_rows(cluster.spine_addr, "SELECT ts FROM ben.events WHERE subsystem = 'shop' AND "
                                                    "kind = 'log'"), 60, "the log lines in ben.events")
    rec = explain(iid)
    ranked = {e["response"]: e for e in rec["ranked"]}
    assert set(ranked) == {"watch", "page:payments", "cmd:throttle", "cmd:quarantine"} and rec["model_updates"] == 0
    assert [e["response"] for e in rec["excluded"]] == ["cmd:reboot"]      # the policy has no reboot_host
    assert ranked["cmd:throttle"]["mode"] == "automatic" and ranked["cmd:quarantine"]["mode"] == "proposal"
    assert ranked["watch"]["mode"] == "advice"
    assert "subsystem=shop" in rec["context"] and "direction=up" in rec["context"]
    assert rec["context"]["change=deploy"] == rec["context"]["change=rollout"] == 1.0     # from the log line
    assert 0.99 < rec["context"]["change_recency"] <= 1.0 and "change=version" not in rec["context"]
    assert rec["ranked"][1]["why_lower"] and all("support" in e and "uncertainty" in e for e in rec["ranked"])
    before = ranked["cmd:throttle"]["expected_reward"]

    line = ben("cortex", "accept", iid, "--response", "cmd:throttle", "--by", "alice",
               "--config", str(home / "cx.toml")).stdout.strip()
    assert line == (f"ben command send throttle_job --target shop --param job=checkout --param rate_per_s=5 "
                    f"--incident {iid} --reason 'cortex recommendation cmd:throttle for {iid}'")
    # The human runs it: the existing signed path, policy, sidecar handler and receipt.
    sent = json.loads(ben(*shlex.split(line)[1:], "--key", str(home / "keys" / "alice.key"), "--wait", "30",
                          "--json").stdout)
    assert sent["state"] == "accepted" and sent["receipt"], sent
    assert [c.action for c in recorder.calls] == ["throttle_job"]

    # The outcome teaches without a human: the receipt (the incident, replayed from the past, was
    # already resolved when the response was accepted: its resolution says nothing of it).
    wait_for(lambda: query_rows(cluster.spine_addr, "SELECT id FROM ben.commands FINAL WHERE incident_id = "
                                                    f"'{iid}' AND state = 'accepted'"), 30, "the receipt in ben.commands")
    out = ben("cortex", "outcomes", "--config", str(home / "cx.toml"))
    assert "1 outcomes learned" in out.stdout, out.stdout
    out = ben("incidents", "feedback", iid, "helpful", "--config", str(home / "cx.toml"))
    assert "learned reward 1.00 for cmd:throttle" in out.stdout
    learned = {e["response"]: e for e in explain(iid)["ranked"]}
    assert learned["cmd:throttle"]["expected_reward"] > before and learned["cmd:throttle"]["support"] == 2
    audit = [json.loads(x) for x in (home / "cortex" / "history.jsonl").read_text().splitlines()]
    assert [e["type"] for e in audit].count("recommendation") >= 2
    outcome, verdict = [e for e in audit if e["type"] == "learn"]
    assert outcome["signals"] == {"verdict": None, "resolved_in_time": None, "receipt": "accepted"}
    assert outcome["reward"] == 1.0 and outcome["by"] == "outcome"
    assert verdict["signals"] == {"verdict": "helpful", "resolved_in_time": None, "receipt": None}

    # Every recommendation, decision and outcome is an entry of the spine's hash-chained audit log.
    ben("cortex", "dismiss", iid, "--reason", "handled", "--by", "bob", "--config", str(home / "cx.toml"))
    history = [json.loads(x) for x in (home / "cortex" / "history.jsonl").read_text().splitlines()]
    entries = [e for e in audit_entries(cluster.spine_addr) if e["kind"] in ("recommendation", "decision", "outcome")]
    assert [json.loads(e["body"])["cortex_seq"] for e in entries] == [h["seq"] for h in history]
    assert [e["kind"] for e in entries].count("decision") == 2 and entries[-1]["command_id"] == iid
    assert {e["actor"] for e in entries} == {"cortex"} and all(json.loads(e["body"])["operator"] for e in entries)
    assert verify_audit(cluster.spine_addr).ok
    with grpc.insecure_channel(cluster.spine_addr) as channel:       # no operator token: refused
        with pytest.raises(grpc.RpcError) as denied:
            control_pb2_grpc.ControlStub(channel).Record(control_pb2.RecordRequest(
                kind="outcome", subject=iid, body_json='{"reason": "forged"}'), timeout=10)
        assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED

    shop.shutdown(timeout=2)
    cluster.stop()
    cluster.start()
    again = explain(iid)
    assert again["model_updates"] == 2
    assert {e["response"]: e["expected_reward"] for e in again["ranked"]} == {
        r: e["expected_reward"] for r, e in learned.items()}
    # `ben replay --cortex` rebuilds the model from the stored history: the same model.
    replayed = json.loads(ben("replay", "--from", str(t0), "--to", str(t0 + 300 * S), "--cortex", "--json",
                              "--config", str(home / "cx.toml")).stdout)["cortex"]
    assert replayed == {"outcomes": 2, "history": len(history), "same": True}
