"""A resent OTLP request is stored once, with real sidecars and spines over real sockets (ben.otlp.dedup):
on both transports and every encoding, after a kill -9 between the fsync and the answer, and after a
refusal. (The window and the count bound, with a controlled clock: test_dedup.py.)"""

from __future__ import annotations

import gzip
import http.client
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import grpc
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.metrics.v1 import metrics_pb2

from ben.cli.procs import Cluster, query_rows, wait_for
from ben.otlp.jsonform import dump
from tests.otlp.test_transports import ANY_PORT, logs_request, ports, post

ROOT = Path(__file__).resolve().parents[2]
EXPORT = "/opentelemetry.proto.collector.logs.v1.LogsService/Export"


def grpc_export(port: int, body: bytes, gzip_it: bool = False) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        channel.unary_unary(EXPORT)(body, timeout=30, compression=grpc.Compression.Gzip if gzip_it else None)


def stored(c: Cluster, tag: str) -> int:
    return int(query_rows(c.spine_addr, f"SELECT count() AS n FROM ben.events WHERE startsWith(body, '{tag} ')")
               [0]["n"])


def duplicates(c: Cluster) -> int:
    return int(c.status("sidecar").get("otlp_duplicate_requests_total{signal=logs}", -1))


def test_the_same_request_twice_is_stored_once_on_every_transport_and_encoding(make_cluster):
    c = make_cluster(sidecar=ANY_PORT).start()
    grpc_port, http_port = ports(c)
    run = uuid.uuid4().hex[:8]
    json = "application/json"
    sends = {  # each request twice, the second time otherwise encoded
        "grpc": (lambda b: grpc_export(grpc_port, b), lambda b: grpc_export(grpc_port, b, gzip_it=True)),
        "http-protobuf": (lambda b: post(http_port, "/v1/logs", b),
                          lambda b: post(http_port, "/v1/logs", gzip.compress(b), encoding="gzip")),
        "http-json": (lambda b: post(http_port, "/v1/logs", dump(parsed(b)), json),
                      lambda b: post(http_port, "/v1/logs", gzip.compress(dump(parsed(b))), json, "gzip")),
        "json-then-grpc": (lambda b: post(http_port, "/v1/logs", dump(parsed(b)), json),
                           lambda b: grpc_export(grpc_port, b)),
    }
    for name, (first, again) in sends.items():
        body = logs_request([f"{run}-{name} line {i}" for i in range(5)]).SerializeToString()
        for send in (first, again):
            answer = send(body)
            assert answer is None or answer[0] == 200, (name, answer)
    assert duplicates(c) == len(sends)
    c.wait_drained(120)
    assert {name: stored(c, f"{run}-{name}") for name in sends} == {name: 5 for name in sends}


def parsed(body: bytes) -> ExportLogsServiceRequest:
    return ExportLogsServiceRequest.FromString(body)


