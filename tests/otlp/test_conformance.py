"""OTLP as the specification writes it and as SDKs and Collectors exercise it, against one real cluster:
OTLP/JSON in every form the spec allows, every metric type, every AnyValue body, empty requests, partial
success in both encodings, errors that name the field, gzip on both transports, a batch at the size limit."""

from __future__ import annotations

import gzip
import json
import shutil
import tempfile
import time
import uuid
from pathlib import Path

import grpc
import pytest
from google.rpc import status_pb2
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceResponse
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (ExportTraceServiceRequest,
                                                                      ExportTraceServiceResponse)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from ben.cli.procs import Cluster, query_rows
from tests.conftest import dump_logs
from tests.otlp.test_transports import ANY_PORT, T0, ports, post

JSON = "application/json"
SPANS = 60_000
SERVICES = {"logs": "opentelemetry.proto.collector.logs.v1.LogsService",
            "metrics": "opentelemetry.proto.collector.metrics.v1.MetricsService",
            "traces": "opentelemetry.proto.collector.trace.v1.TraceService"}


@pytest.fixture(scope="module")
def cluster():
    home = Path(tempfile.mkdtemp(prefix="bt-otlp-", dir="/tmp"))
    c = Cluster(home, sidecar=ANY_PORT)
    try:
        yield c.start()
    finally:
        c.stop()
        dump_logs(home)
        shutil.rmtree(home, ignore_errors=True)


def _kv(key, value):
    return {"key": key, "value": value}


def _resource(service):
    return {"attributes": [_kv("service.name", {"stringValue": service})]}


