"""A small application instrumented with the official OpenTelemetry SDK and OTLP exporters.

Run as its own process by the tests: ``python otel_app.py PROTOCOL RUN_ID [ERRORS]`` with PROTOCOL
``grpc`` or ``http`` (protobuf). The exporters are built with no arguments: the endpoint, compression,
headers and timeout come from the standard environment variables only (``OTEL_EXPORTER_OTLP_ENDPOINT``,
``OTEL_EXPORTER_OTLP_COMPRESSION``, ...), as a user's application would have them. It sends logs (one
ERROR among them), metrics (a monotonic counter, a histogram) and spans, then flushes and exits 0 only if
every export succeeded.
"""

import logging
import sys
import time

from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Status, StatusCode

protocol, run_id = sys.argv[1], sys.argv[2]
errors = int(sys.argv[3]) if len(sys.argv) > 3 else 0
if protocol == "grpc":
    from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
else:
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

resource = Resource.create({"service.name": "checkout", "host.name": "web-1", "deployment.environment": "test"})
ok = True

logger_provider = LoggerProvider(resource=resource)
logger_provider.add_log_record_processor(SimpleLogRecordProcessor(OTLPLogExporter()))
log = logging.getLogger("shop")
log.setLevel(logging.INFO)
log.addHandler(LoggingHandler(level=logging.INFO, logger_provider=logger_provider))
log.propagate = False
for i in range(5):
    log.info("order %d placed (run %s)", i, run_id, extra={"order.id": str(i)})
log.error("payment provider down (run %s)", run_id)

reader = PeriodicExportingMetricReader(OTLPMetricExporter(), export_interval_millis=3_600_000)
meter_provider = MeterProvider(resource=resource, metric_readers=[reader])
meter = meter_provider.get_meter("shop")
requests = meter.create_counter("requests")
latency = meter.create_histogram("latency_ms")
for i in range(10):
    requests.add(1, {"route": "/pay", "run": run_id})
    latency.record(10.0 + i, {"route": "/pay", "run": run_id})
ok &= meter_provider.force_flush(10_000)

tracer_provider = TracerProvider(resource=resource)
tracer_provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter()))
tracer = tracer_provider.get_tracer("shop")
for i in range(3 + errors):
    with tracer.start_as_current_span("GET /pay") as span:
        span.set_attribute("run", run_id)
        with tracer.start_as_current_span("db.query"):
            time.sleep(0.001)
        if i >= 3:
            span.set_status(Status(StatusCode.ERROR, "boom"))

ok &= logger_provider.force_flush(10_000)
ok &= tracer_provider.force_flush(10_000)
logger_provider.shutdown()
meter_provider.shutdown()
tracer_provider.shutdown()
sys.exit(0 if ok else 1)
