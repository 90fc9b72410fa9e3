"""A counter's increment measured over an interval is a rate over that interval (ADR 0012, 2026-12-07 round 3).

An OpenTelemetry SDK exports a counter once a minute by default: a steady 10 a second read as one bucket of
2,400 a second (at 250 ms buckets) and then a minute of rates of 0. Here the points go through the OTLP
receiver's own conversion (``ben.otlp.convert.Converter``: cumulative totals to increments) and the stored
table the spine's detection reads (``ben.store.rows.to_table``); the buckets the detection is fed are checked.
"""

from __future__ import annotations

import random
import re

import numpy as np
import pytest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.metrics.v1 import metrics_pb2

from ben.cli.demo import DEMO_TIMING
from ben.detect.calibrated import Timing
from ben.otlp.convert import Converter
from ben.sdk.batch import BatchBuilder
from ben.spine import detect_state
from ben.spine.buckets import COUNTER_FILL_NS, Columns, close_buckets
from ben.spine.detection import Detection
from ben.spine.incidents import Correlator
from ben.store.rows import to_table
from ben.v1 import telemetry_pb2 as pb

S = 10**9
BUCKET = S // 4                       # the demo's bucket
T0 = 1_795_000_000 * S
START = T0 - 3_600 * S                # the producer started an hour before the first export we feed
RATE = 10.0                           # requests a second
QUICK = Timing(**DEMO_TIMING)
CUMULATIVE = metrics_pb2.AGGREGATION_TEMPORALITY_CUMULATIVE
DELTA = metrics_pb2.AGGREGATION_TEMPORALITY_DELTA


def export(ts: int, value: float, start: int = START, temporality: int = CUMULATIVE) -> ExportMetricsServiceRequest:
    """One OTLP export of the monotonic sum ``http.requests`` of checkout-api."""
    req = ExportMetricsServiceRequest()
    rm = req.resource_metrics.add()
    rm.resource.attributes.append(KeyValue(key="service.name", value=AnyValue(string_value="checkout-api")))
    s = rm.scope_metrics.add().metrics.add(name="http.requests", unit="{requests}").sum
    s.is_monotonic, s.aggregation_temporality = True, temporality
    s.data_points.add(start_time_unix_nano=start, time_unix_nano=ts, as_double=value)
    return req


class Fed:
    """A detection fed stored tables one export at a time, with the bucket values it ran through its detector."""

    def __init__(self, bucket_ns: int = BUCKET, timing: Timing | None = QUICK):
        self.det = (Detection(bucket_ns, Correlator(60 * S, 30 * S), timing=timing) if timing else
                    Detection(bucket_ns))  # (no timing: the spine's default detection)
        self.conv = Converter(started_ns=T0 - 7_200 * S)  # the receiver started before the producer
        self.points: list[tuple[int, float]] = []
        self.seq = 0
        update = self.det.bank.update

        def spy(series, ts, values):
            self.points.extend(zip(ts.tolist(), values.tolist()))
            return update(series, ts, values)

        self.det.bank.update = spy

    def otlp(self, req: ExportMetricsServiceRequest) -> None:
        for part in self.conv.metrics(req).parts:
            self.seq += 1
            self._store(part.build("otlp-sc-u1-0", self.seq))

    def sdk(self, ts: int, increment: float) -> None:
        """A ben SDK counter whose increments are summed by the application and sent once per interval."""
        self.seq += 1
        b = BatchBuilder(self.seq)
        b.add(pb.KIND_COUNTER, "http.requests", increment, "", {}, ts)
        self._store(b.build(pb.Source(subsystem="checkout-api"), "p"))

    def _store(self, batch: pb.Batch) -> None:
        req = pb.IngestRequest(sender_id="sc", first_seq=self.seq, last_seq=self.seq, batch=batch)
        self.det.process(to_table([(self.seq, req)]))

    def anomalies(self) -> list:
        return [a for i in self.det.correlator.incidents.values() for a in i.anomalies]

    def between(self, lo: int, hi: int) -> np.ndarray:
        return np.array([v for ts, v in self.points if lo <= ts < hi])


def steady(fed: Fed, times: list[int], how: str) -> None:
    total = 0.0
    for prev, ts in zip([None, *times], times):
        now = RATE * (ts - START) / S
        if how == "cumulative":
            fed.otlp(export(ts, now))
        elif how == "delta":
            fed.otlp(export(ts, now - total, start=prev or START, temporality=DELTA))
        else:
            fed.sdk(ts, now - total)
        total = now


def regular(every_s: float, minutes: int = 40) -> list[int]:
    return [T0 + int(k * every_s * S) for k in range(int(minutes * 60 / every_s) + 1)]


