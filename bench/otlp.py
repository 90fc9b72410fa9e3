"""OTLP ingest benchmark: log records and metric points/s through the sidecar's OTLP receiver to the store.

    ben bench otlp [--records N] [--runs R] [--streams S] [--json]

Measured in one run, on one cluster (spine + sidecar as separate processes, chDB), medians of R
runs each:
- events_per_s: a load generator (its own process) sends pre-encoded OTLP/gRPC export requests
  (4 of 5 logs with 500 records each, 1 of 5 metrics with 500 gauge points) on S concurrent
  streams; timed from the first request sent to the last row stored (rows counted by the spine).
- baseline_events_per_s: the native path, ben's SDK into the same sidecar (``bench/ingest.py``'s
  load generator), the same number of events, timed the same way.
- ratio: events_per_s / baseline_events_per_s.
"""

from __future__ import annotations

import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

PER_REQUEST = 500
T0 = 1_700_000_000_000_000_000


def _say(progress: bool, msg: str) -> None:
    if progress:
        print(msg, file=sys.stderr, flush=True)


def requests(records: int, run: int = 0) -> list[tuple[str, bytes]]:
    """Pre-encoded export requests: (method path, bytes), 4 logs requests for each metrics one. Each run's
    are its own (timestamps from ``T0 + run * records``): the sidecar answers a request it stored lately
    as a resend, without storing it again (ben.otlp.dedup)."""
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

    def kv(k, v):
        return KeyValue(key=k, value=AnyValue(string_value=v))

    out, sent, n = [], 0, 0
    t0 = T0 + run * records
    while sent < records:
        k = min(PER_REQUEST, records - sent)
        if n % 5 == 4:
            req = ExportMetricsServiceRequest()
            rm = req.resource_metrics.add()
            rm.resource.attributes.extend([kv("service.name", "bench"), kv("host.name", "h1")])
            metric = rm.scope_metrics.add().metrics.add(name="queue_depth")
            for i in range(k):
                metric.gauge.data_points.add(time_unix_nano=t0 + sent + i, as_double=float(i % 97),
                                             attributes=[kv("queue", f"q{i % 16}")])
            out.append(("/opentelemetry.proto.collector.metrics.v1.MetricsService/Export", req.SerializeToString()))
        else:
            req = ExportLogsServiceRequest()
            rl = req.resource_logs.add()
            rl.resource.attributes.extend([kv("service.name", "bench"), kv("host.name", "h1")])
            records_ = rl.scope_logs.add().log_records
            for i in range(k):
                records_.add(time_unix_nano=t0 + sent + i, severity_number=9,
                             body=AnyValue(string_value=f"GET /api/items/{(sent + i) % 1000} 200 in {i % 50} ms"),
                             attributes=[kv("http.route", f"/api/r{i % 8}"), kv("zone", "a")])
            out.append(("/opentelemetry.proto.collector.logs.v1.LogsService/Export", req.SerializeToString()))
        sent += k
        n += 1
    return out


def load(target: str, records: int, streams: int, run: int = 0) -> None:
    """Load generator (its own process): send every request of ``run``, `streams` at a time; retry refusals."""
    import grpc

    reqs = requests(records, run)
    channels = [grpc.insecure_channel(target) for _ in range(streams)]
    calls = {}

    def send(i: int) -> None:
        path, body = reqs[i]
        channel = channels[i % streams]
        call = calls.setdefault((i % streams, path), channel.unary_unary(path))
        while True:
            try:
                call(body, timeout=60)
                return
            except grpc.RpcError as exc:
                if exc.code() not in (grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.UNAVAILABLE):
                    raise
                time.sleep(0.2)

    t0 = time.time()
    started = time.perf_counter()
    with ThreadPoolExecutor(streams) as pool:
        list(pool.map(send, range(len(reqs))))
    print(json.dumps({"t0": t0, "send_s": round(time.perf_counter() - started, 3), "requests": len(reqs)}))
    for channel in channels:
        channel.close()


def _timed(cluster, args: list[str], events: int, stored_before: float) -> float:
    from ben.cli.procs import stop_with_parent_env, wait_for

    gen = subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=600,
                         env={**os.environ, **stop_with_parent_env(signal.SIGTERM)})  # gone with the bench
    if gen.returncode != 0:
        raise RuntimeError(f"load generator failed: {gen.stderr[-2000:]}")
    wait_for(lambda: cluster.status("spine").get("rows_stored_total", 0) >= stored_before + events, 600,
             f"{events} events to be stored", interval=0.01)
    return events / (time.time() - json.loads(gen.stdout.strip().splitlines()[-1])["t0"])


def run(records: int = 200_000, runs: int = 3, streams: int = 4, progress: bool = True) -> dict:
    from ben.cli.procs import Cluster

    ingest = str(Path(__file__).with_name("ingest.py"))
    _say(progress, f"ben bench otlp: {runs} runs, {records:,} OTLP items ({PER_REQUEST} per request, "
                   f"{streams} streams) against the native SDK path with as many events")
    otlp, native = [], []
    with tempfile.TemporaryDirectory(prefix="ben-bench-otlp-") as tmp:
        cluster = Cluster(Path(tmp), sidecar={"otlp": {"grpc_listen": "127.0.0.1:0", "http_listen": ""}},
                          stop_with_parent=True)
        try:
            cluster.start()
            port = int(cluster.status("sidecar")["otlp_grpc_port"])
            stored = 0.0
            for r in range(runs):
                otlp.append(_timed(cluster, [__file__, "load", f"127.0.0.1:{port}", str(records), str(streams),
                                             str(r)],
                                   records, stored))
                stored += records
                native.append(_timed(cluster, [ingest, "load", cluster.sidecar_addr, str(records)], records, stored))
                stored += records
                _say(progress, f"  run {r + 1}/{runs}: OTLP {otlp[-1]:,.0f} events/s, native SDK "
                               f"{native[-1]:,.0f} events/s")
            figures = cluster.status("sidecar")
        finally:
            cluster.stop()
    events_per_s, baseline = statistics.median(otlp), statistics.median(native)
    return {
        "events_per_s": events_per_s,
        "baseline_events_per_s": baseline,
        "ratio": events_per_s / baseline,
        "records_per_run": records,
        "runs": runs,
        "streams": streams,
        "otlp_refused": sum(v for k, v in figures.items() if k.startswith("otlp_refused_total{")),
        "otlp_duplicates": sum(v for k, v in figures.items() if k.startswith("otlp_duplicate_requests_total{")),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
    }


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "load":
        from ben.cli.parent import follow_parent

        follow_parent()  # gone with the bench that started it, kill -9 too
        load(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    else:
        print(json.dumps(run()))
