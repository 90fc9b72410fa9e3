"""The store writer against a real RocksDB WAL and a real chDB, in-process."""

from __future__ import annotations

import os
import re
import shutil
import signal
import threading
import time
from pathlib import Path

import pytest

from ben.core.lanes import ALERT, ROUTINE, open_wals
from ben.core.wal import Wal
from ben.cli.procs import wait_for
from ben.spine.store_writer import StoreWriter
from ben.core.errors import StorageError, StoreUnavailableError
from ben.store import ChdbProcessStore, ChdbStore, ClickHouseStore
from ben.store.rows import decode, to_table
from ben.v1 import telemetry_pb2 as pb
from tests.store.test_chdb import metric_request
from tests.store.test_rows import request


@pytest.fixture(params=["chdb", "chdb-process", "clickhouse"])
def parts(tmp_path: Path, request):
    """WALs and a store: embedded chDB (in this process, or in a store process as the spine runs
    it), or a real clickhouse-server (18.16)."""
    wals = open_wals(tmp_path)
    if request.param == "chdb":
        store = ChdbStore(tmp_path / "chdb")
    elif request.param == "chdb-process":
        store = ChdbProcessStore(tmp_path / "chdb")
    else:
        server = request.getfixturevalue("clickhouse")
        store = ClickHouseStore(server.host, server.port, writeback_wait_s=0.3)  # 18.16: no fsync_after_insert
    yield wals, store
    store.close()
    for wal in wals.values():
        wal.close()


def fill(wal: Wal, records: int, per: int = 10, first_event: int = 1) -> None:
    for i in range(records):
        wal.append([metric_request(first_event + i * per, per, seq=i + 1).SerializeToString()])


def exactly_once(store, expected: int) -> None:
    assert store.count_rows() == expected
    dupes = store.query_json("SELECT producer_seq FROM ben.events GROUP BY producer_seq HAVING count() > 1")
    assert b'"rows": 0' in dupes


def test_stores_everything_and_truncates(parts) -> None:
    wals, store = parts
    wal = wals[ROUTINE]
    fill(wal, 5)
    fill(wals[ALERT], 2, first_event=1000)
    writer = StoreWriter(wals, store, insert_max_rows=20)
    writer.start()
    writer.notify()
    assert writer.force_flush(timeout=30)
    assert writer.shutdown(timeout=5)
    exactly_once(store, 70)
    assert wal.depth == 0 and wals[ALERT].depth == 0
    assert writer.figures.inserts >= 4  # 20 rows per insert at most
    assert writer.figures.rows_stored == {ROUTINE: 50, ALERT: 20}


def test_restart_recovers_cursor_from_store(parts) -> None:
    wals, store = parts
    wal = wals[ROUTINE]
    fill(wal, 3)
    store.insert_events(to_table([(1, decode(r)) for r in wal.read(0, 1)]))  # record 1 stored, not truncated
    writer = StoreWriter(wals, store)
    assert writer.recover(ROUTINE) == 1 and writer.recover(ALERT) == 0
    # Record 1 is in the store, so it left the WAL (on a server without fsync_after_insert: once
    # the writeback wait is over).
    assert wal.first_seq == (1 if store.durable_after_s else 2)
    writer.start()
    assert writer.force_flush(timeout=30)
    writer.shutdown(timeout=5)
    exactly_once(store, 30)


def test_partly_stored_insert_is_repaired(parts) -> None:
    wals, store = parts
    wal = wals[ROUTINE]
    fill(wal, 4)
    records = [(r.seq, decode(r)) for r in wal.read(0)]
    # A crash in the middle of one INSERT left record 1 whole, record 2 in part, record 3 not at all,
    # and record 4 whole (parts can commit in any order).
    store.insert_events(to_table(records[:1]))
    store.insert_events(to_table(records[1:2]).slice(0, 4))
    store.insert_events(to_table(records[3:4]))
    writer = StoreWriter(wals, store)
    writer.start()
    assert writer.figures.repaired_records == 2
    assert writer.force_flush(timeout=30)
    writer.shutdown(timeout=5)
    exactly_once(store, 40)
    assert store.count_by_spine_seq(ROUTINE, 1, 4) == {1: 10, 2: 10, 3: 10, 4: 10}