def test_json_in_every_form_the_spec_allows(cluster):
    """Hex ids, enums as integers AND as names, 64-bit integers as strings AND as numbers, lowerCamelCase
    AND proto field names, unknown fields ignored; every metric type; every AnyValue kind as a log body."""
    c = cluster
    _, http = ports(c)
    svc = f"json-{uuid.uuid4().hex[:8]}"
    now = time.time_ns()          # cumulative streams that started before the sidecar count from its start
    t = str(now)
    point = {"timeUnixNano": t, "startTimeUnixNano": t, "attributes": [_kv("k", {"stringValue": "v"})]}
    metrics = {"resourceMetrics": [{"resource": _resource(svc), "scopeMetrics": [{"scope": {"name": "m"}, "metrics": [
        {"name": "c.cum", "sum": {"isMonotonic": True, "aggregationTemporality": "AGGREGATION_TEMPORALITY_CUMULATIVE",
                                  "dataPoints": [{**point, "timeUnixNano": str(now + 1), "asInt": "7"}]}},
        {"name": "c.delta", "sum": {"isMonotonic": True, "aggregationTemporality": 1,
                                    "dataPoints": [{**point, "asInt": 3}, {**point, "asDouble": 2.5}]}},
        {"name": "updown.cum", "sum": {"aggregationTemporality": 2, "dataPoints": [{**point, "asInt": "-4"}]}},
        {"name": "updown.delta", "sum": {"aggregationTemporality": "AGGREGATION_TEMPORALITY_DELTA",
                                         "dataPoints": [{**point, "asDouble": -1.5}]}},
        {"name": "g", "gauge": {"dataPoints": [{**point, "asDouble": 21.5}]}},
        {"name": "h", "histogram": {"aggregationTemporality": 1, "dataPoints": [{
            **point, "count": "4", "sum": 40, "bucketCounts": ["1", 3], "explicitBounds": [5.0]}]}},
        {"name": "eh", "exponential_histogram": {"aggregation_temporality": 1, "data_points": [{
            **point, "count": 3, "sum": 30, "scale": 0, "zeroCount": "0",
            "positive": {"offset": 3, "bucketCounts": ["3"]}}]}},
        {"name": "s", "summary": {"dataPoints": [{**point, "count": "5", "sum": 10.0,
                                                  "quantileValues": [{"quantile": 0.99, "value": 3.5}]}]}},
    ]}]}]}
    status, _, data = post(http, "/v1/metrics", json.dumps(metrics).encode(), JSON)
    assert status == 200 and json.loads(data) == {}, data
    bodies = [{"stringValue": "plain"}, {"intValue": "-9007199254740993"}, {"doubleValue": 2.5},
              {"boolValue": False}, {"bytesValue": "AAEC/w=="}, {"arrayValue": {"values": [{"intValue": 1}]}},
              {"kvlistValue": {"values": [_kv("a", {"stringValue": "b"})]}}, {}]
    logs = {"resourceLogs": [{"resource": _resource(svc), "scopeLogs": [{
        "scope": {"name": "lib", "version": "2.0", "attributes": [_kv("scope.k", {"stringValue": "sv"})]},
        "logRecords": [{"time_unix_nano": T0 + i, "severityNumber": "SEVERITY_NUMBER_WARN", "body": body,
                        "attributes": [_kv("i", {"intValue": i})], "flags": 1, "newFieldOfAFutureOtlp": {"x": 1}}
                       for i, body in enumerate(bodies)]}]}]}
    status, _, data = post(http, "/v1/logs", json.dumps(logs).encode(), "application/json; charset=utf-8")
    assert status == 200, data
    trace_id, span_id = "5b8efff798038103d269b633813fc60c", "eee19b7ec3c1b174"
    spans = {"resourceSpans": [{"resource": _resource(svc), "scopeSpans": [{"spans": [{
        "traceId": trace_id, "spanId": span_id, "parentSpanId": "", "name": "GET /x",
        "kind": "SPAN_KIND_CONSUMER", "startTimeUnixNano": t, "endTimeUnixNano": str(now + 3_000_000),
        "status": {"code": "STATUS_CODE_ERROR", "message": "bad"},
        "events": [{"timeUnixNano": t, "name": "exception",
                    "attributes": [_kv("exception.type", {"stringValue": "E"})]}],
        "links": [{"traceId": "0af7651916cd43dd8448eb211c80319c", "spanId": "b7ad6b7169203331",
                   "traceState": "a=1", "attributes": [_kv("why", {"stringValue": "batch"})]}]}]}]}]}
    status, _, data = post(http, "/v1/traces", json.dumps(spans).encode(), JSON)
    assert status == 200, data
    c.wait_drained()

    sql = (f"SELECT name, any(kind) AS k, sum(value) AS total, count() AS n FROM ben.events WHERE subsystem = '{svc}' "
           "AND kind IN ('metric', 'counter') AND name NOT LIKE 'span.%' GROUP BY name")
    got = {r["name"]: r for r in query_rows(c.spine_addr, sql)}
    want = {"c.cum": ("counter", 7), "c.delta": ("counter", 5.5), "updown.cum": ("metric", -4),
            "updown.delta": ("metric", -1.5), "g": ("metric", 21.5), "h.count": ("counter", 4),
            "h.sum": ("counter", 40), "eh.count": ("counter", 3), "eh.sum": ("counter", 30),
            "s.count": ("counter", 5), "s.sum": ("counter", 10), "s.p99": ("metric", 3.5)}
    assert {name: (got[name]["k"], got[name]["total"]) for name in want if name in got} == want
    assert 8 <= got["eh.p50"]["total"] <= 16 and got["h.p50"]["k"] == "metric"

    rows = query_rows(c.spine_addr, f"SELECT name, body, attributes.key AS k, attributes.value AS v FROM ben.events "
                                    f"WHERE subsystem = '{svc}' AND kind = 'log'")
    rows.sort(key=lambda r: int(dict(zip(r["k"], r["v"]))["i"]))
    assert [r["body"] for r in rows] == ["plain", "-9007199254740993", "2.5", "false", "AAEC/w==", "[1]",
                                        '{"a":"b"}', ""]
    attrs = dict(zip(rows[0]["k"], rows[0]["v"]))
    assert rows[0]["name"] == "warn" and attrs["severity_number"] == "13"
    assert (attrs["otel.scope.name"], attrs["otel.scope.version"], attrs["scope.scope.k"]) == ("lib", "2.0", "sv")

    span = query_rows(c.spine_addr, f"SELECT trace_id, span_id, parent_span_id, span_kind, status, status_message, "
                                    f"duration_ms, events, links FROM ben.spans WHERE service = '{svc}'")
    assert len(span) == 1
    s = span[0]
    assert (s["trace_id"], s["span_id"], s["parent_span_id"]) == (trace_id, span_id, "")
    assert (s["span_kind"], s["status"], s["status_message"], s["duration_ms"]) == ("consumer", "error", "bad", 3)
    assert json.loads(s["events"])[0]["attributes"] == {"exception.type": "E"}
    assert json.loads(s["links"]) == [{"trace_id": "0af7651916cd43dd8448eb211c80319c", "span_id": "b7ad6b7169203331",
                                       "attributes": {"why": "batch"}, "trace_state": "a=1"}]


