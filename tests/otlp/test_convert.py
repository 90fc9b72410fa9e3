"""OTLP messages -> ben batches: the mapping of ADR 0036, item by item."""

from __future__ import annotations

import json
import math

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.metrics.v1 import metrics_pb2 as m

from ben.core.lanes import ALERT, ROUTINE
from ben.otlp import jsonform, quantiles
from ben.otlp.convert import Converter
from ben.v1 import telemetry_pb2 as pb

T0 = 1_700_000_000_000_000_000


def kv(key, value):
    if isinstance(value, str):
        return KeyValue(key=key, value=AnyValue(string_value=value))
    if isinstance(value, bool):
        return KeyValue(key=key, value=AnyValue(bool_value=value))
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    return KeyValue(key=key, value=AnyValue(double_value=value))


def rows(converted):
    """(lane, subsystem, kind, name, value, body, attrs) of every event."""
    out = []
    for part in converted.parts:
        b = part.build("s", 1)
        pos = 0
        for i in range(len(b.ts_unix_nano)):
            n = b.attr_counts[i]
            attrs = {b.strings[k]: b.strings[v] for k, v in zip(b.attr_keys[pos:pos + n], b.attr_values[pos:pos + n])}
            pos += n
            out.append((part.lane, b.source.subsystem, b.kinds[i], b.strings[b.names[i]], b.values[i],
                        b.strings[b.bodies[i]], attrs))
    return out


def metrics_request(metric, service="api"):
    req = ExportMetricsServiceRequest()
    rm = req.resource_metrics.add()
    rm.resource.attributes.append(kv("service.name", service))
    rm.scope_metrics.add().metrics.append(metric)
    return req


def test_logs_severity_lane_body_and_ids():
    req = ExportLogsServiceRequest()
    rl = req.resource_logs.add()
    rl.resource.attributes.extend([kv("service.name", "shop"), kv("host.name", "h1"), kv("k8s.pod", "p")])
    sl = rl.scope_logs.add()
    sl.scope.name = "lib"
    sl.log_records.add(time_unix_nano=T0, severity_number=9, body=AnyValue(string_value="hello"),
                       trace_id=bytes(range(16)), span_id=bytes(range(8)), attributes=[kv("n", 3)])
    sl.log_records.add(observed_time_unix_nano=T0, severity_number=17, severity_text="ERROR",
                       body=AnyValue(kvlist_value={"values": [kv("a", 1)]}))
    sl.log_records.add(time_unix_nano=T0, attributes=[kv("ben.alert", True)])
    out = Converter().logs(req)
    got = rows(out)
    assert out.items == 3 and out.rejected == 0
    info, error, marked = sorted(got, key=lambda r: (r[0] != ROUTINE, r[3]))
    assert info[:6] == (ROUTINE, "shop", pb.KIND_LOG, "info", 1.0, "hello")
    assert info[6]["trace_id"] == bytes(range(16)).hex() and info[6]["span_id"] == bytes(range(8)).hex()
    assert info[6]["n"] == "3" and info[6]["resource.k8s.pod"] == "p" and info[6]["otel.scope.name"] == "lib"
    assert {error[0], marked[0]} == {ALERT}
    assert error[3] == "error" and error[5] == '{"a":1}'
    assert marked[3] == "log"


def test_a_severity_number_outside_1_to_24_is_told_and_not_followed():
    """``severityNumber: 99`` was stored as a "fatal" log in the alert lane, ``-5`` as a routine "log", both in
    silence: the proto takes any int32. Each is now a record of unspecified severity (routine, "log"; its text
    still names it), the number kept as sent, and the answer's partial_success says so without rejecting it."""
    req = ExportLogsServiceRequest()
    sl = req.resource_logs.add().scope_logs.add()
    sl.log_records.add(time_unix_nano=T0, severity_number=99, body=AnyValue(string_value="ninety-nine"))
    sl.log_records.add(time_unix_nano=T0, severity_number=-5, body=AnyValue(string_value="minus five"))
    sl.log_records.add(time_unix_nano=T0, severity_number=99, severity_text="Warn", body=AnyValue(string_value="t"))
    sl.log_records.add(time_unix_nano=T0, severity_number=24, body=AnyValue(string_value="fatal4"))
    out = Converter().logs(req)
    got = {r[5]: r for r in rows(out)}
    assert out.items == 4 and out.rejected == 0 and len(got) == 4
    assert got["ninety-nine"][:4] == (ROUTINE, "unknown_service", pb.KIND_LOG, "log")
    assert got["ninety-nine"][6]["severity_number"] == "99"
    assert got["minus five"][:4] == (ROUTINE, "unknown_service", pb.KIND_LOG, "log")
    assert got["t"][0] == ROUTINE and got["t"][3] == "warn"
    assert got["fatal4"][0] == ALERT and got["fatal4"][3] == "fatal"
    assert "severity_number 99 is outside 1..24" in out.message and "severity_number -5" in out.message