def test_store_ahead_of_a_replaced_wal(parts, tmp_path: Path) -> None:
    wals, store = parts
    fill(wals[ROUTINE], 2)
    writer = StoreWriter(wals, store)
    writer.start()
    assert writer.force_flush(timeout=30)
    writer.shutdown(timeout=5)
    fresh = Wal(tmp_path / "wal2")  # the WAL directory was lost; the store was not
    writer = StoreWriter({ROUTINE: fresh}, store)
    writer.start()
    assert fresh.append([metric_request(21, 10, seq=1).SerializeToString()]) == (3, 3)  # numbering moved past the store
    writer.notify()
    assert writer.force_flush(timeout=30)
    writer.shutdown(timeout=5)
    fresh.close()
    exactly_once(store, 30)


class LandsThenFails:
    """A store whose next INSERTs land (all, or only their first rows) and then report a broken connection."""

    def __init__(self, store, failures: list[int | None]):
        self._store = store
        self.failures = failures  # per failing INSERT: rows that land (None: all of them)

    def __getattr__(self, name):
        return getattr(self._store, name)

    def insert_events(self, table) -> None:
        if not self.failures:
            return self._store.insert_events(table)
        landed = self.failures.pop(0)
        self._store.insert_events(table if landed is None else table.slice(0, landed))
        raise StoreUnavailableError("connection reset (test)")


def test_failed_insert_that_landed_is_neither_lost_nor_duplicated(parts) -> None:
    wals, store = parts
    fill(wals[ROUTINE], 6)
    # 1st try of records 1-3: all landed but reported failed; 1st try of 4-6: 15 of 30 rows landed.
    flaky = LandsThenFails(store, [None, 15])
    seen = []
    writer = StoreWriter(wals, flaky, insert_max_rows=30, on_stored=lambda lane, table: seen.append(table.num_rows))
    writer.start()
    writer.notify()
    assert writer.force_flush(timeout=60)
    writer.shutdown(timeout=5)
    exactly_once(store, 60)
    # Of records 4-6, record 4 had landed whole, record 5 in part (deleted, re-inserted), record 6 not at all.
    assert writer.figures.insert_errors == 2 and writer.figures.repaired_records == 1
    assert seen == [30, 30]  # detection saw every record once


def test_writer_drops_expired_partitions(parts) -> None:
    from ben.cli.procs import wait_for
    from tests.store.test_backends import DAY_NS, metric_request as dated_request

    wals, store = parts
    store.retention_days = 30  # as StoreConfig.retention_days would set it
    now = time.time_ns()
    wals[ROUTINE].append([dated_request(1, 10, seq=1, ts=now - 40 * DAY_NS).SerializeToString()])
    wals[ROUTINE].append([dated_request(11, 10, seq=2, ts=now).SerializeToString()])
    writer = StoreWriter(wals, store)
    writer.start()
    writer.notify()
    assert writer.force_flush(timeout=30)
    wait_for(lambda: store.count_rows() == 10, 30, "the 40-day-old rows to be dropped by retention")
    writer.shutdown(timeout=5)
    assert store.count_by_spine_seq(ROUTINE, 1, 2) == {2: 10}


class _GatedStore:
    """A store whose routine INSERTs wait at a gate (a routine INSERT that takes its time)."""

    def __init__(self, store):
        self._store = store
        self.path = store.path
        self.retention_days = 0
        self.gate = threading.Event()
        self.routine_waiting = threading.Event()
        self.sizes: list[tuple[int, int]] = []  # (lane, rows) per INSERT

    def insert_events(self, table) -> None:
        lane = ALERT if threading.current_thread().name == "store-writer-alerts" else ROUTINE
        self.sizes.append((lane, table.num_rows))
        if lane == ROUTINE:
            self.routine_waiting.set()
            assert self.gate.wait(30), "the test never opened the gate"
        self._store.insert_events(table)

    def __getattr__(self, name):
        return getattr(self._store, name)


