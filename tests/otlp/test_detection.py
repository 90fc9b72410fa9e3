"""OTLP alone is enough for ben to notice: metrics and spans become watched series and incidents."""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from ben.cli.demo import DEMO_TIMING
from ben.cli.procs import query_rows, wait_for
from tests.otlp.test_transports import ANY_PORT, ports, post

T0 = 1_795_000_000 * 10**9
S = 10**9
DETECT = {"detect": {"bucket_ms": 1000, "group_window_s": 60.0, "resolve_after_s": 30.0, "timing": DEMO_TIMING}}


def kv(k: str, v: str) -> KeyValue:
    return KeyValue(key=k, value=AnyValue(string_value=v))


def latency(sec: int, rng: random.Random) -> float:
    level = 480.0 if 300 <= sec < 330 else 120.0
    return rng.gauss(level, level / 10)


def incidents(cluster) -> list[dict]:
    out = subprocess.run([sys.executable, "-m", "ben", "incidents", "--json", "--spine", cluster.spine_addr],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_an_incident_from_otlp_metrics_alone(make_cluster):
    c = make_cluster(spine=DETECT, sidecar=ANY_PORT).start()
    _, http = ports(c)
    rng = random.Random(3)
    for first in range(0, 420, 60):                     # seven minutes of event time, a minute a request
        req = ExportMetricsServiceRequest()
        rm = req.resource_metrics.add()
        rm.resource.attributes.append(kv("service.name", "checkout-api"))
        gauge = rm.scope_metrics.add().metrics.add(name="latency_ms").gauge
        for sec in range(first, first + 60):
            for j in range(10):
                gauge.data_points.add(time_unix_nano=T0 + sec * S + j * S // 10, as_double=latency(sec, rng),
                                      attributes=[kv("route", "/pay")])
        assert post(http, "/v1/metrics", req.SerializeToString())[0] == 200
    c.wait_drained()
    wait_for(lambda: any("latency_ms{route=/pay} rose" in i["narrative"] for i in incidents(c)), 60,
             "an incident on the OTLP gauge")


def test_a_span_latency_storm_and_an_error_spike_show_up_in_incidents(make_cluster):
    c = make_cluster(spine=DETECT, sidecar=ANY_PORT).start()
    _, http = ports(c)
    rng = random.Random(5)
    span_id = 0
    for first in range(0, 420, 30):
        req = ExportTraceServiceRequest()
        rs = req.resource_spans.add()
        rs.resource.attributes.append(kv("service.name", "shop"))
        spans = rs.scope_spans.add().spans
        for sec in range(first, first + 30):
            for j in range(10):
                span_id += 1
                start = T0 + sec * S + j * S // 10
                failing = 300 <= sec < 330 and j < 6          # 60 % of requests fail during the fault
                spans.add(trace_id=span_id.to_bytes(16, "big"), span_id=span_id.to_bytes(8, "big"), name="GET /pay",
                          kind=2, start_time_unix_nano=start, end_time_unix_nano=start + int(latency(sec, rng) * 1e6),
                          status={"code": 2 if failing else 1})
        assert post(http, "/v1/traces", req.SerializeToString())[0] == 200
    c.wait_drained()
    wait_for(lambda: {"span.duration_ms", "span.errors"} <= {
        name for i in incidents(c) for name in ("span.duration_ms", "span.errors") if name in i["narrative"]},
        60, "incidents on span latency and errors")
    assert query_rows(c.spine_addr, "SELECT count() AS n FROM ben.spans WHERE status = 'error'")[0]["n"] == 180


def test_a_counter_exported_once_a_minute_reads_its_rate_and_a_burst_its_minutes_rate(make_cluster):
    """ADR 0012, 2026-12-07 round 3, end to end: an OTLP cumulative counter exported once a minute (the SDKs'
    default), 10 requests a second at random, four hours, a burst of 3,000 in 5 s three hours in; the spine's
    default detection. One anomaly, the burst's minute at its rate over that minute. Before, each export was one
    bucket of ~600 per second and a minute of zeros (and the first export one of ~36,000)."""
    import numpy as np

    from opentelemetry.proto.metrics.v1 import metrics_pb2

    c = make_cluster(spine={"detect": {"bucket_ms": 1000}}, sidecar=ANY_PORT).start()
    _, http = ports(c)
    rng = np.random.default_rng(1)
    start, end = T0 - 3_600 * S, T0 + 240 * 60 * S
    arrivals = np.sort(np.concatenate([rng.uniform(start, end, rng.poisson(10 * (end - start) / S)),
                                       T0 + 10_840 * S + rng.uniform(0, 5 * S, 3_000)]))
    for first in range(0, 241, 20):                       # 20 exports a request
        req = ExportMetricsServiceRequest()
        rm = req.resource_metrics.add()
        rm.resource.attributes.append(kv("service.name", "checkout-api"))
        total = rm.scope_metrics.add().metrics.add(name="http.requests", unit="{requests}").sum
        total.is_monotonic, total.aggregation_temporality = True, metrics_pb2.AGGREGATION_TEMPORALITY_CUMULATIVE
        for minute in range(first, min(first + 20, 241)):
            ts = T0 + minute * 60 * S
            total.data_points.add(start_time_unix_nano=start, time_unix_nano=ts,
                                  as_int=int(np.searchsorted(arrivals, ts, side="right")))
        assert post(http, "/v1/metrics", req.SerializeToString())[0] == 200
    c.wait_drained()
    wait_for(lambda: any("http.requests" in i["narrative"] for i in incidents(c)), 120, "an incident on the counter")
    said = [i["narrative"] for i in incidents(c) if "http.requests" in i["narrative"]]
    assert len(said) == 1 and " fell " not in said[0] and "stopped varying" not in said[0], said
    assert re.search(r"http\.requests rose from (9\.9|10\.0) requests per s to (59\.\d|60\.\d) requests per s at "
                     r"2026-11-18 14:06:40 UTC", said[0]), said
