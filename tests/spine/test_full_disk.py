"""The spine on a full disk: it stays up, refuses the sidecar with back-pressure, and recovers.

The spine's data dir (its lane WALs and chdb/) is a small tmpfs the test mounts (we run as
root; a failed mount fails the test). A filler file leaves little room; a load through the
SDK fills it. The sidecar keeps what the spine refuses in its own WAL; once the filler is
deleted everything drains and every acknowledged event is stored exactly once.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from ben.cli.procs import wait_for
from ben.core.admin import fetch_status
from tests.core.test_wal_faults import fill, tmpfs
from tests.helpers import Load, assert_exactly_once

KiB = 1 << 10
TOTAL = 40_000


@pytest.mark.timeout(600)
def test_spine_full_disk_refuses_then_recovers_without_loss(make_cluster, home) -> None:
    # A 16 MiB disk: chDB keeps 1 MiB free, the WALs refuse below 512 KiB and resume at 2 MiB; the
    # store writer lags behind the load (5,000 rows/s), so it has records to store when the disk fills.
    cluster = make_cluster(store={"min_free_bytes": 1 << 20, "max_rows_per_s": 5_000},
                           spine={"wal_min_free_bytes": 512 * KiB, "wal_resume_free_bytes": 2048 * KiB})
    with tmpfs(home / "spine", "16m") as disk:
        try:
            cluster.start()
            load = Load(cluster.sidecar_addr, TOTAL, rate=10_000)
            # The disk fills while the store writer has records to store (the filler once came before it
            # fell behind: it had stored everything, so it never met the full disk and the test failed).
            wait_for(lambda: cluster.status("spine").get("rows_stored_total", 0) > 0
                     and cluster.status("spine").get("wal_records", 0) >= 20, 60,
                     "the first rows stored, and 20 WAL records not yet stored (the writer behind the load)")
            filler = fill(disk / "filler", leave=256 * KiB)  # while the load goes on
            # The sidecar keeps resending (back-pressure: about once a second); the spine keeps refusing.
            wait_for(lambda: cluster.status("spine").get("refused_total{reason=wal_error}", 0) >= 3, 60,
                     "the spine to refuse again and again for lack of disk")

            assert cluster.spine.alive(), cluster.spine.tail()
            assert cluster.sidecar.alive(), cluster.sidecar.tail()
            # Every part's current problem, each with its reason: the receiver refuses (wal_error,
            # the WAL's "disk full") while the store writer's INSERTs wait too ("nearly full").
            # Before, the store writer's message hid the receiver's refusals.
            wait_for(lambda: "store writer:" in fetch_status(cluster.spine_addr).last_error, 30,
                     "the store writer to fail for lack of disk too")
            last_error = fetch_status(cluster.spine_addr).last_error
            lines = last_error.splitlines()
            assert any(line.startswith("receiver: refusing routine batches (wal_error)") and "disk full" in line
                       for line in lines), last_error
            assert any(line.startswith("store writer:") and "nearly full" in line for line in lines), last_error
            shown = subprocess.run([sys.executable, "-m", "ben", "status", "--spine", cluster.spine_addr,
                                    "--sidecar", cluster.sidecar_addr], capture_output=True, text=True, timeout=30)
            assert "refusing routine batches (wal_error)" in shown.stdout and "store writer:" in shown.stdout, \
                shown.stdout[-3000:]
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
