"""Run by tests/otlp/test_defaults.py inside a network namespace of its own (``unshare --net``), where
the OTLP default ports are free whatever else runs on the machine: a cluster with NO OTLP configuration,
and applications with NO OTLP endpoint configured (every SDK's default: localhost:4317 for gRPC,
localhost:4318 for HTTP). Prints one JSON line: the sidecar's ports and the records stored per app.

``python default_ports.py HOME RUN_ID NODE`` (NODE: the node binary, with tests/otlp/node installed).
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import struct
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from ben.cli.procs import Cluster, query_rows  # noqa: E402


def loopback_up() -> None:
    """A new network namespace starts with ``lo`` down: bring it up (SIOCGIFFLAGS / SIOCSIFFLAGS)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        req = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(s.fileno(), 0x8913, req))[1]
        fcntl.ioctl(s.fileno(), 0x8914, struct.pack("16sH14x", b"lo", flags | 0x1))


def main() -> None:
    home, run, node = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    loopback_up()
    # the default [sidecar.otlp] (127.0.0.1:4317 and 127.0.0.1:4318), named because the test clusters'
    # config otherwise takes free ports; this namespace has the well-known ones to itself
    from ben.core.config_sections import OtlpConfig
    defaults = OtlpConfig()
    c = Cluster(home, sidecar={"otlp": {"grpc_listen": defaults.grpc_listen, "http_listen": defaults.http_listen}})
    try:
        c.start()
        status = c.status("sidecar")
        env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
        app = ROOT / "tests" / "otlp" / "otel_app.py"
        node_dir = ROOT / "tests" / "otlp" / "node"
        apps = {
            "python-grpc": subprocess.Popen([sys.executable, str(app), "grpc", f"py-grpc-{run}"], env=env),
            "python-http": subprocess.Popen([sys.executable, str(app), "http", f"py-http-{run}"], env=env),
            "node-http": subprocess.Popen([node, "app.js", run], cwd=node_dir,
                                          env={**env, "OTEL_SERVICE_NAME": f"node-http-{run}"}),
            "node-grpc": subprocess.Popen([node, "app.js", run], cwd=node_dir, env={
                **env, "OTEL_SERVICE_NAME": f"node-grpc-{run}", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}),
        }
        codes = {name: p.wait(120) for name, p in apps.items()}
        c.wait_drained(120)
        stored = {}
        for name in ("python-grpc", "python-http"):
            stored[name] = query_rows(c.spine_addr, f"SELECT count() AS n FROM ben.events WHERE kind = 'log' AND "
                                                    f"position(body, '{name[7:]}-{run}') > 0")[0]["n"]
        for name in ("node-http", "node-grpc"):
            stored[name] = query_rows(c.spine_addr, f"SELECT count() AS n FROM ben.spans WHERE "
                                                    f"service = '{name}-{run}'")[0]["n"]
        print(json.dumps({"grpc_port": status.get("otlp_grpc_port"), "http_port": status.get("otlp_http_port"),
                          "exit_codes": codes, "stored": stored}))
    finally:
        c.stop()


if __name__ == "__main__":
    main()
