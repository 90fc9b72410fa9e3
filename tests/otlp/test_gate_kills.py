"""The OTLP/gRPC gate (ADR 0045, round 7) under kill -9 of a real sidecar (ADR 0046, round 4): what a kill
leaves of the gate's socket directory is gone at the next start, and an exporter that keeps its channel is
answered again through the new gate, each acknowledged record stored once."""

from __future__ import annotations

import os
import socket
import tempfile
import uuid
from pathlib import Path

import grpc
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2_grpc as logs_grpc

from ben.cli.procs import Cluster, query_rows, wait_for
from ben.otlp.gate import Gate
from tests.otlp.test_transports import logs_request


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gate_directory(pid: int) -> Path:
    """The directory of the gRPC server's unix socket behind the gate, found from the outside: the
    process's socket inodes in ``/proc/net/unix``."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    for line in Path("/proc/net/unix").read_text().splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 8 and parts[6] in inodes and parts[7].endswith("/grpc.sock"):
            return Path(parts[7]).parent
    raise AssertionError(f"no gate socket of process {pid}")


def test_a_killed_sidecar_leaves_no_gate_directory_behind_and_exporters_are_answered_again(home: Path) -> None:
    # a data directory too long for a socket's path: the gate's sockets go in a temporary directory,
    # which a kill -9 left behind, one per kill, before
    port = free_port()
    data = home / ("d" * 70) / "sidecar"
    c = Cluster(home, sidecar={"data_dir": str(data), "otlp": {"grpc_listen": f"127.0.0.1:{port}",
                                                                "http_listen": ""}})
    run = uuid.uuid4().hex[:8]
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")  # one exporter, one channel, through every restart
    stub = logs_grpc.LogsServiceStub(channel)
    acked = []
    try:
        c.start()
        left = []
        for k in range(3):
            before = gate_directory(c.sidecar.pid)
            assert not str(before).startswith(str(data)) and before.is_dir()
            acked += wait_for(lambda k=k: _export(stub, f"gate {run} {k}"), 60, "the exporter answered")
            c.sidecar.kill()
            left.append(before)
            c.start_sidecar()
            assert not [d for d in left if d.exists()], f"left by the kills: {left}"
        acked += wait_for(lambda: _export(stub, f"gate {run} last"), 60, "the exporter answered after a kill")
        last = gate_directory(c.sidecar.pid)
        c.wait_drained()
        rows = query_rows(c.spine_addr, f"SELECT body, count() AS c FROM ben.events WHERE body LIKE 'gate {run} %' "
                                        "GROUP BY body")
        assert {r["body"]: int(r["c"]) for r in rows} == {b: 1 for b in acked}
        c.stop()
        assert not last.exists()
    finally:
        channel.close()
        c.stop()


def _export(stub, body: str) -> list[str] | None:
    try:
        stub.Export(logs_request([body]), timeout=5)
        return [body]
    except grpc.RpcError:
        return None


def test_the_gate_removes_only_a_temporary_directory_of_its_own_that_its_record_names(tmp_path: Path) -> None:
    directory = tmp_path / ("d" * 90) / "otlp-gate"  # too long for a socket path: a temporary directory
    directory.parent.mkdir()
    record = directory.with_name("otlp-gate.path")
    victim = tmp_path / "victim"  # not under the temporary directory
    victim.mkdir()
    link = Path(tempfile.gettempdir()) / f"ben-otlp-link-{os.getpid()}"  # ours, but a symlink
    link.symlink_to(victim)
    try:
        for named in (victim, link):
            record.write_text(str(named))
            gate = Gate(per_client=1, total=1, directory=directory)
            assert victim.is_dir() and gate.directory.is_dir() and record.read_text() == str(gate.directory)
            mine = gate.directory
            gate2 = Gate(per_client=1, total=1, directory=directory)  # as after a kill -9 of the first
            assert not mine.exists() and gate2.directory.is_dir() and record.read_text() == str(gate2.directory)
            os.rmdir(gate2.directory)
    finally:
        link.unlink()