def test_metric_points_metrics_proto_allows_are_stored_over_the_wire(cluster):
    """Points a conforming sender may send that were refused or mangled: a histogram without buckets (count and sum
    only) and one with an infinite bound (it refused the whole request, 400), an exponential histogram at scale -10,
    a summary's staleness marker (it became a reset: the next point's total counted again), a gauge point with no
    value (it was stored as 0; metrics.proto calls it invalid: now rejected, told in partialSuccess), and a field of
    a future OTLP holding a ``traceId`` that is not hex (it refused the request)."""
    c = cluster
    _, http = ports(c)
    svc = f"points-{uuid.uuid4().hex[:8]}"
    now = time.time_ns()
    stale = {"timeUnixNano": str(now + 1), "startTimeUnixNano": str(now), "count": "0", "sum": 0, "flags": 1}
    metrics = {"resourceMetrics": [{"resource": _resource(svc), "futureField": {"traceId": "not hex"},
                                    "scopeMetrics": [{"metrics": [
        {"name": "h", "histogram": {"aggregationTemporality": 1, "dataPoints": [
            {"timeUnixNano": str(now), "count": "3", "sum": 6}]}},
        {"name": "hinf", "histogram": {"aggregationTemporality": 1, "dataPoints": [
            {"timeUnixNano": str(now), "count": "2", "sum": 3, "bucketCounts": [1, 1, 0],
             "explicitBounds": [1, "Infinity"]}]}},
        {"name": "eh", "exponentialHistogram": {"aggregationTemporality": 1, "dataPoints": [
            {"timeUnixNano": str(now), "count": "2", "sum": 1.5, "scale": -10,
             "positive": {"offset": -1, "bucketCounts": ["1", "1"]}}]}},
        {"name": "s", "summary": {"dataPoints": [
            {"timeUnixNano": str(now), "startTimeUnixNano": str(now), "count": "10", "sum": 10}, stale,
            {"timeUnixNano": str(now + 2), "startTimeUnixNano": str(now), "count": "12", "sum": 12}]}},
        {"name": "g", "gauge": {"dataPoints": [{"timeUnixNano": str(now)}, {"timeUnixNano": str(now), "asInt": 0}]}},
    ]}]}]}
    status, _, data = post(http, "/v1/metrics", json.dumps(metrics).encode(), JSON)
    assert status == 200, data
    partial = json.loads(data)["partialSuccess"]
    assert partial["rejectedDataPoints"] == "1" and "has no value" in partial["errorMessage"], partial
    c.wait_drained()
    sql = (f"SELECT name, sum(value) AS total, count() AS n FROM ben.events WHERE subsystem = '{svc}' "
           "AND name IN ('h.count', 'h.sum', 'hinf.count', 'eh.count', 's.count', 'g') GROUP BY name")
    got = {r["name"]: (r["total"], r["n"]) for r in query_rows(c.spine_addr, sql)}
    assert got == {"h.count": (3, 1), "h.sum": (6, 1), "hinf.count": (2, 1), "eh.count": (2, 1), "s.count": (12, 2),
                   "g": (0, 1)}


@pytest.mark.parametrize("signal", list(SERVICES))
def test_empty_requests_are_answered_success(cluster, signal):
    """An empty body (protobuf: the empty message), an empty JSON object, a resource with nothing in it,
    and an empty gRPC request: all 200/OK with an empty response, nothing stored, nothing refused."""
    c = cluster
    grpc_port, http = ports(c)
    before = c.status("sidecar")
    key = {"logs": "resourceLogs", "metrics": "resourceMetrics", "traces": "resourceSpans"}[signal]
    for body, ctype in ((b"", "application/x-protobuf"), (b"{}", JSON), (json.dumps({key: [{}]}).encode(), JSON),
                        (json.dumps({key: []}).encode(), JSON)):
        status, headers, data = post(http, f"/v1/{signal}", body, ctype)
        assert status == 200, (body, data)
        assert headers["Content-Type"].startswith(ctype)
        assert data in (b"", b"{}"), data
    with grpc.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
        assert channel.unary_unary(f"/{SERVICES[signal]}/Export")(b"", timeout=10) == b""
    after = c.status("sidecar")
    assert after[f"otlp_requests_total{{signal={signal},transport=http}}"] == \
        before[f"otlp_requests_total{{signal={signal},transport=http}}"] + 4
    assert after[f"otlp_refused_total{{reason=invalid,signal={signal}}}"] == \
        before[f"otlp_refused_total{{reason=invalid,signal={signal}}}"]
    assert after.get(f"otlp_items_total{{signal={signal}}}", 0) == before.get(f"otlp_items_total{{signal={signal}}}", 0)


