"""Export requests with millions of empty parts are refused before they are converted (ADR 0045, round 10)."""

from __future__ import annotations

import gzip
import json
import time
import urllib.error
import urllib.request

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
from opentelemetry.proto.metrics.v1.metrics_pb2 import Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from ben.cli.procs import Cluster, query_rows, wait_for
from ben.otlp import shape
from ben.otlp.exporting import Exporting


def _logs(records: int, resources: int = 1) -> ExportLogsServiceRequest:
    return ExportLogsServiceRequest(resource_logs=[
        ResourceLogs(scope_logs=[ScopeLogs(log_records=[LogRecord() for _ in range(records)])])
        for _ in range(resources)])


@pytest.mark.parametrize("request_, parts", [
    (_logs(7), 9),                   # a resource, a scope, 7 records
    (_logs(0, resources=10), 20),    # empty resources and scopes count too
    (ExportTraceServiceRequest(resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=[
        Span(events=[Span.Event()] * 4, links=[Span.Link()] * 2)])])]), 9),  # a span, its events and links
    (ExportMetricsServiceRequest(resource_metrics=[ResourceMetrics(scope_metrics=[ScopeMetrics(metrics=[
        Metric(name="m", gauge=Gauge(data_points=[NumberDataPoint()] * 5))])])]), 8),  # a metric, its points
])
def test_parts_are_counted_in_protobuf_and_in_json(request_, parts) -> None:
    from google.protobuf import json_format

    signal = {"ExportLogsServiceRequest": "logs", "ExportTraceServiceRequest": "traces",
              "ExportMetricsServiceRequest": "metrics"}[type(request_).__name__]
    as_json = json.loads(json_format.MessageToJson(request_))
    snake = json.loads(json_format.MessageToJson(request_, preserving_proto_field_name=True))
    for limit, refused in ((parts, False), (parts - 1, True)):
        assert bool(shape.too_many(signal, request_, limit)) is refused
        assert bool(shape.too_many_json(signal, as_json, limit)) is refused
        assert bool(shape.too_many_json(signal, snake, limit)) is refused
    assert "more than 3 parts" in shape.too_many(signal, request_, 3)


def test_json_of_another_shape_is_left_to_the_parser() -> None:
    ex = Exporting.__new__(Exporting)  # parse() alone
    with pytest.raises(ValueError, match="not a valid"):
        ex.parse("logs", b'{"resourceLogs": {"scopeLogs": 3}}', json_body=True)


def _post(port: int, body: bytes, content_type: str) -> tuple[int, str]:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/logs", data=gzip.compress(body), method="POST",
                                 headers={"Content-Type": content_type, "Content-Encoding": "gzip"})
    try:
        with urllib.request.urlopen(req, timeout=600) as resp:
            return resp.status, resp.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


def test_millions_of_empty_parts_are_refused_before_conversion_and_others_still_export(home) -> None:
    """On the code before, 4 million empty records (8 MB, a few KB gzip'd) held the conversion thread 46 s and took
    the sidecar to 1.2 GB before the batch was refused for its size; as OTLP/JSON (``{}`` each) they held the
    sidecar's event loop 67 s (its SDK streams, status and every export stalled). Now both are refused, naming
    the bound, after counting; then an ordinary export is stored."""
    cluster = Cluster(home)
    try:
        cluster.start()
        port = int(cluster.status("sidecar")["otlp_http_port"])
        n = shape.MAX_PARTS + 1
        protobuf = _logs(n).SerializeToString()
        as_json = ('{"resourceLogs":[{"scopeLogs":[{"logRecords":[' + ",".join(["{}"] * n) + "]}]}]}").encode()
        for body, content_type in ((protobuf, "application/x-protobuf"), (as_json, "application/json")):
            status, text = _post(port, body, content_type)
            assert status == 400 and "more than 1,000,000 parts" in text, (content_type, status, text[:300])
        one = ExportLogsServiceRequest(resource_logs=[ResourceLogs(scope_logs=[ScopeLogs(log_records=[
            LogRecord(time_unix_nano=time.time_ns(), severity_number=9, body={"string_value": "after the flood"})])])])
        assert _post(port, one.SerializeToString(), "application/x-protobuf")[0] == 200
        wait_for(lambda: query_rows(cluster.spine_addr, "SELECT count() AS n FROM ben.events "
                                                        "WHERE body = 'after the flood'")[0]["n"] == 1,
                 60, "the ordinary export stored")
    finally:
        cluster.stop()
