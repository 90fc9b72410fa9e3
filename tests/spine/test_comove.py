"""Co-moving anomalies: one incident that names the series that moved with it (MI), deterministically."""

from __future__ import annotations

import random
import re

import numpy as np
import pyarrow as pa

from ben.cli.demo import DEMO_TIMING
from ben.detect.calibrated import Timing
from ben.spine.comove import MIN_MI, CoMovement
from ben.spine.detection import Detection
from ben.spine.incidents import Correlator

S = 10**9
QUICK = Timing(**DEMO_TIMING)  # the demo's short memories: detection within seconds
QUICK_DETECT = {"bucket_ms": 1000, "group_window_s": 60.0, "resolve_after_s": 30.0, "timing": DEMO_TIMING}
T0 = 1_795_000_000 * S


def checkout_rows(seed: int = 3) -> pa.Table:
    """p99 latency and db connections rise together (300-330 s); cpu stays flat."""
    rng = np.random.default_rng(seed)
    ts, names, values, seqs = [], [], [], []
    for sec in range(400):
        fault = 300 <= sec < 330
        for j in range(4):
            t = T0 + sec * S + j * S // 4
            for name, value in (("p99_ms", rng.normal(480 if fault else 120, 12)),
                                ("db_connections", rng.normal(90 if fault else 40, 4)),
                                ("cpu_pct", rng.normal(50, 5))):
                ts.append(t), names.append(name), values.append(float(value)), seqs.append(sec + 1)
    n = len(ts)
    return pa.table({"ts": pa.array(ts, pa.int64()), "kind": pa.array([1] * n, pa.int8()),
                     "subsystem": ["checkout"] * n, "name": names, "value": values,
                     "attributes.key": pa.array([[]] * n, pa.list_(pa.string())),
                     "attributes.value": pa.array([[]] * n, pa.list_(pa.string())),
                     "spine_seq": pa.array(seqs, pa.uint64())})


def narratives(det: Detection) -> list[str]:
    return [i.narrative() for i in sorted(det.correlator.incidents.values(), key=lambda i: i.id)]


def test_co_moving_series_are_named_with_their_mutual_information() -> None:
    table = checkout_rows()
    det = Detection(S, Correlator(60 * S, 30 * S), timing=QUICK)
    det.process(table)
    [text] = narratives(det)
    assert text.startswith("checkout p99_ms rose from"), text
    found = re.search(r"moved with checkout db_connections \(MI (\d\.\d\d)\)", text)
    assert found and float(found.group(1)) >= MIN_MI, text
    assert "cpu_pct" not in text
    # Deterministic: any grouping of the records gives the same incident (replay relies on it).
    for seed in range(2):
        chunked = Detection(S, Correlator(60 * S, 30 * S), timing=QUICK)
        rng = random.Random(seed)
        at = 0
        while at < table.num_rows:
            n = rng.randint(1, 2_000)
            chunked.process(table.slice(at, n))
            at += n
        assert narratives(chunked) == [text]


def test_mutual_information_of_rings() -> None:
    rng = np.random.default_rng(0)
    cm = CoMovement(3)
    buckets = np.arange(32)
    base = rng.normal(0, 1, 32)
    base[24:] += 10  # a shift in the last 8 buckets
    cm.add(np.zeros(32, dtype=np.int64), buckets, base)
    cm.add(np.ones(32, dtype=np.int64), buckets, 3 * base + rng.normal(0, 0.5, 32))  # moves with 0
    cm.add(np.full(32, 2, dtype=np.int64), buckets, rng.normal(0, 1, 32))             # independent
    assert cm.related(0, 1) >= 1.0 > MIN_MI > cm.related(0, 2)
    assert cm.related(0, 0) == 0.0
    cm.grow(4)
    cm.add(np.full(4, 3, dtype=np.int64), np.arange(4), np.arange(4.0))
    assert cm.related(0, 3) == 0.0  # too few shared buckets to say anything


def test_ben_explain_names_the_series_that_moved_with_it(make_cluster) -> None:
    """A real spine: `ben explain` (text and JSON) says which series moved with the lead, with its MI."""
    import json

    from ben.cli.procs import query_rows, wait_for
    from ben.sdk import Client
    from tests.spine.test_detection import ben

    cluster = make_cluster(spine={"detect": QUICK_DETECT})
    cluster.start()
    client = Client("checkout", sidecar=cluster.sidecar_addr, max_batch_events=50)
    for row in checkout_rows().to_pylist():
        client.gauge(row["name"], row["value"], {}, ts=row["ts"])
    assert client.flush(timeout=60)
    client.shutdown()
    wait_for(lambda: query_rows(cluster.spine_addr, "SELECT count() AS n FROM ben.incidents FINAL "
                                                    "WHERE state = 'resolved'")[0]["n"] > 0, 60, "the incident")
    [incident] = json.loads(ben("incidents", "--json", "--spine", cluster.spine_addr).stdout)
    moved = re.compile(r"moved with checkout db_connections \(MI (\d\.\d\d)\)")
    out = ben("explain", incident["id"], "--spine", cluster.spine_addr)
    assert out.returncode == 0 and moved.search(" ".join(out.stdout.split())), out.stdout + out.stderr  # (wrapped)
    out = ben("explain", incident["id"], "--json", "--spine", cluster.spine_addr)
    explained = json.loads(out.stdout)
    found = moved.search(explained["incident"]["narrative"])
    assert found and float(found.group(1)) >= MIN_MI, explained["incident"]["narrative"]
    assert any("moved with" in a["sentence"] for a in explained["anomalies"])
