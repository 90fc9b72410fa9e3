"""Anomalies and incidents as rows of ``ben.anomalies`` and ``ben.incidents``."""

from __future__ import annotations

import json
import time

import pyarrow as pa

from ben.spine.incidents import Anomaly, Incident


def anomaly_rows(anomalies: list[tuple[Anomaly, str]]) -> pa.Table:
    """(anomaly, incident id) pairs -> rows for ben.anomalies (``unit``: what its values are in, as said)."""
    version = time.time_ns()
    return pa.table({
        "id": [a.id for a, _ in anomalies],
        "series": [a.series for a, _ in anomalies],
        "subsystem": [a.subsystem for a, _ in anomalies],
        "name": [a.name for a, _ in anomalies],
        "start_ts": pa.array([a.start_ns for a, _ in anomalies], pa.int64()),
        "end_ts": pa.array([a.end_ns or 0 for a, _ in anomalies], pa.int64()),
        "baseline": pa.array([a.baseline for a, _ in anomalies], pa.float64()),
        "observed": pa.array([a.observed for a, _ in anomalies], pa.float64()),
        "score": pa.array([a.score for a, _ in anomalies], pa.float64()),
        "detectors": [sorted(a.detectors) for a, _ in anomalies],
        "evidence": [json.dumps(a.detectors, sort_keys=True) for a, _ in anomalies],
        "sentence": [a.sentence() for a, _ in anomalies],
        "incident_id": [inc for _, inc in anomalies],
        "unit": [a.shown_unit for a, _ in anomalies],
        "version": pa.array([version + i for i in range(len(anomalies))], pa.int64()),
    })


def incident_rows(incidents: list[Incident]) -> pa.Table:
    version = time.time_ns()
    return pa.table({
        "id": [i.id for i in incidents],
        "subsystem": [i.subsystem for i in incidents],
        "state": [i.state.value for i in incidents],
        "severity": [i.severity for i in incidents],
        "opened_ts": pa.array([i.opened_ns for i in incidents], pa.int64()),
        "updated_ts": pa.array([i.updated_ns for i in incidents], pa.int64()),
        "resolved_ts": pa.array([i.resolved_ns or 0 for i in incidents], pa.int64()),
        "narrative": [i.narrative() for i in incidents],
        "anomaly_ids": [[a.id for a in i.anomalies] for i in incidents],
        "version": pa.array([version + n for n in range(len(incidents))], pa.int64()),
    })
