"""What ``fsync_after_insert`` costs an INSERT into ben.events (ADR 0031): a same-run A/B.

    python bench/fsync_after_insert.py [--dir DIR] [--rounds R] [--json]

The ClickHouse engine here is chDB's (a modern ClickHouse, the same MergeTree code a server runs;
Debian's 18.16 server has no such setting). The store lives under DIR (default: a temp dir under
/var/tmp, on a real disk, not tmpfs). Each round inserts, with the setting off then on (the order
alternates by round, so drift on a shared machine hits both): 20 one-row INSERTs (an alert's) and
5 INSERTs of 3,000 rows (a routine run). Medians of the per-INSERT times over all rounds, and the
ratio on/off. The WAL side of the fallback (18.16) is not an INSERT cost: records stay in the WAL
``writeback_wait_s`` longer, that is ingest rate x 35 s more WAL bytes.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ben.store import ChdbStore  # noqa: E402
from ben.store.rows import to_table  # noqa: E402
from tests.store.test_chdb import metric_request  # noqa: E402

SHAPES = {"1 row": (1, 20), "3000 rows": (3000, 5)}  # rows per INSERT, INSERTs per round


def run(directory: Path, rounds: int) -> dict:
    store = ChdbStore(directory / "chdb")
    seq = 0
    times: dict[tuple[str, bool], list[float]] = {(shape, on): [] for shape in SHAPES for on in (False, True)}
    try:
        for r in range(rounds):
            for on in ((False, True) if r % 2 == 0 else (True, False)):
                store.execute(f"ALTER TABLE ben.events MODIFY SETTING fsync_after_insert = {int(on)}, "
                              f"fsync_part_directory = {int(on)}")
                for shape, (rows, count) in SHAPES.items():
                    for _ in range(count):
                        seq += 1
                        table = to_table([(seq, metric_request(seq * 10_000, rows, seq))])
                        started = time.perf_counter()
                        store.insert_events(table)
                        times[(shape, on)].append(time.perf_counter() - started)
    finally:
        store.close()
    out = {}
    for shape in SHAPES:
        off = statistics.median(times[(shape, False)]) * 1e3
        on = statistics.median(times[(shape, True)]) * 1e3
        out[shape] = {"off_ms": round(off, 2), "on_ms": round(on, 2), "ratio": round(on / off, 2),
                      "inserts_each": len(times[(shape, True)])}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ben-fsync-", dir=args.dir or "/var/tmp") as tmp:
        result = run(Path(tmp), args.rounds)
    if args.json:
        print(json.dumps(result))
        return
    for shape, r in result.items():
        print(f"INSERT of {shape}: median {r['off_ms']} ms without fsync_after_insert, {r['on_ms']} ms with "
              f"(x{r['ratio']}, {r['inserts_each']} INSERTs each)")


if __name__ == "__main__":
    main()
