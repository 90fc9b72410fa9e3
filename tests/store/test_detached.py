"""Parts the store engine set aside as it opened the data are said and counted (ADR 0046, round 7).

chDB, like ClickHouse, moves a part it cannot load at start (here: its checksums emptied) to the table's
``detached/`` directory as ``broken-on-start_...`` and answers without its rows, saying nothing: the kill -9
harness once found 12 % of what was acknowledged missing from a store that had been killed many times, and
nothing in any log named a cause. Each open now says such parts in one line and counts them.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from ben.cli.procs import wait_for
from ben.core.errors import StoreUnavailableError
from ben.store import ChdbProcessStore
from ben.store.detached import SAID
from ben.store.rows import to_table
from tests.crash.harness import outside_harness
from tests.store.test_chdb import metric_request


def _gone(pid: int) -> bool:
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return done != 0


def test_a_part_broken_on_disk_when_the_store_process_restarts_is_said_and_counted(tmp_path: Path, capfd) -> None:
    store = ChdbProcessStore(tmp_path / "chdb")
    try:
        assert store.detached_parts == 0
        store.insert_events(to_table([(1, metric_request(1, 5, 1))]))
        store.insert_events(to_table([(2, metric_request(6, 3, 2))]))
        paths = [row[0] for row in store.rows(
            "SELECT path FROM system.parts WHERE database = 'ben' AND table = 'events' AND active ORDER BY name")]
        assert store.count_rows() == 8 and len(paths) == 2
        store.execute("SYSTEM STOP MERGES ben.events")  # (this engine's last act: the parts stay as they are)
        pid = store.pid
        os.kill(pid, signal.SIGKILL)  # as the harness kills it
        wait_for(lambda: _gone(pid), timeout=30, what="the killed store process")
        (Path(paths[1]) / "checksums.txt").write_bytes(b"")  # the second INSERT's part, torn
        capfd.readouterr()

        with pytest.raises(StoreUnavailableError):  # the call that finds the store process gone
            store.count_rows()
        assert store.count_rows() == 5  # the next call starts a new store process: without the second part's rows
        assert store.generation == 2 and store.detached_parts == 1
        said = [line for line in capfd.readouterr().err.splitlines() if SAID in line]
        assert len(said) == 1, said
        assert "1 part it could not load" in said[0] and "ben.events: 1 broken-on-start" in said[0], said[0]
        assert str(tmp_path / "chdb") in said[0]
        assert outside_harness().SET_ASIDE in said[0]  # the kill -9 harness reports this line as a finding
        assert os.listdir(Path(paths[1]).parent / "detached") == ["broken-on-start_" + Path(paths[1]).name]
    finally:
        store.close()



def _parts_on_disk(directory: Path) -> list[str]:
    return sorted(n for n in os.listdir(directory) if n[0].isdigit() or n.startswith("all_"))


def test_a_merged_part_set_aside_at_an_open_falls_back_to_its_sources_after_a_clean_up(tmp_path: Path) -> None:
    """A merge on a full disk left a part of empty files (seed 8901, round 7), set aside at the next open. chDB
    removed a merge's source parts at its next clean-up (``old_parts_lifetime`` 0), and the set-aside part then held
    the only copy of its rows; ben.events now keeps them as ClickHouse does (480 s), past that clean-up."""
    store = ChdbProcessStore(tmp_path / "chdb")
    try:
        store.execute("CREATE TABLE ben.__control (a UInt64) ENGINE = MergeTree ORDER BY a")  # chDB's default lifetime
        for seq in range(1, 4):
            store.insert_events(to_table([(seq, metric_request(seq * 10, 4, seq))]))
            store.execute(f"INSERT INTO ben.__control SELECT number FROM numbers({seq * 10}, 10)")
        store.execute("OPTIMIZE TABLE ben.events FINAL")
        store.execute("OPTIMIZE TABLE ben.__control FINAL")
        events, control = (Path(store.rows(f"SELECT data_paths[1] FROM system.tables WHERE database = 'ben' "
                                           f"AND name = '{name}'")[0][0]) for name in ("events", "__control"))
        merged = Path(store.rows("SELECT path FROM system.parts WHERE database = 'ben' AND table = 'events' "
                                 "AND active")[0][0])
        # The engine's clean-up has run once the control table's sources are gone.
        wait_for(lambda: len(_parts_on_disk(control)) == 1, timeout=300, what="chDB's clean-up of merged sources")
        assert len(_parts_on_disk(events)) == 4, _parts_on_disk(events)  # the merged part and its three sources
        pid = store.pid
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: _gone(pid), timeout=30, what="the killed store process")
        for f in merged.iterdir():  # as the full disk left it: every file empty
            f.write_bytes(b"")
        with pytest.raises(StoreUnavailableError):
            store.count_rows()
        assert store.count_rows() == 12 and store.detached_parts == 1  # the sources are back in service
    finally:
        store.close()
