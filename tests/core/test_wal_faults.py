"""The WAL against real damage: RocksDB files corrupted or cut on disk, and a full disk (tmpfs).

Corruption cases: (a) bytes flipped inside RocksDB's log (records fsync'd, not yet flushed to
a table), (b) the log cut mid-record (a torn tail), (c) bytes flipped inside a table file
after a flush, found at open and found later by a read, (e) a damaged MANIFEST. The
value-level checksum case (d) is in test_wal.py. Full-disk cases mount a small tmpfs
(we run as root); a failed mount fails the test, it never skips it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ben.cli.procs import wait_for
from ben.core.errors import WalError
from ben.core.interpreter import python_argv
from ben.core.wal import Wal

LOG_BLOCK = 32 << 10   # RocksDB log block: damage loses at most the rest of one
SST_BLOCK = 4 << 10    # RocksDB table data block (default block_size)
N = 300
SIZE = 300


# -- helpers ------------------------------------------------------------------------------------------
@contextlib.contextmanager
def tmpfs(mountpoint: Path, size: str = "8m") -> Iterator[Path]:
    """Mount a size-limited tmpfs at mountpoint (created if missing); unmount afterwards."""
    mountpoint.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(mountpoint)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.fail(f"cannot mount a {size} tmpfs at {mountpoint} (the full-disk tests need root and "
                    f"tmpfs): {done.stderr.strip() or done.returncode}")
    try:
        yield mountpoint
    finally:
        if subprocess.run(["umount", str(mountpoint)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(mountpoint)], capture_output=True)


def fill(path: Path, leave: int = 0) -> Path:
    """Write path until only about `leave` bytes are free on its filesystem (none if 0)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for chunk in (64 << 10, 4096, 512, 1):
            while shutil.disk_usage(path.parent).free > leave + chunk or (leave == 0 and chunk <= 4096):
                try:
                    os.write(fd, b"\0" * chunk)
                except OSError:
                    break
    finally:
        os.close(fd)
    return path


def payloads(n: int = N, size: int = SIZE, seed: int = 7) -> dict[int, bytes]:
    """Distinct, incompressible payloads numbered from 1: identity is checked byte for byte."""
    rnd = random.Random(seed)
    return {seq: f"record-{seq:06d}:".encode() + rnd.randbytes(size) for seq in range(1, n + 1)}


def crash_image(records: dict[int, bytes], live: Path, image: Path) -> None:
    """The files of a WAL whose process died after its appends: the records are in RocksDB's log only."""
    wal = Wal(live)
    for seq, payload in records.items():
        assert wal.append([payload]) == (seq, seq)  # one fsync'd batch each
    shutil.copytree(live, image)  # the disk as a SIGKILL would leave it
    wal.close()


def flushed(records: dict[int, bytes], path: Path) -> Path:
    """A WAL closed cleanly: its records are flushed to a table file; return that file."""
    wal = Wal(path)
    wal.append(list(records.values()))
    wal.close()
    ssts = list(path.glob("*.sst"))
    assert len(ssts) == 1 and all(p.stat().st_size == 0 for p in path.glob("*.log")), sorted(path.iterdir())
    return ssts[0]


def only(path: Path, pattern: str) -> Path:
    found = list(path.glob(pattern))
    assert len(found) == 1, f"expected one {pattern} in {path}: {sorted(path.iterdir())}"
    return found[0]


def flip(path: Path, offset: int, n: int = 8) -> bytes:
    """Flip n bytes at offset in the file; return the damaged file's bytes."""
    data = bytearray(path.read_bytes())
    for i in range(offset, offset + n):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))
    return bytes(data)


def read_all(wal: Wal) -> dict[int, bytes]:
    return {r.seq: r.payload for r in wal.read(0, max_records=1 << 20)}


def check_survivors(got: dict[int, bytes], written: dict[int, bytes], max_lost: int) -> list[int]:
    """Every surviving record is byte-identical; the lost ones are one short run inside the written range."""
    assert all(got[seq] == written[seq] for seq in got), "a surviving record changed"
    assert set(got) <= set(written)
    lost = sorted(set(written) - set(got))
    assert lost, "the damage lost nothing: the test did not hit a record"
    assert lost == list(range(lost[0], lost[-1] + 1)), f"lost records are not one run: {lost}"
    assert len(lost) <= max_lost, f"lost {len(lost)} records, more than one damaged block holds"
    return lost


