"""The attack matrix (ADR 0045, round 17): one local account holding every connection of a sidecar's plain loopback
``listen``. Real spine and sidecar processes, real sockets; the flood is ``nobody``'s.

On the code before (round 16's measurement), gRPC's core bounded the listener's connections (``max_connections``),
not an account's: ``nobody`` holding all of them kept every other account's SDKs out ("1 events not acknowledged by
the sidecar within 20 s (UNAVAILABLE ...)"). Now ben accepts (the OTLP gate's design): an account past
``max_connections_per_client`` is refused at accept, and a full listener closes the newest connection of the
account holding most to let in one holding two fewer or more.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ben.cli.procs import count_stored, wait_for
from ben.sdk import Client
from tests.sidecar.stranger import hold, loopback_cluster, unix_cluster

TOTAL, PER_CLIENT, MINE = 64, 48, 16

@pytest.mark.parametrize("listen", ["plain loopback", "unix socket"])
def test_one_account_cannot_hold_every_connection_of_a_sidecar_s_listen(home: Path, listen: str) -> None:
    """Round 17 for plain loopback TCP; round 18 for the unix socket, whose accounts were one client (gRPC served it
    and named no peer: ``nobody`` holding 4,096 connections kept the test's account's SDK out). Now ben accepts on
    both and counts each account's connections (on the unix socket the kernel names the uid: ``SO_PEERCRED``)."""
    bounds = {"max_connections": TOTAL, "max_connections_per_client": PER_CLIENT}
    if listen == "unix socket":
        cluster, address = unix_cluster(home, **bounds), str(home / "sidecar.sock")
    else:
        cluster = loopback_cluster(home, **bounds)
        address = cluster.sidecar_addr.rpartition(":")[2]
    held, client = [], None
    try:
        cluster.start()
        # nobody opens the whole listener's worth: past its share, its connections are closed at accept
        held.append(hold(address, TOTAL, TOTAL - PER_CLIENT, as_nobody=True))
        assert held[-1].stdout.readline().strip() == str(TOTAL - PER_CLIENT)
        # the test's account fills the listener (nobody 48 + 16): nothing of either is closed
        held.append(hold(address, MINE, 0, as_nobody=False))
        assert held[-1].stdout.readline().strip() == "0"
        # a new SDK of the test's account (16 held against nobody's 48) is let in: nobody's newest makes room
        client = Client("beside-the-flood", sidecar=cluster.sidecar_addr, flush_interval_ms=20)
        client.gauge("served", 1.0)
        assert client.flush(30)
        wait_for(lambda: count_stored(cluster.spine_addr) >= 1, 60, "the application's event stored")
        if listen == "unix socket":  # (the status of a sidecar on plain loopback is not read here)
            wait_for(lambda: cluster.status("sidecar").get("listen_connections_evicted_total", 0) >= 1, 30,
                     "the sidecar to say it closed nobody's newest connection")
        assert cluster.sidecar.alive()
    finally:
        for proc in held:
            proc.communicate("\n", timeout=60)
        if client is not None:
            client.shutdown(timeout=5)
        cluster.stop()
