"""The official OpenTelemetry JS SDK (@opentelemetry/sdk-node, pinned in tests/otlp/node) sends to a real
sidecar over OTLP/gRPC, OTLP/HTTP protobuf (gzip) and OTLP/HTTP JSON, configured by the standard
environment variables only, and every signal lands in the store as ADR 0036 maps it."""

from __future__ import annotations

import json
import os
import subprocess
import uuid

from ben.cli.procs import query_rows, wait_for
from tests.otlp.node_sdk import NODE_DIR, ensure_installed

OTLP_ANY_PORT = {"otlp": {"grpc_listen": "127.0.0.1:0", "http_listen": "127.0.0.1:0"}}

#: protocol -> the extra standard variables of that run (one run per protocol, all at once).
RUNS = {
    "grpc": {"OTEL_EXPORTER_OTLP_COMPRESSION": "gzip"},
    "http/protobuf": {"OTEL_EXPORTER_OTLP_COMPRESSION": "gzip"},
    "http/json": {"OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE": "delta"},
}


def _env(protocol: str, endpoint: str, run: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env.update({"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_EXPORTER_OTLP_PROTOCOL": protocol,
                "OTEL_SERVICE_NAME": f"node-{run}", "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=test",
                **RUNS[protocol]})
    return env


def test_node_sdk_every_protocol_every_signal(make_cluster):
    node = ensure_installed()
    c = make_cluster(sidecar=OTLP_ANY_PORT).start()
    status = c.status("sidecar")
    grpc_port, http_port = int(status["otlp_grpc_port"]), int(status["otlp_http_port"])
    runs = {protocol: uuid.uuid4().hex[:8] for protocol in RUNS}
    apps = {}
    for protocol, run in runs.items():
        port = grpc_port if protocol == "grpc" else http_port
        apps[protocol] = subprocess.Popen([node, "app.js", run], cwd=NODE_DIR, env=_env(
            protocol, f"http://localhost:{port}", run), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for protocol, app in apps.items():
        out, _ = app.communicate(timeout=120)
        assert app.returncode == 0, f"{protocol}: {out}"
    figures = c.status("sidecar")
    assert figures["otlp_requests_total{signal=traces,transport=grpc}"] >= 1
    assert figures["otlp_requests_total{signal=logs,transport=http}"] >= 2
    c.wait_drained()
    for protocol, run in runs.items():
        _check_logs(c, protocol, run)
        _check_metrics(c, protocol, run)
        _check_spans(c, protocol, run)


def _check_logs(c, protocol, run):
    rows = query_rows(c.spine_addr, f"SELECT name, body, lane, host, attributes.key AS k, attributes.value AS v "
                                    f"FROM ben.events WHERE kind = 'log' AND subsystem = 'node-{run}'")
    assert len(rows) == 8, (protocol, rows)
    rows.sort(key=lambda r: int(dict(zip(r["k"], r["v"])).get("i", 99)))      # the order of emission
    bodies = [r["body"] for r in rows]
    assert bodies[0] == f"order placed (run {run})"
    assert json.loads(bodies[1]) == {"run": run, "order": {"id": 7, "items": ["a", "b"]}}, protocol
    assert json.loads(bodies[2]) == [run, 1, True], protocol
    assert bodies[3:7] == ["42", "2.5", "true", "AAEC/w=="], (protocol, bodies)
    assert [r["lane"] for r in rows] == ["routine"] * 7 + ["alert"] and rows[7]["name"] == "error"
    attrs = dict(zip(rows[3]["k"], rows[3]["v"]))
    assert {k: attrs[k] for k in ("run", "i", "ratio", "ok", "tags")} == {
        "run": run, "i": "3", "ratio": "0.5", "ok": "true", "tags": '["x","y"]'}, (protocol, attrs)
    assert attrs["otel.scope.name"] == "shop.node" and attrs["otel.scope.version"] == "1.2.3", protocol
    assert attrs["resource.deployment.environment"] == "test" and rows[0]["host"], protocol


def _check_metrics(c, protocol, run):
    rows = query_rows(c.spine_addr, f"SELECT name, any(kind) AS k, sum(value) AS total, argMax(value, ts) AS last "
                                    f"FROM ben.events WHERE subsystem = 'node-{run}' AND kind IN ('metric', 'counter') "
                                    f"AND name NOT LIKE 'span.%' GROUP BY name")
    got = {r["name"]: r for r in rows}
    expect = {"requests": ("counter", 10), "latency_ms.count": ("counter", 10), "latency_ms.sum": ("counter", 145),
              "payload_bytes.count": ("counter", 10), "payload_bytes.sum": ("counter", 5500)}
    for name, (kind, total) in expect.items():
        assert name in got and (got[name]["k"], got[name]["total"]) == (kind, total), (protocol, name, got)
    for name, last in {"inflight": 5, "temperature": 21.5, "queue_depth": 17}.items():
        assert got[name]["k"] == "metric" and got[name]["last"] == last, (protocol, name, got[name])
    assert 10 <= got["latency_ms.p50"]["last"] <= 25 and 100 <= got["payload_bytes.p99"]["last"] <= 1100, protocol


def _check_spans(c, protocol, run):
    spans = query_rows(c.spine_addr, f"SELECT name, span_kind, status, status_message, events, links, parent_span_id, "
                                     f"span_id, trace_id FROM ben.spans WHERE service = 'node-{run}' "
                                     "ORDER BY start, name")
    assert len(spans) == 8, (protocol, spans)
    server = [s for s in spans if s["name"] == "GET /pay"]
    client = [s for s in spans if s["name"] == "db.query"]
    assert {s["span_kind"] for s in server} == {"server"} and {s["span_kind"] for s in client} == {"client"}
    assert sorted(s["status"] for s in server) == ["error", "ok", "ok", "ok"], protocol
    failed = next(s for s in server if s["status"] == "error")
    assert failed["status_message"] == "boom" and "card declined" in failed["events"], protocol
    assert all(json.loads(s["events"])[0]["name"] == "rows" for s in client), protocol
    linked = [json.loads(s["links"]) for s in server if s["links"]]
    assert len(linked) == 3 and all(ln[0]["attributes"] == {"why": "retry"} for ln in linked), (protocol, linked)
    assert all(len(s["trace_id"]) == 32 for s in spans)
    assert {s["parent_span_id"] for s in client} == {s["span_id"] for s in server}, protocol