def irregular(minutes: int = 40, seed: int = 7) -> list[int]:
    """Exports 1 to 59 s apart, at any nanosecond (not on a bucket's edge)."""
    rng, out = random.Random(seed), [T0]
    while out[-1] < T0 + minutes * 60 * S:
        out.append(out[-1] + rng.randint(S, 59 * S))
    return out


@pytest.mark.parametrize("times, how", [
    (regular(60), "cumulative"), (regular(10), "cumulative"), (irregular(), "cumulative"),
    (regular(60), "delta"), (regular(60), "sdk")], ids=["otlp-60s", "otlp-10s", "otlp-irregular", "otlp-delta-60s",
                                                       "sdk-60s"])
def test_a_steady_rate_exported_at_intervals_is_a_steady_rate(times: list[int], how: str) -> None:
    """Every bucket from the first export to the last reads 10 per second; it read 2,400 per second once a
    minute and 0 in between (the first export starts the counter: its own interval is not known)."""
    fed = Fed()
    steady(fed, times, how)
    got = fed.between(T0, times[-1] - times[-1] % BUCKET)
    assert len(got) == (times[-1] - T0) // BUCKET, len(got)  # every bucket, once
    assert np.allclose(got, RATE, rtol=1e-9, atol=0), (got.min(), got.max())


@pytest.mark.parametrize("times", [regular(60, 240), regular(10, 240), irregular(240)],
                         ids=["otlp-60s", "otlp-10s", "otlp-irregular"])
def test_a_steady_counter_opens_nothing_in_the_spines_default_detection(times: list[int]) -> None:
    """Requests arriving at random at 10 a second (counted as they come: whole numbers), exported through OTLP,
    four hours, the spine's default detection (1 s buckets, default timing): no anomaly, and every bucket is
    the rate over its export interval. Before: one bucket of ~36,000 per second (the first export's total since
    the producer started), 600 per second once a minute, and "changed its distribution ... (flagged by mean over
    hours)" on the 60 s export (ADR 0012, round 3)."""
    rng = np.random.default_rng(1)
    fed = Fed(S, timing=None)
    arrivals = np.sort(rng.uniform(START, times[-1], rng.poisson(RATE * (times[-1] - START) / S)))
    for ts in times:
        fed.otlp(export(ts, float(np.searchsorted(arrivals, ts, side="right"))))
    got = fed.between(T0, times[-1])
    assert len(got) >= (times[-1] - T0) // S - 1 and abs(got.mean() - RATE) < 0.2, (len(got), got.mean())
    assert 0.4 * RATE <= got.min() and got.max() <= 2 * RATE, (got.min(), got.max())
    assert not fed.anomalies(), [a.sentence() for a in fed.anomalies()]


@pytest.mark.parametrize("every_s, rate, at_s", [(60, 60.0, 10_800), (10, 310.0, 10_840)], ids=["otlp-60s", "otlp-10s"])
def test_a_burst_inside_one_export_is_a_raised_rate_over_that_export(every_s: int, rate: float, at_s: int) -> None:
    """3,000 extra requests in 5 seconds (3 h 40 s in), among 10 a second at random: the export that holds them
    says 3,600 in its minute (3,100 in its 10 s), so its buckets read 60 per second (310): what happened inside
    an export interval is not in the data, and the anomaly starts where the interval does (the burst: 40 s on)."""
    rng = np.random.default_rng(1)
    fed = Fed(S, timing=None)
    times = regular(every_s, 240)
    arrivals = np.sort(np.concatenate([rng.uniform(START, times[-1], rng.poisson(RATE * (times[-1] - START) / S)),
                                       T0 + 10_840 * S + rng.uniform(0, 5 * S, 3_000)]))
    for ts in times:
        fed.otlp(export(ts, float(np.searchsorted(arrivals, ts, side="right"))))
    burst = fed.between(T0 + at_s * S, T0 + (at_s + every_s) * S)
    assert len(burst) == every_s and np.allclose(burst, burst[0]) and abs(burst[0] - rate) < 0.1 * rate, burst
    found = fed.anomalies()
    assert len(found) == 1, [a.sentence() for a in found]
    assert found[0].start_ns == T0 + at_s * S and 9 <= found[0].baseline <= 11, found[0].sentence()
    assert abs(found[0].observed - rate) < 0.1 * rate, found[0].sentence()
    assert re.search(r" rose from (9\.9|10\.0) requests per s to ", found[0].sentence()), found[0].sentence()