def test_alerts_are_stored_while_a_routine_insert_is_in_flight(tmp_path: Path) -> None:
    wals = open_wals(tmp_path)
    store = _GatedStore(ChdbStore(tmp_path / "chdb"))
    writer = StoreWriter(wals, store)
    writer.start()
    try:
        fill(wals[ROUTINE], 3)
        writer.notify()
        assert store.routine_waiting.wait(30)  # the routine INSERT has started and is held
        fill(wals[ALERT], 2, first_event=1000)
        writer.notify()
        wait_for(lambda: writer.figures.rows_stored[ALERT] == 20, 30, "the alerts to be stored")
        assert writer.figures.rows_stored[ROUTINE] == 0  # still held at the gate
        delays = writer.alert_delay_quantiles()  # event time to the INSERT's return, per alert
        assert list(delays) == [0.5, 0.9, 0.99, 1.0] and len(writer.figures.alert_delays_s) == 20
        writer.alert_delay_window_s = 1e-9
        assert writer.alert_delay_quantiles() == {}  # none stored in the last nanosecond
        writer.alert_delay_window_s = 60.0
        assert 0 < delays[0.5] <= delays[0.99] <= delays[1.0]
        store.gate.set()
        assert writer.force_flush(timeout=30)
        assert writer.figures.rows_stored == {ROUTINE: 30, ALERT: 20}
    finally:
        store.gate.set()
        writer.shutdown(timeout=5)
        store.close()
        for wal in wals.values():
            wal.close()


def test_a_rate_capped_lane_inserts_whole_bursts(tmp_path: Path) -> None:
    """Under max_rows_per_s a lane inserts a fifth of a second's rows at a time, not each trickle
    of tokens (chDB's fixed cost per INSERT)."""
    wals = open_wals(tmp_path)
    store = _GatedStore(ChdbStore(tmp_path / "chdb"))
    store.gate.set()
    writer = StoreWriter(wals, store, max_rows_per_s=1000)  # bursts of 200 rows
    fill(wals[ROUTINE], 100)  # 1000 rows in records of 10
    writer.start()
    try:
        writer.notify()
        assert writer.force_flush(timeout=30)
        assert [rows for lane, rows in store.sizes if lane == ROUTINE] == [200] * 5
    finally:
        writer.shutdown(timeout=5)
        store.close()
        for wal in wals.values():
            wal.close()


def fill_alerts(wal: Wal, records: int, per: int = 2, first_event: int = 10_000) -> None:
    for i in range(records):
        req = request(first_event + i * per, [(pb.KIND_ALERT, "down", 1.0, "provider 503", None)] * per,
                      seq=i + 1, lane=pb.LANE_ALERT)
        wal.append([req.SerializeToString()])


def test_buffered_alerts_stay_in_the_wal_until_a_sync_flushed_them(tmp_path: Path, monkeypatch) -> None:
    """The spine's store process keeps alerts in a buffer in memory: the WAL keeps them until a
    sync has flushed them into ben.events. A kill -9 of the store process loses the buffer, and
    the next writer stores every alert, once."""
    wals = open_wals(tmp_path)
    store = ChdbProcessStore(tmp_path / "chdb")
    try:
        def held() -> None:
            raise StorageError("sync held by the test")
        writer = StoreWriter(wals, store)
        writer.start()
        monkeypatch.setattr(store, "sync", held)  # no flush: the alerts stay in the child's buffer
        fill_alerts(wals[ALERT], 3)
        writer.notify()
        wait_for(lambda: writer.figures.rows_stored[ALERT] == 6, 30, "the alerts' INSERT into the buffer")
        wait_for(lambda: "held" in writer.figures.last_error, 30, "a sync attempt")
        assert wals[ALERT].depth == 3  # not truncated
        assert store.rows("SELECT count() FROM ben.events") == [(0,)]  # in the buffer only
        assert not writer.shutdown(timeout=0.5)  # not drained
        os.kill(store.pid, signal.SIGKILL)  # the buffer dies with the child
        monkeypatch.undo()
        with pytest.raises(StorageError, match="store process"):
            store.rows("SELECT 1")
        writer = StoreWriter(wals, store)  # a new child at its first call
        writer.start()
        assert writer.recovered[ALERT] == 0  # none of them had reached ben.events
        assert writer.force_flush(timeout=30)
        writer.shutdown(timeout=5)
        exactly_once(store, 6)
        assert wals[ALERT].depth == 0
    finally:
        store.close()
        for wal in wals.values():
            wal.close()


