"""The attack matrix (ADR 0045, round 5) against the spine's listener: a network peer (here another
account) opens a few thousand idle connections to the spine's gRPC TCP port. Real spine and sidecar
processes, real sockets; ``docs/security.md`` maps the cell to this test."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from ben.cli.procs import Cluster, count_stored, wait_for
from ben.sdk import Client
from tests.conftest import rig_in_tmp
from tests.helpers import Flood, descriptors

CAP = 64  # a bound well under the flood's 3,000 (default 10,000)

class Rig:
    """A spine on loopback TCP (plain, as asked for) with a small connection cap, and its sidecar."""

    def __init__(self, home: Path):
        os.chmod(home, 0o755)
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self.cluster = Cluster(home, spine_addr=f"127.0.0.1:{self.port}",
                               spine={"insecure": True, "max_connections": CAP}, sidecar={"insecure": True})
        self.cluster.start()


@pytest.fixture(scope="module")
def rig() -> Iterator[Rig]:
    with rig_in_tmp("bl-", Rig) as r:
        yield r


def _shipped(rig: Rig) -> bool:
    return rig.cluster.status("sidecar").get("wal_records", 1) == 0


def test_a_connection_flood_cannot_take_the_spine_s_descriptors(rig: Rig) -> None:
    """3,000 idle connections to the spine's TCP port: before the cap the spine held one descriptor each
    (toward RLIMIT_NOFILE, shared with its WALs, the store and the sidecars' streams) for the 10 s
    handshake deadline. Now it holds at most ``max_connections``, and a sidecar connected before the
    flood keeps shipping through it."""
    pid = rig.cluster.spine.pid
    client = Client("flooded", sidecar=rig.cluster.sidecar_addr, flush_interval_ms=20)
    try:
        client.gauge("before", 1.0)
        assert client.flush(10)
        wait_for(lambda: _shipped(rig), 30, "the sidecar to ship before the flood")  # its connection is up
        baseline = descriptors(pid)
        with Flood(rig.port) as flood:
            for i in range(100):  # the connected sidecar ships while the flood is held
                client.gauge("during", float(i))
            assert client.flush(10)
            most = flood.peak_descriptors(pid)  # while they are held (the handshake deadline is 10 s)
            assert most < baseline + CAP + 40, f"the spine holds {most} descriptors (baseline {baseline})"
            wait_for(lambda: _shipped(rig), 8, "the sidecar to ship to the spine during the flood")
            assert rig.cluster.spine.alive()
    finally:
        client.shutdown(timeout=5)
    # every event is stored (asked over a new connection, once the flood is gone)
    wait_for(lambda: count_stored(rig.cluster.spine_addr) >= 101, 30, "the events to be stored")
