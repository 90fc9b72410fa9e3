"""``ben explain`` lists federated incidents with the incident's signature, seen in the last 30 days."""

from __future__ import annotations

import json
import subprocess
import sys
import time

from ben.federation.link import rows_of
from ben.federation.summary import Verified
from ben.store.process import ChdbProcessStore
from ben.store.schema import FEDERATED_INCIDENTS
from tests.federation.conftest import add_incident


def _federated(store, cluster: str, incident: str, detector: str, opened_minute: int) -> None:
    body = {"incident": incident, "change": "resolved", "state": "resolved", "subsystem_class": "postgres",
            "detector": detector, "direction": "up", "magnitude": "3-10x", "severity": "high",
            "opened": opened_minute, "resolved": opened_minute + 900, "duration": "5-30m", "anomalies": 1}
    store.insert_rows(FEDERATED_INCIDENTS, rows_of([(Verified(f"s-{incident}", cluster, opened_minute, body), 1)]))


def test_explain_lists_similar_federated_incidents(make_cluster, home):
    now = int(time.time()) // 60 * 60
    store = ChdbProcessStore(home / "spine" / "chdb")  # what the spine will find in its store
    inc = add_incident(store, n=1, subsystem="pg-main", series="pg-main latency_ms", observed=950.0, baseline=100.0)
    _federated(store, "west", "p-similar", "ewma", now - 86_400)
    _federated(store, "south", "p-other-detector", "cusum", now - 86_400)
    _federated(store, "north", "p-too-old", "ewma", now - 40 * 86_400)
    store.close()
    policy = home / "federation.toml"
    policy.write_text('[classes]\n"pg-main" = "postgres"\n')
    cluster = make_cluster(spine={"federation": {"policy": str(policy)}})
    cluster.start_spine()
    args = [sys.executable, "-m", "ben", "explain", inc, "--spine", cluster.spine_addr, "--config", str(cluster.config)]
    out = subprocess.run([*args, "--json"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    similar = json.loads(out.stdout)["federated_similar"]
    assert [(s["cluster"], s["incident"], s["state"], s["duration_bucket"]) for s in similar] == \
        [("west", "p-similar", "resolved", "5-30m")]
    text = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert "west postgres: ewma up 3-10x, severity high, resolved after 5-30m" in text.stdout, text.stdout
    cluster.stop()