def test_cumulative_counter_becomes_increments_and_resets():
    conv = Converter(started_ns=T0 - 10)
    def point(value, start):
        metric = m.Metric(name="requests", sum=m.Sum(is_monotonic=True,
                          aggregation_temporality=m.AGGREGATION_TEMPORALITY_CUMULATIVE))
        metric.sum.data_points.add(start_time_unix_nano=start, time_unix_nano=T0 + 1, as_int=value,
                                   attributes=[kv("route", "/pay")])
        return [r[4] for r in rows(conv.metrics(metrics_request(metric)))]
    assert point(5, T0) == [5.0]            # started after the receiver: counted since its start
    assert point(12, T0) == [7.0]
    assert point(3, T0 + 100) == [3.0]      # a new start: a reset
    assert point(2, T0 + 100) == [2.0]      # went down: a reset too
    old = Converter(started_ns=T0 + 10**12)
    metric = m.Metric(name="requests", sum=m.Sum(is_monotonic=True,
                      aggregation_temporality=m.AGGREGATION_TEMPORALITY_CUMULATIVE))
    metric.sum.data_points.add(start_time_unix_nano=T0, time_unix_nano=T0 + 1, as_int=1000)
    assert [r[4] for r in rows(old.metrics(metrics_request(metric)))] == [0.0]  # the receiver restarted


def test_a_part_not_stored_gives_its_cumulative_increment_back_to_its_resend():
    """What a refused part's cumulative points changed is put back (``Cumulative.undo``), so its resend
    counts the increment; a stream a later point has moved on is left alone."""
    conv = Converter(started_ns=T0 - 10)
    def request(value, t, name="requests", h=False):
        if h:
            metric = m.Metric(name=name, histogram=m.Histogram(
                aggregation_temporality=m.AGGREGATION_TEMPORALITY_CUMULATIVE))
            metric.histogram.data_points.add(start_time_unix_nano=T0, time_unix_nano=t, count=value, sum=value,
                                             explicit_bounds=[1.0], bucket_counts=[value, 0])
        else:
            metric = m.Metric(name=name, sum=m.Sum(is_monotonic=True,
                              aggregation_temporality=m.AGGREGATION_TEMPORALITY_CUMULATIVE))
            metric.sum.data_points.add(start_time_unix_nano=T0, time_unix_nano=t, as_int=value)
        return metrics_request(metric)
    def counts(out):
        return [r[4] for r in rows(out) if r[3] in ("requests", "lat.count")]
    assert counts(conv.metrics(request(100, T0 + 1))) == [100.0]
    refused = conv.metrics(request(150, T0 + 2))
    assert counts(refused) == [50.0]
    conv.cumulative.undo([c for p in refused.parts for c in p.undo])     # the WAL refused it
    assert counts(conv.metrics(request(150, T0 + 2))) == [50.0]          # the resend counts it again
    assert counts(conv.metrics(request(150, T0 + 2))) == [0.0]           # stored once: a repeat adds 0
    # a later point moved the stream on before the refusal came back: undo leaves it
    late = conv.metrics(request(170, T0 + 3))
    assert counts(conv.metrics(request(200, T0 + 4))) == [30.0]
    conv.cumulative.undo([c for p in late.parts for c in p.undo])
    assert counts(conv.metrics(request(210, T0 + 5))) == [10.0]
    # histograms too; and a first point undone is forgotten (counted again in full)
    first = conv.metrics(request(4, T0 + 1, "lat", h=True))
    assert counts(first) == [4.0]
    conv.cumulative.undo([c for p in first.parts for c in p.undo])
    assert counts(conv.metrics(request(4, T0 + 1, "lat", h=True))) == [4.0]


def test_gauge_non_monotonic_sum_and_bad_points():
    metric = m.Metric(name="temp", gauge=m.Gauge())
    metric.gauge.data_points.add(time_unix_nano=T0, as_double=21.5)
    metric.gauge.data_points.add(time_unix_nano=T0, as_double=math.nan)
    metric.gauge.data_points.add(time_unix_nano=0, as_double=1.0)
    metric.gauge.data_points.add(time_unix_nano=T0, flags=m.DATA_POINT_FLAGS_NO_RECORDED_VALUE_MASK)
    out = Converter().metrics(metrics_request(metric))
    assert [(r[2], r[3], r[4]) for r in rows(out)] == [(pb.KIND_METRIC, "temp", 21.5)]
    assert out.items == 4 and out.rejected == 2
    assert "nan" in out.message and "time_unix_nano" in out.message
    queue = m.Metric(name="queue", sum=m.Sum(is_monotonic=False,
                     aggregation_temporality=m.AGGREGATION_TEMPORALITY_CUMULATIVE))
    queue.sum.data_points.add(time_unix_nano=T0, as_int=-4)
    assert [(r[2], r[4]) for r in rows(Converter().metrics(metrics_request(queue)))] == [(pb.KIND_METRIC, -4.0)]