def test_a_flush_that_failed_halfway_is_repaired_before_the_wal_is_truncated(tmp_path: Path) -> None:
    """A failed flush of the urgent buffer may have stored its rows anyway (here: ben.events takes
    them, then a view on it fails the INSERT) while the buffer keeps them for the next flush. The
    writer checks the records it is about to truncate after a failed sync: each is stored once."""
    wals = open_wals(tmp_path)
    store = ChdbProcessStore(tmp_path / "chdb")
    try:
        store.execute("CREATE MATERIALIZED VIEW ben.no_alerts ENGINE = Null AS "
                      "SELECT throwIf(lane = 'alert', 'no alerts today') AS refused FROM ben.events")
        fill_alerts(wals[ALERT], 3)
        writer = StoreWriter(wals, store)
        writer.start()
        writer.notify()
        wait_for(lambda: "no alerts today" in writer.figures.last_error, 30, "a sync whose flush fails")
        assert wals[ALERT].depth == 3  # not truncated
        assert store.rows("SELECT count() FROM ben.events") == [(6,)]  # stored by the failed flush
        store.execute("DROP VIEW ben.no_alerts")
        assert writer.force_flush(timeout=30)  # the buffer's second flush stored them again; repaired
        writer.shutdown(timeout=5)
        exactly_once(store, 6)
        assert writer.figures.repaired_records == 3 and wals[ALERT].depth == 0
    finally:
        store.close()
        for wal in wals.values():
            wal.close()


def test_alerts_do_not_sync_the_store_one_by_one(tmp_path: Path) -> None:
    """A writer that goes idle after each alert does not sync then: syncs (an urgent-buffer flush,
    which writes a part, and a syncfs) come at most every sync_interval_s, and at once only while
    force_flush waits. Syncing whenever a writer went idle was 25 syncs a second under the lanes
    benchmark."""
    wals = open_wals(tmp_path)
    store = ChdbStore(tmp_path / "chdb")
    syncs: list[float] = []
    real_sync = store.sync

    def counted() -> None:
        syncs.append(time.monotonic())
        real_sync()

    store.sync = counted
    writer = StoreWriter(wals, store)
    writer.sync_interval_s = 0.5
    try:
        writer.start()
        started = time.monotonic()
        for i in range(20):  # one alert at a time, each stored before the next
            req = request(50_000 + i, [(pb.KIND_ALERT, "down", 1.0, "provider 503", None)], seq=i + 1,
                          lane=pb.LANE_ALERT)
            wals[ALERT].append([req.SerializeToString()])
            writer.notify()
            wait_for(lambda: writer.figures.rows_stored[ALERT] == i + 1, 30, f"alert {i + 1} to be stored")
        elapsed = time.monotonic() - started
        during = [t for t in syncs if started <= t <= started + elapsed]  # not the syncs of the start
        assert len(during) <= elapsed / 0.5 + 1, (len(during), elapsed)
        assert all(b - a >= 0.5 for a, b in zip(during, during[1:]))
        wait_for(lambda: wals[ALERT].depth == 0, 30, "a sync to truncate the alert WAL unasked")
        assert writer.force_flush(timeout=30)
    finally:
        writer.shutdown(timeout=5)
        store.close()
        for wal in wals.values():
            wal.close()


