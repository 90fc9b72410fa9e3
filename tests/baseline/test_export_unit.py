"""What ``ben baseline export`` takes from a store, against a stand-in query function: the federation
policy's facts and pseudonyms, numeric evidence only, notes only when the policy allows them."""

from __future__ import annotations

import json

from ben.baseline.export import build, numeric_evidence
from ben.federation.policy import Facts, Policy, PolicyFile

T0 = 1_780_000_000 * 10**9
MIN = 60 * 10**9


def _query(sql: str) -> list[dict]:
    if "incident_labels" in sql:
        return [{"incident_id": "inc-1", "label": "real", "kind": "level", "note": "db-7.corp.example full"}]
    if "FROM ben.incidents" in sql:
        return [{"id": "inc-1", "subsystem": "pg-eu-7", "state": "resolved", "severity": "high",
                 "opened_ts": str(T0), "updated_ts": str(T0 + 10 * MIN), "resolved_ts": str(T0 + 12 * MIN),
                 "anomaly_ids": ["an-1"]},
                {"id": "inc-2", "subsystem": "pg-eu-7", "state": "open", "severity": "low",  # not labelled
                 "opened_ts": str(T0), "updated_ts": str(T0), "resolved_ts": "0", "anomaly_ids": []}]
    if "FROM ben.anomalies" in sql:
        assert "'inc-1'" in sql
        return [{"id": "an-1", "series": "pg-eu-7 latency_ms{tenant=acme}", "subsystem": "pg-eu-7",
                 "name": "latency_ms", "start_ts": str(T0), "end_ts": "0", "baseline": 10.0, "observed": 45.0,
                 "score": 0.9, "detectors": ["level_shift"],
                 "evidence": json.dumps({"level_shift": {"sigma": 8.5, "where": "db-7.corp.example"}})}]
    assert "arrayStringConcat" in sql and "'tenant=acme'" in sql and "'latency_ms'" in sql
    return [{"ts": str(T0 - MIN), "value": 10.0, "kind": "metric"}, {"ts": str(T0 + MIN), "value": 45.0,
                                                                     "kind": "metric"},
            {"ts": str(T0 + 13 * MIN), "value": 10.0, "kind": "metric"}]


def test_export_uses_the_federation_policy() -> None:
    policy = Policy(rules=PolicyFile(classes={"pg-eu-7": "postgres"}), key=b"k" * 32)
    pkg = build(_query, policy, from_ns=T0 - MIN, to_ns=T0 + MIN)
    assert len(pkg.episodes) == 1
    ep = pkg.episodes[0]
    summary = policy.apply(Facts(incident_id="inc-1", change="resolved", subsystem="pg-eu-7", state="resolved",
                                 severity="high", detector="level_shift", direction="up", ratio=4.5, opened_ns=T0,
                                 resolved_ns=T0 + 12 * MIN, anomalies=1))
    assert ep["episode"] == summary["incident"] and ep["subsystem"] == summary["subsystem"]  # same pseudonyms
    assert (ep["subsystem_class"], ep["magnitude"], ep["duration"]) == ("postgres", "3-10x", "5-30m")
    assert ep["note"] == "" and ep["opened_minute"] == T0 // 10**9 // 60 * 60
    assert [p["phase"] for p in pkg.points] == ["before", "during", "after"]
    assert pkg.anomalies[0]["series"] == policy.pseudonym("series", "pg-eu-7 latency_ms{tenant=acme}")
    assert json.loads(pkg.anomalies[0]["evidence"]) == {"level_shift": {"sigma": 8.5}}
    text = json.dumps([pkg.episodes, pkg.anomalies, pkg.points])
    for secret in ("pg-eu-7", "acme", "latency_ms", "db-7", "inc-1"):
        assert secret not in text

    allowed = Policy(rules=PolicyFile(export_notes=True), key=b"k" * 32)
    assert build(_query, allowed, from_ns=T0 - MIN, to_ns=T0 + MIN).episodes[0]["note"] == "db-7.corp.example full"


def test_numeric_evidence_drops_every_string() -> None:
    raw = json.dumps({"ewma": {"z": 9.1, "host": "web-1", "ok": True, "nan": float("nan")}, "x y": {"a": 1},
                      "list": [1, 2]})
    assert json.loads(numeric_evidence(raw)) == {"ewma": {"z": 9.1}}
    assert numeric_evidence("not json") == "{}"
