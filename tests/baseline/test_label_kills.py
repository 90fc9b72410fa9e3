"""A label killed between its audit entry and its row (ADR 0046 round 6): the spine's next start stores it.

The spine audits a label first, then stores it; a kill between the two left a label the audit log records
and ``ben.incident_labels`` lacks, for good. The entry's batch now also writes a pending key; the next start
(or the next label) stores the row and removes the key. Real processes: a spine, and its label call in a
process SIGKILLed between the two (``label_proc``)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from ben.cli.procs import Cluster, query_rows
from tests.baseline.test_export import ben, _seed_store

ROOT = Path(__file__).resolve().parents[2]


def test_a_label_killed_between_its_audit_entry_and_its_row_is_stored_by_the_next_start(home: Path) -> None:
    cluster = Cluster(home)
    _seed_store(home / "spine" / "chdb")
    cluster.start_spine()
    try:
        out = ben("incidents", "label", "inc-00000000b2", "noise", "--spine", cluster.spine_addr)
        assert out.returncode == 0, out.stderr
    finally:
        cluster.stop()

    killed = subprocess.run([sys.executable, "-P", "-m", "tests.baseline.label_proc", str(cluster.config),
                             "inc-00000000a1", "real"], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]

    cluster.start_spine()
    try:
        spine = cluster.spine_addr
        verify = ben("audit", "verify", "--spine", spine)   # (waits until ben.audit holds the whole log)
        assert verify.returncode == 0, verify.stdout + verify.stderr
        audit = query_rows(spine, "SELECT seq, body FROM ben.audit WHERE kind = 'label' ORDER BY seq")
        assert [json.loads(r["body"])["incident_id"] for r in audit] == ["inc-00000000b2", "inc-00000000a1"]
        stored = query_rows(spine, "SELECT incident_id, label, kind, operator, audit_seq "
                                   "FROM ben.incident_labels FINAL ORDER BY incident_id")
        assert stored == [
            {"incident_id": "inc-00000000a1", "label": "real", "kind": "spike", "operator": "bob",
             "audit_seq": str(audit[1]["seq"]) if isinstance(stored[0]["audit_seq"], str) else audit[1]["seq"]},
            {"incident_id": "inc-00000000b2", "label": "noise", "kind": "other", "operator": stored[1]["operator"],
             "audit_seq": stored[1]["audit_seq"]}], stored
        # labelled again: the later label wins over the one stored late; each label audited once
        out = ben("incidents", "label", "inc-00000000a1", "noise", "--kind", "level", "--spine", spine)
        assert out.returncode == 0, out.stderr
        stored = query_rows(spine, "SELECT label, kind FROM ben.incident_labels FINAL WHERE incident_id = "
                                   "'inc-00000000a1'")
        assert stored == [{"label": "noise", "kind": "level"}]
        verify = ben("audit", "verify", "--spine", spine)   # (waits until ben.audit holds the third entry too)
        assert verify.returncode == 0, verify.stdout + verify.stderr
        assert len(query_rows(spine, "SELECT seq FROM ben.audit WHERE kind = 'label'")) == 3
    finally:
        cluster.stop()
    log = (home / "logs" / "spine.log").read_text()
    assert "1 label(s) audited but not stored" in log and "Traceback" not in log