def test_partial_success_in_both_encodings_and_over_grpc(cluster):
    """Spans that cannot be stored are left out and reported: rejectedSpans (an int64: a string in JSON,
    lowerCamelCase) with an errorMessage that says why; the good ones are stored."""
    c = cluster
    grpc_port, http = ports(c)
    svc = f"partial-{uuid.uuid4().hex[:8]}"
    good = {"traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174", "name": "ok",
            "startTimeUnixNano": str(T0), "endTimeUnixNano": str(T0 + 1)}
    bad = {**good, "spanId": ""}
    body = {"resourceSpans": [{"resource": _resource(svc), "scopeSpans": [{"spans": [good, bad, bad]}]}]}
    status, _, data = post(http, "/v1/traces", json.dumps(body).encode(), JSON)
    assert status == 200
    answer = json.loads(data)
    assert answer["partialSuccess"]["rejectedSpans"] == "2" and "span_id" in answer["partialSuccess"]["errorMessage"]
    request = ExportTraceServiceRequest()
    rs = request.resource_spans.add()
    rs.resource.attributes.append(KeyValue(key="service.name", value=AnyValue(string_value=svc)))
    rs.scope_spans.add().spans.add(trace_id=b"\x01" * 16, span_id=b"", name="no id", start_time_unix_nano=T0)
    status, _, data = post(http, "/v1/traces", request.SerializeToString())
    assert status == 200 and ExportTraceServiceResponse.FromString(data).partial_success.rejected_spans == 1
    with grpc.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
        export = channel.unary_unary(f"/{SERVICES['traces']}/Export",
                                     request_serializer=lambda m: m.SerializeToString(),
                                     response_deserializer=ExportTraceServiceResponse.FromString)
        assert export(request, timeout=10).partial_success.rejected_spans == 1
    c.wait_drained()
    assert query_rows(c.spine_addr, f"SELECT count() AS n FROM ben.spans WHERE service = '{svc}'")[0]["n"] == 1


def test_bad_payloads_are_400_naming_what_is_wrong(cluster):
    c = cluster
    grpc_port, http = ports(c)
    cases = [
        (b'{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"timeUnixNano": "soon"}]}]}]}', "timeUnixNano"),
        (b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "xyz"}]}]}]}', "traceId"),
        (b'{"resourceMetrics": {"not": "a list"}}', "resourceMetrics"),
        (b'{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"severityNumber": {"x": 1}}]}]}]}', "severityNumber"),
        (b"[1, 2]", "JSON object"),
        ("{\"resourceLogs\": \"\xe9\"}".encode("latin-1"), "JSON"),
    ]
    for body, named in cases:
        signal = "traces" if b"Spans" in body else "metrics" if b"Metrics" in body else "logs"
        status, headers, data = post(http, f"/v1/{signal}", body, JSON)
        assert status == 400 and headers["Content-Type"].startswith(JSON), (body, status, data)
        message = json.loads(data)["message"]
        assert named in message, (body, message)
        assert "Retry-After" not in headers
    status, _, data = post(http, "/v1/logs", b"\x0a\x05\x0a\x03\xff", "application/x-protobuf")
    assert status == 400 and "ExportLogsServiceRequest" in status_pb2.Status.FromString(data).message
    assert post(http, "/v1/profiles", b"", "application/x-protobuf")[0] == 404
    assert post(http, "/v1/logs", b"{}", "text/plain")[0] == 415
    with grpc.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
        with pytest.raises(grpc.RpcError) as err:
            channel.unary_unary(f"/{SERVICES['metrics']}/Export")(b"\xff\xff\xff", timeout=10)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "ExportMetricsServiceRequest" in err.value.details()


