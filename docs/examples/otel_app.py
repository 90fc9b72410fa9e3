"""An application instrumented with OpenTelemetry, unchanged, sending to ben's sidecar over OTLP.

    pip install opentelemetry-sdk opentelemetry-exporter-otlp-proto-grpc   # (ben's venv has them)
    python docs/examples/otel_app.py          # OTEL_EXPORTER_OTLP_ENDPOINT defaults to localhost:4317

Then: ben query "SELECT name, duration_ms, status FROM ben.spans ORDER BY start DESC LIMIT 5"
Each row keeps the instrumentation scope ("shop" below) as otel.scope.name (otel.scope.version and
scope.<key> when the tracer or logger has them) and the resource as resource.<key>:
      ben query "SELECT attributes.value[indexOf(attributes.key, 'otel.scope.name')] AS scope, count()
                 FROM ben.spans GROUP BY scope"
With [sidecar.otlp] auth_token_file set: OTEL_EXPORTER_OTLP_HEADERS="Authorization=Bearer%20<token>".
"""

import logging
import os
import random
import time

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

resource = Resource.create({"service.name": "otel-shop"})
tracer_provider = TracerProvider(resource=resource)
tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(insecure=True)))
trace.set_tracer_provider(tracer_provider)
logger_provider = LoggerProvider(resource=resource)
logger_provider.add_log_record_processor(BatchLogRecordProcessor(OTLPLogExporter(insecure=True)))
logging.basicConfig(level=logging.INFO, handlers=[LoggingHandler(logger_provider=logger_provider)])

tracer = trace.get_tracer("shop")
for i in range(int(os.environ.get("OTEL_APP_REQUESTS", "20"))):
    with tracer.start_as_current_span("GET /cart") as span:
        span.set_attribute("cart.items", random.randint(1, 5))
        time.sleep(random.uniform(0.005, 0.02))
        logging.getLogger("shop").info("cart %d served", i)
tracer_provider.shutdown()
logger_provider.shutdown()
