"""Detection at scale: whole-table bucketing equals the row-by-row rule, registration is amortised
O(1), caps refuse (and count) new series, and the spine's detection keeps up with ingest."""

from __future__ import annotations

import random

import numpy as np
import pyarrow as pa
import pytest

from ben.cli.demo import DEMO_TIMING
from ben.detect.calibrated import Timing
from ben.spine.buckets import Columns as _Columns
from ben.spine.buckets import fill_max
from ben.spine.detection import KIND_COUNTER, KIND_METRIC, Detection
from ben.spine.incidents import Correlator

S = 10**9
QUICK = Timing(**DEMO_TIMING)  # the demo's short memories: detection within seconds
T0 = 1_795_000_000 * S


def rows(specs: list[tuple[int, int, str, str, float, int]]) -> pa.Table:
    """(ts, kind, subsystem, name, value, spine_seq) rows with one attribute."""
    return pa.table({
        "ts": pa.array([r[0] for r in specs], pa.int64()), "kind": pa.array([r[1] for r in specs], pa.int8()),
        "subsystem": [r[2] for r in specs], "name": [r[3] for r in specs],
        "value": pa.array([r[4] for r in specs], pa.float64()),
        "attributes.key": pa.array([["host"]] * len(specs), pa.list_(pa.string())),
        "attributes.value": pa.array([["h1"]] * len(specs), pa.list_(pa.string())),
        "spine_seq": pa.array([r[5] for r in specs], pa.uint64())})