def test_a_name_with_a_control_character_is_kept_with_it_replaced_not_refused():
    """The SDK refuses a series name with a newline (its caller can fix it); what an OpenTelemetry
    exporter sent is kept, each control character replaced with U+FFFD."""
    metric = m.Metric(name="temp\nfake line", gauge=m.Gauge())
    metric.gauge.data_points.add(time_unix_nano=T0, as_double=21.5)
    out = Converter().metrics(metrics_request(metric))
    assert [(r[3], r[4]) for r in rows(out)] == [("temp\ufffdfake line", 21.5)]
    assert out.rejected == 0


def test_a_resource_s_service_host_and_instance_are_printable_and_bounded_as_a_subsystem_is():
    """service.name "shop\\x00\\n..." was stored as the subsystem verbatim (the SDK refuses such a subsystem: it
    names every row, incident and command target); now each control character is U+FFFD, cut at 256."""
    metric = m.Metric(name="temp", gauge=m.Gauge())
    metric.gauge.data_points.add(time_unix_nano=T0, as_double=21.5)
    req = metrics_request(metric, service="shop\x00\nfake: line\x1b[2J")
    req.resource_metrics[0].resource.attributes.extend([kv("host.name", "h\u2028" + "x" * 300),
                                                       kv("service.instance.id", "i\t1")])
    out = Converter().metrics(req)
    source = out.parts[0].build("s", 1).source
    assert (source.subsystem, source.instance) == ("shop\ufffd\ufffdfake: line\ufffd[2J", "i\ufffd1")
    assert source.host == ("h\ufffd" + "x" * 300)[:256]
    assert out.counts.replaced_strings == 3 and out.counts.truncated == 1 and out.rejected == 0
    plain = Converter().metrics(metrics_request(metric, service="shop-é 1"))
    assert plain.parts[0].build("s", 1).source.subsystem == "shop-é 1" and plain.counts.replaced_strings == 0


def test_histogram_count_sum_buckets_and_quantiles_of_the_interval():
    conv = Converter(started_ns=T0 - 10)
    def send(counts, total, n):
        metric = m.Metric(name="latency", histogram=m.Histogram(
            aggregation_temporality=m.AGGREGATION_TEMPORALITY_CUMULATIVE))
        metric.histogram.data_points.add(start_time_unix_nano=T0, time_unix_nano=T0 + 5, count=n, sum=total,
                                         explicit_bounds=[10, 100], bucket_counts=counts)
        return {r[3]: r for r in rows(conv.metrics(metrics_request(metric)))}
    first = send([10, 0, 0], 50.0, 10)
    assert first["latency.count"][4] == 10 and first["latency.sum"][4] == 50.0
    assert '"bounds": [10.0, 100.0]' in first["latency.count"][5]
    assert first["latency.p50"][4] == pytest.approx(10.0)  # all in (-inf, 10]: closed at the first bound
    second = send([10, 0, 90], 9050.0, 100)     # 90 slow requests since the last point
    assert second["latency.count"][4] == 90 and second["latency.sum"][4] == 9000.0
    assert second["latency.p50"][4] == pytest.approx(100.0)  # the interval's, not the lifetime's


def test_histogram_with_mismatched_buckets_is_rejected():
    metric = m.Metric(name="latency", histogram=m.Histogram(aggregation_temporality=1))
    metric.histogram.data_points.add(time_unix_nano=T0, count=1, explicit_bounds=[1, 2], bucket_counts=[1])
    out = Converter().metrics(metrics_request(metric))
    assert out.rejected == 1 and "bucket_counts has 1 entries, expected 3" in out.message and not out.parts


def test_exponential_histogram_quantiles():
    metric = m.Metric(name="size", exponential_histogram=m.ExponentialHistogram(aggregation_temporality=1))
    p = metric.exponential_histogram.data_points.add(time_unix_nano=T0, count=100, sum=1.0, scale=0, zero_count=0)
    p.positive.offset = 3          # buckets (8, 16], (16, 32]
    p.positive.bucket_counts.extend([50, 50])
    got = {r[3]: r[4] for r in rows(Converter().metrics(metrics_request(metric)))}
    assert got["size.p50"] == pytest.approx(16.0) and 31 < got["size.p99"] <= 32
    assert quantiles.quantile(quantiles.exponential(1, 0, p.positive, p.negative), 0.5) == pytest.approx(4.0)  # (2**1.5, 2**2] | (2**2, 2**2.5]


def test_summary():
    metric = m.Metric(name="rpc", summary=m.Summary())
    p = metric.summary.data_points.add(start_time_unix_nano=T0, time_unix_nano=T0 + 1, count=4, sum=2.0)
    p.quantile_values.add(quantile=0.99, value=0.9)
    got = {r[3]: r[4] for r in rows(Converter(started_ns=T0 - 1).metrics(metrics_request(metric)))}
    assert got == {"rpc.count": 4.0, "rpc.sum": 2.0, "rpc.p99": 0.9}


