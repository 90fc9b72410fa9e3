"""Outcome recording under kill -9: the cortex's outbox (``ben.cortex.record``) sends each history line to
a real spine's audit log; killed just after the spine's answer (before it notes the line), the next run
sends the line again, and the spine answers with the entry it made: every line audited once, the chain
intact (ADR 0046, round 5)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

from ben.control.audit import RECORD_KINDS
from ben.control.client import audit_entries, verify_audit
from tests.control.conftest import make_setup

S = 10**9


def history(n: int) -> list[dict]:
    """``n`` history lines of the kinds the outbox audits (outcomes, decisions, recommendations)."""
    out = []
    for seq in range(1, n + 1):
        base = {"seq": seq, "at_ns": 1_767_225_600 * S + seq, "incident": f"inc-{seq % 3:010x}"}
        if seq % 3 == 0:
            out.append({**base, "type": "recommendation", "ranked": ["watch"], "modes": ["advice"],
                        "expected": [0.5], "model_updates": seq})
        elif seq % 3 == 1:
            out.append({**base, "type": "learn", "response": "watch", "reward": 1.0, "by": "outcome",
                        "signals": {"verdict": None, "resolved_in_time": None, "receipt": "accepted"}})
        else:
            out.append({**base, "type": "accept", "response": "watch", "by": "alice", "recommended": "watch",
                        "choice": "recommended", "mode": "advice", "command": ""})
    return out


def run_child(spine: str, home, kill_at: int) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tests.cortex.record_child", spine, str(home / "history.jsonl"),
                           str(home / "audited"), str(kill_at)], capture_output=True, text=True, timeout=60)


def test_a_cortex_killed_after_the_spine_took_its_line_has_each_line_audited_once(make_cluster, home) -> None:
    setup = make_setup(home)
    cluster = make_cluster(spine=setup.control_options(), sidecar=setup.sidecar_options())
    cluster.start()
    lines = history(7)
    (home / "history.jsonl").write_text("".join(json.dumps(e) + "\n" for e in lines))

    for kill_at in (1, 2, 1):   # killed after the 1st line, then after the 2nd and 1st of what it resends
        killed = run_child(cluster.spine_addr, home, kill_at)
        assert killed.returncode == -signal.SIGKILL, killed.stderr
    done = run_child(cluster.spine_addr, home, 0)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"waiting": 0, "sent": 6}   # lines 2-7: each kill left its last line unnoted

    entries = [e for e in audit_entries(cluster.spine_addr) if e["kind"] in RECORD_KINDS]
    assert [json.loads(e["body"])["cortex_seq"] for e in entries] == [e["seq"] for e in lines]
    assert verify_audit(cluster.spine_addr).ok

    # A restarted spine still knows each line it took: sent again from the start, nothing is added.
    cluster.stop()
    cluster.start()
    (home / "audited").unlink()
    again = run_child(cluster.spine_addr, home, 0)
    assert again.returncode == 0 and json.loads(again.stdout) == {"waiting": 0, "sent": 7}, again.stderr
    assert [e for e in audit_entries(cluster.spine_addr) if e["kind"] in RECORD_KINDS] == entries
    assert verify_audit(cluster.spine_addr).ok
