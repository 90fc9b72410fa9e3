"""WAL truncation benchmark: does a WAL truncated after every record slow down as it goes?

    ben bench wal [--cycles N] [--dir D] [--json]

The alert lane's WALs see one append and one truncate per alert, for as long as the process
runs. Each cycle here is what they do: a durable ``Wal.append`` of one 300-byte record (with a
metadata key, as the receivers write their high-water marks), then ``Wal.truncate`` of it. The
cycles run in ``--dir`` (default ``/dev/shm`` where it exists: a tmpfs, so fsync costs nothing and
what is measured is RocksDB, not the disk). Reported: the median cycle over the first and the
last 500 cycles, and their ratio (1.0: no slow-down).

Baselines, measured in the same run on raw RocksDB (rocksdict, same options, no fsync): a put
then a delete of the same key, as ``Wal`` now truncates (point deletes), and a put then a range
deletion from key 0, as it did before (ADR 0026), over fewer cycles (``--cycles`` / 2: its cost
grows with the square of the count).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

BLOCK = 500
PAYLOAD = b"x" * 300


def _say(progress: bool, msg: str) -> None:
    if progress:
        print(msg, file=sys.stderr, flush=True)


def _blocks(cycle, n: int) -> tuple[float, float]:
    """Median microseconds of one cycle over the first and the last BLOCK of n cycles."""
    times = []
    for i in range(n):
        started = time.perf_counter()
        cycle(i + 1)
        times.append((time.perf_counter() - started) * 1e6)
    return statistics.median(times[:BLOCK]), statistics.median(times[-BLOCK:])


def _wal(root: Path, n: int) -> tuple[float, float]:
    from ben.core.wal import Wal

    wal = Wal(root / "wal")
    mark = {"hwm:bench": b"\0" * 8}

    def cycle(i: int) -> None:
        wal.append([PAYLOAD], mark)
        wal.truncate(wal.last_seq)

    try:
        return _blocks(cycle, n)
    finally:
        wal.close()


def _raw(root: Path, n: int, ranged: bool) -> tuple[float, float]:
    from rocksdict import Rdict, WriteBatch

    from ben.core.wal.rocks import _open_mode, _options

    db = Rdict(str(root), _options(_open_mode()))
    key = lambda i: b"r" + i.to_bytes(8, "big")  # noqa: E731

    def cycle(i: int) -> None:
        db.get(b"m:hwm")
        wb = WriteBatch(raw_mode=True)
        wb.put(key(i), PAYLOAD)
        wb.put(b"m:hwm", i.to_bytes(8, "big"))
        db.write(wb)
        wb = WriteBatch(raw_mode=True)
        if ranged:
            wb.delete_range(key(0), key(i + 1))
        else:
            wb.delete(key(i))
        db.write(wb)

    try:
        return _blocks(cycle, n)
    finally:
        db.close()


def run(cycles: int = 3000, directory: str | None = None, progress: bool = True) -> dict:
    if cycles < 2 * BLOCK:
        raise ValueError(f"cycles must be at least {2 * BLOCK}, got {cycles}")
    directory = directory or ("/dev/shm" if os.path.isdir("/dev/shm") else None)
    _say(progress, f"ben bench wal: {cycles:,} append-and-truncate cycles in {directory or tempfile.gettempdir()}")
    with tempfile.TemporaryDirectory(prefix="ben-bench-wal-", dir=directory) as tmp:
        root = Path(tmp)
        first, last = _wal(root / "ben", cycles)
        _say(progress, f"  Wal: {first:.0f} us per cycle over the first {BLOCK}, {last:.0f} us over the last {BLOCK}")
        point = _raw(root / "point", cycles, ranged=False)
        _say(progress, f"  raw RocksDB, point deletes: {point[0]:.0f} -> {point[1]:.0f} us")
        ranged_cycles = max(2 * BLOCK, cycles // 2)
        ranged = _raw(root / "ranged", ranged_cycles, ranged=True)
        _say(progress, f"  raw RocksDB, a range deletion from 0 per truncate ({ranged_cycles:,} cycles): "
                       f"{ranged[0]:.0f} -> {ranged[1]:.0f} us")
    return {
        "cycles": cycles,
        "cycle_us_first": first,
        "cycle_us_last": last,
        "ratio": last / first,
        "baseline_point_us_first": point[0],
        "baseline_point_us_last": point[1],
        "baseline_range_cycles": ranged_cycles,
        "baseline_range_us_first": ranged[0],
        "baseline_range_us_last": ranged[1],
        "baseline_range_ratio": ranged[1] / ranged[0],
        "directory": directory or tempfile.gettempdir(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
    }


if __name__ == "__main__":
    print(json.dumps(run()))
