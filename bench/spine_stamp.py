"""What the spine's redaction check costs per ingest request (ADR 0034).

    python bench/spine_stamp.py

One 1,000-event routine request (50 metric names, two attributes), encoded for the spine WAL:
the baseline is what the spine did before, ``IngestRequest.SerializeToString``; then
``IngestRedaction.encode`` with the stamp of the manifest in force (the normal path: one string
comparison more), and with no stamp (the batch is redacted again; strings cached after the first
call, so this is the lower bound). Run in turns, 9 rounds of 500 calls; medians, microseconds
per request.
"""

from __future__ import annotations

import logging
import statistics
import time

from ben.sdk.batch import BatchBuilder
from ben.spine.redaction import IngestRedaction
from ben.v1 import telemetry_pb2 as pb


def alternated_us(fns: list, n: int, rounds: int = 9) -> list[float]:
    """Median microseconds per call of each function, run in turns (a busy host slows all alike)."""
    runs: list[list[float]] = [[] for _ in fns]
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            start = time.perf_counter()
            for _ in range(n):
                fn()
            runs[i].append((time.perf_counter() - start) / n * 1e6)
    return [statistics.median(r) for r in runs]


def main() -> None:
    logging.disable(logging.WARNING)
    builder = BatchBuilder(1)
    for i in range(1000):
        builder.add(1, f"metric.{i % 50}", float(i), "", {"host": f"h{i % 7}", "route": f"/r/{i % 13}"}, time.time_ns())
    redaction = IngestRedaction(None)
    stamped = pb.IngestRequest(sender_id="sc", first_seq=1, last_seq=1, lane=pb.LANE_ROUTINE,
                               batch=builder.build(pb.Source(subsystem="s"), "p"))
    stamped.batch.redacted_by = redaction.digest
    bare = pb.IngestRequest()
    bare.CopyFrom(stamped)
    bare.batch.ClearField("redacted_by")
    base, ok, again = alternated_us([stamped.SerializeToString, lambda: redaction.encode(stamped),
                                     lambda: redaction.encode(bare)], 500)
    print(f"baseline SerializeToString:    {base:7.1f} us/request")
    print(f"encode, stamp in force:        {ok:7.1f} us/request  ({ok / base:.2f}x)")
    print(f"encode, redacted again:        {again:7.1f} us/request  ({again / base:.1f}x)")


if __name__ == "__main__":
    main()
