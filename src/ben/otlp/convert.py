"""OTLP export requests -> ben's columnar batches, one per (source, lane) (ADR 0036).

The mapping (``docs/queries.md`` shows how to query each):

- **Resource**: ``service.name`` -> ``subsystem`` (``unknown_service`` when unset), ``host.name`` ->
  ``host``, ``service.instance.id`` -> ``instance``; its other attributes are kept on log and span
  rows as ``resource.<key>``. Metric points keep only their own attributes, so a series' identity
  (what detectors follow) does not change when an SDK version or a process id does.
- **Logs** -> ``kind = 'log'``: the name is the severity (``severity_text`` lower-cased, else the
  level of ``severity_number``, else ``log``), the body the record's body (strings as they are,
  numbers and booleans as JSON writes them, bytes as base64, arrays and maps as JSON), attributes
  the record's, plus ``trace_id``/``span_id`` (hex), ``severity_number``, the scope's
  (``otel.scope.name``, ``otel.scope.version``, ``scope.<key>``) and the resource's. Records with
  ``severity_number`` >= the configured alert severity (default 17, ERROR; a number outside 1..24 is
  read as unspecified, kept as sent and told in ``partial_success``) or an attribute
  ``ben.alert = true`` travel in the alert lane, within their subsystem's share (``alert_share``: past
  it, in the anomaly lane, marked ``ben.demoted = alert``).
- **Metrics**: gauges and non-monotonic sums -> ``kind = 'metric'``; monotonic sums -> ``kind =
  'counter'`` holding increments (cumulative totals turned into increments, ``cumulative.py``);
  histograms and exponential histograms -> ``<name>.count`` and ``<name>.sum`` counters (the bucket
  bounds and counts as JSON in the ``.count`` row's body) and ``<name>.p50``/``<name>.p99`` gauges
  of the interval's observations; summaries -> ``.count``/``.sum`` counters and one gauge per
  quantile (``<name>.p<q>``). A metric's ``unit`` (UCUM: ``s``, ``By``, ``{requests}``) is the body of its
  rows (of ``.sum`` and the quantiles; ``.count`` counts observations): the spine's detection says an
  anomaly's numbers in it (``ben.spine.detection``, ADR 0012); the series' identity does not change with it.
- **Spans** -> rows of ``kind = 'event'`` with ``otel.signal = span`` (the ``ben.spans`` view reads
  them): name, start (``ts``), duration in ms (``value``), status message (``body``) and attributes
  ``otel.trace_id``, ``otel.span_id``, ``otel.parent_span_id``, ``otel.span_kind``,
  ``otel.status``, ``otel.trace_state`` (when set), ``otel.events`` and ``otel.links`` (JSON, with
  their attributes), the span's, the scope's and the resource's; plus two series per (service, span
  name) for the detectors: ``span.duration_ms`` (gauge) and ``span.errors`` (counter, 1 per span whose
  status is ERROR, 0 otherwise).

Items that cannot be stored (no timestamp that fits, a NaN or infinite value, a histogram whose
bucket counts do not match its bounds) are left out, counted and described: the receiver reports
them as ``partial_success``. Stored items are cut to ``ben.sdk.limits`` (ADR 0033) like the SDK's,
ben's own attributes first so that a span with a hundred attributes keeps its ids; cuts are told
in ``partial_success.error_message`` with nothing rejected (the spec's warning). ``otel.events`` and
``otel.links`` stay valid JSON within the attribute value limit (``values.bounded_json``).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field

from opentelemetry.proto.collector.logs.v1 import logs_service_pb2 as logs_svc
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2 as metrics_svc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2 as trace_svc
from opentelemetry.proto.metrics.v1 import metrics_pb2

from ben.core.lanes import ALERT, ANOMALY, ROUTINE
from ben.otlp import quantiles
from ben.otlp.alert_share import AlertShare
from ben.otlp.cumulative import Cumulative
from ben.otlp.values import (HOST_NAME, INSTANCE_ID, SERVICE_NAME, UNKNOWN_SERVICE, attributes, bounded_json,
                             hex_id, id_problem, text)
from ben.sdk import limits
from ben.sdk.batch import _CONTROL, BatchBuilder
from ben.sdk.limits import Counts
from ben.v1 import telemetry_pb2 as pb

#: Distinct (service.name, host.name, service.instance.id) in one request: each is a batch of its own down
#: the pipeline (about 0.6 ms each on a loaded 2-core machine); the items of further ones are left out
#: (partial_success), so that a small request of 100,000 one-record resources cannot hold the receiver
#: for a minute.
MAX_SOURCES_PER_REQUEST = 4096
#: Event times must fit ben's signed 64-bit nanoseconds.
MAX_TS_NS = (1 << 63) - 1
#: OTLP's severity numbers are 1 (TRACE) to 24 (FATAL4), 0 unspecified; a number outside is told, not followed.
MAX_SEVERITY = 24
_LEVELS = ((21, "fatal"), (17, "error"), (13, "warn"), (9, "info"), (5, "debug"), (1, "trace"))
_SPAN_KINDS = {0: "unspecified", 1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}
_STATUS = {0: "unset", 1: "ok", 2: "error"}
_CUMULATIVE = metrics_pb2.AGGREGATION_TEMPORALITY_CUMULATIVE
_NO_VALUE = metrics_pb2.DATA_POINT_FLAGS_NO_RECORDED_VALUE_MASK


@dataclass
class Part:
    """Events of one resource for one lane, ready to be numbered and sent."""

    lane: int
    source: pb.Source
    events: BatchBuilder
    #: what its cumulative points changed in the converter's state (``Cumulative.undo`` if not stored)
    undo: list = field(default_factory=list)

    def build(self, sender_id: str, first_seq: int) -> pb.Batch:
        batch = self.events.build(self.source, sender_id)
        batch.first_event_seq = first_seq
        return batch


@dataclass
class Converted:
    """What one export request became: parts to store, and the items left out (with why)."""

    parts: list[Part] = field(default_factory=list)
    items: int = 0
    rejected: int = 0
    reasons: list[str] = field(default_factory=list)
    counts: Counts = field(default_factory=Counts)   # strings and attribute lists cut to ben's limits
    builders: dict = field(default_factory=dict)      # (source key, lane) -> Part, shared by resources
    sources: set = field(default_factory=set)         # the distinct (service, host, instance) of the request

    @property
    def events(self) -> int:
        return sum(len(p.events) for p in self.parts)

    def reject(self, n: int, reason: str) -> None:
        self.rejected += n
        if reason not in self.reasons and len(self.reasons) < 5:
            self.reasons.append(reason)

    @property
    def message(self) -> str:
        """Why items were left out, and whether stored ones were cut (a partial_success message)."""
        reasons = list(self.reasons)
        if self.counts.truncated:
            reasons.append(f"{self.counts.truncated} strings or attribute lists were cut to ben's limits (name "
                           f"{limits.MAX_NAME_CHARS}, body {limits.MAX_BODY_CHARS}, attribute key "
                           f"{limits.MAX_ATTR_KEY_CHARS} and value {limits.MAX_ATTR_VALUE_CHARS} characters, "
                           f"{limits.MAX_ATTRS} attributes an item)")
        return "; ".join(reasons)


def _source_text(text: str, counts: Counts) -> str:
    """A resource's service.name, host.name or service.instance.id as the native SDK takes a subsystem: each
    control character (newline, NUL, escape) replaced with U+FFFD, at most ``MAX_NAME_CHARS``, each change
    counted. They name every row, incident and command target; a newline in one broke every line showing it."""
    if not text.isprintable() and _CONTROL.search(text):
        text = _CONTROL.sub("\ufffd", text)
        counts.replaced_strings += 1
    if len(text) > limits.MAX_NAME_CHARS:
        text = text[:limits.MAX_NAME_CHARS]
        counts.truncated += 1
    return text


class _Resource:
    """One resource of a request: its source, the attributes it lends to rows, and the batches (by lane)
    of its source, which the request's other resources with the same source share (a Collector batches
    many resources of one service into a request: one batch each would cost one WAL record each)."""

    def __init__(self, out: Converted, resource, max_sources: int):
        attrs = attributes(resource.attributes, always=(SERVICE_NAME, HOST_NAME, INSTANCE_ID))
        src = [_source_text(attrs.pop(k, ""), out.counts) for k in (SERVICE_NAME, HOST_NAME, INSTANCE_ID)]
        self.source = pb.Source(subsystem=src[0] or UNKNOWN_SERVICE, host=src[1], instance=src[2])
        self.attrs = {f"resource.{k}": v for k, v in attrs.items()}
        self.key = (self.source.subsystem, self.source.host, self.source.instance)
        self._out = out
        #: True when the request already has max_sources other sources: this one's items are left out.
        self.over = self.key not in out.sources and len(out.sources) >= max_sources
        if not self.over:
            out.sources.add(self.key)

    def part(self, lane: int) -> Part:
        """The part of the request holding this resource's source's events for ``lane``."""
        part = self._out.builders.get((self.key, lane))
        if part is None:
            builder = BatchBuilder(1, unprintable_names="replace")  # what an exporter sent is kept
            part = self._out.builders[(self.key, lane)] = Part(lane, self.source, builder)
            self._out.parts.append(part)
        return part

    def add(self, lane: int, kind: int, name: str, value: float, body: str, attrs: dict, ts: int) -> None:
        self.part(lane).events.add(kind, name, value, body, attrs, ts, counts=self._out.counts)


def _ts(*candidates: int) -> int:
    for ts in candidates:
        if 0 < ts <= MAX_TS_NS:
            return int(ts)
    return 0


class Converter:
    """Converts export requests; holds the cumulative state of metric streams between requests."""

    def __init__(self, alert_severity_number: int = 17, span_series: bool = True,
                 started_ns: int | None = None, max_streams: int = 200_000,
                 max_sources: int = MAX_SOURCES_PER_REQUEST, alert_share: AlertShare | None = None):
        self.alert_severity_number = alert_severity_number
        self.alert_share = alert_share
        self.span_series = span_series
        self.max_sources = max_sources
        self.cumulative = Cumulative(time.time_ns() if started_ns is None else started_ns, max_streams)

    # -- logs ---------------------------------------------------------------------------------
    def logs(self, request: logs_svc.ExportLogsServiceRequest, client: str = "") -> Converted:
        out = Converted()
        now = time.time_ns()
        records = _walk(out, request.resource_logs, "scope_logs", "log_records", self.max_sources)
        for res, scope, rec in records:
            ts = _ts(rec.time_unix_nano, rec.observed_time_unix_nano, now)
            own = attributes(rec.attributes)
            severity = rec.severity_number
            if not 0 <= severity <= MAX_SEVERITY:  # the proto takes any int32; 99 was "fatal", in the alert lane
                out.reject(0, f"a log record's severity_number {severity} is outside 1..{MAX_SEVERITY}: its level "
                              "and lane are those of an unspecified severity (the number is kept as sent)")
                severity = 0
            alert = (self.alert_severity_number and severity >= self.alert_severity_number) \
                or own.get("ben.alert") == "true"
            # ben's own keys first: past MAX_ATTRS (64) the builder cuts the last ones.
            attrs = {}
            for key, raw in (("trace_id", rec.trace_id), ("span_id", rec.span_id)):
                why = id_problem(key, raw)
                if why:  # the record is kept, without the id (the partial_success says so)
                    out.reject(0, f"a log record's {why}: stored without it")
                elif hex_id(raw):
                    attrs[key] = hex_id(raw)
            if rec.severity_number:
                attrs["severity_number"] = str(rec.severity_number)
            if rec.event_name:
                attrs["event_name"] = rec.event_name
            _merge(attrs, own)
            attrs.update(scope)
            attrs.update(res.attrs)
            lane = ALERT if alert else ROUTINE
            if alert and self.alert_share is not None and not self.alert_share.take(res.source.subsystem, client):
                lane, attrs["ben.demoted"] = ANOMALY, "alert"  # over its subsystem's share (alert_share)
            res.add(lane, pb.KIND_LOG, _level(rec, severity), 1.0, text(rec.body), attrs, ts)
        return out

    # -- metrics ------------------------------------------------------------------------------
    def metrics(self, request: metrics_svc.ExportMetricsServiceRequest, client: str = "") -> Converted:
        out = Converted()
        for rm in request.resource_metrics:
            res = _Resource(out, rm.resource, self.max_sources)
            if res.over:
                _over(out, sum(_points(m) for sm in rm.scope_metrics for m in sm.metrics), self.max_sources)
                continue
            for sm in rm.scope_metrics:
                for metric in sm.metrics:
                    which = metric.WhichOneof("data")
                    if not metric.name:
                        n = _points(metric)
                        out.items += n
                        out.reject(n, "a metric has no name")
                        continue
                    if which == "gauge":
                        self._numbers(out, res, metric.name, metric.gauge.data_points, pb.KIND_METRIC, None,
                                      metric.unit)
                    elif which == "sum":
                        s = metric.sum
                        kind = pb.KIND_COUNTER if s.is_monotonic else pb.KIND_METRIC
                        self._numbers(out, res, metric.name, s.data_points, kind,
                                      s.aggregation_temporality if s.is_monotonic else None, metric.unit)
                    elif which == "histogram":
                        self._histograms(out, res, metric.name, metric.histogram, False, metric.unit)
                    elif which == "exponential_histogram":
                        self._histograms(out, res, metric.name, metric.exponential_histogram, True, metric.unit)
                    elif which == "summary":
                        self._summaries(out, res, metric.name, metric.summary.data_points, metric.unit)
        return out

    def _numbers(self, out, res, name, points, kind, temporality, unit: str) -> None:
        for p in points:
            out.items += 1
            if p.flags & _NO_VALUE:
                continue
            which = p.WhichOneof("value")
            if which is None:  # "invalid" (metrics.proto): it was stored as 0, and a cumulative one as a reset
                out.reject(1, f"metric {name!r}: a data point has no value (as_int or as_double)")
                continue
            value = float(p.as_int) if which == "as_int" else p.as_double
            ts = _ts(p.time_unix_nano)
            if not ts:
                out.reject(1, f"metric {name!r}: a data point has no time_unix_nano")
                continue
            if not math.isfinite(value):
                out.reject(1, f"metric {name!r}: a data point's value is {value}")
                continue
            attrs = attributes(p.attributes)
            if temporality == _CUMULATIVE:
                key = (res.key, name, tuple(sorted(attrs.items())))
                value = float(self.cumulative.increment(key, p.start_time_unix_nano, [value],
                                                         journal=res.part(ROUTINE).undo)[0])
            res.add(ROUTINE, kind, name, value, unit, attrs, ts)

    def _histograms(self, out, res, name, data, exponential: bool, unit: str) -> None:
        cumulative = data.aggregation_temporality == _CUMULATIVE
        for p in data.data_points:
            out.items += 1
            if p.flags & _NO_VALUE:
                continue
            ts = _ts(p.time_unix_nano)
            if not ts:
                out.reject(1, f"histogram {name!r}: a data point has no time_unix_nano")
                continue
            attrs = attributes(p.attributes)
            lo = p.min if p.HasField("min") else None
            hi = p.max if p.HasField("max") else None
            try:
                if exponential:
                    intervals = quantiles.exponential(p.scale, p.zero_count, p.positive, p.negative,
                                                      p.zero_threshold)
                else:
                    intervals = quantiles.explicit(p.explicit_bounds, p.bucket_counts, lo, hi)
            except (ValueError, OverflowError) as exc:
                out.reject(1, f"histogram {name!r}: {exc}")
                continue
            counts = [c for _, _, c in intervals]
            total_sum = p.sum if p.HasField("sum") else math.nan
            totals = [float(p.count), total_sum if math.isfinite(total_sum) else 0.0, *counts]
            if cumulative:
                key = (res.key, name, tuple(sorted(attrs.items())), "histogram")
                totals = list(self.cumulative.increment(key, p.start_time_unix_nano, totals,
                                                        journal=res.part(ROUTINE).undo))
            delta = [(lo_, hi_, c) for (lo_, hi_, _), c in zip(intervals, totals[2:])]
            buckets = json.dumps({"bounds": [b if math.isfinite(b) else str(b) for _, b, _ in intervals[:-1]],
                                  "counts": [int(c) for c in counts],
                                  "temporality": "cumulative" if cumulative else "delta"}, allow_nan=False)
            res.add(ROUTINE, pb.KIND_COUNTER, f"{name}.count", totals[0], buckets, attrs, ts)
            if math.isfinite(total_sum):
                res.add(ROUTINE, pb.KIND_COUNTER, f"{name}.sum", totals[1], unit, attrs, ts)
            for q in quantiles.QUANTILES:
                value = quantiles.quantile(delta, q)
                if math.isfinite(value):
                    res.add(ROUTINE, pb.KIND_METRIC, f"{name}.p{_pct(q)}", value, unit, attrs, ts)

    def _summaries(self, out, res, name, points, unit: str) -> None:
        for p in points:
            out.items += 1
            if p.flags & _NO_VALUE:  # a staleness marker (count 0): it was stored as a reset of the totals
                continue
            ts = _ts(p.time_unix_nano)
            if not ts:
                out.reject(1, f"summary {name!r}: a data point has no time_unix_nano")
                continue
            attrs = attributes(p.attributes)
            key = (res.key, name, tuple(sorted(attrs.items())), "summary")
            count, total = self.cumulative.increment(key, p.start_time_unix_nano,
                                                     [float(p.count), p.sum if math.isfinite(p.sum) else 0.0],
                                                     journal=res.part(ROUTINE).undo)
            res.add(ROUTINE, pb.KIND_COUNTER, f"{name}.count", float(count), "", attrs, ts)
            if math.isfinite(p.sum):  # (a NaN sum was stored as an increment of 0; histograms leave it out too)
                res.add(ROUTINE, pb.KIND_COUNTER, f"{name}.sum", float(total), unit, attrs, ts)
            for qv in p.quantile_values:
                if math.isfinite(qv.value):
                    res.add(ROUTINE, pb.KIND_METRIC, f"{name}.p{_pct(qv.quantile)}", qv.value, unit, attrs, ts)

    # -- traces -------------------------------------------------------------------------------
    def traces(self, request: trace_svc.ExportTraceServiceRequest, client: str = "") -> Converted:
        out = Converted()
        for res, scope, span in _walk(out, request.resource_spans, "scope_spans", "spans", self.max_sources):
            start, end = _ts(span.start_time_unix_nano), _ts(span.end_time_unix_nano)
            if not start or not span.name or not hex_id(span.trace_id) or not hex_id(span.span_id):
                out.reject(1, "a span lacks a name, trace_id, span_id or start_time_unix_nano")
                continue
            why = next(filter(None, (id_problem(f, getattr(span, f)) for f in ("trace_id", "span_id",
                                                                                  "parent_span_id"))), "")
            if why:
                out.reject(1, f"a span's {why}")
                continue
            duration_ms = max(0, (end or start) - start) / 1e6
            status = _STATUS.get(span.status.code, str(span.status.code))
            # ben's own keys first (what ben.spans reads): past MAX_ATTRS the builder cuts the last ones.
            attrs = {"otel.signal": "span", "otel.trace_id": hex_id(span.trace_id),
                     "otel.span_id": hex_id(span.span_id), "otel.parent_span_id": hex_id(span.parent_span_id),
                     "otel.span_kind": _SPAN_KINDS.get(span.kind, str(span.kind)), "otel.status": status}
            if span.trace_state:  # W3C tracestate, as links keep theirs
                attrs["otel.trace_state"] = span.trace_state
            if span.events:
                attrs["otel.events"] = bounded_json(span.events, out.counts, make=_event)
            if span.links:
                attrs["otel.links"] = bounded_json(span.links, out.counts, make=_link)
            _merge(attrs, attributes(span.attributes))
            attrs.update(scope)
            attrs.update(res.attrs)
            res.add(ROUTINE, pb.KIND_EVENT, span.name, duration_ms, span.status.message, attrs, start)
            if self.span_series:
                series = {"span.name": span.name}
                res.add(ROUTINE, pb.KIND_METRIC, "span.duration_ms", duration_ms, "", series, end or start)
                res.add(ROUTINE, pb.KIND_COUNTER, "span.errors", 1.0 if status == "error" else 0.0, "",
                        series, end or start)
        return out


def _scope(scope) -> dict[str, str]:
    """The attributes a log or span row gets from its instrumentation scope: ``otel.scope.name``,
    ``otel.scope.version`` and the scope's own attributes as ``scope.<key>``."""
    attrs = attributes(scope.attributes, "scope.")
    if scope.name:
        attrs["otel.scope.name"] = scope.name
    if scope.version:
        attrs["otel.scope.version"] = scope.version
    return attrs


