"""OTLP/HTTP and OTLP/gRPC against a real sidecar: encodings, refusals clients retry on, errors."""

from __future__ import annotations

import gzip
import json
import urllib.error
import urllib.request
import uuid

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest, ExportLogsServiceResponse
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from ben.cli.procs import Cluster, query_rows, wait_for

T0 = 1_700_000_000_000_000_000
ANY_PORT = {"otlp": {"grpc_listen": "127.0.0.1:0", "http_listen": "127.0.0.1:0"}}


def logs_request(bodies, service="shop", severity=9) -> ExportLogsServiceRequest:
    req = ExportLogsServiceRequest()
    rl = req.resource_logs.add()
    rl.resource.attributes.append(KeyValue(key="service.name", value=AnyValue(string_value=service)))
    records = rl.scope_logs.add().log_records
    for i, body in enumerate(bodies):
        records.add(time_unix_nano=T0 + i, severity_number=severity, body=AnyValue(string_value=body))
    return req


def post(port, path, body, content_type="application/x-protobuf", encoding=None):
    headers = {"Content-Type": content_type}
    if encoding:
        headers["Content-Encoding"] = encoding
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def ports(c: Cluster) -> tuple[int, int]:
    s = c.status("sidecar")
    return int(s["otlp_grpc_port"]), int(s["otlp_http_port"])


def test_http_json_gzip_redaction_and_malformed_input(make_cluster):
    c = make_cluster(sidecar=ANY_PORT).start()
    _, http = ports(c)
    run = uuid.uuid4().hex[:8]
    body = json.dumps({"resourceLogs": [{"resource": {"attributes": [
        {"key": "service.name", "value": {"stringValue": "shop"}}]},
        "scopeLogs": [{"logRecords": [{"timeUnixNano": str(T0), "severityNumber": 9, "body": {
            "stringValue": f"json {run} card 4111 1111 1111 1111"},
            "traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174"}]}]}]}).encode()
    status, headers, data = post(http, "/v1/logs", body, "application/json")
    assert status == 200 and headers["Content-Type"].startswith("application/json"), data
    status, _, data = post(http, "/v1/logs", gzip.compress(logs_request([f"gzip {run}"]).SerializeToString()),
                           encoding="gzip")
    assert status == 200
    ExportLogsServiceResponse.FromString(data)
    c.wait_drained()
    rows = query_rows(c.spine_addr, f"SELECT body, attributes.key AS k, attributes.value AS v FROM ben.events "
                                    f"WHERE position(body, '{run}') > 0 ORDER BY body")
    assert [r["body"].split()[0] for r in rows] == ["gzip", "json"]
    assert "4111 1111 1111 1111" not in rows[1]["body"]          # the sidecar's manifest applied
    assert dict(zip(rows[1]["k"], rows[1]["v"]))["trace_id"] == "5b8efff798038103d269b633813fc60c"

    status, _, data = post(http, "/v1/logs", b"\xff\x00 not protobuf")
    assert status == 400 and "ExportLogsServiceRequest" in status_pb2.Status.FromString(data).message
    status, _, data = post(http, "/v1/logs", b'{"resourceLogs": [', "application/json")
    assert status == 400 and b"not valid JSON" in data
    status, _, data = post(http, "/v1/logs", b"x", "text/plain")
    assert status == 415 and b"application/x-protobuf" in data
    bomb = gzip.compress(b"\x00" * (32 << 20))                    # 32 MiB inflated > max_request_bytes
    status, _, _ = post(http, "/v1/logs", bomb, encoding="gzip")
    assert status == 413
    assert c.status("sidecar")["otlp_refused_total{reason=invalid,signal=logs}"] >= 2


def test_grpc_invalid_argument_names_the_message(make_cluster):
    c = make_cluster(sidecar=ANY_PORT)
    c.start_sidecar()
    grpc_port, _ = ports(c)
    with grpc.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
        export = channel.unary_unary("/opentelemetry.proto.collector.logs.v1.LogsService/Export")
        with pytest.raises(grpc.RpcError) as err:
            export(b"\xff\x00 not protobuf", timeout=10)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "ExportLogsServiceRequest" in err.value.details()


def test_full_wal_is_refused_with_retry_info_and_nothing_acknowledged_is_lost(make_cluster):
    """Sidecar alone (spine away), a 1 MiB WAL budget: OTLP gets 429/RESOURCE_EXHAUSTED with a retry
    delay; after a kill -9 of the sidecar, every request that was answered 200 is stored."""
    c = make_cluster(sidecar={**ANY_PORT, "wal_max_bytes": 1 << 20, "wal_alert_reserve_bytes": 0,
                              "wal_anomaly_reserve_bytes": 0})
    c.start_sidecar()
    grpc_port, http = ports(c)
    run = uuid.uuid4().hex[:8]
    accepted = []
    for i in range(200):
        req = logs_request([f"{run} req {i:03d} line {j} " + "x" * 900 for j in range(20)])
        status, headers, data = post(http, "/v1/logs", req.SerializeToString())
        if status != 200:
            break
        accepted.append(i)
    assert status == 429, (status, data)
    assert int(headers["Retry-After"]) >= 1
    assert accepted and len(accepted) < 200
    with grpc.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
        export = channel.unary_unary("/opentelemetry.proto.collector.logs.v1.LogsService/Export")
        with pytest.raises(grpc.RpcError) as err:
            export(logs_request([f"{run} over budget {j} " + "y" * 900 for j in range(20)]).SerializeToString(),
                   timeout=10)
    assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    details = dict(err.value.trailing_metadata())["grpc-status-details-bin"]
    info = error_details_pb2.RetryInfo()
    assert status_pb2.Status.FromString(details).details[0].Unpack(info) and info.retry_delay.ToMilliseconds() > 0

    c.sidecar.kill()                                              # kill -9 after the answers
    c.start_spine()
    c.start_sidecar()
    c.wait_drained(120)
    stored = query_rows(c.spine_addr, f"SELECT count() AS n, uniqExact(substring(body, 10, 7)) AS reqs "
                                      f"FROM ben.events WHERE startsWith(body, '{run} req')")[0]
    assert stored["n"] == 20 * len(accepted) and stored["reqs"] == len(accepted)


def test_network_bind_needs_tls_or_insecure(home):
    from ben.cli.procs import Proc, write_config

    config = write_config(home / "ben.toml", home, sidecar={"otlp": {"grpc_listen": "0.0.0.0:0", "http_listen": ""}})
    proc = Proc(["sidecar", "--config", str(config)], home / "logs" / "sidecar.log")
    assert proc.popen.wait(60) == 2
    assert "sidecar.otlp.grpc_listen" in proc.tail() and "insecure = true" in proc.tail()


def test_http_on_a_unix_socket(make_cluster, home):
    import socket

    path = home / "otlp.sock"
    c = make_cluster(sidecar={"otlp": {"grpc_listen": "", "http_listen": f"unix://{path}"}})
    c.start_sidecar()
    body = logs_request(["over a unix socket"]).SerializeToString()
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(str(path))
        s.sendall(b"POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
                  b"Connection: close\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        reply = b""
        while chunk := s.recv(65536):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 200"), reply[:200]
    assert c.status("sidecar")["otlp_items_total{signal=logs}"] == 1
