"""The storage suite, run on every backend (chDB and a real clickhouse-server 18.16)."""

from __future__ import annotations

import json
import time

import pytest

from ben.core.errors import QueryError
from ben.core.lanes import ALERT, ROUTINE
from ben.spine.detector_thread import CATCH_UP_SQL
from ben.spine.findings import anomaly_rows, incident_rows
from ben.spine.incidents import Anomaly, Incident
from ben.store import retention, schema
from ben.store.rows import to_table
from ben.v1 import telemetry_pb2 as pb
from tests.store.test_rows import request

DAY_NS = 86_400 * 10**9


def metric_request(first: int, n: int, seq: int, ts: int | None = None) -> pb.IngestRequest:
    req = request(first, [(pb.KIND_METRIC, "m", float(i), "", {"i": i}) for i in range(n)], seq=seq)
    if ts is not None:
        del req.batch.ts_unix_nano[:]
        req.batch.ts_unix_nano.extend([ts + i for i in range(n)])
    return req


def test_insert_count_max_delete(store) -> None:
    store.insert_events(to_table([(1, metric_request(1, 5, 1)), (2, metric_request(6, 3, 2))]))
    assert store.count_rows() == 8
    assert store.max_spine_seq(ROUTINE) == 2 and store.max_spine_seq(ALERT) == 0
    assert store.count_by_spine_seq(ROUTINE, 1, 2) == {1: 5, 2: 3}
    assert store.count_by_spine_seq(ALERT, 1, 2) == {}
    store.delete_spine_seqs(ALERT, [2])
    assert store.count_by_spine_seq(ROUTINE, 1, 2) == {1: 5, 2: 3}
    store.delete_spine_seqs(ROUTINE, [2])
    assert store.count_by_spine_seq(ROUTINE, 1, 2) == {1: 5}
    data = json.loads(store.query_json("SELECT producer_seq, value, kind FROM ben.events ORDER BY producer_seq"))
    assert [row["producer_seq"] for row in data["data"]] == [1, 2, 3, 4, 5]  # plain numbers, not strings
    assert data["data"][0]["kind"] == "metric" and data["rows"] == 5
    assert [m["name"] for m in data["meta"]] == ["producer_seq", "value", "kind"]


def test_query_arrow_has_the_detectors_columns(store) -> None:
    store.insert_events(to_table([(1, metric_request(1, 4, 1))]))
    table = store.query_arrow(CATCH_UP_SQL.format(low=0, high=1))
    assert table.num_rows == 4
    assert [str(t) for t in table.schema.types][:2] == ["int64", "int8"]
    assert table.column("attributes.key").to_pylist()[0] == ["i"]
    empty = store.query_arrow(CATCH_UP_SQL.format(low=5, high=9))
    assert empty.num_rows == 0 and empty.num_columns == table.num_columns


def test_query_errors_are_query_errors(store) -> None:
    with pytest.raises(QueryError, match="UNKNOWN_TABLE|doesn't exist|does not exist"):
        store.query_json("SELECT * FROM ben.nope")
    with pytest.raises(QueryError, match="only read-only"):
        store.query_json("DROP TABLE ben.events")


def test_findings_and_control_plane_tables(store) -> None:
    anomaly = Anomaly(series="svc lat", subsystem="svc", name="lat", start_ns=10, baseline=1.0,
                      observed=9.0, score=0.9, detectors={"ewma": {"z": 7.0}})
    incident = Incident(subsystem="svc", opened_ns=10, updated_ns=10)
    incident.anomalies.append(anomaly)
    store.insert_rows(schema.ANOMALIES, anomaly_rows([(anomaly, incident.id)]))
    store.insert_rows(schema.INCIDENTS, incident_rows([incident]))
    rows = json.loads(store.query_json("SELECT id, incident_id, detectors FROM ben.anomalies FINAL"))["data"]
    assert rows == [{"id": anomaly.id, "incident_id": incident.id, "detectors": ["ewma"]}]
    assert json.loads(store.query_json("SELECT anomaly_ids FROM ben.incidents FINAL"))["data"] == [
        {"anomaly_ids": [anomaly.id]}]
    # The control plane's tables, with exactly these columns.
    cols = {t: [r[0] for r in store.rows(f"DESCRIBE TABLE ben.{t}")] for t in ("commands", "audit")}
    assert cols["commands"] == ["id", "action", "target", "issuer", "state", "reason", "incident_id", "envelope",
                                "receipt", "updated_ts", "version"]
    assert cols["audit"] == ["seq", "ts", "kind", "command_id", "actor", "body", "prev_hash", "hash", "key_id",
                             "signature"]


def test_two_day_partitions_retention(open_backend, backend) -> None:
    store = open_backend(retention_days=30)
    now = time.time_ns()
    store.insert_events(to_table([(1, metric_request(1, 5, 1, ts=now - 40 * DAY_NS)),
                                  (2, metric_request(6, 3, 2, ts=now - DAY_NS))]))
    assert retention.ttl_days(retention.current_ttl(store)) == (30 if backend == "chdb" else None)  # TTL if any
    cutoff = time.strftime("%Y%m%d", time.gmtime(now / 1e9 - 30 * 86400))
    dropped = store.enforce_retention()
    assert all(p < cutoff for p in dropped) and (backend == "chdb" or len(dropped) == 1)
    assert store.count_by_spine_seq(ROUTINE, 1, 2) == {2: 3}  # by TTL at insert, or by the partition drop
    assert store.enforce_retention() == []


def test_ttl_follows_the_config(open_backend, backend) -> None:
    store = open_backend(retention_days=30)
    store.close()
    store = open_backend(retention_days=7)
    changed_to = retention.ttl_days(retention.current_ttl(store))
    store.close()
    store = open_backend(retention_days=0)
    assert retention.current_ttl(store) == ""
    assert changed_to == (7 if backend == "chdb" else None)  # 18.16 has no TTL: partitions are dropped instead