def _points(metric) -> int:
    which = metric.WhichOneof("data")
    return len(getattr(metric, which).data_points) if which else 0


def _over(out: Converted, n: int, max_sources: int) -> None:
    out.items += n
    out.reject(n, f"more than {max_sources} distinct (service.name, host.name, service.instance.id) in one "
                  "request: send them in several")


def _walk(out: Converted, resources, scopes: str, items: str, max_sources: int):
    """Every item of a logs or traces request, with its resource and scope attributes (counted in ``out``)."""
    for r in resources:
        res = _Resource(out, r.resource, max_sources)
        if res.over:
            _over(out, sum(len(getattr(s, items)) for s in getattr(r, scopes)), max_sources)
            continue
        for s in getattr(r, scopes):
            scope = _scope(s.scope)
            for item in getattr(s, items):
                out.items += 1
                yield res, scope, item


def _merge(attrs: dict, own: dict) -> None:
    """The item's own attributes after ben's keys (which they do not replace)."""
    for key, value in own.items():
        attrs.setdefault(key, value)


def _event(event) -> dict:
    return {"name": event.name, "ts": event.time_unix_nano, "attributes": attributes(event.attributes)}


def _link(link) -> dict:
    out = {"trace_id": hex_id(link.trace_id), "span_id": hex_id(link.span_id)}
    if link.attributes:
        out["attributes"] = attributes(link.attributes)
    if link.trace_state:
        out["trace_state"] = link.trace_state
    return out


def _level(rec, severity: int) -> str:
    if rec.severity_text:
        return rec.severity_text.strip().lower() or "log"
    for floor, name in _LEVELS:
        if severity >= floor:
            return name
    return "log"


def _pct(q: float) -> str:
    """0.5 -> "50", 0.99 -> "99", 0.999 -> "99.9"."""
    return f"{q * 100:.10g}"
