"""The spine on a full disk: it stays up, refuses the sidecar with back-pressure, and recovers.

The spine's data dir (its lane WALs and chdb/) is a small tmpfs the test mounts (we run as
root; a failed mount fails the test). A filler file leaves little room; a load through the
SDK fills it. The sidecar keeps what the spine refuses in its own WAL; once the filler is
deleted everything drains and every acknowledged event is stored exactly once.
"""

from __future__ import annotations

import pytest

from ben.cli.procs import wait_for
from ben.core.admin import fetch_status
from tests.core.test_wal_faults import fill, tmpfs
from tests.helpers import Load, assert_exactly_once

KiB = 1 << 10
TOTAL = 40_000


@pytest.mark.timeout(150)
def test_spine_full_disk_refuses_then_recovers_without_loss(make_cluster, home) -> None:
    # A 16 MiB disk: chDB keeps 1 MiB free, the WALs refuse below 512 KiB and resume at 2 MiB.
    cluster = make_cluster(store={"min_free_bytes": 1 << 20},
                           spine={"wal_min_free_bytes": 512 * KiB, "wal_resume_free_bytes": 2048 * KiB})
    with tmpfs(home / "spine", "16m") as disk:
        try:
            cluster.start()
            filler = fill(disk / "filler", leave=256 * KiB)
            load = Load(cluster.sidecar_addr, TOTAL, rate=40_000)
            # The sidecar keeps resending (back-pressure: about once a second); the spine keeps refusing.
            wait_for(lambda: cluster.status("spine").get("refused_total{reason=wal_error}", 0) >= 3, 60,
                     "the spine to refuse again and again for lack of disk")

            assert cluster.spine.alive(), cluster.spine.tail()
            assert cluster.sidecar.alive(), cluster.sidecar.tail()
            # The spine's last error is the WAL's ("disk full") or, while chDB fails too, the store's.
            last_error = fetch_status(cluster.spine_addr).last_error.lower()
            assert any(s in last_error for s in ("disk full", "no space left", "not enough space", "nearly full")), last_error
            assert "disk full" in (home / "logs" / "spine.log").read_text()
            assert cluster.status("sidecar")["spine_backpressure_total"] > 0
            load.finish()  # the sidecar has every event: what the spine refused waits in its WAL
            assert cluster.status("sidecar")["wal_records"] > 0

            filler.unlink()  # space returns: the spine takes data again, no restart
            cluster.wait_drained()
            assert_exactly_once(cluster.spine_addr, load.client.producer_id, TOTAL)
            spine = cluster.status("spine")
            assert spine["wal_corrupt_records_total"] == 0 and spine["refused_total{reason=wal_error}"] >= 3
        finally:
            cluster.stop()  # before the tmpfs goes