def start_killed_sidecar(c: Cluster) -> subprocess.Popen:
    """The sidecar of ``c`` that dies by SIGKILL after storing its first request, before answering it."""
    log = open(c.home / "logs" / "killed-sidecar.log", "ab")
    proc = subprocess.Popen([sys.executable, "-m", "tests.otlp.killed_sidecar", "--config", str(c.config)],
                            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    log.close()
    wait_for(lambda: proc.poll() is not None or c.status("sidecar").get("otlp_http_port"), 60,
             "the hooked sidecar to start")
    assert proc.poll() is None, (c.home / "logs" / "killed-sidecar.log").read_text()
    return proc


def test_a_resend_after_a_kill_9_between_the_fsync_and_the_answer_is_stored_once(make_cluster):
    c = make_cluster(sidecar=ANY_PORT)
    c.start_spine()
    run = uuid.uuid4().hex[:8]
    for transport in ("grpc", "http"):
        body = logs_request([f"{run}-{transport} line {i}" for i in range(7)]).SerializeToString()
        hooked = start_killed_sidecar(c)
        grpc_port, http_port = ports(c)
        if transport == "grpc":
            try:
                grpc_export(grpc_port, body)
                raise AssertionError("answered: the hook did not kill the sidecar")
            except grpc.RpcError as exc:
                assert exc.code() == grpc.StatusCode.UNAVAILABLE, exc
        else:
            try:
                post(http_port, "/v1/logs", body)
                raise AssertionError("answered: the hook did not kill the sidecar")
            except (OSError, http.client.HTTPException):
                pass                                                  # the answer was lost
        assert hooked.wait(30) == -9                                  # SIGKILL, after the fsync
        c.start_sidecar()                                             # restarted the documented way
        grpc_port, http_port = ports(c)
        if transport == "grpc":
            grpc_export(grpc_port, body)                              # the client's resend: success
        else:
            assert post(http_port, "/v1/logs", body)[0] == 200
        assert duplicates(c) == 1                                     # known from before the kill
        c.sidecar.stop()
    c.start_sidecar()
    c.wait_drained(120)
    assert stored(c, f"{run}-grpc") == 7 and stored(c, f"{run}-http") == 7


def test_a_refused_request_resent_after_room_is_made_is_stored_once(make_cluster):
    """Sidecar alone, a 1 MiB WAL budget: filled until 429. The refused request is stored when it is
    resent after the spine drained the WAL, once, and a further resend is not stored again."""
    c = make_cluster(sidecar={**ANY_PORT, "wal_max_bytes": 1 << 20, "wal_alert_reserve_bytes": 0,
                              "wal_anomaly_reserve_bytes": 0})
    c.start_sidecar()
    _, http_port = ports(c)
    run = uuid.uuid4().hex[:8]
    accepted = 0
    while True:
        body = logs_request([f"{run}-{accepted:03d} line {j} " + "x" * 900 for j in range(20)]).SerializeToString()
        status, _, _ = post(http_port, "/v1/logs", body)
        if status != 200:
            break
        accepted += 1
        assert accepted < 200, "the WAL budget never filled"
    assert status == 429 and duplicates(c) == 0
    c.start_spine()                                                   # room is made: the WAL drains
    wait_for(lambda: post(http_port, "/v1/logs", body)[0] == 200, 120, "the refused request to be accepted")
    assert post(http_port, "/v1/logs", body)[0] == 200                # a further resend: not stored again
    assert duplicates(c) == 1
    c.wait_drained(120)
    counts = {row["tag"]: int(row["n"]) for row in query_rows(
        c.spine_addr, f"SELECT substring(body, 1, 12) AS tag, count() AS n FROM ben.events "
                      f"WHERE startsWith(body, '{run}-') GROUP BY tag")}
    assert counts == {f"{run}-{i:03d}": 20 for i in range(accepted + 1)}


def test_a_refused_cumulative_counter_keeps_its_increment_for_the_resend(make_cluster):
    """A cumulative counter at 100 (stored), then at 150 refused by a full WAL (429), resent once the spine
    drained it: the stored increments add up to 150 (the refusal used to keep 150 as the last total, so
    the resend counted 0 and the 50 were lost)."""
    c = make_cluster(sidecar={**ANY_PORT, "wal_max_bytes": 1 << 20, "wal_alert_reserve_bytes": 0,
                              "wal_anomaly_reserve_bytes": 0})
    c.start_sidecar()
    _, http_port = ports(c)
    run = uuid.uuid4().hex[:8]
    name = f"requests_{run}"
    start = time.time_ns()
    def counter(total: int, at: int) -> bytes:
        req = ExportMetricsServiceRequest()
        rm = req.resource_metrics.add()
        rm.resource.attributes.append(KeyValue(key="service.name", value=AnyValue(string_value="shop")))
        metric = rm.scope_metrics.add().metrics.add(name=name, sum=metrics_pb2.Sum(
            is_monotonic=True, aggregation_temporality=metrics_pb2.AGGREGATION_TEMPORALITY_CUMULATIVE))
        metric.sum.data_points.add(start_time_unix_nano=start, time_unix_nano=at, as_int=total)
        return req.SerializeToString()
    assert post(http_port, "/v1/metrics", counter(100, start + 1))[0] == 200
    filled = 0
    while post(http_port, "/v1/logs", logs_request([f"{run}-{filled} {j} " + "x" * 900
                                                      for j in range(20)]).SerializeToString())[0] == 200:
        filled += 1
        assert filled < 200, "the WAL budget never filled"
    while post(http_port, "/v1/logs", logs_request([f"{filled}"]).SerializeToString())[0] == 200:  # the last bytes
        filled += 1
        assert filled < 10_000, "the WAL budget never filled"
    later = counter(150, start + 2)
    assert post(http_port, "/v1/metrics", later)[0] == 429
    assert post(http_port, "/v1/metrics", later)[0] == 429          # refused twice: still nothing counted
    c.start_spine()
    wait_for(lambda: post(http_port, "/v1/metrics", later)[0] == 200, 120, "the refused request to be accepted")
    c.wait_drained(120)
    rows = query_rows(c.spine_addr, f"SELECT value FROM ben.events WHERE name = '{name}' ORDER BY ts")
    assert [float(r["value"]) for r in rows] == [100.0, 50.0]


def test_the_configured_count_bound_forgets_the_oldest_and_its_repeat_is_stored_again(make_cluster):
    """``[sidecar.otlp] dedup_max_entries = 1`` (sidecar alone): A, B, B again (not stored), then A again,
    forgotten for B, stored again. (The time window, with a controlled clock: test_dedup.py.)"""
    c = make_cluster(sidecar={"otlp": {**ANY_PORT["otlp"], "dedup_max_entries": 1}})
    c.start_sidecar()
    _, http_port = ports(c)
    a, b = (logs_request([f"{tag} line"]).SerializeToString() for tag in ("A", "B"))
    for body in (a, b, b, a):
        assert post(http_port, "/v1/logs", body)[0] == 200
    status = c.status("sidecar")
    assert duplicates(c) == 1 and status["otlp_dedup_entries"] == 1
    assert status["wal_records"] == 3, {k: v for k, v in status.items() if k.startswith("wal_")}
