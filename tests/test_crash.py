"""kill -9 torture: the sidecar and the spine are each SIGKILLed at random moments, 20+ times, under load.

Every event the SDK saw acknowledged must be stored exactly once (identity and count).
Seeded: set BEN_TORTURE_SEED to replay a run; the seed is printed.
"""

from __future__ import annotations

import os
import random
import threading
import time

import pytest

from tests.helpers import Load, assert_exactly_once

KILLS_EACH = 20


@pytest.mark.timeout(400)
def test_kill9_torture(cluster) -> None:
    seed = int(os.environ.get("BEN_TORTURE_SEED", time.time_ns() % 1_000_000))
    print(f"torture seed={seed} (BEN_TORTURE_SEED={seed} replays this run)")
    rng = random.Random(seed)
    load = Load(cluster.sidecar_addr, 10_000_000, rate=8_000)
    kills = {"sidecar": 0, "spine": 0}
    pause = threading.Event()
    while min(kills.values()) < KILLS_EACH:
        target = rng.choice([name for name, n in kills.items() if n < KILLS_EACH])
        pause.wait(rng.uniform(0.05, 0.6))  # a random moment, not a condition: that is the point
        proc = cluster.sidecar if target == "sidecar" else cluster.spine
        proc.kill()
        kills[target] += 1
        if rng.random() < 0.3:
            pause.wait(rng.uniform(0.0, 0.5))  # sometimes stay down a while
        (cluster.start_sidecar if target == "sidecar" else cluster.start_spine)()
    load.stop()
    assert load.dropped == 0
    assert load.client.flush(timeout=120), load.client.last_error
    acked = load.client.stats.acked
    assert acked == load.total
    cluster.wait_drained()
    row = assert_exactly_once(cluster.spine_addr, load.client.producer_id, load.total)
    print(f"torture seed={seed}: kills={kills}, events acknowledged={acked}, checked in the store={row['n']} "
          f"(each exactly once)")
    load.client.shutdown()