def test_a_few_alerts_go_as_json_rows_an_alert_storm_as_arrow(tmp_path: Path) -> None:
    """The alert lane builds JSON rows only up to rows.INLINE_MAX_ROWS events per INSERT (row by
    row in Python); a longer run of alerts goes as one Arrow table. Both are stored whole."""
    from ben.store.rows import INLINE_MAX_ROWS

    wals = open_wals(tmp_path)
    store = ChdbStore(tmp_path / "chdb")
    urgent = store.urgent()
    calls: list[tuple[str, int]] = []
    as_json, as_table = urgent.insert_event_json, urgent.insert_events
    urgent.insert_event_json = lambda lines: (calls.append(("json", lines.count("\n") + 1)), as_json(lines))[1]
    urgent.insert_events = lambda table: (calls.append(("arrow", table.num_rows)), as_table(table))[1]
    fill_alerts(wals[ALERT], INLINE_MAX_ROWS)  # 2 events each: one run of 2 * INLINE_MAX_ROWS rows
    writer = StoreWriter(wals, store)
    try:
        writer.start()
        writer.notify()
        wait_for(lambda: writer.figures.rows_stored[ALERT] == 2 * INLINE_MAX_ROWS, 30, "the storm to be stored")
        fill_alerts(wals[ALERT], 1, first_event=90_000)  # then a single alert record (seq continues)
        writer.notify()
        assert writer.force_flush(timeout=30)
        assert calls == [("arrow", 2 * INLINE_MAX_ROWS), ("json", 2)]
        exactly_once(store, 2 * INLINE_MAX_ROWS + 2)
    finally:
        writer.shutdown(timeout=5)
        store.close()
        for wal in wals.values():
            wal.close()


def test_alerts_buffered_by_a_killed_store_process_are_repaired_before_truncating(tmp_path: Path) -> None:
    """The store process dies with alerts in its buffer; the next alert's INSERT quietly starts a
    new one, whose sync flushes a buffer without them and succeeds. The writer sees that the
    process that took them is not the one that synced, and stores them again before truncating."""
    wals = open_wals(tmp_path)
    store = ChdbProcessStore(tmp_path / "chdb")
    try:
        writer = StoreWriter(wals, store)
        writer.sync_interval_s = 3600.0  # no sync until force_flush: the alerts stay in the buffer
        writer.start()
        fill_alerts(wals[ALERT], 3)
        writer.notify()
        wait_for(lambda: writer.figures.rows_stored[ALERT] == 6, 30, "the alerts' INSERT into the buffer")
        first = store.generation
        os.kill(store.pid, signal.SIGKILL)  # the buffer dies with the child
        req = request(20_000, [(pb.KIND_ALERT, "down", 1.0, "after the kill", None)], seq=4, lane=pb.LANE_ALERT)
        wals[ALERT].append([req.SerializeToString()])
        writer.notify()
        wait_for(lambda: writer.figures.rows_stored[ALERT] == 7, 30, "the next alert, in a new store process")
        assert store.generation > first and writer.figures.insert_errors >= 1
        assert writer.force_flush(timeout=30)
        writer.shutdown(timeout=5)
        exactly_once(store, 7)
        assert writer.figures.repaired_records == 3 and wals[ALERT].depth == 0
    finally:
        store.close()
        for wal in wals.values():
            wal.close()


def test_a_server_without_fsync_after_insert_keeps_records_in_the_wal_for_the_writeback_wait(
        clickhouse, tmp_path: Path) -> None:
    """ClickHouse 18.16 has no fsync_after_insert: what it acknowledged is durable once the kernel
    wrote it back, so the WAL keeps each record writeback_wait_s after its INSERT returned (before:
    truncated at the next sync, a no-op on a server)."""
    wals = open_wals(tmp_path)
    store = ClickHouseStore(clickhouse.host, clickhouse.port, writeback_wait_s=1.5)
    try:
        assert store.durability == "writeback_wait" and store.durable_after_s == 1.5
        assert store.urgent().durable_after_s == 1.5
        fill(wals[ROUTINE], 3)
        writer = StoreWriter(wals, store)
        writer.start()
        writer.notify()
        wait_for(lambda: writer.figures.rows_stored[ROUTINE] == 30, 30, "the INSERT")
        stored_at = time.monotonic()
        wait_for(lambda: wals[ROUTINE].depth == 0, 30, "the WAL to be truncated")
        assert time.monotonic() - stored_at >= 1.3  # kept 1.5 s after the INSERT (syncs ran every 0.2 s)
        assert writer.force_flush(timeout=10)
        writer.shutdown(timeout=5)
        exactly_once(store, 30)
    finally:
        store.close()
        for wal in wals.values():
            wal.close()