def test_content_encodings(cluster):
    """gzip and deflate (any case) inflate; a body that says gzip but is not is a 400 naming gzip (it was a
    500); an encoding ben does not inflate is refused naming it, never parsed as is (snappy was taken as
    an uncompressed body): a 415, or for the encodings aiohttp knows but has no codec for here (zstd, br) the
    400 its parser answers before any handler runs."""
    import zlib

    c = cluster
    _, http = ports(c)
    run = uuid.uuid4().hex[:8]
    body = ExportLogsServiceRequest()
    rl = body.resource_logs.add()
    rl.resource.attributes.append(KeyValue(key="service.name", value=AnyValue(string_value=f"enc-{run}")))
    rl.scope_logs.add().log_records.add(time_unix_nano=T0, body=AnyValue(string_value="hello"))
    data = body.SerializeToString()
    for encoding, sent in (("gzip", gzip.compress(data)), ("GZIP", gzip.compress(data)),
                           ("deflate", zlib.compress(data)), ("identity", data)):
        assert post(http, "/v1/logs", sent, encoding=encoding)[0] == 200, encoding
    status, headers, answer = post(http, "/v1/logs", data, encoding="gzip")
    assert status == 400 and "not valid gzip" in status_pb2.Status.FromString(answer).message, (status, answer)
    status, headers, answer = post(http, "/v1/logs", b"{}", JSON, encoding="gzip")
    assert status == 400 and "not valid gzip" in json.loads(answer)["message"], (status, answer)
    bomb = gzip.compress(b"\x00" * (17 << 20))
    status, _, answer = post(http, "/v1/logs", bomb, JSON, encoding="gzip")
    assert status == 413 and "max_request_bytes" in json.loads(answer)["message"], (status, answer)
    status, _, answer = post(http, "/v1/logs", data, encoding="snappy")
    assert status == 415
    assert "Content-Encoding 'snappy' is not supported" in status_pb2.Status.FromString(answer).message
    for encoding in ("zstd", "br", "lz4"):
        status, _, answer = post(http, "/v1/logs", data, encoding=encoding)
        assert status in (400, 415) and encoding.encode() in answer, (encoding, status, answer)
    c.wait_drained()
    # One request in four encodings: each inflated to the same content (a wrong one would be a 400 or another
    # request), so stored once, the other three answered as resends (ben.otlp.dedup).
    assert query_rows(c.spine_addr, f"SELECT count() AS n FROM ben.events WHERE subsystem = 'enc-{run}'")[0]["n"] == 1


def test_items_over_ben_limits_are_cut_keeping_the_span_and_told_as_a_warning(cluster):
    """A span with 100 attributes (the SDKs allow 128) and exception events with long stack traces: the
    span keeps its ids and status (ben's own attributes go first; they were cut, and the span was
    missing from ben.spans), its events stay valid JSON within the 4,096-character value limit, and the
    answer is a success whose partial_success says what was cut with nothing rejected (the spec's warning)."""
    c = cluster
    _, http = ports(c)
    svc = f"limits-{uuid.uuid4().hex[:8]}"
    now = time.time_ns()
    attrs = [_kv(f"app.attr{i:03d}", {"intValue": str(i)}) for i in range(100)]
    events = [{"timeUnixNano": str(now), "name": "exception", "attributes": [
        _kv("exception.message", {"stringValue": f"boom {i}"}),
        _kv("exception.stacktrace", {"stringValue": "Error: boom\n" + "    at frame (file.js:1:1)\n" * 400})]}
        for i in range(5)]
    body = {"resourceSpans": [{"resource": _resource(svc), "scopeSpans": [{"spans": [{
        "traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174", "name": "wide",
        "startTimeUnixNano": str(now), "endTimeUnixNano": str(now + 10**6), "status": {"code": 2},
        "attributes": attrs, "events": events}]}]}]}
    status, _, data = post(http, "/v1/traces", json.dumps(body).encode(), JSON)
    assert status == 200, data
    partial = json.loads(data)["partialSuccess"]
    assert "rejectedSpans" not in partial and "cut to ben's limits" in partial["errorMessage"], partial
    c.wait_drained()
    rows = query_rows(c.spine_addr, f"SELECT trace_id, status, events, length(attributes.key) AS n FROM ben.spans "
                                    f"WHERE service = '{svc}'")
    assert len(rows) == 1, rows
    row = rows[0]
    assert (row["trace_id"], row["status"], row["n"]) == ("5b8efff798038103d269b633813fc60c", "error", 64)
    stored = json.loads(row["events"])
    assert len(row["events"]) <= 4096 and stored[0]["attributes"]["exception.message"] == "boom 0"
    assert stored[0]["attributes"]["exception.stacktrace"].endswith("…")


