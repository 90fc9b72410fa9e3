"""A real nats-server with JetStream on loopback, started and stopped by the tests; helpers to feed
incidents into a store the way the spine stores them."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from ben.store.schema import ANOMALIES, INCIDENTS

NATS = shutil.which("nats-server") or "/usr/sbin/nats-server"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check, timeout: float, what: str, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class NatsServer:
    """nats-server -js on 127.0.0.1:<port>, its JetStream files in store_dir (kept across restarts)."""

    def __init__(self, store_dir: Path, port: int):
        self.store_dir, self.port = store_dir, port
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = subprocess.Popen([NATS, "-js", "-sd", str(self.store_dir), "-a", "127.0.0.1", "-p", str(self.port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def up() -> bool:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return True
            except OSError:
                assert self.proc.poll() is None, "nats-server exited"
                return False
        wait_for(up, 60, "nats-server to listen")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def stream_bytes(self) -> bytes:
        """Every byte of every file under the JetStream store directory."""
        return b"".join(p.read_bytes() for p in sorted(self.store_dir.rglob("*")) if p.is_file())


@pytest.fixture
def nats_server(tmp_path) -> Iterator[NatsServer]:
    if not Path(NATS).exists():
        pytest.fail("nats-server is not installed: run scripts/debian-deps.sh")
    server = NatsServer(tmp_path / "jetstream", free_port())
    server.start()
    yield server
    server.stop()


def add_incident(store, *, n: int, subsystem: str, series: str, state: str = "open", severity: str = "medium",
                 opened_ns: int | None = None, resolved_ns: int = 0, narrative: str = "", version: int | None = None,
                 observed: float = 950.0, baseline: float = 100.0) -> str:
    """One incident change (and its anomaly) as the spine stores them; the incident id."""
    opened_ns = opened_ns if opened_ns is not None else 1_780_000_000_000_000_000 + n * 60 * 10**9
    inc_id, an_id = f"inc-{n:010d}", f"an-{n:012d}"
    store.insert_rows(ANOMALIES, pa.table({
        "id": [an_id], "series": [series], "subsystem": [subsystem], "name": ["latency_ms"],
        "start_ts": pa.array([opened_ns], pa.int64()), "end_ts": pa.array([resolved_ns], pa.int64()),
        "baseline": [baseline], "observed": [observed], "score": [0.95], "detectors": [["ewma", "robust_z"]],
        "evidence": [json.dumps({"ewma": {"z": 9.0}})], "sentence": [narrative], "incident_id": [inc_id],
        "version": pa.array([version or time.time_ns()], pa.int64())}))
    store.insert_rows(INCIDENTS, pa.table({
        "id": [inc_id], "subsystem": [subsystem], "state": [state], "severity": [severity],
        "opened_ts": pa.array([opened_ns], pa.int64()), "updated_ts": pa.array([opened_ns], pa.int64()),
        "resolved_ts": pa.array([resolved_ns], pa.int64()), "narrative": [narrative], "anomaly_ids": [[an_id]],
        "version": pa.array([version or time.time_ns()], pa.int64())}))
    return inc_id


def federated_rows(store) -> list[dict]:
    """Every physical row of ben.federated_incidents (no FINAL: a duplicate insert shows)."""
    return json.loads(store.query_json("SELECT * FROM ben.federated_incidents ORDER BY summary_id"))["data"]