def test_spans_become_rows_and_series():
    req = ExportTraceServiceRequest()
    rs = req.resource_spans.add()
    rs.resource.attributes.append(kv("service.name", "shop"))
    spans = rs.scope_spans.add().spans
    spans.add(trace_id=b"\x01" * 16, span_id=b"\x02" * 8, parent_span_id=b"\x03" * 8, name="GET /pay", kind=2,
              start_time_unix_nano=T0, end_time_unix_nano=T0 + 25_000_000, status={"code": 2, "message": "boom"},
              events=[{"name": "retry", "time_unix_nano": T0 + 1}])
    spans.add(trace_id=b"\x00" * 16, span_id=b"\x02" * 8, name="bad", start_time_unix_nano=T0)
    out = Converter().traces(req)
    got = rows(out)
    assert out.items == 2 and out.rejected == 1
    span = next(r for r in got if r[2] == pb.KIND_EVENT)
    assert span[3:6] == ("GET /pay", 25.0, "boom")
    assert span[6]["otel.trace_id"] == "01" * 16 and span[6]["otel.parent_span_id"] == "03" * 8
    assert span[6]["otel.span_kind"] == "server" and span[6]["otel.status"] == "error"
    assert '"name": "retry"' in span[6]["otel.events"]
    series = {r[3]: (r[2], r[4], r[6]) for r in got if r[2] != pb.KIND_EVENT}
    assert series == {"span.duration_ms": (pb.KIND_METRIC, 25.0, {"span.name": "GET /pay"}),
                      "span.errors": (pb.KIND_COUNTER, 1.0, {"span.name": "GET /pay"})}


def test_otlp_json_ids_are_hex_and_errors_name_the_field():
    body = (b'{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"a"}}]},'
            b'"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",'
            b'"name":"x","kind":2,"startTimeUnixNano":"1700000000000000000","unknownField":1}]}]}]}')
    req = jsonform.parse(body, ExportTraceServiceRequest())
    assert req.resource_spans[0].scope_spans[0].spans[0].trace_id.hex() == "5b8efff798038103d269b633813fc60c"
    with pytest.raises(ValueError, match="traceId is not a hex id"):
        jsonform.parse(b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"zz"}]}]}]}',
                       ExportTraceServiceRequest())
    with pytest.raises(ValueError, match="not valid JSON"):
        jsonform.parse(b"{", ExportTraceServiceRequest())
    with pytest.raises(ValueError, match="nested too deeply"):
        jsonform.parse(b'{"a":' * 100_000 + b"1" + b"}" * 100_000, ExportTraceServiceRequest())


def test_a_request_that_cannot_be_converted_is_refused_not_raised():
    """The hot path never raises to its caller: a conversion failure is an INVALID answer, counted."""
    import asyncio

    from ben.otlp.exporting import INVALID, Exporting

    class Broken(Converter):
        def logs(self, request, client=""):
            raise RuntimeError("boom")

    exporting = Exporting(slots=None, converter=Broken())
    try:
        answer = asyncio.run(exporting.export("logs", "http", ExportLogsServiceRequest().SerializeToString()))
    finally:
        exporting.shutdown()
    assert answer.outcome == INVALID and "RuntimeError: boom" in answer.message
    assert exporting.figures.refused[("logs", "invalid")] == 1


def test_bounded_json_stays_valid_within_the_limit():
    from ben.otlp.values import bounded_json
    from ben.sdk.limits import Counts

    counts = Counts()
    small = [{"name": "a", "attributes": {"k": "v"}}]
    assert json.loads(bounded_json(small, counts)) == small and counts.truncated == 0
    many = [{"name": f"e{i}", "attributes": {"stack": "x" * 1000}} for i in range(40)]
    out = bounded_json(many, counts, limit=2000)
    got = json.loads(out)
    assert len(out) <= 2000 and counts.truncated == 1
    assert got[0]["attributes"]["stack"] == "x" * 256 + "…"
    assert got[-1] == {"dropped": 40 - (len(got) - 1)} and len(got) > 2
    huge_names = [{"name": "n" * 5000}]
    assert json.loads(bounded_json(huge_names, counts, limit=100)) == [{"dropped": 1}]


def test_a_span_of_many_tiny_events_and_links_costs_what_fits_not_their_square(monkeypatch):
    """100,000 empty events (2 bytes each: a 200 KB request) and as many links: the array was written again after
    each item left out, a time quadratic in their number (8,000 took 36 s; a 16 MB request, 8 million)."""
    from ben.otlp import values

    written = []   # items written to JSON: what fits in 4,096 characters is about 100 of each

    class Counting:
        @staticmethod
        def dumps(value, **kwargs):
            written.append(len(value) if isinstance(value, list) else 1)
            assert sum(written) < 2_000, "bounded_json wrote every item, or the array again for each left out"
            return json.dumps(value, **kwargs)

    monkeypatch.setattr(values, "json", Counting)
    req = ExportTraceServiceRequest()
    span = req.resource_spans.add().scope_spans.add().spans.add(
        trace_id=b"\x01" * 16, span_id=b"\x02" * 8, name="s", start_time_unix_nano=T0)
    for _ in range(100_000):
        span.events.add()
        span.links.add()
    out = Converter().traces(ExportTraceServiceRequest.FromString(req.SerializeToString()))
    attrs = next(r for r in rows(out) if r[2] == pb.KIND_EVENT)[6]
    for key in ("otel.events", "otel.links"):
        got = json.loads(attrs[key])
        assert len(attrs[key]) <= values.MAX_ATTR_VALUE_CHARS and 50 < len(got) < 200
        assert got[-1] == {"dropped": 100_000 - (len(got) - 1)}
    assert got[0] == {"trace_id": "", "span_id": ""} and out.counts.truncated == 2


