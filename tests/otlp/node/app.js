// A small Node.js application instrumented with the official OpenTelemetry JS SDK (@opentelemetry/sdk-node).
//
// Run by tests/otlp/test_node_sdk.py as `node app.js RUN_ID`. The exporters are configured by the
// standard environment variables ONLY (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL,
// OTEL_EXPORTER_OTLP_COMPRESSION, OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE, OTEL_SERVICE_NAME,
// OTEL_RESOURCE_ATTRIBUTES, ...), as a user's application would be. It sends logs whose bodies are every
// AnyValue kind, spans with events, links, kinds and statuses, and every metric instrument (counter,
// up-down counter, gauge, histogram, exponential histogram); it exits 0 only if no export failed.
"use strict";

const api = require("@opentelemetry/api");
const { NodeSDK } = require("@opentelemetry/sdk-node");
const { AggregationType } = require("@opentelemetry/sdk-metrics");

const runId = process.argv[2];
const problems = [];
api.diag.setLogger({
  error: (...a) => problems.push(a.join(" ")),
  warn: (...a) => problems.push(a.join(" ")),
  info: () => {}, debug: () => {}, verbose: () => {},
}, api.DiagLogLevel.WARN);

const sdk = new NodeSDK({
  // the application's own choice of aggregation for one instrument; the exporters are env-configured
  views: [{ instrumentName: "payload_bytes", aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } }],
});
sdk.start();

async function main() {
  const logger = api.logs.getLogger("shop.node", "1.2.3");
  const bodies = [
    `order placed (run ${runId})`,                                 // string
    { run: runId, order: { id: 7, items: ["a", "b"] } },           // kvlist
    [runId, 1, true],                                              // array
    42, 2.5, true,                                                 // int, double, bool
    new Uint8Array([0, 1, 2, 255]),                                // bytes
  ];
  bodies.forEach((body, i) => logger.emit({
    severityNumber: api.SeverityNumber.INFO, severityText: "INFO", body,
    attributes: { "run": runId, "i": i, "ratio": 0.5, "ok": true, "tags": ["x", "y"] },
  }));
  logger.emit({ severityNumber: api.SeverityNumber.ERROR, severityText: "ERROR",
                body: `payment provider down (run ${runId})`, attributes: { run: runId } });

  const meter = api.metrics.getMeter("shop.node", "1.2.3");
  const attrs = { route: "/pay", run: runId };
  const requests = meter.createCounter("requests");
  const inflight = meter.createUpDownCounter("inflight");
  const latency = meter.createHistogram("latency_ms");
  const payload = meter.createHistogram("payload_bytes");
  const temperature = meter.createGauge("temperature");
  meter.createObservableGauge("queue_depth").addCallback((r) => r.observe(17, attrs));
  for (let i = 0; i < 10; i++) {
    requests.add(1, attrs);
    inflight.add(i % 2 === 0 ? 2 : -1, attrs);
    latency.record(10 + i, attrs);
    payload.record(100 * (i + 1), attrs);
  }
  temperature.record(21.5, attrs);

  const tracer = api.trace.getTracer("shop.node", "1.2.3");
  let first;
  for (let i = 0; i < 4; i++) {
    await tracer.startActiveSpan("GET /pay", { kind: api.SpanKind.SERVER, attributes: { run: runId },
                                               links: first ? [{ context: first, attributes: { why: "retry" } }] : [] },
      async (span) => {
        first = first || span.spanContext();
        const child = tracer.startSpan("db.query", { kind: api.SpanKind.CLIENT });
        child.addEvent("rows", { n: 3 });
        child.end();
        if (i === 3) {
          span.recordException(new Error("card declined"));
          span.setStatus({ code: api.SpanStatusCode.ERROR, message: "boom" });
        } else {
          span.setStatus({ code: api.SpanStatusCode.OK });
        }
        span.end();
      });
  }
  await sdk.shutdown();      // flushes every signal
  if (problems.length) {
    console.error(problems.join("\n"));
    process.exit(1);
  }
  console.log("ok");
}

main().catch((err) => { console.error(err); process.exit(1); });
