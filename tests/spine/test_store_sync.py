"""The store writer's sync states (ben.spine.store_sync), transition by transition, against real
RocksDB WALs and a store double whose sync can be held or made to fail."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from ben.cli.procs import wait_for
from ben.core.errors import StorageError
from ben.core.lanes import ALERT, ROUTINE, open_wals
from ben.spine.store_sync import StoreSync, SyncState
from ben.spine.store_writer import StoreWriter


class Store:
    """What StoreSync uses of a store: sync(), generation, durable_after_s."""

    durable_after_s = 0.0

    def __init__(self):
        self.generation = 1
        self.syncs = 0
        self.fail: list[Exception] = []   # raised by the next syncs, in order
        self.gate: threading.Event | None = None   # a sync waits for it

    def sync(self) -> None:
        self.syncs += 1
        if self.gate is not None:
            assert self.gate.wait(30)
        if self.fail:
            raise self.fail.pop(0)

    def urgent(self):
        return self


@pytest.fixture
def rig(tmp_path: Path):
    wals = open_wals(tmp_path)
    for lane in (ROUTINE, ALERT):
        for i in range(3):
            wals[lane].append([f"record {i}".encode()])
    store = Store()
    done = threading.Event()
    repairs: list[tuple[int, int, int]] = []
    errors: list[str] = []

    def repair(lane: int, first: int, last: int) -> int:
        repairs.append((lane, first, last))
        return 0

    sync = StoreSync(wals, store, interval_s=3600.0, repair=repair, on_done=done.set, note_error=errors.append)
    yield sync, wals, store, done, repairs, errors
    sync.shutdown(timeout=5)
    for wal in wals.values():
        wal.close()


def run_sync(sync: StoreSync, done: threading.Event) -> None:
    """Sync now (as while a force_flush waits) and wait for the sync thread to end it."""
    done.clear()
    sync.drain(True)
    sync.schedule()
    assert sync.state is SyncState.SYNCING
    assert done.wait(30)
    sync.drain(False)


def retry(sync: StoreSync, done: threading.Event, failed: SyncState) -> None:
    """Ask for a sync (as while a force_flush waits) until one starts after a failure left the sync in
    ``failed`` (not before retry_at), and wait for it to end."""
    done.clear()
    sync.drain(True)
    wait_for(lambda: (sync.schedule(), sync.state is not failed)[1], 30, "the retry")
    assert done.wait(30)
    sync.drain(False)


def test_idle_due_syncing_idle(rig) -> None:
    sync, wals, store, done, repairs, _ = rig
    assert sync.state is SyncState.IDLE and sync.idle()
    sync.schedule()   # nothing inserted: nothing to sync
    assert store.syncs == 0 and sync.due_in() == 0.5
    sync.inserted(ROUTINE, 3, generation=1)
    assert sync.state is SyncState.DUE and not sync.idle()
    sync.schedule()   # the interval (an hour) is not over: not due yet
    assert sync.state is SyncState.DUE and store.syncs == 0 and sync.due_in() == 0.5
    sync.drain(True)
    assert sync.due_in() == 0.001   # at once while a force_flush waits
    sync.drain(False)
    run_sync(sync, done)
    assert sync.state is SyncState.IDLE and store.syncs == 1
    assert wals[ROUTINE].depth == 0 and wals[ALERT].depth == 3 and repairs == []


def test_inserts_during_a_sync_leave_it_due(rig) -> None:
    sync, wals, store, done, _, _ = rig
    store.gate = threading.Event()
    sync.inserted(ROUTINE, 2, generation=1)
    sync.drain(True)
    sync.schedule()
    wait_for(lambda: store.syncs == 1, 30, "the sync to start")
    sync.inserted(ROUTINE, 3, generation=1)   # returned while the sync runs: not part of it
    assert sync.state is SyncState.SYNCING and not sync.idle()
    done.clear()
    store.gate.set()
    assert done.wait(30)
    assert sync.state is SyncState.DUE and wals[ROUTINE].first_seq == 3
    run_sync(sync, done)
    assert sync.state is SyncState.IDLE and wals[ROUTINE].depth == 0


@pytest.mark.parametrize("failure, left, checked", [
    (StorageError("the store is gone"), SyncState.UNCERTAIN, True),   # it may have stored a buffer in part
    (RuntimeError("a bug"), SyncState.DUE, False),
])
def test_a_failed_sync_is_retried_later_and_checks_after_a_store_error(rig, failure, left, checked) -> None:
    sync, wals, store, done, repairs, errors = rig
    store.fail = [failure]
    sync.inserted(ALERT, 3, generation=1)
    run_sync(sync, done)
    assert sync.state is left and wals[ALERT].depth == 3 and repairs == []   # the WAL keeps everything
    assert errors == ([str(failure)] if checked else [])   # an unexpected failure is logged, not a figure
    sync.drain(True)
    sync.schedule()   # not before retry_at, even while a force_flush waits
    assert sync.state is left and store.syncs == 1 and sync.due_in() > 0.1
    sync.drain(False)
    retry(sync, done, left)
    assert repairs == ([(ALERT, 1, 3)] if checked else [])   # checked before the WAL drops them
    assert sync.state is SyncState.IDLE and wals[ALERT].depth == 0


def test_a_sync_by_another_store_engine_checks_the_lanes_it_did_not_take(rig) -> None:
    sync, wals, store, done, repairs, _ = rig
    sync.inserted(ALERT, 2, generation=1)
    sync.inserted(ROUTINE, 3, generation=2)
    store.generation = 2   # the store process that took the alerts was replaced
    run_sync(sync, done)
    assert repairs == [(ALERT, 1, 2)]
    assert sync.state is SyncState.IDLE and wals[ALERT].first_seq == 3 and wals[ROUTINE].depth == 0


def test_the_writer_takes_its_settings_in_its_constructor(tmp_path: Path) -> None:
    wals = open_wals(tmp_path)
    try:
        writer = StoreWriter(wals, Store(), sync_interval_s=0.75, alert_delay_window_s=5.0, min_free_bytes=1 << 20,
                             retention_check_interval_s=60.0)
        assert (writer.sync_interval_s, writer.alert_delay_window_s, writer.min_free_bytes,
                writer.retention_check_interval_s) == (0.75, 5.0, 1 << 20, 60.0)
        assert StoreWriter(wals, Store()).sync_interval_s == 0.2   # today's value, by default
    finally:
        for wal in wals.values():
            wal.close()