def test_a_record_of_many_tiny_attributes_makes_only_what_it_keeps(monkeypatch):
    """200,000 attributes of one record and of its resource: each was made a string in a dict, to be cut to 64 by
    the builder (1.2 million, 15.7 MB of OTLP: 1.5 s and 170 MB). A later duplicate of a kept key still wins, the
    resource's service.name after them is still its subsystem, the cut is counted."""
    from ben.otlp import values

    made = []

    def text(value):
        made.append(1)
        return value.string_value

    monkeypatch.setattr(values, "text", text)
    req = ExportLogsServiceRequest()
    rl = req.resource_logs.add()
    rec = rl.scope_logs.add().log_records.add(time_unix_nano=T0, body=AnyValue(string_value="b"))
    for i in range(200_000):
        rl.resource.attributes.append(kv(f"r{i}", "x"))
        rec.attributes.append(kv(f"k{i}", "x"))
    rl.resource.attributes.append(kv("service.name", "shop"))
    rec.attributes.append(kv("k0", "last"))
    out = Converter().logs(ExportLogsServiceRequest.FromString(req.SerializeToString()))
    ((_, subsystem, _, _, _, _, attrs),) = rows(out)
    assert len(made) < 1_000, f"{len(made)} attribute values made"
    assert subsystem == "shop" and attrs["k0"] == "last" and len(attrs) == 64 and out.counts.truncated == 1


def test_resources_of_one_source_share_a_batch_and_too_many_sources_are_left_out():
    req = ExportLogsServiceRequest()
    for pod in range(50):                       # one service on one host, 50 resources (pods)
        rl = req.resource_logs.add()
        rl.resource.attributes.extend([kv("service.name", "api"), kv("host.name", "h"), kv("k8s.pod.name", f"p{pod}")])
        rl.scope_logs.add().log_records.add(time_unix_nano=T0, body=AnyValue(string_value=f"from p{pod}"))
    out = Converter().logs(req)
    assert len(out.parts) == 1 and out.events == 50 and out.rejected == 0
    assert {r[6]["resource.k8s.pod.name"] for r in rows(out)} == {f"p{i}" for i in range(50)}

    req = ExportLogsServiceRequest()
    for service in range(5):
        rl = req.resource_logs.add()
        rl.resource.attributes.append(kv("service.name", f"s{service % 4}"))     # s0 twice: 4 sources
        rl.scope_logs.add().log_records.add(time_unix_nano=T0, body=AnyValue(string_value="x"))
        rl.scope_logs.add().log_records.add(time_unix_nano=T0, body=AnyValue(string_value="y"))
    out = Converter(max_sources=3).logs(req)
    assert {p.source.subsystem for p in out.parts} == {"s0", "s1", "s2"} and out.events == 8
    assert out.items == 10 and out.rejected == 2 and "more than 3 distinct" in out.message
    metric = m.Metric(name="g", gauge=m.Gauge())
    metric.gauge.data_points.add(time_unix_nano=T0, as_double=1.0)
    mreq = metrics_request(metric, "a")
    mreq.resource_metrics.append(metrics_request(metric, "b").resource_metrics[0])
    out = Converter(max_sources=1).metrics(mreq)
    assert out.events == 1 and out.rejected == 1


def test_an_application_s_attributes_do_not_replace_ben_s_own():
    """Attribute keys colliding with ben's (attack matrix, ADR 0045 2026-12-06): a record's ``trace_id``,
    ``severity_number`` or ``otel.scope.name`` does not replace what ben read from the record itself."""
    req = ExportLogsServiceRequest()
    rl = req.resource_logs.add()
    rl.resource.attributes.append(kv("service.name", "shop"))
    sl = rl.scope_logs.add()
    sl.scope.name = "lib"
    sl.log_records.add(time_unix_nano=T0, severity_number=9, trace_id=bytes(range(16)),
                       attributes=[kv("trace_id", "forged"), kv("severity_number", "24"), kv("otel.scope.name", "x")])
    ((lane, subsystem, _, _, _, _, attrs),) = rows(Converter().logs(req))
    assert (lane, subsystem) == (ROUTINE, "shop")
    assert attrs["trace_id"] == bytes(range(16)).hex() and attrs["severity_number"] == "9", attrs
    assert attrs["otel.scope.name"] == "lib", attrs


