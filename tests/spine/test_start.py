"""The spine's start when its store is unavailable: tried again with backoff, not an exit."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

from ben.cli.procs import write_config
from ben.core.config import load_config
from ben.core.service import Lifecycle
from ben.spine import Spine
from ben.store import ChdbProcessStore


def test_a_store_process_that_dies_while_the_spine_starts_is_started_again(home: Path, monkeypatch) -> None:
    """The store process is killed twice while the spine opens the store, and once while the
    store writer recovers its cursors from it: the spine starts all the same (before: exit code 2)."""
    cfg = load_config(write_config(home / "ben.toml", home)).spine
    start, max_spine_seq = ChdbProcessStore._start, ChdbProcessStore.max_spine_seq
    killed: list[int] = []

    def start_then_die(self) -> None:
        start(self)
        if len(killed) < 2:  # dies at once: the call for its capabilities fails
            killed.append(self._proc.pid)
            os.kill(self._proc.pid, signal.SIGKILL)

    def die_at_the_first_recovery(self, lane: int) -> int:
        if len(killed) == 2:
            killed.append(self.pid)
            os.kill(self.pid, signal.SIGKILL)
        return max_spine_seq(self, lane)

    monkeypatch.setattr(ChdbProcessStore, "_start", start_then_die)
    monkeypatch.setattr(ChdbProcessStore, "max_spine_seq", die_at_the_first_recovery)

    async def run() -> None:
        spine = Spine(cfg)
        try:
            await spine.start()
            assert spine.state is Lifecycle.RUNNING
            assert spine.store.starts == 2 and spine.store.rows("SELECT 1") == [(1,)]
        finally:
            await spine.shutdown(5.0)

    asyncio.run(run())
    assert len(killed) == 3


def test_a_stop_signal_while_the_spine_waits_for_its_store_stops_it(home: Path, monkeypatch) -> None:
    """The store process dies at every start: the spine keeps trying, and SIGTERM stops it then
    (before: the start went on until store.start_retry_timeout_s, 300 s, had passed)."""
    import sys

    from ben.cli.procs import wait_for
    from ben.core.service import serve

    cfg = load_config(write_config(home / "ben.toml", home)).spine
    start = ChdbProcessStore._start
    killed: list[int] = []

    def start_then_die(self) -> None:
        start(self)
        killed.append(self._proc.pid)
        os.kill(self._proc.pid, signal.SIGKILL)

    monkeypatch.setattr(ChdbProcessStore, "_start", start_then_die)
    spine = Spine(cfg)

    async def run() -> None:
        async def stop_after_two_attempts() -> None:
            await asyncio.to_thread(wait_for, lambda: len(killed) >= 2, 60, "two attempts to open the store")
            os.kill(os.getpid(), signal.SIGTERM)  # serve's handler: the stop an operator's SIGTERM is

        stopper = asyncio.get_running_loop().create_task(stop_after_two_attempts())
        await serve(spine, shutdown_timeout_s=5.0)
        await stopper

    switch = sys.getswitchinterval()
    try:
        asyncio.run(run())
    finally:
        sys.setswitchinterval(switch)
    assert spine.state is Lifecycle.STOPPED and spine.store is None
    assert 2 <= len(killed) <= 3  # stopped during the retries, not after the 300 s


def test_a_reserve_no_disk_of_that_size_could_leave_refuses_the_start_naming_it(home: Path) -> None:
    """A spine on a 100 MiB file system with the store's default reserve (256 MiB kept free) started, took
    events into its WAL, and logged "store disk nearly full" every few seconds for ever: nothing could ever be
    stored. The start now refuses it in one line naming the option; a reserve the disk can leave starts."""
    import subprocess
    import sys

    disk = home / "small"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=100m", "tmpfs", str(disk)], capture_output=True,
                             text=True)
    assert mounted.returncode == 0, f"this test needs to mount a tmpfs (run as root): {mounted.stderr}"
    try:
        config = write_config(home / "ben.toml", disk / "data", spine={"wal_min_free_bytes": 0,
                                                                       "wal_resume_free_bytes": 0})
        run = subprocess.run([sys.executable, "-m", "ben", "spine", "--config", str(config)], capture_output=True,
                             text=True, timeout=120)
        assert run.returncode == 2, run.stderr[-2000:]
        last = run.stderr.strip().splitlines()[-1]
        assert "spine.store.min_free_bytes" in last and "only 100 MiB" in last, run.stderr[-2000:]
        config = write_config(home / "ben.toml", disk / "data")  # the WAL's defaults: 128 MiB to resume
        run = subprocess.run([sys.executable, "-m", "ben", "spine", "--config", str(config)], capture_output=True,
                             text=True, timeout=120)
        assert run.returncode == 2 and "spine.wal_resume_free_bytes" in run.stderr, run.stderr[-2000:]
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_a_spine_whose_store_set_a_broken_part_aside_says_so_and_counts_it(home: Path, capfd) -> None:
    """A part of ben.events torn on disk while no spine ran: the store engine sets it aside as it opens the data
    (``detached/broken-on-start_...``) and its rows leave the store; the spine's log says it in one line naming
    the table and the reason, and ``store_detached_parts`` counts it (ADR 0046 round 7: before, nothing said so)."""
    from ben.store import ChdbStore
    from ben.store.detached import SAID
    from ben.store.rows import to_table
    from tests.store.test_chdb import metric_request

    cfg = load_config(write_config(home / "ben.toml", home)).spine
    store = ChdbStore(cfg.store_path)
    try:
        store.insert_events(to_table([(1, metric_request(1, 5, 1))]))
        part = Path(store.rows("SELECT path FROM system.parts WHERE database = 'ben' AND table = 'events' "
                               "AND active")[0][0])
    finally:
        store.close()
    (part / "checksums.txt").write_bytes(b"")

    async def run() -> None:
        spine = Spine(cfg)
        try:
            await spine.start()
            figures = {f.name: f.value for f in spine.figures() if not f.labels}
            assert figures["store_detached_parts"] == 1
            assert spine.store.rows("SELECT count() FROM ben.events") == [(0,)]
        finally:
            await spine.shutdown(5.0)

    capfd.readouterr()
    asyncio.run(run())
    said = [line for line in capfd.readouterr().err.splitlines() if SAID in line]  # the store process's log line
    assert len(said) == 1 and "(ben.events: 1 broken-on-start)" in said[0], said
    assert (part.parent / "detached" / f"broken-on-start_{part.name}").is_dir()
