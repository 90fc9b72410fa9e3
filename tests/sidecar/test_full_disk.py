"""The sidecar on a full disk: it stays up, refuses with back-pressure, says why, and recovers.

The sidecar's data dir is a small tmpfs the test mounts (we run as root; a failed mount fails
the test). The spine is down, so acknowledged events stay in the sidecar WAL until the disk
is full; then space returns, the spine starts, and every acknowledged event is stored once.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ben.cli.procs import wait_for
from ben.core.admin import fetch_status
from tests.core.test_wal_faults import fill, tmpfs
from tests.helpers import Load, assert_exactly_once

MiB = 1 << 20
TOTAL = 40_000


def ben_status(cluster) -> dict:
    """`ben status --json` as an operator runs it (exit code 1 while the spine is down)."""
    done = subprocess.run([sys.executable, "-m", "ben", "status", "--json", "--sidecar", cluster.sidecar_addr,
                           "--spine", cluster.spine_addr], capture_output=True, text=True, timeout=30)
    return json.loads(done.stdout)


def figure(status: dict, name: str, **labels: str) -> float:
    return sum(f["value"] for f in status["figures"] if f["name"] == name and f["labels"] == labels)


@pytest.mark.timeout(600)
def test_sidecar_full_disk_refuses_then_recovers_without_loss(make_cluster, home) -> None:
    # An 8 MiB disk: the WALs refuse below 512 KiB free and resume at 2 MiB.
    cluster = make_cluster(sidecar={"wal_min_free_bytes": MiB // 2, "wal_resume_free_bytes": 2 * MiB})
    with tmpfs(home / "sidecar", "8m") as disk:
        try:
            cluster.start_sidecar()  # no spine: what is acknowledged stays in the sidecar WAL
            filler = fill(disk / "filler", leave=MiB // 4)
            load = Load(cluster.sidecar_addr, TOTAL, rate=40_000)
            # The SDK keeps resending (about once a second); the sidecar keeps refusing, and stays up.
            wait_for(lambda: cluster.status("sidecar").get("refused_total{reason=wal_error}", 0) >= 3, 60,
                     "the sidecar to refuse again and again for lack of disk")

            assert cluster.sidecar.alive(), cluster.sidecar.tail()
            reply = fetch_status(cluster.sidecar_addr)
            assert "disk full" in reply.last_error and str(disk) in reply.last_error, reply.last_error
            shown = ben_status(cluster)["sidecar"]
            assert figure(shown, "refused_total", reason="wal_error") > 0
            assert "disk full" in shown["last_error"]
            acked_while_full = load.client.stats.acked
            assert acked_while_full < TOTAL  # the disk filled before the load ended

            filler.unlink()  # space returns: the sidecar takes data again, no restart
            load.finish()
            assert cluster.sidecar.alive() and cluster.status("sidecar")["wal_records"] > 0
            cluster.start_spine()
            cluster.wait_drained()
            assert_exactly_once(cluster.spine_addr, load.client.producer_id, TOTAL)
            assert cluster.status("sidecar")["wal_corrupt_records_total"] == 0
        finally:
            cluster.stop()  # before the tmpfs goes