def test_an_id_of_the_wrong_size_is_named_not_stored_as_an_id():
    """A span whose ``traceId`` is ``"abcd"`` (2 bytes; OTLP's are 16, span ids 8) was stored with
    ``otel.trace_id = "abcd"``, a trace no tracer made, in silence (ADR 0033 round 11). The span is rejected
    naming the field and both sizes; a log record keeps its body and loses only the id, and the answer says so."""
    req = ExportTraceServiceRequest()
    spans = req.resource_spans.add().scope_spans.add().spans
    spans.add(trace_id=b"\xab\xcd", span_id=b"\x02" * 8, name="short trace", start_time_unix_nano=T0)
    spans.add(trace_id=b"\x01" * 16, span_id=b"\x02" * 9, name="long span", start_time_unix_nano=T0)
    spans.add(trace_id=b"\x01" * 16, span_id=b"\x02" * 8, parent_span_id=b"\x03", name="x", start_time_unix_nano=T0)
    spans.add(trace_id=b"\x01" * 16, span_id=b"\x02" * 8, name="good", start_time_unix_nano=T0)
    out = Converter().traces(req)
    assert out.rejected == 3 and {r[3] for r in rows(out) if r[2] == pb.KIND_EVENT} == {"good"}
    for words in ("trace_id is 2 bytes (OTLP: 16)", "span_id is 9 bytes (OTLP: 8)", "parent_span_id is 1 bytes"):
        assert words in out.message, out.message
    logs = ExportLogsServiceRequest()
    logs.resource_logs.add().scope_logs.add().log_records.add(
        time_unix_nano=T0, body=AnyValue(string_value="kept"), trace_id=b"\xab\xcd", span_id=b"\x02" * 8)
    out = Converter().logs(logs)
    ((*_, body, attrs),) = rows(out)
    assert out.rejected == 0 and body == "kept" and "trace_id" not in attrs and attrs["span_id"] == "02" * 8
    assert "a log record's trace_id is 2 bytes (OTLP: 16): stored without it" in out.message, out.message


def test_a_histogram_without_buckets_keeps_its_count_and_sum():
    """metrics.proto: bucket_counts may be empty, and explicit_bounds then too (count and sum only); such a point
    was rejected ("bucket_counts has 0 entries, expected 1")."""
    metric = m.Metric(name="latency", histogram=m.Histogram(aggregation_temporality=1))
    metric.histogram.data_points.add(time_unix_nano=T0, count=3, sum=6.0)
    out = Converter().metrics(metrics_request(metric))
    assert out.rejected == 0
    assert {r[3]: r[4] for r in rows(out)} == {"latency.count": 3.0, "latency.sum": 6.0}


def test_an_exponential_histogram_at_every_scale_otlp_allows_is_stored():
    """Scale -10 (the SDKs' smallest: a huge range of values) made the base 2**1024, past a float: the point was
    rejected with "Numerical result out of range". Negative offsets and a zero bucket are read too."""
    for scale in (-10, 0, 20):
        metric = m.Metric(name="size", exponential_histogram=m.ExponentialHistogram(aggregation_temporality=1))
        p = metric.exponential_histogram.data_points.add(time_unix_nano=T0, count=4, sum=1.0, scale=scale,
                                                         zero_count=1)
        p.positive.offset = -1
        p.positive.bucket_counts.extend([1, 1])
        p.negative.bucket_counts.append(1)
        out = Converter().metrics(metrics_request(metric))
        got = {r[3]: r[4] for r in rows(out)}
        assert out.rejected == 0 and got["size.count"] == 4.0 and got["size.p50"] == 0.0, (scale, out.message)


def test_an_infinite_explicit_bound_does_not_refuse_the_whole_request():
    """An explicit bound of +inf made the buckets' JSON raise: the whole request, its other metrics too, was
    refused as one that cannot be converted (400, never retried)."""
    metric = m.Metric(name="latency", histogram=m.Histogram(aggregation_temporality=1))
    metric.histogram.data_points.add(time_unix_nano=T0, count=3, sum=6.0, explicit_bounds=[1.0, math.inf],
                                     bucket_counts=[1, 1, 1])
    req = metrics_request(metric)
    gauge = req.resource_metrics[0].scope_metrics[0].metrics.add(name="temp")
    gauge.gauge.data_points.add(time_unix_nano=T0, as_int=5)
    out = Converter().metrics(req)
    got = {r[3]: r for r in rows(out)}
    assert out.rejected == 0 and got["temp"][4] == 5.0
    assert json.loads(got["latency.count"][5])["bounds"] == [1.0, "inf"]


