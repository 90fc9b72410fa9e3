"""A real spine: an injected fault becomes an incident, gets explained recommendations, and an
operator's feedback teaches the model, which a restart keeps."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys

from ben.cli.procs import query_rows, wait_for
from ben.sdk import Client

T0 = 1_795_000_000 * 10**9
S = 10**9


def level(sec: int) -> float:
    return 480.0 if 300 <= sec < 330 else 120.0


def test_an_incident_gets_recommendations_and_feedback_teaches_across_a_restart(make_cluster, home) -> None:
    (home / "responses.toml").write_text(
        '[[subsystems]]\nmatch = "checkout-*"\nresponses = ["watch", "page:payments", "cmd:throttle", "cmd:mode"]\n'
        '[commands.throttle]\naction = "throttle_job"\nparams = { max_per_s = 5 }\n'
        '[commands.mode]\naction = "set_mode"\nparams = { mode = "safe" }\n')
    (home / "policy.toml").write_text('[actions.throttle_job]\ntargets = ["checkout-*"]\n')   # no set_mode
    (home / "cx.toml").write_text('[cortex]\ndata_dir = "cortex"\nresponses = "responses.toml"\n'
                                  '[spine.control]\npolicy = "policy.toml"\n')
    env = {**os.environ, "BEN_HOME": str(home)}

    def ben(*args: str) -> subprocess.CompletedProcess:
        out = subprocess.run([sys.executable, "-m", "ben", *args, "--spine", cluster.spine_addr],
                             capture_output=True, text=True, timeout=120, env=env)
        assert out.returncode == 0, out.stderr
        return out

    def explain(iid: str) -> dict:
        return json.loads(ben("explain", iid, "--json", "--config", str(home / "cx.toml")).stdout)["recommendations"]

    cluster = make_cluster(spine={"detect": {"bucket_ms": 1000, "group_window_s": 60.0, "resolve_after_s": 30.0}})
    cluster.start()
    client = Client("checkout-api", sidecar=cluster.sidecar_addr, max_batch_events=20)
    rng = random.Random(3)
    for sec in range(420):
        for j in range(10):
            client.gauge("latency_ms", rng.gauss(level(sec), level(sec) / 10), {"route": "/pay"},
                         ts=T0 + sec * S + j * S // 10)
    assert client.flush(timeout=60)
    client.shutdown()
    cluster.wait_drained()
    wait_for(lambda: query_rows(cluster.spine_addr, "SELECT count() AS n FROM ben.incidents FINAL "
                                                    "WHERE state = 'resolved'")[0]["n"] > 0, 60, "a resolved incident")
    [incident] = query_rows(cluster.spine_addr, "SELECT id FROM ben.incidents FINAL")
    iid = incident["id"]

    rec = explain(iid)
    ranked = {e["response"]: e for e in rec["ranked"]}
    assert set(ranked) == {"watch", "page:payments", "cmd:throttle"} and rec["model_updates"] == 0
    assert [e["response"] for e in rec["excluded"]] == ["cmd:mode"]     # the policy does not allow set_mode
    assert ranked["cmd:throttle"]["mode"] == "automatic" and ranked["watch"]["mode"] == "advice"
    assert "subsystem=checkout-api" in rec["context"] and "detector=cusum" in rec["context"]
    assert rec["ranked"][1]["why_lower"]
    before = ranked["cmd:throttle"]["expected_reward"]

    out = ben("cortex", "accept", iid, "cmd:throttle", "--by", "ann", "--config", str(home / "cx.toml"))
    assert out.stdout.strip() == (f"ben command send throttle_job --target checkout-api --param max_per_s=5 "
                                  f"--incident {iid} --reason 'cortex recommendation cmd:throttle for {iid}'")
    out = ben("cortex", "feedback", iid, "helpful", "--config", str(home / "cx.toml"))
    assert "learned reward 1.00 for cmd:throttle" in out.stdout

    learned = {e["response"]: e for e in explain(iid)["ranked"]}
    assert learned["cmd:throttle"]["expected_reward"] > before and learned["cmd:throttle"]["support"] == 1
    audit = [json.loads(line) for line in (home / "cortex" / "history.jsonl").read_text().splitlines()]
    assert [e["type"] for e in audit].count("recommendation") >= 2 and any(e["type"] == "learn" for e in audit)

    cluster.stop()
    cluster.start()
    wait_for(lambda: query_rows(cluster.spine_addr, f"SELECT count() AS n FROM ben.incidents FINAL "
                                                    f"WHERE id = '{iid}'")[0]["n"] == 1, 60, "the incident again")
    again = explain(iid)
    assert again["model_updates"] == 1
    assert {e["response"]: e["expected_reward"] for e in again["ranked"]} == {
        r: e["expected_reward"] for r, e in learned.items()}
