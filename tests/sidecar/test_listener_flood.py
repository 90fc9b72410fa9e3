"""The attack matrix (ADR 0045, round 12) against a sidecar's own listener: another local account opens a few
thousand idle connections to a plain loopback ``listen`` (open to every account for telemetry, round 10). Real
spine and sidecar processes, real sockets; ``docs/security.md`` maps the cell to this test."""

from __future__ import annotations

import os
import socket

from ben.cli.procs import Cluster, count_stored, wait_for
from ben.sdk import Client
from ben.sidecar import listen
from tests.helpers import Flood, descriptors

CAP = 64  # a bound well under the flood's 3,000 (default 4,096)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_connection_flood_cannot_take_the_sidecar_s_descriptors(home) -> None:
    """3,000 idle connections of ``nobody`` to the sidecar's TCP ``listen``: on the code before the sidecar had no
    connection quota and held one descriptor each (toward RLIMIT_NOFILE, shared with its WAL segments, RocksDB
    and the OTLP listeners; one that finished the HTTP/2 handshake for ever: no idle deadline). Now it holds at most
    ``[sidecar] max_connections`` (three descriptors each behind the accepting gate of round 17), and an
    application connected before the flood keeps sending."""
    os.chmod(home, 0o755)
    port = _free_port()
    cluster = Cluster(home, sidecar={"listen": f"127.0.0.1:{port}", "insecure": True, "max_connections": CAP})
    cluster.sidecar_addr = f"127.0.0.1:{port}"
    client = None
    try:
        cluster.start()
        client = Client("flooded", sidecar=cluster.sidecar_addr, flush_interval_ms=20)
        client.gauge("before", 1.0)
        assert client.flush(10)  # its connection is up
        pid = cluster.sidecar.pid
        baseline = descriptors(pid)
        with Flood(port) as flood:
            most = flood.peak_descriptors(pid)  # while they are held (the handshake deadline is 10 s)
            for i in range(100):  # the connected application sends while the flood is held
                client.gauge("during", float(i))
            assert client.flush(10)
            # behind the accepting gate (round 17) a connection costs three descriptors, and a burst accepted at
            # once, up to a backlog a turn of the loop, is held until the next turn closes what it refused
            bound = baseline + listen.DESCRIPTORS_EACH * CAP + 2 * listen.BACKLOG + 40
            assert most < bound, f"the sidecar holds {most} descriptors (baseline {baseline})"
            assert cluster.sidecar.alive()
        wait_for(lambda: count_stored(cluster.spine_addr) >= 101, 30, "the events to be stored")
    finally:
        if client is not None:
            client.shutdown(timeout=5)
        cluster.stop()
