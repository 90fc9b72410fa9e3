"""chDB in a store process of its own (ChdbProcessStore): the same store, the caller's interpreter free."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from ben.cli.procs import wait_for
from ben.core.errors import QueryError, StorageError
from ben.store import ChdbProcessStore, ChdbStore
from ben.store.rows import to_table
from ben.v1 import telemetry_pb2 as pb
from tests.store.test_chdb import alert_table, metric_request


@pytest.fixture
def store(tmp_path: Path):
    s = ChdbProcessStore(tmp_path / "chdb")
    yield s
    s.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie child of ours counts as gone
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return True


def test_inserts_and_queries_go_through_the_child(store) -> None:
    assert store.pid is not None and store.pid != os.getpid()
    store.insert_events(to_table([(1, metric_request(1, 5, 1)), (2, metric_request(6, 3, 2))]))
    assert store.count_rows() == 8
    assert store.max_spine_seq(0) == 2
    assert store.count_by_spine_seq(0, 1, 2) == {1: 5, 2: 3}
    assert store.query_arrow("SELECT count() AS n FROM ben.events").to_pylist() == [{"n": 8}]
    assert b'"n": 8' in store.query_json("SELECT count() AS n FROM ben.events")
    assert store.schema_version() >= 1 and store.capabilities.version
    store.sync()


def test_errors_come_back_as_bens_own(store) -> None:
    with pytest.raises(QueryError, match="read-only"):
        store.query_json("DROP TABLE ben.events")
    with pytest.raises(StorageError, match="Syntax error"):
        store.execute("SELEC 1")
    assert store.rows("SELECT 1") == [(1,)]  # the child is still there, still answering


def test_a_killed_child_fails_one_call_and_the_next_starts_a_new_one(store) -> None:
    store.insert_events(to_table([(1, metric_request(1, 4, 1))]))
    first = store.pid
    os.kill(first, signal.SIGKILL)
    with pytest.raises(StorageError, match="store process .* failed"):
        store.rows("SELECT 1")
    assert store.count_rows() == 4  # a new child, on the same directory: nothing lost
    assert store.pid != first and store.starts == 2


def test_the_caller_keeps_running_while_the_child_works(store) -> None:
    """chDB holds the GIL through a query; in the child that GIL is not the caller's."""
    ticks, running, done = [0], threading.Event(), threading.Event()

    def heavy() -> None:
        running.set()
        store.rows("SELECT sum(number) FROM numbers(400000000)")
        done.set()

    worker = threading.Thread(target=heavy)
    worker.start()
    running.wait()
    while not done.is_set():
        ticks[0] += 1
    worker.join()
    assert ticks[0] > 100_000, f"the calling process ran only {ticks[0]} loop turns while the query ran"


def test_the_child_exits_when_its_owner_dies(tmp_path: Path) -> None:
    code = ("import sys, time\n"
            "from ben.store import ChdbProcessStore\n"
            f"s = ChdbProcessStore({str(tmp_path / 'chdb')!r})\n"
            "print(s.pid, flush=True)\n"
            "time.sleep(600)\n")
    owner = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        child = int(owner.stdout.readline())
        assert _alive(child)
        owner.kill()
        owner.wait(timeout=30)
        wait_for(lambda: not _alive(child), 30, "the store process to exit after its owner was killed")
    finally:
        owner.kill()
        owner.wait(timeout=30)
        owner.stdout.close()
    reopened = ChdbStore(tmp_path / "chdb")  # the directory is free again
    reopened.close()


def test_a_child_whose_owner_dies_while_it_opens_exits_without_a_traceback(tmp_path: Path) -> None:
    """The spine killed while its store process opens chDB: the child's "ready" meets a closed pipe;
    it exits quietly (before: a BrokenPipeError traceback in the spine's log)."""
    import psutil

    code = ("from ben.store import ChdbProcessStore\n"
            f"ChdbProcessStore({str(tmp_path / 'chdb')!r})\n")
    owner = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True)
    try:
        child = wait_for(lambda: next((c for c in psutil.Process(owner.pid).children()
                                       if "ben.store.worker" in " ".join(c.cmdline())), None), 60, "the store process")
        owner.kill()
        owner.wait(timeout=30)
        err = owner.stderr.read()  # to EOF: the child holds the pipe until it exits
        assert not psutil.pid_exists(child.pid) or child.status() == psutil.STATUS_ZOMBIE
        assert "Traceback" not in err, err
    finally:
        owner.kill()
        owner.wait(timeout=30)
        owner.stderr.close()


def test_a_directory_in_use_is_a_clear_error(tmp_path: Path) -> None:
    holder = ChdbStore(tmp_path / "chdb")
    try:
        with pytest.raises(StorageError, match="in use by another process"):
            ChdbProcessStore(tmp_path / "chdb", open_wait_s=0.5)
    finally:
        holder.close()


def test_a_directory_in_use_names_its_holder_without_chdb_s_lines_at_every_try(tmp_path: Path, capfd) -> None:
    """A spine started while another process held its store (a ``ben query --data-dir`` of it, a baseline export):
    the store process tried again for ``open_wait_s`` and chDB printed "Code: 76. DB::Exception: Cannot lock file
    …" on stderr at every try, about 60 lines before the spine's one error line (ADR 0033 round 11). Now the
    error alone, naming the process that holds the store."""
    holder = ChdbStore(tmp_path / "chdb")
    try:
        capfd.readouterr()
        with pytest.raises(StorageError) as refused:
            ChdbProcessStore(tmp_path / "chdb", open_wait_s=1.0)
    finally:
        holder.close()
    err = capfd.readouterr().err
    assert f"in use by another process (pid {os.getpid()}: " in str(refused.value), refused.value
    assert "Cannot lock file" not in err and "DB::Exception" not in err, err