def test_a_number_point_without_a_value_is_rejected_not_stored_as_zero():
    """metrics.proto: a NumberDataPoint with neither as_int nor as_double is invalid; it was stored as 0 (and a
    cumulative one as a reset). With NO_RECORDED_VALUE it is the spec's staleness marker: left out silently."""
    metric = m.Metric(name="temp", gauge=m.Gauge())
    metric.gauge.data_points.add(time_unix_nano=T0)
    metric.gauge.data_points.add(time_unix_nano=T0, flags=m.DATA_POINT_FLAGS_NO_RECORDED_VALUE_MASK)
    metric.gauge.data_points.add(time_unix_nano=T0, as_double=0.0)
    out = Converter().metrics(metrics_request(metric))
    assert [r[4] for r in rows(out)] == [0.0]
    assert out.rejected == 1 and "has no value (as_int or as_double)" in out.message


def test_a_summary_staleness_marker_is_not_a_reset():
    """A summary point flagged NO_RECORDED_VALUE (count 0) was converted as a reset: the next point's whole total
    was counted again (10 then 12 gave 10 + 0 + 12, not 10 + 2)."""
    conv = Converter(started_ns=T0 - 10)
    counts = []
    for flags, count in ((0, 10), (m.DATA_POINT_FLAGS_NO_RECORDED_VALUE_MASK, 0), (0, 12)):
        metric = m.Metric(name="rpc", summary=m.Summary())
        metric.summary.data_points.add(start_time_unix_nano=T0, time_unix_nano=T0 + 1, count=count,
                                       sum=float(count), flags=flags)
        counts += [r[4] for r in rows(conv.metrics(metrics_request(metric))) if r[3] == "rpc.count"]
    assert counts == [10.0, 2.0]


def test_otlp_json_ids_are_read_in_every_message_and_unknown_fields_are_ignored_whatever_they_hold():
    """The spec: receivers MUST ignore fields with unknown names. A future field holding a ``traceId`` that is not
    hex (another encoding of a message ben does not know) refused the whole request as a bad id; ids are now read
    only in the fields OTLP defines (span, link, log record, exemplar), in upper or lower case, either spelling."""
    trace, span = "5B8EFFF798038103D269B633813FC60C", "EEE19B7EC3C1B174"
    body = json.dumps({"resourceMetrics": [{"futureField": {"traceId": "not hex", "spanId": 1}, "scopeMetrics": [
        {"metrics": [{"name": "g", "gauge": {"dataPoints": [{"asInt": "3", "timeUnixNano": "1", "exemplars": [
            {"trace_id": trace, "spanId": span, "asDouble": 1.5, "futureField": {"spanId": "?"}}]}]}}]}]}]})
    req = jsonform.parse(body.encode(), ExportMetricsServiceRequest())
    exemplar = req.resource_metrics[0].scope_metrics[0].metrics[0].gauge.data_points[0].exemplars[0]
    assert (exemplar.trace_id.hex(), exemplar.span_id.hex()) == (trace.lower(), span.lower())
    logs = jsonform.parse(json.dumps({"resourceLogs": [{"scopeLogs": [{"logRecords": [
        {"traceId": trace, "span_id": span, "body": {"kvlistValue": {"values": [
            {"key": "traceId", "value": {"stringValue": "not hex: an attribute, not an id"}}]}}}]}]}]}).encode(),
        ExportLogsServiceRequest())
    record = logs.resource_logs[0].scope_logs[0].log_records[0]
    assert (record.trace_id.hex(), record.span_id.hex()) == (trace.lower(), span.lower())
    with pytest.raises(ValueError, match=r"links.\[0\].spanId is not a hex id"):
        jsonform.parse(b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"links":[{"spanId":"zz"}]}]}]}]}',
                       ExportTraceServiceRequest())


def test_a_span_keeps_its_trace_state_and_a_summary_its_unknown_sum_unknown():
    """A span's W3C ``trace_state`` was dropped (its links' was kept); a summary's NaN sum was stored as a ``.sum``
    increment of 0, a value nobody measured (a histogram's is left out)."""
    req = ExportTraceServiceRequest()
    req.resource_spans.add().scope_spans.add().spans.add(
        trace_id=b"\1" * 16, span_id=b"\2" * 8, name="GET", start_time_unix_nano=T0, trace_state="vendor=a1")
    assert rows(Converter(span_series=False).traces(req))[0][6]["otel.trace_state"] == "vendor=a1"
    metric = m.Metric(name="rpc", summary=m.Summary())
    metric.summary.data_points.add(start_time_unix_nano=T0, time_unix_nano=T0 + 1, count=4, sum=math.nan)
    assert {r[3] for r in rows(Converter(started_ns=T0 - 1).metrics(metrics_request(metric)))} == {"rpc.count"}


