"""Counters as an on-call operator reads them (ADR 0012, 2026-12-07 round 2): a sparse counter's empty buckets
are rates of 0, and a counter's rate is said per second whatever the bucket (the bucketing gives per second)."""

from __future__ import annotations

import random

import pyarrow as pa

from ben.cli.demo import DEMO_TIMING
from ben.detect.calibrated import Timing
from ben.sdk.batch import BatchBuilder
from ben.spine.detection import Detection
from ben.spine.incidents import Correlator
from ben.store.rows import to_table
from ben.v1 import telemetry_pb2 as pb

S = 10**9
T0 = 1_795_000_000 * S
QUICK = Timing(**DEMO_TIMING)


def _counter_rows(seconds: int, increments) -> pa.Table:
    """One record a second: ``increments(sec)`` increments of 1 of ``errors``, spread over the second."""
    records, seq = [], 1
    for sec in range(seconds):
        b = BatchBuilder(seq)
        n = increments(sec)
        for j in range(n):
            b.add(pb.KIND_COUNTER, "errors", 1.0, "", {}, T0 + sec * S + j * S // (n + 1))
        if not n:  # a second without an increment: the record holds another series' point
            b.add(pb.KIND_METRIC, "queue_depth", 5.0, "", {}, T0 + sec * S)
        seq = b.last_seq + 1
        req = pb.IngestRequest(sender_id="sc", first_seq=sec + 1, last_seq=sec + 1,
                               batch=b.build(pb.Source(subsystem="pay"), "p"))
        records.append((sec + 1, req))
    return to_table(records)


def _errors_anomaly(det: Detection, table: pa.Table):
    det.process(table)
    found = [a for i in det.correlator.incidents.values() for a in i.anomalies if a.name == "errors"]
    assert found, [i.narrative() for i in det.correlator.incidents.values()]
    return found[0]


def test_a_sparse_counters_empty_buckets_are_a_rate_of_zero() -> None:
    """Errors counted in bursts at ~0.2 a second had a baseline of "1 per s": a second without an increment
    gave no point, so every point the detection saw was a burst's (``ben.spine.buckets``)."""
    rng = random.Random(3)
    bursts = {sec for sec in range(900) if rng.random() < 0.2}

    def increments(sec: int) -> int:
        if 600 <= sec < 660:
            return 16
        return 1 if sec in bursts else 0

    det = Detection(S, Correlator(60 * S, 30 * S), timing=QUICK)
    errors = _errors_anomaly(det, _counter_rows(900, increments))
    assert 0.05 <= errors.baseline <= 0.5, errors.sentence()  # was 1.0: the bursts alone
    assert errors.observed > 8 and " per s to " in errors.sentence(), errors.sentence()


def test_a_counters_rate_is_said_per_second_whatever_the_bucket() -> None:
    """With 250 ms buckets (the demo's) a counter's values are per second (the bucketing's sum per second), but
    the sentence said "per 250 ms": 16 errors a second read "rose ... to 16 per 250 ms", four times too many."""
    det = Detection(S // 4, Correlator(60 * S, 30 * S), timing=QUICK)
    errors = _errors_anomaly(det, _counter_rows(600, lambda sec: 16 + sec % 3 if 400 <= sec < 460 else 2 + sec % 2))
    text = errors.sentence()
    assert " per s " in text and "per 250 ms" not in text and errors.per_ns == S, text
    assert 10 <= errors.observed <= 20 and 1.5 <= errors.baseline <= 3.5, text
