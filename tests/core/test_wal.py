from __future__ import annotations

from pathlib import Path

from rocksdict import Options, Rdict

from ben.core.wal import Wal, _key


def test_append_read_truncate_survive_reopen(tmp_path: Path) -> None:
    wal = Wal(tmp_path / "wal")
    assert wal.append([b"a", b"b", b"c"]) == (1, 3)
    assert wal.append([b"d"]) == (4, 4)
    assert [(r.seq, r.payload) for r in wal.read(0)] == [(1, b"a"), (2, b"b"), (3, b"c"), (4, b"d")]
    assert [r.seq for r in wal.read(2, max_records=1)] == [3]
    wal.truncate(2)
    assert wal.depth == 2 and wal.first_seq == 3
    wal.close()

    wal = Wal(tmp_path / "wal")
    assert [r.payload for r in wal.read(0)] == [b"c", b"d"]
    assert wal.depth == 2 and wal.nbytes > 0 and wal.last_seq == 4
    wal.truncate(4)
    wal.close()

    wal = Wal(tmp_path / "wal")  # empty, yet numbering goes on: a consumer never sees a seq twice
    assert wal.depth == 0 and wal.first_seq is None
    assert wal.append([b"e"]) == (5, 5)
    wal.close()


def test_metadata_is_written_with_the_records(tmp_path: Path) -> None:
    wal = Wal(tmp_path / "wal")
    wal.append([b"x"], {"hwm:a": (7).to_bytes(8, "big")})
    wal.put_meta("hwm:b", (9).to_bytes(8, "big"))
    wal.close()
    wal = Wal(tmp_path / "wal")
    assert dict(wal.iter_meta("hwm:")) == {"hwm:a": (7).to_bytes(8, "big"), "hwm:b": (9).to_bytes(8, "big")}
    assert wal.get_meta("absent") is None
    wal.close()


def test_each_durable_write_is_timed_for_the_figures(tmp_path: Path) -> None:
    from ben.core.figures import flat
    from ben.core.lanes import ALERT, Quota, wal_figures

    wal = Wal(tmp_path / "wal")
    assert wal.syncs == 0 and wal.sync_quantiles(60) == {}
    for payload in (b"a", b"b", b"c"):
        wal.append([payload])
    wal.put_meta("hwm:a", b"1")  # metadata alone is fsync'd too
    assert wal.syncs == 4
    q = wal.sync_quantiles(60)
    assert set(q) == {0.5, 0.99, 1.0} and 0 < q[0.5] <= q[0.99] <= q[1.0]
    figures = flat(wal_figures({ALERT: wal}, Quota(64 << 20, 4 << 20, 4 << 20)))
    assert figures["wal_syncs_total{lane=alert}"] == 4
    assert figures["wal_sync_seconds{lane=alert,quantile=0.99}"] == q[0.99]
    wal.close()


def test_truncate_deletes_record_by_record_never_a_range(tmp_path: Path) -> None:
    """A range deletion per truncate piles up in RocksDB's memtable and every later read and write
    fragments them all again (ben bench wal: a cycle took 24 ms after 1,500 of them); point deletes
    do not. So truncating a WAL after each record (the alert lane) must stay point deletes."""
    wal = Wal(tmp_path / "wal")
    for _ in range(5):
        wal.append([b"x"])
        wal.truncate(wal.last_seq)
    wal.append([b"a", b"b", b"c"])
    wal.truncate(wal.last_seq - 1)
    deletes = wal._reading(lambda db: db.property_int_value("rocksdb.num-deletes-active-mem-table"))
    assert deletes == 5 + 2  # one per record truncated (a range deletion is not counted here)
    assert [r.payload for r in wal.read(0)] == [b"c"]
    wal.close()
    wal = Wal(tmp_path / "wal")
    assert [r.payload for r in wal.read(0)] == [b"c"] and wal.last_seq == 8
    wal.close()


def test_advance_skips_numbers(tmp_path: Path) -> None:
    wal = Wal(tmp_path / "wal")
    wal.advance(100)
    assert wal.append([b"x"]) == (101, 101)
    wal.close()
    wal = Wal(tmp_path / "wal")
    assert wal.last_seq == 101
    wal.close()


def test_corrupt_record_is_quarantined_and_skipped(tmp_path: Path) -> None:
    wal = Wal(tmp_path / "wal", tmp_path / "quarantine")
    wal.append([b"good-1", b"bad", b"good-2"])
    wal.close()
    # Damage record 2 on disk, behind the WAL's back.
    opts = Options(raw_mode=True)
    db = Rdict(str(tmp_path / "wal"), opts)
    value = bytearray(db[_key(2)])
    value[-1] ^= 0xFF
    db[_key(2)] = bytes(value)
    db.close()

    wal = Wal(tmp_path / "wal", tmp_path / "quarantine")
    assert [r.payload for r in wal.read(0)] == [b"good-1", b"good-2"]
    assert wal.corrupt_records == 1
    side = list((tmp_path / "quarantine").iterdir())
    assert len(side) == 1 and side[0].read_bytes() == bytes(value)
    assert [r.payload for r in wal.read(0)] == [b"good-1", b"good-2"]
    assert wal.corrupt_records == 1 and wal.depth == 2
    wal.close()


def test_a_quarantined_record_is_synced_to_its_side_file_before_the_log_lets_it_go(tmp_path: Path,
                                                                                 monkeypatch) -> None:
    """A record moved out of the log (a later hop refused it) was written to its side file unsynced, then deleted
    from the log: a power cut between could keep neither. The side file is now synced (and its directory) first."""
    import os

    wal = Wal(tmp_path / "wal", tmp_path / "quarantine")
    wal.append([b"kept", b"refused"])
    synced: list[str] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(os.readlink(f"/proc/self/fd/{fd}")), real_fsync(fd))[1])
    wal.quarantine(2, "refused by the store")
    side = list((tmp_path / "quarantine").iterdir())
    assert len(side) == 1 and side[0].read_bytes().endswith(b"refused")
    quarantine = str(tmp_path / "quarantine")
    assert any(path.startswith(quarantine + "/") for path in synced) and quarantine in synced  # file, directory
    assert [r.payload for r in wal.read(0)] == [b"kept"]
    wal.close()
