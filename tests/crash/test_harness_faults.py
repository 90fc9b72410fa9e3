"""The outside kill -9 harness's file-level faults: kills as a WAL or the store writes a file, in a replay, a
checkpoint, a full disk, and of the ClickHouse server (ADR 0046). ``BEN_CRASH_SEED`` replays a run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.crash.harness import run_harness


@pytest.mark.timeout(300)
def test_outside_harness_kills_as_a_wal_or_the_store_writes_a_file_and_nothing_is_left_behind(home) -> None:
    """Round 5 of the outside harness (ADR 0046): a component killed again within 3 ms of its WAL making a file
    in the recovery after a first kill (RocksDB's open), and the store process killed as chDB writes a part;
    every acknowledged event stored once, and after the final stop no file a killed write left
    (``BEN_CRASH_SEED`` replays a run). ``wal-file`` (running: a flush comes rarely at this load) is left to
    the long run."""
    summary = run_harness(home, rounds=2, scenarios=("wal-open", "store-part"))
    assert sum(summary["faults"].values()) == 2 and summary["sdk_acked"] > 0, summary


@pytest.mark.timeout(300)
def test_outside_harness_kills_in_replay_checkpoint_full_disk_and_the_clickhouse_server(home) -> None:
    """Round 3 of the outside harness (ADR 0046): the spine on a ClickHouse server, each data directory on a
    small file system of its own; faults drawn from a sidecar killed while it ships a backlog it replayed
    after a kill, the spine killed as it writes its detection checkpoint, a disk filled under load (and the
    component killed there half the time), the ClickHouse server killed. ``BEN_CRASH_SEED`` replays a run,
    ``BEN_CRASH_ROUNDS`` (default 1) makes it longer."""
    summary = run_harness(home, rounds=int(os.environ.get("BEN_CRASH_ROUNDS", "1")),
                           scenarios=("replay", "checkpoint", "disk-full", "clickhouse"), store="clickhouse",
                           small_disk_mb=256)
    assert summary["sdk_acked"] > 0 and summary["otlp_records_acked"] > 0, summary


def test_the_harness_draws_only_the_faults_its_store_and_disks_can_make() -> None:
    """With a ClickHouse server as the store there is no store process: ``store``, ``store-part`` and
    ``store-repair`` rounds killed nothing ("no store process found"), and a run asked for only those refused
    nothing; they are no longer drawn, and such a run is refused at its start, naming the flag."""
    from tests.crash.harness import outside_harness

    h = outside_harness()
    every = h.ALL_SCENARIOS
    on_server = h.drawable(every, server=True, disk=False)
    assert "clickhouse" in on_server and not {"store", "store-part", "store-repair", "disk-full"} & set(on_server)
    on_chdb = h.drawable(every, server=False, disk=True)
    assert {"store", "store-part", "store-repair", "disk-full"} <= set(on_chdb) and "clickhouse" not in on_chdb
    out = subprocess.run([sys.executable, str(Path(h.__file__)), "--store", "clickhouse", "--scenarios", "store-part"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "--scenarios: none of store-part can be made in this run" in out.stderr, out.stderr


def test_after_a_finding_the_small_file_systems_are_kept_before_they_are_unmounted(tmp_path: Path) -> None:
    """Seed 8901 once lost 12 % of what was acknowledged on small file systems, and the store that lost it went with
    them when the harness unmounted them: after a finding their contents are copied under ``<home>/kept/``."""
    from tests.crash.harness import outside_harness

    home = tmp_path / "h"
    home.mkdir()
    harness = outside_harness().Harness(home, 1, rate=1, otlp_rate=1, small_disk_mb=8, log=lambda *a: None)
    try:
        assert [p.name for p in harness.mounted] == ["spine", "sidecar"]  # root, as the suite runs
        (home / "spine" / "part.bin").write_bytes(b"rows")
        harness.unmount()  # no finding: nothing kept
        assert not (home / "kept").exists() and not os.path.ismount(home / "spine")
        harness.mount(home / "spine", 8)
        (home / "spine" / "part.bin").write_bytes(b"rows")
        harness.finding("lost 1 of 1")
        harness.unmount()
        assert (home / "kept" / "spine" / "part.bin").read_bytes() == b"rows"
        assert not os.path.ismount(home / "spine")
    finally:
        harness.unmount()  # (nothing left mounted if an assertion failed)