def reference_buckets(specs, bucket_ns: int):
    """The row-by-row rule: a later bucket closes the open one; an older one is late and folded in. A counter's
    point is a rate over the interval since its previous point (its first: none, not watched), shared among the
    buckets it covers, of which the last ``buckets.fill_max`` between its two points are points (ADR 0012,
    round 3). Written apart from the kernel: each bucket's share is the interval's overlap with it."""
    open_b, sums, counts, counter, last, out, late = {}, {}, {}, {}, {}, [], 0
    for ts, kind, sub, name, value, seq in specs:
        key = (sub, name)
        counter.setdefault(key, kind == KIND_COUNTER)
        b = ts // bucket_ns
        ob = open_b.get(key, -1)
        if not counter[key]:
            if b > ob:
                if ob >= 0:
                    out.append((seq, ob * bucket_ns, key, sums[key] / counts[key]))
                open_b[key], sums[key], counts[key] = b, 0.0, 0
            elif b < ob:
                late += 1
            sums[key] += value
            counts[key] += 1
            continue
        if b <= ob:
            late += b < ob
            sums[key] += value
            last[key] = max(last[key], ts)
            continue
        prev = last.get(key)
        shares = {}  # bucket -> the increment's share
        if prev is not None:
            for k in range(prev // bucket_ns, b + 1):
                overlap = min((k + 1) * bucket_ns, ts) - max(k * bucket_ns, prev)
                shares[k] = value * overlap / (ts - prev)
        if ob >= 0:
            out.append((seq, ob * bucket_ns, key, (sums[key] + shares.get(ob, 0.0)) * 1e9 / bucket_ns))
        for k in range(max(ob + 1, b - fill_max(bucket_ns)), b):  # the last buckets between
            if k in shares:
                out.append((seq, k * bucket_ns, key, shares[k] * 1e9 / bucket_ns))
        open_b[key], sums[key], last[key] = b, shares.get(b, 0.0), ts
    return out, late


def random_specs(seed: int, n: int = 3_000, jumps: float = 0.0):
    """Random rows of 4 series; ``jumps``: the share of rows after a silence of up to 150 s (a counter's
    empty buckets, more than a minute's of them too)."""
    rng = random.Random(seed)
    names = [("a", "lat_ms", KIND_METRIC), ("a", "req", KIND_COUNTER), ("b", "lat_ms", KIND_METRIC),
             ("b", "cpu_pct", KIND_METRIC)]
    specs, seq, t = [], 1, T0
    for _ in range(n):
        t += rng.randint(0, S // 3) + (rng.randint(2, 150) * S if rng.random() < jumps else 0)
        sub, name, kind = rng.choice(names)
        ts = t - (rng.randint(1, 3) * S if rng.random() < 0.05 else 0)  # some late points
        specs.append((ts, kind, sub, name, rng.gauss(100, 10), seq))
        if rng.random() < 0.2:
            seq += 1
    return specs


def test_whole_table_bucketing_equals_the_row_by_row_rule() -> None:
    for seed in range(5):
        specs = random_specs(seed, jumps=0.0 if seed < 3 else 0.05)
        det = Detection(S)
        fed = []
        original = det.bank.update

        def spy(series, ts, values):
            fed.extend(zip(series.tolist(), ts.tolist(), values.tolist()))
            return original(series, ts, values)

        det.bank.update = spy
        table = rows(specs)
        at = 0
        rng = random.Random(seed)
        while at < table.num_rows:  # any chunking
            n = rng.randint(1, 700)
            det.process(table.slice(at, n))
            at += n
        want, late = reference_buckets(specs, S)
        names = {i: tuple(det.describe(i)[1:]) for i in range(len(det.series))}
        got = sorted((ts, names[s], v) for s, ts, v in fed)
        assert len(got) == len(want) and det.late_points == late
        for (gts, gkey, gv), (_, wts, wkey, wv) in zip(got, sorted(want, key=lambda w: (w[1], w[2]))):
            assert (gts, gkey) == (wts, wkey) and abs(gv - wv) <= 1e-9 * max(1.0, abs(wv))


@pytest.mark.parametrize("algorithm", ["calibrated", "bank"])
def test_registration_is_amortised_constant_time(algorithm: str) -> None:
    """1,000 series arriving one table each: the arrays are reallocated O(log n) times, not n."""
    det = Detection(S, max_series_per_subsystem=20_000, algorithm=algorithm)
    reallocations, last = 0, None
    for i in range(1_000):
        det.process(rows([(T0 + i, KIND_METRIC, "s", f"m{i}", 1.0, i + 1)]))
        buf = det.bank._states if algorithm == "calibrated" else det.bank.dets[0]._spare["n"]
        if buf is not last:
            reallocations, last = reallocations + 1, buf
    assert len(det.series) == 1_000 and det.bank.n_series == 1_000 and det.cols.n == 1_000
    assert reallocations <= 8, reallocations
    cols = _Columns()
    first = cols._cap["sum"]
    cols.grow(5)
    assert cols._cap["sum"] is first  # within capacity: no copy


def test_caps_refuse_new_series_and_count_them() -> None:
    det = Detection(S, max_series_per_subsystem=3, max_series=5)
    specs = [(T0 + i, KIND_METRIC, sub, f"m{j}", 1.0, 1) for i, (sub, j) in
             enumerate([(s, j) for s in ("a", "b", "c") for j in range(4)])]
    det.process(rows(specs))
    per = det.per_subsystem
    assert per == {"a": 3, "b": 2} and len(det.series) == 5  # a: 3 (its cap); b: 2 (the total cap)
    assert det.refused_series == 7 and det.refused_points == 7
    det.process(rows([(T0 + S, KIND_METRIC, "a", "m0", 2.0, 2), (T0 + S, KIND_METRIC, "c", "m0", 2.0, 2)]))
    assert det.refused_points == 8 and det.rows == 14  # known series still watched; refused ones counted
    det.process(rows([(T0 + 2 * S, KIND_METRIC, "c", "m9", 2.0, 3)]))  # only refused rows: nothing breaks
    assert det.refused_points == 9 and det.refused_series == 9


def test_a_peer_holds_at_most_its_share_of_the_series() -> None:
    """ADR 0045 round 4: one OTLP application making up service.names takes at most max_series_per_peer;
    the SDK subsystems of the same sidecar, and other sidecars, keep theirs."""
    det = Detection(S, max_series_per_subsystem=10, max_series=30, max_series_per_peer=20)
    flood = rows([(T0 + i, KIND_METRIC, f"made-up-{i // 5}", f"m{i % 5}", 1.0, 1) for i in range(50)])
    flood = flood.append_column("sidecar_id", pa.array(["host-a"] * 50)).append_column(
        "producer_id", pa.array(["otlp-host-a-0"] * 50))
    det.process(flood)
    assert det.per_peer == {"host-a/otlp": 20} and det.refused_series_peer == 30
    real = rows([(T0 + S + i, KIND_METRIC, sub, "latency_ms", 1.0, 2 + i) for i, sub in enumerate(["api", "db"])])
    real = real.append_column("sidecar_id", pa.array(["host-a", "host-b"])).append_column(
        "producer_id", pa.array(["api-1", "otlp-host-b-0"]))
    det.process(real)
    assert det.per_peer == {"host-a/otlp": 20, "host-a/sdk": 1, "host-b/otlp": 1} and len(det.series) == 22
    assert det.peers[-2:] == ["host-a/sdk", "host-b/otlp"]


def test_same_findings_whatever_the_chunking_with_many_series() -> None:
    rng = np.random.default_rng(1)
    specs, seq = [], 1
    for sec in range(400):
        for j in range(6):
            level = 480.0 if (j == 0 and 300 <= sec < 330) else 120.0
            for k in range(3):
                specs.append((T0 + sec * S + k * S // 3 + j, KIND_METRIC, "checkout" if j < 3 else "search",
                              f"lat{j}_ms", float(rng.normal(level, level / 10)), seq))
            if j % 2:
                seq += 1
    table = rows(specs)

    def findings(det):
        incs = sorted(det.correlator.incidents.values(), key=lambda i: i.id)
        return [(i.id, i.state, i.narrative(), [a.sentence() for a in i.anomalies]) for i in incs]

    whole = Detection(S, Correlator(60 * S, 30 * S), timing=QUICK)
    whole.process(table)
    assert findings(whole), "the fault was not found"
    for seed in range(3):
        chunked = Detection(S, Correlator(60 * S, 30 * S), timing=QUICK)
        r = random.Random(seed)
        at = 0
        while at < table.num_rows:
            n = r.randint(1, 3_000)
            chunked.process(table.slice(at, n))
            at += n
        assert findings(chunked) == findings(whole)


def test_detect_lag_is_the_wait_of_the_oldest_table_handed_over() -> None:
    from ben.spine.detector_thread import DetectorThread

    class NoStore:
        def insert_rows(self, *_):
            pass

    thread = DetectorThread(Detection(S), NoStore(), max_queued_rows=10)  # type: ignore[arg-type]
    assert thread.lag_seconds == 0.0
    thread.submit(rows([(T0, KIND_METRIC, "a", "m", 1.0, 1)]))
    waited = thread.lag_seconds
    assert waited > 0.0  # not started: the table waits
    thread.start()
    assert thread.force_flush(30)
    assert thread.lag_seconds == 0.0 and thread.detection.rows == 1
    thread.shutdown(5)


def test_key_lookup_in_arrow_equals_the_dict() -> None:
    """Many distinct keys go through Arrow's hash lookup, a few through the dict: the same series."""
    det = Detection(S, max_series_per_subsystem=50_000)
    det.process(rows([(T0, KIND_METRIC, "s", f"m{i}", 1.0, 1) for i in range(3_000)]))
    keys = det.series[::7] + ["s\x1fnot-there\x1f=", det.series[5]]
    many = pa.array(keys)
    few = pa.array(keys[:3] + keys[-2:])
    want = [det.keys.get(k, -1) for k in keys]
    assert len(keys) * 8 >= len(det.series) and len(few) * 8 < len(det.series)  # both paths are taken
    assert det._lookup(many).tolist() == want
    assert det._lookup(few).tolist() == want[:3] + want[-2:]
    det.process(rows([(T0 + S, KIND_METRIC, "s", f"n{i}", 1.0, 2) for i in range(500)]))  # registered later
    assert det._lookup(pa.array(det.series)).tolist() == list(range(3_500))


def test_the_detection_bench_measures_the_spine_with_both_algorithms() -> None:
    """`ben bench detect`'s spine figures (small): capacity through Detection, and a fresh process' RSS."""
    from ben.cli.bench import load

    bench = load("detect")
    assert bench.spine_rate(n_series=2_000, seconds=2, algorithm="calibrated") > 0
    assert bench.spine_rate(n_series=2_000, seconds=2, algorithm="bank") > 0
    # a peak RSS, so it holds the kernels' first compilation too: ~280 MiB alone, 1,078 once in a
    # fresh clone with another test process compiling beside it; the 100,000-series figure is the bench's
    assert 0 < bench.spine_rss_mib(n_series=5_000, seconds=2) < 4096
    bench.spine_rate = lambda algorithm="calibrated": 500_000.0 if algorithm == "calibrated" else 100_000.0
    bench.ingest_rate = lambda events, progress: 250_000.0
    bench.spine_rss_mib = lambda: 600.0
    figures = bench.spine_figures(progress=False, ingest_events=1_000)  # the keys ben bench detect --json adds
    assert figures == {"spine_points_per_s": 500_000.0, "spine_bank_points_per_s": 100_000.0,
                       "ingest_events_per_s": 250_000.0, "ingest_measured": True, "spine_vs_ingest": 2.0,
                       "spine_rss_mib_100k_series": 600.0}