def check_quarantined(quarantine: Path, name: str, damaged: bytes) -> Path:
    """The damaged database was moved, untouched, to a directory named for the WAL."""
    moved = only(quarantine, "wal.damaged-*")
    assert (moved / name).read_bytes() == damaged
    return moved


def check_goes_on(path: Path, quarantine: Path, survivors: dict[int, bytes], next_seq: int) -> None:
    """After the repair the WAL takes appends, and they and the survivors outlive a reopen."""
    wal = Wal(path, quarantine)
    assert wal.corruption_events == 0  # repaired for good
    assert wal.append([b"after-1", b"after-2"]) == (next_seq, next_seq + 1)
    wal.close()
    wal = Wal(path, quarantine)
    assert read_all(wal) == {**survivors, next_seq: b"after-1", next_seq + 1: b"after-2"}
    assert wal.corruption_events == 0 and wal.last_seq == next_seq + 1
    wal.close()


def errors_naming(caplog, text: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR and text in r.getMessage()]


# -- corruption ---------------------------------------------------------------------------------------------
def test_flipped_bytes_in_rocksdb_log_are_quarantined_and_the_rest_kept(tmp_path: Path, caplog) -> None:
    written = payloads()
    crash_image(written, tmp_path / "live", tmp_path / "wal")
    log_file = only(tmp_path / "wal", "*.log")
    assert log_file.stat().st_size > 3 * LOG_BLOCK
    damaged = flip(log_file, LOG_BLOCK + 5_000)  # inside the second 32 KiB block

    with caplog.at_level(logging.ERROR, "ben.core.wal"):
        wal = Wal(tmp_path / "wal", tmp_path / "quarantine")
    assert wal.corruption_events == 1
    got = read_all(wal)
    lost = check_survivors(got, written, max_lost=LOG_BLOCK // SIZE + 1)
    assert lost[0] > 1 and lost[-1] < N  # records before and after the damaged block survive
    assert wal.depth == len(got) and wal.last_seq == N
    check_quarantined(tmp_path / "quarantine", log_file.name, damaged)
    assert errors_naming(caplog, log_file.name), caplog.text
    wal.close()
    check_goes_on(tmp_path / "wal", tmp_path / "quarantine", got, N + 1)


def test_torn_log_tail_loses_only_the_last_batch(tmp_path: Path, caplog) -> None:
    written = payloads()
    crash_image(written, tmp_path / "live", tmp_path / "wal")
    log_file = only(tmp_path / "wal", "*.log")
    with open(log_file, "r+b") as f:
        f.truncate(log_file.stat().st_size - SIZE // 2)  # cut inside the last record
    damaged = log_file.read_bytes()

    with caplog.at_level(logging.ERROR, "ben.core.wal"):
        wal = Wal(tmp_path / "wal", tmp_path / "quarantine")
    assert wal.corruption_events == 1
    got = read_all(wal)
    assert check_survivors(got, written, max_lost=1) == [N]  # only the torn batch (never acknowledged)
    check_quarantined(tmp_path / "quarantine", log_file.name, damaged)
    assert errors_naming(caplog, log_file.name), caplog.text
    wal.close()
    # The torn record's seq may be handed out again: it was never acknowledged, so nobody saw it.
    check_goes_on(tmp_path / "wal", tmp_path / "quarantine", got, N)


def test_flipped_bytes_in_a_table_file_found_at_open(tmp_path: Path, caplog) -> None:
    written = payloads()
    sst = flushed(written, tmp_path / "wal")
    damaged = flip(sst, sst.stat().st_size * 2 // 5)  # a data block, not the index at the end

    with caplog.at_level(logging.ERROR, "ben.core.wal"):
        wal = Wal(tmp_path / "wal", tmp_path / "quarantine")
    assert wal.corruption_events == 1
    got = read_all(wal)
    lost = check_survivors(got, written, max_lost=SST_BLOCK // SIZE + 1)
    assert lost[0] > 1 and lost[-1] < N
    assert wal.depth == len(got) and wal.last_seq == N
    check_quarantined(tmp_path / "quarantine", sst.name, damaged)
    assert errors_naming(caplog, sst.name), caplog.text
    wal.close()
    check_goes_on(tmp_path / "wal", tmp_path / "quarantine", got, N + 1)


def test_flipped_bytes_in_a_table_file_found_by_a_read(tmp_path: Path, caplog) -> None:
    written = payloads()
    sst = flushed(written, tmp_path / "wal")
    wal = Wal(tmp_path / "wal", tmp_path / "quarantine")  # healthy at open
    assert wal.corruption_events == 0 and wal.depth == N
    damaged = flip(sst, sst.stat().st_size * 2 // 5)  # bit rot under a running process

    with caplog.at_level(logging.ERROR, "ben.core.wal"):
        got = read_all(wal)
    assert wal.corruption_events == 1
    lost = check_survivors(got, written, max_lost=SST_BLOCK // SIZE + 1)
    assert lost[0] > 1 and lost[-1] < N
    assert wal.depth == len(got) and wal.first_seq == 1
    check_quarantined(tmp_path / "quarantine", sst.name, damaged)
    assert errors_naming(caplog, sst.name), caplog.text
    assert wal.append([b"after"]) == (N + 1, N + 1)  # the same object goes on
    wal.close()
    check_goes_on(tmp_path / "wal", tmp_path / "quarantine", {**got, N + 1: b"after"}, N + 2)


def test_damaged_manifest_is_repaired(tmp_path: Path) -> None:
    written = payloads()
    flushed(written, tmp_path / "wal")
    manifest = only(tmp_path / "wal", "MANIFEST-*")
    damaged = flip(manifest, 20, 16)

    wal = Wal(tmp_path / "wal", tmp_path / "quarantine")
    assert wal.corruption_events == 1
    assert read_all(wal) == written  # RocksDB's repair finds every table again
    check_quarantined(tmp_path / "quarantine", manifest.name, damaged)
    wal.close()
    check_goes_on(tmp_path / "wal", tmp_path / "quarantine", written, N + 1)


def test_lost_last_seq_never_renumbers(tmp_path: Path) -> None:
    """Everything in the damaged block, last_seq included, is gone: numbering still goes on above."""
    wal = Wal(tmp_path / "wal")
    wal.append([b"x"] * 50)
    wal.truncate(50)  # shipped and deleted
    wal.close()
    sst = only(tmp_path / "wal", "*.sst")
    flip(sst, 10)  # the only data block: the metadata
    wal = Wal(tmp_path / "wal", tmp_path / "quarantine")
    assert wal.corruption_events == 1 and wal.depth == 0
    assert wal.last_seq >= 50
    first, _ = wal.append([b"y"])
    assert first > 50
    wal.close()


CHILD = """
import sys
from ben.core.wal import Wal
wal = Wal(sys.argv[1])
seq = 0
while True:
    seq, _ = wal.append([(b"%d:" % (seq + 1)) * 500])
    print(seq, flush=True)  # acknowledged: on disk
"""


def test_process_killed_mid_append_keeps_every_acknowledged_record(tmp_path: Path) -> None:
    with subprocess.Popen([sys.executable, "-c", CHILD, str(tmp_path / "wal")], stdout=subprocess.PIPE,
                          text=True) as child:
        try:
            acked = [int(child.stdout.readline()) for _ in range(300)]
        finally:
            child.kill()  # SIGKILL, most likely in the middle of an append
        acked += [int(line) for line in child.stdout.read().split()]  # every ack it printed
    wal = Wal(tmp_path / "wal", tmp_path / "quarantine")
    got = read_all(wal)
    assert all(got[seq] == (b"%d:" % seq) * 500 for seq in range(1, acked[-1] + 1))
    assert max(got) <= acked[-1] + 1  # at most the batch in flight, never acknowledged
    assert wal.append([b"after"])[0] == max(got) + 1
    wal.close()


# -- full disk ----------------------------------------------------------------------------------------------
@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    with tmpfs(tmp_path / "disk", "8m") as mountpoint:
        yield mountpoint


def append_until_full(wal: Wal, size: int = 16 << 10) -> tuple[dict[int, bytes], WalError]:
    rnd = random.Random(1)
    appended: dict[int, bytes] = {}
    for _ in range(10_000):
        payload = rnd.randbytes(size)
        try:
            first, _ = wal.append([payload], {"hwm:s": first_or(appended).to_bytes(8, "big")})
        except WalError as exc:
            return appended, exc
        appended[first] = payload
    raise AssertionError("the disk never filled")


def first_or(appended: dict[int, bytes]) -> int:
    return max(appended, default=0) + 1


def append_when_room(wal: Wal, payload: bytes) -> int:
    """Append as soon as the WAL takes it again (it reopens itself); return the seq."""
    def attempt():
        try:
            return wal.append([payload])[0]
        except WalError:
            return None
    return wait_for(attempt, 60, "the WAL to take appends again")


def test_full_disk_refuses_then_resumes_without_restart(disk: Path, caplog) -> None:
    path = disk / "wal"
    wal = Wal(path, disk / "quarantine")
    filler = fill(disk / "filler", leave=3 << 20)
    with caplog.at_level(logging.ERROR, "ben.core.wal"):
        appended, exc = append_until_full(wal)
    assert len(appended) > 20
    assert "disk full" in str(exc) and str(path) in str(exc), exc
    assert not wal.writable and wal.write_errors >= 1
    with pytest.raises(WalError, match="disk full"):  # refused again, quickly, still naming the path
        wal.append([b"more"])
    with pytest.raises(WalError, match=str(path)):
        wal.put_meta("hwm:s", b"\0" * 8)
    # Nothing already there is damaged or lost; reads go on while writes fail.
    assert read_all(wal) == appended
    assert wal.depth == len(appended) and wal.last_seq == max(appended)
    assert wal.get_meta("hwm:s") == max(appended).to_bytes(8, "big")
    wal.truncate(5)  # skipped while writes fail: no error, nothing lost
    assert wal.depth == len(appended)
    assert errors_naming(caplog, "disk full"), caplog.text

    filler.unlink()  # space returns
    seq = append_when_room(wal, b"after")
    assert seq == max(appended) + 1  # no gap, no seq handed out twice
    assert wal.writable and wal.corruption_events == 0
    assert read_all(wal) == {**appended, seq: b"after"}
    wal.truncate(5)
    assert wal.first_seq == 6
    wal.close()

    wal = Wal(path, disk / "quarantine")  # and it all survives a reopen
    expected = {s: p for s, p in {**appended, seq: b"after"}.items() if s > 5}
    assert read_all(wal) == expected and wal.last_seq == seq
    assert wal.get_meta("hwm:s") == max(appended).to_bytes(8, "big")
    assert not (disk / "quarantine").exists() or not any((disk / "quarantine").iterdir())
    wal.close()


MiB = 1 << 20


def set_free(filler: Path, free: int) -> None:
    """Grow or shrink filler until its filesystem has about `free` bytes free (another writer)."""
    now = shutil.disk_usage(filler.parent).free
    size = max(0, filler.stat().st_size + now - free)
    if size > filler.stat().st_size:
        with open(filler, "ab") as f:
            f.write(b"\0" * (size - filler.stat().st_size))
    else:
        os.truncate(filler, size)


def test_a_nearly_full_disk_refuses_early_and_resumes_past_a_margin_without_reopening(disk: Path) -> None:
    """Below min_free_bytes appends are refused before RocksDB fails; they are taken again only
    once resume_free_bytes are free (a free-space level between the two changes nothing), and
    nothing is reopened: 200 refusals and resumes later, the same database, memory flat. Before,
    writes went on to the last byte, then flapped, reopening RocksDB each time."""
    import psutil

    wal = Wal(disk / "wal", disk / "quarantine", min_free_bytes=2 * MiB, resume_free_bytes=4 * MiB)
    db = wal._db
    filler = disk / "filler"
    filler.write_bytes(b"")
    set_free(filler, 3 * MiB)
    appended, exc = append_until_full(wal)
    assert "disk full" in str(exc) and str(disk / "wal") in str(exc), exc
    assert shutil.disk_usage(disk).free >= MiB  # refused with room to spare: RocksDB never failed
    assert not wal.writable and "disk full" in wal.refusal and wal.write_errors == 1
    wal.truncate(max(appended) // 2)  # deletes go on: they are what frees the space
    set_free(filler, 3 * MiB)  # between the two thresholds: still refused
    with pytest.raises(WalError, match="disk full"):
        wal.append([b"x"])
    set_free(filler, 5 * MiB)
    assert wal.append([b"after"])[0] == max(appended) + 1 and wal.writable and wal.refusal == ""
    rss = psutil.Process().memory_info().rss
    for _ in range(200):  # the disk flaps around the thresholds: refused, then taken again
        set_free(filler, MiB)
        with pytest.raises(WalError, match="disk full"):
            wal.append([b"refused"])
        set_free(filler, 5 * MiB)
        wal.append([b"taken"])
    grown = psutil.Process().memory_info().rss - rss
    assert wal._db is db and wal.reopens == 0 and wal.resumes == 201
    assert grown < 16 * MiB, f"RSS grew by {grown / MiB:.0f} MiB over 200 refusals"
    wal.close()


def test_after_a_write_rocksdb_failed_the_wal_reopens_once_past_the_margin(tmp_path: Path) -> None:
    """A batch larger than the room left fails inside RocksDB (read-only until reopened). Then
    appends are refused without reopening while the free space stays under RocksDB's logs plus
    resume_free_bytes (before: a reopen every half second once its logs and 1 MiB fit), and the
    WAL reopens once, when it fits."""
    with tmpfs(tmp_path / "disk", "32m") as disk:
        wal = Wal(disk / "wal", disk / "quarantine", min_free_bytes=MiB, resume_free_bytes=6 * MiB)
        wal.append([b"first"])
        filler = disk / "filler"
        filler.write_bytes(b"")
        set_free(filler, 3 * MiB)
        with pytest.raises(WalError, match="disk full"):
            wal.append([random.Random(3).randbytes(4 * MiB)])  # more than the room: RocksDB fails
        assert not wal.writable and wal.reopens == 0
        set_free(filler, 5 * MiB)  # room for the logs and 1 MiB (the old rule), not for the margin
        deadline = time.monotonic() + 2.0  # four of the old attempts
        while time.monotonic() < deadline:
            with pytest.raises(WalError, match="disk full"):
                wal.append([b"refused"])
            time.sleep(0.05)
        assert wal.reopens == 0
        set_free(filler, wal._room_to_resume() + MiB)
        assert append_when_room(wal, b"after") == 2 and wal.reopens == 1 and wal.writable
        assert read_all(wal) == {1: b"first", 2: b"after"}
        wal.close()


def test_opened_on_a_full_disk_serves_reads_and_resumes(disk: Path) -> None:
    path = disk / "wal"
    wal = Wal(path)
    written = payloads(50)
    wal.append(list(written.values()))
    wal.close()
    filler = fill(disk / "filler")  # not a byte left

    wal = Wal(path)  # does not fail: read-only until there is room
    assert not wal.writable
    assert read_all(wal) == written
    with pytest.raises(WalError, match="disk full"):
        wal.append([b"x"])
    filler.unlink()
    assert append_when_room(wal, b"after") == 51
    wal.close()
    wal = Wal(path)
    assert read_all(wal) == {**written, 51: b"after"}
    wal.close()


def test_damage_found_on_a_full_disk_is_repaired_once_there_is_room(tmp_path: Path, disk: Path) -> None:
    """Two faults at once: the rebuild has no room, so the WAL serves reads until it has."""
    written = payloads()
    crash_image(written, tmp_path / "live", disk / "wal")
    log_file = only(disk / "wal", "*.log")
    damaged = flip(log_file, LOG_BLOCK + 5_000)
    filler = fill(disk / "filler")

    wal = Wal(disk / "wal", disk / "quarantine")  # opens all the same: read-only
    assert not wal.writable
    got = read_all(wal)
    lost = check_survivors(got, written, max_lost=LOG_BLOCK // SIZE + 1)
    with pytest.raises(WalError, match="disk full"):
        wal.append([b"x"])

    filler.unlink()
    assert append_when_room(wal, b"after") == N + 1
    assert wal.corruption_events == 1
    assert read_all(wal) == {**got, N + 1: b"after"}
    assert sorted(set(written) - set(got)) == lost
    check_quarantined(disk / "quarantine", log_file.name, damaged)
    wal.close()


def test_a_failed_log_sync_counts_as_not_written_and_is_undone(tmp_path: Path, monkeypatch, caplog) -> None:
    """The batch reached RocksDB, but fdatasync of its log failed: refused, undone at the reopen."""
    import errno

    path = tmp_path / "wal"
    wal = Wal(path)
    wal.append([b"one"], {"hwm:s": (1).to_bytes(8, "big")})
    synced = []
    real_sync = wal._log_sync.sync

    def failing_sync() -> None:
        synced.append(1)
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(wal._log_sync, "sync", failing_sync)
    with caplog.at_level(logging.ERROR, "ben.core.wal"), pytest.raises(WalError, match="syncing the log files failed"):
        wal.append([b"two"], {"hwm:s": (2).to_bytes(8, "big")})
    assert synced and not wal.writable and wal.write_errors == 1
    assert errors_naming(caplog, "syncing the log files failed"), caplog.text
    with pytest.raises(WalError, match="sync failed"):  # refused until the database is reopened
        wal.append([b"three"])
    monkeypatch.setattr(wal._log_sync, "sync", real_sync)
    seq = append_when_room(wal, b"after")
    assert seq == 2  # the failed batch's seq is handed out again: it never counted
    assert read_all(wal) == {1: b"one", 2: b"after"}
    assert wal.get_meta("hwm:s") == (1).to_bytes(8, "big")  # its metadata was undone too
    wal.close()
    wal = Wal(path)  # and so it stays after a reopen
    assert read_all(wal) == {1: b"one", 2: b"after"} and wal.get_meta("hwm:s") == (1).to_bytes(8, "big")
    wal.close()


def test_log_sync_follows_rocksdb_to_new_log_files(tmp_path: Path) -> None:
    """Past a memtable switch RocksDB writes a new log file: every one present is synced."""
    from ben.core.wal import WRITE_BUFFER_BYTES

    wal = Wal(tmp_path / "wal")
    big = os.urandom(1 << 20)
    wal.append([big])
    first_logs = set(wal._log_sync._fds)
    assert len(first_logs) == 1
    for _ in range(3 * WRITE_BUFFER_BYTES // len(big) - 1):
        wal.append([big])
    present = {(e.name, e.inode()) for e in os.scandir(tmp_path / "wal") if e.name.endswith(".log")}
    assert set(wal._log_sync._fds) == present  # exactly the log files there now
    assert first_logs != present  # RocksDB moved on to a new log on the way
    assert len(read_all(wal)) == 3 * WRITE_BUFFER_BYTES // len(big)
    wal.close()
    assert not wal._log_sync._fds


def test_a_file_where_the_wal_directory_belongs_is_said_so(tmp_path: Path) -> None:
    """RocksDB's own words were "File exists (os error 17)"."""
    (tmp_path / "wal-alert").write_text("")
    with pytest.raises(WalError, match=r"wal-alert: a file, not a directory \(a WAL is a directory of its own"):
        Wal(tmp_path / "wal-alert")
    assert (tmp_path / "wal-alert").read_text() == ""


def test_a_torn_tail_that_looks_like_a_recycled_log_record_is_cut_not_looped_on(tmp_path: Path) -> None:
    """Random bytes appended to the log (the crash harness's torn tail) whose header has a recycled-log type
    and a length past its block: RocksDB's recovery looped forever on them in every mode, and the sidecar's
    start hung at full CPU without a word (ADR 0046 round 4). The open runs in a process of its own, so the
    old code fails the test by its deadline instead of hanging it."""
    written = payloads()
    crash_image(written, tmp_path / "live", tmp_path / "wal")
    log_file = only(tmp_path / "wal", "*.log")
    garbage = random.Random(3).randbytes(4) + (0xFFFF).to_bytes(2, "little") + b"\x05" + random.Random(4).randbytes(56)
    with open(log_file, "ab") as f:
        f.write(garbage)
    damaged = log_file.read_bytes()
    script = ("import sys; from pathlib import Path; from ben.core.wal import Wal\n"
              "w = Wal(Path(sys.argv[1]), Path(sys.argv[2])); print(w.corruption_events, w.depth); w.close()")
    try:
        out = subprocess.run(python_argv("-c", script, str(tmp_path / "wal"), str(tmp_path / "quarantine")),
                             capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("opening the WAL did not return in 60 s (RocksDB's recovery looping on the tail)")
    assert out.returncode == 0 and out.stdout.split() == ["1", str(N)], out.stderr
    assert "recycled-log record header" in out.stderr and log_file.name in out.stderr, out.stderr
    check_quarantined(tmp_path / "quarantine", log_file.name, damaged)
    wal = Wal(tmp_path / "wal", tmp_path / "quarantine")
    assert read_all(wal) == written  # every record before the garbage
    wal.close()
