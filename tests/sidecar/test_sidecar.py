"""The sidecar as a real process: WAL replay after restarts, SDK resends after SIGKILL."""

from __future__ import annotations

import pytest

from ben.cli.procs import wait_for
from ben.sdk import Client
from tests.helpers import Load, assert_exactly_once


def test_restarted_sidecar_replays_its_wal(make_cluster) -> None:
    cluster = make_cluster()
    cluster.start()
    cluster.spine.stop()  # the spine is down: acknowledged events wait in the sidecar WAL
    client = Client("replay", sidecar=cluster.sidecar_addr, max_batch_events=250)
    for i in range(5_000):
        client.gauge("n", float(i))
    assert client.flush(timeout=30)
    client.shutdown()
    assert cluster.status("sidecar")["wal_records"] == 20
    cluster.sidecar.kill()  # SIGKILL: only the disk remains
    cluster.start_sidecar()
    assert cluster.status("sidecar")["wal_records"] == 20  # replayed from disk
    cluster.start_spine()
    cluster.wait_drained()
    assert_exactly_once(cluster.spine_addr, client.producer_id, 5_000)


@pytest.mark.timeout(600)
def test_sidecar_killed_mid_stream(cluster) -> None:
    load = Load(cluster.sidecar_addr, 50_000, rate=15_000)
    load.wait_emitted(10_000)
    cluster.sidecar.kill()
    # The SDK keeps what was not acknowledged and keeps accepting events, up to its buffer.
    wait_for(lambda: load.client.buffered > 2_000, 60, "the SDK to buffer while the sidecar is down")
    cluster.start_sidecar()
    load.wait_emitted(30_000)
    cluster.sidecar.kill()
    cluster.start_sidecar()
    load.finish()
    cluster.wait_drained()
    assert_exactly_once(cluster.spine_addr, load.client.producer_id, 50_000)
