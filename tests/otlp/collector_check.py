"""A manual check (not collected by pytest): an OpenTelemetry Collector ships logs to ben unchanged.

``python tests/otlp/collector_check.py /path/to/otelcol-contrib`` (any build with the ``filelog``
receiver and the ``otlphttp`` exporter; no Collector binary comes from Debian or PyPI's official
projects, so ben's tests cannot install one). A sidecar alone with a 1 MiB WAL budget, a Collector
tailing a 5,000-line file into two ``otlphttp`` exporters with their default settings (protobuf + gzip)
and ``encoding: json``: the sidecar refuses with 429 + Retry-After while full; the spine starts; every
line must arrive exactly once per exporter. Prints what it saw; exits 1 on a mismatch.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from ben.cli.procs import Cluster, query_rows, wait_for  # noqa: E402

LINES = 5_000


def main(binary: str) -> int:
    home = Path(tempfile.mkdtemp(prefix="bt-col-", dir="/tmp"))
    c = Cluster(home, sidecar={"otlp": {"grpc_listen": "127.0.0.1:0", "http_listen": "127.0.0.1:0"},
                               "wal_max_bytes": 1 << 20, "wal_alert_reserve_bytes": 0, "wal_anomaly_reserve_bytes": 0})
    c.start_sidecar()
    collector = None
    try:
        http = int(c.status("sidecar")["otlp_http_port"])
        run = uuid.uuid4().hex[:8]
        lines = home / "app.log"
        lines.write_text("".join(f"line {i:05d} of run {run} " + "x" * 900 + "\n" for i in range(LINES)))
        config = home / "collector.yaml"
        config.write_text(f"""
receivers:
  filelog: {{include: ["{lines}"], start_at: beginning}}
exporters:
  otlphttp/proto: {{endpoint: "http://127.0.0.1:{http}"}}
  otlphttp/json: {{endpoint: "http://127.0.0.1:{http}", encoding: json}}
service:
  telemetry: {{metrics: {{level: none}}}}
  pipelines:
    logs: {{receivers: [filelog], exporters: [otlphttp/proto, otlphttp/json]}}
""")
        collector = subprocess.Popen([binary, "--config", str(config)], stdout=open(home / "collector.log", "w"),
                                     stderr=subprocess.STDOUT)
        key = "otlp_refused_total{reason=quota,signal=logs}"
        wait_for(lambda: c.status("sidecar").get(key, 0) >= 3, 60, "the Collector to be refused (WAL full)")
        print("refused while full:", c.status("sidecar")[key])
        c.start_spine()
        wait_for(lambda: c.status("sidecar").get("otlp_items_total{signal=logs}", 0) >= 2 * LINES, 300,
                 "every line from both exporters")
        c.wait_drained(120)
        got = query_rows(c.spine_addr, f"SELECT count() AS n, uniqExact(body) AS u FROM ben.events "
                                       f"WHERE position(body, '{run}') > 0")[0]
        print("stored:", got)
        return 0 if got == {"n": 2 * LINES, "u": LINES} else 1
    finally:
        if collector is not None:
            collector.terminate()
            collector.wait(30)
        c.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
