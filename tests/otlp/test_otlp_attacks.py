"""The attack matrix (ADR 0045, round 4) against the sidecar's OTLP ports: what another local account or
application can do to the sidecar through them. Real spine and sidecar processes, real sockets; the
flooding account is ``nobody`` (``setpriv``). ``docs/security.md`` maps each cell to its test.
"""

from __future__ import annotations

import os
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from ben.cli.procs import Cluster, wait_for
from tests.conftest import rig_in_tmp

NOBODY = 65534
LOGS_EXPORT = "/opentelemetry.proto.collector.logs.v1.LogsService/Export"


class Rig:
    """A spine and a sidecar with both OTLP listeners on loopback TCP (any free ports)."""

    def __init__(self, home: Path):
        os.chmod(home, 0o755)
        self.cluster = Cluster(home, sidecar={"otlp": {"grpc_listen": "127.0.0.1:0", "http_listen": "127.0.0.1:0"}})
        self.cluster.start()
        side = self.cluster.status("sidecar")
        self.otlp_grpc, self.otlp_http = int(side["otlp_grpc_port"]), int(side["otlp_http_port"])


@pytest.fixture(scope="module")
def rig() -> Iterator[Rig]:
    with rig_in_tmp("bo-", Rig) as r:
        yield r


#: Another account opens 3,000 connections (a few thousand, at once) and holds them until told to stop.
FLOOD = """
import socket, sys
held = []
for i in range(3000):
    s = socket.socket()
    s.setblocking(False)
    s.connect_ex(('127.0.0.1', PORT))
    held.append(s)
print('holding', flush=True)
sys.stdin.read()
"""


def _descriptors(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def _http_export(port: int) -> int:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/logs", data=b"", method="POST",
                                 headers={"Content-Type": "application/x-protobuf"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:  # closed as the newest past the bound while the flood is accepted: try again
        return 0


@pytest.mark.parametrize("which", ["grpc", "http"])
def test_another_user_cannot_take_the_sidecar_s_descriptors_through_the_otlp_ports(rig: Rig, which: str) -> None:
    """3,000 idle connections from another account: the sidecar held one descriptor each (measured: 3,245
    on OTLP/gRPC, 818 on OTLP/HTTP), toward its RLIMIT_NOFILE; its WAL and gRPC sockets share that budget.
    Now each listener holds at most ``max_connections`` (256; OTLP/HTTP briefly up to two accept batches of
    128 more while a burst is being closed), and a connected exporter keeps exporting."""
    pid, port = rig.cluster.sidecar.pid, rig.otlp_grpc if which == "grpc" else rig.otlp_http
    wait_for(lambda: _descriptors(pid) < 200, 30, "the sidecar to close an earlier flood's connections")
    with grpc.insecure_channel(f"127.0.0.1:{rig.otlp_grpc}") as channel:
        export = channel.unary_unary(LOGS_EXPORT)
        export(b"", timeout=20)  # an exporter connected before the flood
        attacker = subprocess.Popen(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                                     "/usr/bin/python3", "-c", FLOOD.replace("PORT", str(port))],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            assert attacker.stdout.readline().strip() == "holding"
            deadline, most = time.monotonic() + 3, 0
            while time.monotonic() < deadline:  # while they are held (the handshake/header deadline is 10 s)
                most = max(most, _descriptors(pid))
                time.sleep(0.05)
            assert most < 600, f"the sidecar holds {most} descriptors"
            export(b"", timeout=20)  # the connected exporter is still served, on OTLP/gRPC ...
            if which == "http":  # ... and a new one on OTLP/HTTP (the oldest idle connection makes room)
                assert wait_for(lambda: _http_export(rig.otlp_http), 20, "OTLP/HTTP to answer beside the flood") == 200
            assert rig.cluster.sidecar.alive()
        finally:
            attacker.communicate("", timeout=30)
    # once the flood is gone, a new exporter connects (the quota counts only connections held)
    with grpc.insecure_channel(f"127.0.0.1:{rig.otlp_grpc}") as fresh:
        wait_for(lambda: _grpc_ok(fresh), 30, "a new OTLP/gRPC exporter to be served after the flood")


def _grpc_ok(channel: grpc.Channel) -> bool:
    try:
        channel.unary_unary(LOGS_EXPORT)(b"", timeout=5)
        return True
    except grpc.RpcError:
        return False