def test_a_server_with_fsync_after_insert_gets_it_turned_on(tmp_path: Path) -> None:
    """A modern engine (chDB is ClickHouse 25) has the setting: it is turned on for ben.events."""
    from ben.store.server import make_inserts_durable

    store = ChdbStore(tmp_path / "chdb")
    try:
        durable = make_inserts_durable(store)
        assert (durable.how, durable.wait_s) == ("fsync_after_insert", 0.0)
        created = store.rows("SHOW CREATE TABLE ben.events")[0][0]
        assert "fsync_after_insert = 1" in created and "fsync_part_directory = 1" in created, created
    finally:
        store.close()


def test_a_repair_of_tens_of_thousands_of_records_goes_in_runs(tmp_path: Path) -> None:
    """Store processes killed one after another can leave tens of thousands of alerts to repair.
    Listing all their seqs in one DELETE overflowed chDB's max_query_size (256 KiB) and the
    repair failed at every sync; in runs it goes through, and each record is stored once."""
    n, base = 19_000, 10**12  # 13-digit seqs, as after a long run: 285 KB of them in one statement
    wals = open_wals(tmp_path)
    store = ChdbStore(tmp_path / "chdb")
    try:
        wals[ROUTINE].advance(base)
        wals[ROUTINE].append([metric_request(1, 1, seq=1).SerializeToString()] * n)
        table = to_table([(r.seq, decode(r)) for r in wals[ROUTINE].read(base, n)])
        store.insert_events(table)
        store.insert_events(table)  # every record twice
        writer = StoreWriter(wals, store)
        assert writer._repair(ROUTINE, base + 1, base + n) == n
        assert store.count_rows() == n
        assert store.rows("SELECT count() FROM (SELECT spine_seq, count() AS c FROM ben.events "
                          "GROUP BY spine_seq HAVING c != 1)") == [(0,)]
    finally:
        store.close()
        for wal in wals.values():
            wal.close()


def _merged_parts_kept(store) -> int:
    create = store.rows("SELECT create_table_query FROM system.tables WHERE database = 'ben' AND name = 'events'")[0][0]
    found = re.search(r"old_parts_lifetime = (\d+)", create)
    assert found, create
    return int(found.group(1))


def test_on_a_nearly_full_store_disk_merged_away_parts_are_not_kept(tmp_path: Path) -> None:
    """A merge's source parts are kept 480 s (ADR 0046). On a small disk near ``min_free_bytes`` they held half of it
    for 8 minutes and the WALs did not drain (the kill -9 harness, seed 8901, 256 MiB): below ``min_free_bytes`` the
    writer keeps them 0 s, and 480 s again once twice ``min_free_bytes`` are free. A real store process."""
    from ben.store.schema import OLD_PARTS_LIFETIME_S

    wals = open_wals(tmp_path)
    store = ChdbProcessStore(tmp_path / "chdb")
    writer = None
    try:
        assert _merged_parts_kept(store) == OLD_PARTS_LIFETIME_S  # set at the open
        fill(wals[ROUTINE], 3)
        free = shutil.disk_usage(tmp_path).free
        writer = StoreWriter(wals, store, min_free_bytes=free * 4)  # "nearly full": more kept free than there is
        writer.start()
        wait_for(lambda: writer.figures.insert_errors >= 1, 60, "the writer to refuse inserting")
        wait_for(lambda: _merged_parts_kept(store) == 0, 60, "merged-away parts kept 0 s")
        assert store.count_rows() == 0  # nothing inserted meanwhile: the WAL keeps it
        writer.min_free_bytes = 1  # room again
        wait_for(lambda: store.count_rows() == 30, 60, "the WAL's rows stored")
        assert _merged_parts_kept(store) == OLD_PARTS_LIFETIME_S
    finally:
        if writer is not None:
            writer.shutdown(timeout=5)
        store.close()
        for wal in wals.values():
            wal.close()