def test_a_counter_reset_is_no_spike_and_no_negative_rate() -> None:
    """The producer restarts 30 s after an export: its next export's total (300, since the restart) is the
    increment, over the minute since the previous point: 5 per second. What the old life counted after its
    last export was never sent: no reader can have it. Then 10 per second again."""
    fed = Fed()
    times = regular(60, minutes=30)
    restart = T0 + 20 * 60 * S + 30 * S
    for ts in times:
        fed.otlp(export(ts, RATE * (ts - START) / S) if ts < restart else export(ts, RATE * (ts - restart) / S,
                                                                                   start=restart))
    assert fed.conv.cumulative.resets == 1
    assert np.allclose(fed.between(T0 + 20 * 60 * S, T0 + 21 * 60 * S), 5.0, rtol=1e-9)
    assert np.allclose(fed.between(T0 + 21 * 60 * S, T0 + 30 * 60 * S), RATE, rtol=1e-9)
    assert min(v for _, v in fed.points) >= 0


def test_a_gap_longer_than_the_bound_is_spread_over_its_last_minute_only() -> None:
    """Five minutes without an export (the exporter could not reach the receiver), then its total: 3,000 over
    300 s, the rate of the whole interval, 10 per second: the open bucket of the last export and the last
    ``COUNTER_FILL_NS`` (a minute) of buckets read it; the four minutes before are a gap, no points (it was one
    bucket of 12,000 per second after a minute of zeros)."""
    fed = Fed()
    times = [t for t in regular(60, minutes=30) if not T0 + 11 * 60 * S <= t <= T0 + 14 * 60 * S]
    steady(fed, times, "cumulative")
    assert COUNTER_FILL_NS == 60 * S
    assert len(fed.between(T0 + 10 * 60 * S, T0 + 14 * 60 * S)) == 1  # the bucket of the export at 10 min
    last = fed.between(T0 + 14 * 60 * S, T0 + 15 * 60 * S)
    assert len(last) == 240 and np.allclose(last, RATE, rtol=1e-9), (last.min(), last.max())
    assert np.allclose(fed.between(T0, T0 + 30 * 60 * S), RATE, rtol=1e-9)


def test_the_counters_first_point_starts_it_and_is_not_watched() -> None:
    """The first point of a counter has no known interval (its start time does not reach the spine): it opens
    the counter's bucket with nothing in it; the next point's interval begins at it."""
    cols = Columns(1)
    cols.counter[0] = True
    series, record = np.zeros(2, np.int64), np.arange(2, dtype=np.int64)
    closed, late = close_buckets(cols, series, np.array([T0 + S // 2, T0 + 2 * S + S // 2]),
                                 np.array([1_000.0, 20.0]), record, S)
    assert late == 0 and closed.ts.tolist() == [T0, T0 + S]
    assert closed.value.tolist() == [5.0, 10.0]  # 20 over 2 s: half a second of it in the first bucket
    assert cols.sum[0] == 5.0 and cols.last_ts[0] == T0 + 2 * S + S // 2


def test_a_checkpoint_keeps_the_counters_latest_point_and_an_older_one_starts_from_its_open_bucket(
        tmp_path) -> None:
    """The latest point survives a checkpoint bit for bit (replay after a restart gives the same buckets); a
    checkpoint from before it was kept reads as if the latest point were at the start of the open bucket."""
    import json
    import struct

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from ben.detect.checkpoint import from_bytes, to_bytes

    whole, first = Fed(), Fed()
    times = irregular(minutes=10)
    steady(whole, times, "cumulative")
    steady(first, times[:20], "cumulative")
    key = detect_state.load_key(tmp_path / "detect.key")
    blob = detect_state.encode(first.det, 20, key)
    back = detect_state.decode(blob, key)[1]
    assert back.cols.last_ts.tolist() == first.det.cols.last_ts.tolist() == [times[19]]
    rest = Fed()
    rest.det, rest.conv, rest.seq = back, first.conv, first.seq
    update = back.bank.update
    back.bank.update = lambda s, ts, v: (rest.points.extend(zip(ts.tolist(), v.tolist())), update(s, ts, v))[1]
    for ts in times[20:]:
        rest.otlp(export(ts, RATE * (ts - START) / S))
    assert first.points + rest.points == whole.points  # bit for bit

    nonce = blob[len(detect_state.MAGIC):len(detect_state.MAGIC) + 12]  # the same checkpoint without last_ts
    plain = AESGCM(key).decrypt(nonce, blob[len(detect_state.MAGIC) + 12:], detect_state.MAGIC)
    (size,) = struct.unpack_from("<I", plain, 0)
    arrays = from_bytes(plain[4 + size:])
    del arrays["cols"]["last_ts"]
    older = AESGCM(key).encrypt(nonce, plain[:4 + size] + to_bytes(arrays), detect_state.MAGIC)
    old = detect_state.decode(detect_state.MAGIC + nonce + older, key)[1]
    assert json.loads(plain[4:4 + size])["version"] == detect_state.VERSION
    assert old.cols.last_ts.tolist() == [int(first.det.cols.open_bucket[0]) * BUCKET]