def _big_logs(run: str, n: int, body_bytes: int) -> ExportLogsServiceRequest:
    req = ExportLogsServiceRequest()
    rl = req.resource_logs.add()
    rl.resource.attributes.append(KeyValue(key="service.name", value=AnyValue(string_value=f"big-{run}")))
    records = rl.scope_logs.add().log_records
    for i in range(n):
        records.add(time_unix_nano=T0 + i, severity_number=9,
                    body=AnyValue(string_value=f"{run} {i:07d} " + uuid.uuid4().hex * (body_bytes // 32)),
                    trace_id=uuid.uuid4().bytes, span_id=uuid.uuid4().bytes[:8],
                    attributes=[KeyValue(key="request.id", value=AnyValue(string_value=uuid.uuid4().hex))])
    return req


def test_a_batch_at_the_size_limit_is_stored_whole(cluster):
    """A request just under max_request_bytes (16 MiB), every string distinct, gzip'd over HTTP and plain
    over gRPC (gzip too): answered 200/OK only once durable, and every record reaches the store."""
    c = cluster
    grpc_port, http = ports(c)
    run = uuid.uuid4().hex[:8]
    request = _big_logs(run, 40_000, 256)
    data = request.SerializeToString()
    assert 14 << 20 < len(data) < 16 << 20, len(data)
    status, _, answer = post(http, "/v1/logs", gzip.compress(data, 1), encoding="gzip")
    assert status == 200, answer[:300]
    with grpc.insecure_channel(f"127.0.0.1:{grpc_port}", options=[("grpc.max_send_message_length", 32 << 20)],
                               compression=grpc.Compression.Gzip) as channel:
        export = channel.unary_unary(f"/{SERVICES['logs']}/Export")
        request.resource_logs[0].scope_logs[0].log_records[0].time_unix_nano += 1  # another request, not a resend
        assert export(request.SerializeToString(), timeout=60) == b""
        with pytest.raises(grpc.RpcError) as err:            # a gzip bomb: refused by its inflated size
            export(b"\x0a" + b"\x00" * (17 << 20), timeout=60)
        assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED and "larger than max" in err.value.details()
    c.wait_drained(120)
    n = query_rows(c.spine_addr, f"SELECT count() AS n, uniqExact(body) AS u FROM ben.events WHERE subsystem = 'big-{run}'")
    assert n[0] == {"n": 80_000, "u": 40_000}


def test_a_large_span_batch_is_stored_whole(cluster):
    """Spans grow when stored (hex ids, three rows a span): a 6 MiB request becomes one batch of about
    11 MiB, which the sidecar's WAL and its shipping to the spine carry whole (a 15 MiB request was
    checked by hand: a 27 MiB batch, under the spine's 32 MiB message limit, stored whole)."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest as Req

    c = cluster
    _, http = ports(c)
    svc = f"spans-{uuid.uuid4().hex[:8]}"
    req = Req()
    rs = req.resource_spans.add()
    rs.resource.attributes.append(KeyValue(key="service.name", value=AnyValue(string_value=svc)))
    spans = rs.scope_spans.add().spans
    now = time.time_ns()
    for i in range(SPANS):
        spans.add(trace_id=uuid.uuid4().bytes, span_id=uuid.uuid4().bytes[:8], parent_span_id=uuid.uuid4().bytes[:8],
                  name=f"op{i % 50}", start_time_unix_nano=now, end_time_unix_nano=now + 1000,
                  attributes=[KeyValue(key="request.id", value=AnyValue(string_value=uuid.uuid4().hex))])
    data = req.SerializeToString()
    assert 5 << 20 < len(data) < 16 << 20, len(data)
    status, _, answer = post(http, "/v1/traces", data)
    assert status == 200 and not ExportTraceServiceResponse.FromString(answer).HasField("partial_success"), answer[:300]
    c.wait_drained(120)
    assert query_rows(c.spine_addr, f"SELECT count() AS n FROM ben.spans WHERE service = '{svc}'")[0]["n"] == SPANS
