"""The official OpenTelemetry SDK and OTLP exporters send to a real sidecar, unchanged."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from ben.cli.procs import query_rows, wait_for

APP = Path(__file__).with_name("otel_app.py")
OTLP_ANY_PORT = {"otlp": {"grpc_listen": "127.0.0.1:0", "http_listen": "127.0.0.1:0"}}


@pytest.fixture
def otlp_cluster(make_cluster):
    c = make_cluster(sidecar=OTLP_ANY_PORT)
    c.start()
    return c


def otel_env(endpoint: str, **more: str) -> dict:
    """The environment of an application configured by OpenTelemetry's standard variables only."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    return {**env, "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, **more}


def _run_app(protocol: str, endpoint: str, run_id: str, errors: int = 0, **env: str) -> None:
    done = subprocess.run([sys.executable, str(APP), protocol, run_id, str(errors)], env=otel_env(endpoint, **env),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("protocol,compression", [("grpc", "gzip"), ("http", "gzip")])
def test_official_exporters_land_in_the_store(otlp_cluster, protocol, compression):
    """Exporters built with no arguments, configured by OTEL_EXPORTER_OTLP_ENDPOINT (the base URL, as
    for every SDK: the HTTP exporter appends /v1/<signal>) and OTEL_EXPORTER_OTLP_COMPRESSION."""
    c = otlp_cluster
    status = c.status("sidecar")
    port = int(status["otlp_grpc_port" if protocol == "grpc" else "otlp_http_port"])
    assert port > 0
    run = uuid.uuid4().hex[:8]
    _run_app(protocol, f"http://localhost:{port}", run, errors=1, OTEL_EXPORTER_OTLP_COMPRESSION=compression)
    # acknowledged = in the sidecar's WAL; the rows reach the store after shipping
    wait_for(lambda: c.status("sidecar").get("otlp_items_total{signal=traces}", 0) >= 8, 30, "spans acknowledged")
    c.wait_drained()

    logs = query_rows(c.spine_addr, f"SELECT name, body, subsystem, host, lane, attributes.key AS k, "
                                    f"attributes.value AS v FROM ben.events WHERE kind = 'log' "
                                    f"AND position(body, '{run}') > 0 ORDER BY ts")
    assert len(logs) == 6
    assert {r["subsystem"] for r in logs} == {"checkout"} and {r["host"] for r in logs} == {"web-1"}
    error = [r for r in logs if r["name"] == "error"]
    assert len(error) == 1 and error[0]["lane"] == "alert" and "payment provider down" in error[0]["body"]
    assert {r["lane"] for r in logs if r["name"] == "info"} == {"routine"}
    attrs = dict(zip(logs[0]["k"], logs[0]["v"]))
    assert attrs["order.id"] == "0" and attrs["resource.deployment.environment"] == "test"

    counters = query_rows(c.spine_addr, "SELECT name, kind, sum(value) AS total FROM ben.events "
                                        f"WHERE has(attributes.value, '{run}') AND kind IN ('metric', 'counter') "
                                        "GROUP BY name, kind ORDER BY name")
    by_name = {r["name"]: r for r in counters}
    assert by_name["requests"]["kind"] == "counter" and by_name["requests"]["total"] == 10
    assert by_name["latency_ms.count"]["total"] == 10 and by_name["latency_ms.sum"]["total"] == sum(range(10, 20))
    assert by_name["latency_ms.p50"]["kind"] == "metric"

    spans = query_rows(c.spine_addr, f"SELECT name, trace_id, span_id, parent_span_id, status, duration_ms "
                                     f"FROM ben.spans WHERE attributes.value[indexOf(attributes.key, 'run')] = "
                                     f"'{run}' ORDER BY start")
    assert len(spans) == 4
    assert all(len(s["trace_id"]) == 32 and len(s["span_id"]) == 16 for s in spans)
    assert [s["status"] for s in spans].count("error") == 1
    children = query_rows(c.spine_addr, "SELECT count() AS n FROM ben.spans WHERE name = 'db.query' AND "
                                        f"parent_span_id IN (SELECT span_id FROM ben.spans WHERE "
                                        f"attributes.value[indexOf(attributes.key, 'run')] = '{run}')")
    assert children[0]["n"] == 4
    series = query_rows(c.spine_addr, "SELECT name, sum(value) AS v, count() AS n FROM ben.events WHERE "
                                      "name IN ('span.duration_ms', 'span.errors') AND "
                                      "has(attributes.value, 'GET /pay') GROUP BY name ORDER BY name")
    assert [(r["name"], r["n"]) for r in series] == [("span.duration_ms", 4), ("span.errors", 4)]
    assert series[1]["v"] == 1


def test_the_sdk_exporter_retries_a_full_sidecar_and_nothing_is_lost(make_cluster):
    """The sidecar's WAL budget is full (spine away): the official exporter is refused with
    RESOURCE_EXHAUSTED + RetryInfo, retries, and gets through once the spine drains the WAL."""
    c = make_cluster(sidecar={**OTLP_ANY_PORT, "wal_max_bytes": 1 << 20, "wal_alert_reserve_bytes": 0,
                              "wal_anomaly_reserve_bytes": 0})
    c.start_sidecar()
    port = int(c.status("sidecar")["otlp_grpc_port"])
    from tests.otlp.test_transports import logs_request, post

    filler = uuid.uuid4().hex[:8]
    http = int(c.status("sidecar")["otlp_http_port"])
    n = 0  # each filler request its own: the same one again would be a resend, not stored (ben.otlp.dedup)
    while post(http, "/v1/logs", logs_request([f"{filler} {n} " + "x" * 900] * 20).SerializeToString())[0] == 200:
        n += 1
    refused = c.status("sidecar")["otlp_refused_total{reason=quota,signal=logs}"]
    run = uuid.uuid4().hex[:8]
    app = subprocess.Popen([sys.executable, str(APP), "grpc", run],
                           env=otel_env(f"http://127.0.0.1:{port}", OTEL_EXPORTER_OTLP_TIMEOUT="120"),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wait_for(lambda: c.status("sidecar")["otlp_refused_total{reason=quota,signal=logs}"] > refused, 60,
             "the exporter to be refused")
    c.start_spine()                                   # the WAL drains; the exporter's retries get through
    out, _ = app.communicate(timeout=180)
    assert app.returncode == 0, out
    c.wait_drained(120)
    logs = query_rows(c.spine_addr, f"SELECT count() AS n FROM ben.events WHERE kind = 'log' "
                                    f"AND position(body, '{run}') > 0")
    assert logs[0]["n"] == 6
