"""The spine as a real process: exactly once through restarts and SIGKILL."""

from __future__ import annotations

import socket

import pytest

from ben.cli.procs import wait_for
from tests.helpers import Load, assert_exactly_once


def test_two_producers_every_event_exactly_once(cluster) -> None:
    loads = [Load(cluster.sidecar_addr, 20_000, rate=40_000, subsystem=f"svc-{i}") for i in range(2)]
    for load in loads:
        load.finish()
    cluster.wait_drained()
    for load in loads:
        assert_exactly_once(cluster.spine_addr, load.client.producer_id, 20_000)


@pytest.mark.timeout(600)
def test_spine_killed_and_stopped_mid_stream(cluster) -> None:
    load = Load(cluster.sidecar_addr, 60_000, rate=15_000)
    load.wait_emitted(12_000)
    cluster.spine.kill()  # SIGKILL, mid-stream
    seen = load.emitted
    # The sidecar keeps acknowledging (its WAL holds the data) while the spine is down.
    wait_for(lambda: cluster.status("sidecar").get("wal_records", 0) > 0 and load.emitted > seen + 5_000, 60,
             "the sidecar to buffer while the spine is down")
    cluster.start_spine()
    load.wait_emitted(35_000)
    assert cluster.spine.stop() == 0  # SIGTERM: a clean stop, also mid-stream
    cluster.start_spine()
    load.finish()
    cluster.wait_drained()
    assert_exactly_once(cluster.spine_addr, load.client.producer_id, 60_000)
    assert cluster.status("sidecar")["spine_reconnects_total"] >= 2


def test_spine_over_tcp(make_cluster) -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    # Plain TCP only when asked for (ADR 0034); tests/spine/test_auth.py runs it with mutual TLS.
    cluster = make_cluster(spine_addr=f"127.0.0.1:{port}", spine={"insecure": True}, sidecar={"insecure": True})
    cluster.start()
    load = Load(cluster.sidecar_addr, 5_000, rate=50_000)
    load.finish()
    cluster.wait_drained()
    assert_exactly_once(cluster.spine_addr, load.client.producer_id, 5_000)