def test_close_stops_the_child_and_twice_is_harmless(tmp_path: Path) -> None:
    s = ChdbProcessStore(tmp_path / "chdb")
    pid = s.pid
    s.close()
    s.close()
    assert s.pid is None and not _alive(pid)


SLOW_QUERY = "SELECT sleepEachRow(0.5) FROM numbers(4)"  # 2 s in the child, one block


def _running(ask, needle: str) -> bool:
    return ask(f"SELECT count() FROM system.processes WHERE query LIKE '%{needle}%' "
               "AND query NOT LIKE '%system.processes%'")[0][0] > 0


def test_an_urgent_insert_runs_beside_a_call_in_flight(store) -> None:
    """The alert lane's channel has its own thread and chDB connection in the child: its INSERT
    does not wait for the main channel's call to finish."""
    done = threading.Event()

    def slow() -> None:
        store.query_json(SLOW_QUERY)
        done.set()

    worker = threading.Thread(target=slow)
    worker.start()
    ask = lambda sql: store._call("rows", sql, channel="urgent")  # noqa: E731
    wait_for(lambda: _running(ask, "sleepEachRow"), 30, "the slow query to run in the child")
    store.urgent().insert_events(to_table([(1, metric_request(1, 2, 1))]))
    assert not done.is_set(), "the urgent INSERT waited for the slow query"
    worker.join()
    assert store.count_rows() == 2
    assert store.urgent().max_spine_seq(0) == 1 and store.urgent().count_by_spine_seq(0, 1, 1) == {1: 2}


def test_a_read_that_meets_a_killed_child_is_asked_again_of_the_new_one(store) -> None:
    """query_json / query_arrow have no side effect: the spine's own reads (``ben audit verify``'s
    copy of ben.audit, the mirror's high-water mark) do not fail because the child died meanwhile."""
    store.insert_events(to_table([(1, metric_request(1, 4, 1))]))
    first = store.pid
    os.kill(first, signal.SIGKILL)
    assert b'"n":' in store.query_json("SELECT count() AS n FROM ben.events").replace(b" ", b"")
    os.kill(store.pid, signal.SIGKILL)
    assert store.query_arrow("SELECT count() AS n FROM ben.events").column("n").to_pylist() == [4]
    assert store.pid != first and store.starts == 3


def test_a_killed_child_fails_each_channel_once_and_both_come_back(store) -> None:
    store.insert_events(to_table([(1, metric_request(1, 2, 1))]))
    os.kill(store.pid, signal.SIGKILL)
    with pytest.raises(StorageError, match="store process .* failed during insert_events"):
        store.urgent().insert_events(to_table([(2, metric_request(3, 1, 2))]))
    store.urgent().insert_events(to_table([(2, metric_request(3, 1, 2))]))  # a new child
    assert store.count_rows() == 3 and store.starts == 2  # the main channel follows to the new child


def test_a_killed_child_loses_only_its_unflushed_buffer(store) -> None:
    """The urgent buffer lives in the child's memory: what a sync flushed survives a kill -9, what
    was buffered after it does not (the spine's WAL still holds it: tests/spine/test_store_writer.py),
    and the new child makes its buffer again."""
    store.urgent().insert_events(alert_table(1, 2, 1))
    store.sync()
    store.urgent().insert_events(alert_table(3, 1, 2))
    os.kill(store.pid, signal.SIGKILL)
    with pytest.raises(StorageError, match="store process .* failed during count_rows"):
        store.count_rows()
    assert store.count_rows() == 2 and store.max_spine_seq(pb.LANE_ALERT) == 1
    store.urgent().insert_events(alert_table(3, 1, 2))  # the new child's buffer
    store.sync()
    assert store.rows("SELECT count() FROM ben.events") == [(3,)]


@pytest.mark.timeout(600)
def test_an_insert_on_a_full_disk_raises_and_stores_nothing(tmp_path: Path) -> None:
    """chDB on a full disk: the INSERT fails loudly (never "written" with nothing stored), and
    works again once there is room."""
    from tests.core.test_wal_faults import fill, tmpfs

    with tmpfs(tmp_path / "disk", "32m") as disk:
        store = ChdbProcessStore(disk / "chdb")
        try:
            store.insert_events(to_table([(1, metric_request(1, 5, 1))]))
            filler = fill(disk / "filler")
            with pytest.raises(StorageError, match="(?i)space|write"):
                for seq in range(2, 50):  # until a part does not fit
                    store.insert_events(to_table([(seq, metric_request(seq * 1000, 500, seq))]))
            failed = seq
            filler.unlink()
            stored = store.count_by_spine_seq(0, 1, failed)
            assert failed not in stored and sum(stored.values()) == 5 + 500 * (failed - 2)
            store.insert_events(to_table([(failed, metric_request(failed * 1000, 500, failed))]))
            assert store.count_by_spine_seq(0, failed, failed) == {failed: 500}
        finally:
            store.close()


def test_a_module_file_in_the_current_directory_is_not_imported(tmp_path: Path, monkeypatch) -> None:
    """The store process ran as ``python -m``, which puts the current directory first on sys.path: a
    ``chdb.py`` where the spine was started made it say "a damaged store, or not a chDB store" (ADR 0033)."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    (cwd / "chdb.py").write_text('raise ImportError("chdb.py of the current directory imported")\n')
    monkeypatch.chdir(cwd)
    s = ChdbProcessStore(tmp_path / "chdb")
    try:
        assert s.query_arrow("SELECT 1 AS one").column("one").to_pylist() == [1]
    finally:
        s.close()
