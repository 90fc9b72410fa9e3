"""Every example query of docs/queries.md runs on both backends (the portable ones on 18.16 too)."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from ben.spine.findings import anomaly_rows, incident_rows
from ben.spine.incidents import Anomaly, Incident
from ben.store import schema
from ben.store.rows import to_table
from ben.v1 import telemetry_pb2 as pb
from tests.store.test_rows import request

DOC = Path(__file__).resolve().parents[2] / "docs" / "queries.md"
PLACEHOLDER = "inc-3f2a9c0d1e"


def doc_queries() -> tuple[list[str], list[str]]:
    """(portable queries, modern-only queries) of the doc, each with its comment line."""
    text = DOC.read_text()
    portable_part, _, modern_part = text.partition("## Friendly views")

    def split(part: str) -> list[str]:
        blocks = re.findall(r"```sql\n(.*?)```", part, re.S)
        return [q.strip() for block in blocks for q in re.split(r"\n\s*\n", block) if q.strip()]

    return split(portable_part), split(modern_part)


def seed(store) -> str:
    """Events of subsystem 'checkout' now, one anomaly on them and its incident; the incident id."""
    now = time.time_ns()
    req = request(1, [(pb.KIND_METRIC, "latency_ms", float(i), "", {"route": f"/r{i % 2}"}) for i in range(20)],
                  seq=1)
    req.batch.source.subsystem = "checkout"
    del req.batch.ts_unix_nano[:]
    req.batch.ts_unix_nano.extend([now - (20 - i) * 10**9 for i in range(20)])
    store.insert_events(to_table([(1, req)]))
    anomaly = Anomaly(series="checkout latency_ms", subsystem="checkout", name="latency_ms", start_ns=now - 5 * 10**9,
                      baseline=5.0, observed=19.0, score=0.8, detectors={"ewma": {"z": 6.0}})
    incident = Incident(subsystem="checkout", opened_ns=anomaly.start_ns, updated_ns=anomaly.start_ns)
    incident.anomalies.append(anomaly)
    store.insert_rows(schema.ANOMALIES, anomaly_rows([(anomaly, incident.id)]))
    store.insert_rows(schema.INCIDENTS, incident_rows([incident]))
    return incident.id


def run(store, sql: str, incident_id: str) -> list[dict]:
    """As ``ben query`` runs it: in the query sandbox (ADR 0032)."""
    from ben.store.query import QueryLimits

    return json.loads(store.operator_query(sql.replace(PLACEHOLDER, incident_id), "doc", QueryLimits()))["data"]


def test_the_docs_example_queries_run(store, backend) -> None:
    portable, modern = doc_queries()
    assert len(portable) >= 10 and len(modern) >= 3
    incident_id = seed(store)
    results = {q.splitlines()[0]: run(store, q, incident_id) for q in portable}
    if backend == "chdb":  # 18.16 has no DateTime64 or Map: the views are not there
        results.update({q.splitlines()[0]: run(store, q, incident_id) for q in modern})
    rate = results["-- event rate by subsystem: events per second over the last 10 minutes"]
    assert rate[0]["subsystem"] == "checkout" and abs(rate[0]["per_s"] - 20 / 600) < 1e-9
    assert sum(r["events"] for r in results["-- event rate of one subsystem, minute by minute, last hour"]) == 20
    top = results["-- the most anomalous series this week"]
    assert top == [{"series": "checkout latency_ms", "episodes": 1, "peak": 0.8}]
    assert len(results["-- an incident's timeline: its anomalies in order"]) == 1
    points = results["-- an incident's timeline: the raw points of its series, from a minute before its first anomaly"]
    assert len(points) == 20 and points[-1]["value"] == 19.0
    assert len(results["-- open incidents, newest first"]) == 1
    if backend == "chdb":
        assert len(results["-- an incident's timeline, readable"]) == 1
        assert {r["route"] for r in results["-- p99 latency per route, with the attribute read from the Map"]} == {
            "/r0", "/r1"}