def test_the_python_sdk_s_histograms_at_its_extremes_are_stored():
    """The pinned OpenTelemetry Python SDK's own encoding: an exponential histogram of a wide range in few buckets
    (a view's ``max_size=2``) is sent at scale -10, which was rejected; a histogram view without boundaries."""
    from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.metrics.view import (ExplicitBucketHistogramAggregation,
                                                ExponentialBucketHistogramAggregation, View)
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader], views=[
        View(instrument_name="wide", aggregation=ExponentialBucketHistogramAggregation(max_size=2)),
        View(instrument_name="flat", aggregation=ExplicitBucketHistogramAggregation(boundaries=[]))])
    meter = provider.get_meter("t")
    for value in (1e-300, 5.0, 1e300):
        meter.create_histogram("wide").record(value)
    meter.create_histogram("flat").record(4.0)
    request = encode_metrics(reader.get_metrics_data())
    provider.shutdown()
    scales = [p.scale for rm in request.resource_metrics for sm in rm.scope_metrics for metric in sm.metrics
              for p in metric.exponential_histogram.data_points]
    assert scales == [-10]
    out = Converter(started_ns=0).metrics(request)
    got = {r[3]: r[4] for r in rows(out)}
    assert out.rejected == 0, out.message
    assert (got["wide.count"], got["wide.sum"], got["flat.count"], got["flat.p50"]) == (3.0, 1e300, 1.0, 4.0)


def test_an_attribute_or_body_of_a_huge_array_makes_only_what_it_keeps(monkeypatch):
    """ADR 0045 round 14: an array or map value was made whole into JSON, then cut to what an item keeps (4,096
    characters an attribute, 65,536 a body): an array of two million integers (12 MB of OTLP) took the conversion
    thread, which every client shares in turn, 4.3 s for 14.9 MB of JSON; a map of 1.5 million entries 8.2 s. The values made are counted; what is kept
    is the same, its cut counted."""
    from opentelemetry.proto.common.v1.common_pb2 import ArrayValue, KeyValueList

    from ben.otlp import values

    made = []
    plain = values.plain

    def counted(value):
        made.append(1)
        return plain(value)

    monkeypatch.setattr(values, "plain", counted)
    huge = AnyValue(array_value=ArrayValue(values=[AnyValue(int_value=i) for i in range(200_000)]))
    nested = AnyValue(kvlist_value=KeyValueList(values=[KeyValue(key="k", value=huge), KeyValue(key="z", value=huge)]))
    wide = AnyValue(kvlist_value=KeyValueList(values=[KeyValue(key=f"k{i}", value=AnyValue(int_value=i))
                                                      for i in range(200_000)]))
    req = ExportLogsServiceRequest()
    rec = req.resource_logs.add().scope_logs.add().log_records.add(time_unix_nano=T0, body=huge)
    rec.attributes.append(KeyValue(key="a", value=huge))
    rec.attributes.append(KeyValue(key="m", value=nested))
    rec.attributes.append(KeyValue(key="w", value=wide))
    out = Converter().logs(ExportLogsServiceRequest.FromString(req.SerializeToString()))
    ((_, _, _, _, _, body, attrs),) = rows(out)
    assert len(made) < 50_000, f"{len(made)} values made"
    whole = "[" + ",".join(map(str, range(200_000))) + "]"
    assert body == whole[:len(body)] and len(body) >= 60_000, len(body)
    assert attrs["a"] == whole[:len(attrs["a"])] and attrs["m"].startswith('{"k":[0,1,2,') and len(attrs["a"]) > 4_000
    assert attrs["w"].startswith('{"k0":0,"k1":1,') and len(attrs["w"]) > 4_000
    assert out.counts.truncated >= 4


def test_a_metric_s_unit_is_the_body_of_its_rows():
    """ADR 0012, 2026-12-07 round 2: the unit was dropped, so a p99 in seconds and memory in bytes read as bare
    numbers; it is the body of the rows of every kind of metric (a histogram's ``.count`` keeps its buckets)."""
    conv = Converter(started_ns=T0 - 10)
    said = {}
    gauge = m.Metric(name="mem", unit="By")
    gauge.gauge.data_points.add(time_unix_nano=T0, as_double=5e8)
    total = m.Metric(name="reqs", unit="{requests}", sum=m.Sum(is_monotonic=True, aggregation_temporality=1))
    total.sum.data_points.add(time_unix_nano=T0, as_int=3)
    hist = m.Metric(name="dur", unit="s", histogram=m.Histogram(aggregation_temporality=1))
    hist.histogram.data_points.add(time_unix_nano=T0, count=2, sum=0.4, explicit_bounds=[0.1, 1], bucket_counts=[0, 2, 0])
    summ = m.Metric(name="rpc", unit="ms", summary=m.Summary())
    summ.summary.data_points.add(start_time_unix_nano=T0, time_unix_nano=T0 + 1, count=4, sum=2.0).quantile_values.add(
        quantile=0.99, value=0.9)
    for metric in (gauge, total, hist, summ):
        said.update({r[3]: r[5] for r in rows(conv.metrics(metrics_request(metric)))})
    assert said.pop("dur.count").startswith('{"bounds"') and said.pop("rpc.count") == ""
    assert said == {"mem": "By", "reqs": "{requests}", "dur.sum": "s", "dur.p50": "s", "dur.p99": "s", "rpc.sum": "ms",
                    "rpc.p99": "ms"}, said
