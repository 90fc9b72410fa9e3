"""Narratives as an on-call operator reads them (ADR 0012, 2026-12-07): byte amounts in kB/MB/GB, a
counter's values per its bucket, the peak beside the episode's mean, and a change that became the new
normal not called "resolved" (the value did not come back)."""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys

import pyarrow as pa

from ben.cli.demo import DEMO_TIMING
from ben.cli.procs import wait_for
from ben.detect.calibrated import Timing
from ben.sdk import Client
from ben.sdk.batch import BatchBuilder
from ben.spine.detection import Detection
from ben.spine.incidents import Anomaly, Correlator, State
from ben.spine import narrative
from ben.spine.narrative import anomaly_sentence
from ben.store.rows import to_table
from ben.v1 import telemetry_pb2 as pb

S = 10**9
T0 = 1_795_000_000 * S
QUICK = Timing(**DEMO_TIMING)
LEVEL = {"level": {"sigma": 150.0}}


def test_bytes_are_said_in_kb_mb_gb_not_in_ten_digits() -> None:
    text = anomaly_sentence("cache mem_bytes", "mem_bytes", 500_510_451.0, 1_999_371_272.0, T0, LEVEL, scale=1e7)
    assert "rose from 501 MB to 2.0 GB" in text and "bytes" not in text.replace("mem_bytes", ""), text
    assert narrative.fmt_amount(512.0, "bytes") == "512 bytes" and narrative.fmt_amount(1536.0, "bytes") == "1.5 kB"
    assert narrative.fmt_amount(2.5e12, "bytes per s") == "2.5 TB per s" and narrative.fmt_amount(3.0, "ms") == "3 ms"
    close = anomaly_sentence("c m_bytes", "m_bytes", 1_000_000_000.0, 1_004_000_000.0, T0, LEVEL, scale=1e6)
    assert "from 1 GB to 1.004 GB" in close, close  # told apart with more digits, still in GB


def test_a_counter_is_said_per_its_bucket() -> None:
    per_s = anomaly_sentence("payments errors", "errors", 1.0, 15.8, T0, LEVEL, scale=0.5, per_ns=S)
    assert "rose from 1 per s to 15.8 per s" in per_s, per_s
    assert "to 40 per 10 s" in anomaly_sentence("a n", "n", 10.0, 40.0, T0, LEVEL, scale=1.0, per_ns=10 * S)
    assert "to 4 per 250 ms" in anomaly_sentence("a n", "n", 1.0, 4.0, T0, LEVEL, scale=0.5, per_ns=S // 4)
    assert "per" not in anomaly_sentence("a n", "n", 1.0, 4.0, T0, LEVEL, scale=0.5)  # a gauge: no rate


def test_the_peak_is_said_when_it_went_further_than_the_mean() -> None:
    spike = anomaly_sentence("checkout latency_ms", "latency_ms", 120.0, 473.0, T0, LEVEL, scale=5.0, peak=912.0)
    assert "rose from 120 ms to 473 ms (peak 912 ms) at" in spike, spike
    drop = anomaly_sentence("ingest throughput_pct", "throughput_pct", 100.0, 59.4, T0, LEVEL, scale=1.0, peak=19.8)
    assert "fell from 100% to 59.4% (peak 19.8%)" in drop, drop
    for peak in (480.0, 300.0, 90.0):  # the mean itself, a smaller excursion, the other side: nothing added
        assert "peak" not in anomaly_sentence("a x_ms", "x_ms", 120.0, 480.0, T0, LEVEL, scale=5.0, peak=peak)


def test_a_flat_line_is_said_as_a_value_that_stopped_varying() -> None:
    """A rate of exactly 30 a second, caught by the flat-line feature alone, read "orders rose from 19.3 to 30
    (1.0 sigma; flagged by flat line)" or "changed its distribution around 20": neither says what was seen."""
    flat = {"flat": {"sigma": 1.1, "flat_intervals": 40.0}}
    text = anomaly_sentence("orders orders", "orders", 19.3, 30.0, T0, flat, scale=10.0, per_ns=S)
    assert text == "orders orders stopped varying at 30 per s from 2026-11-18 11:06:40 UTC (before: 19.3 per s; " \
                   "flagged by flat line)", text
    same = anomaly_sentence("f n.count", "n.count", 20.0, 20.0, T0, flat, scale=10.0)
    assert same == "f n.count stopped varying at 20 from 2026-11-18 11:06:40 UTC (flagged by flat line)", same
    both = anomaly_sentence("a n", "n", 19.3, 30.0, T0, {"flat": {}, "level": {}}, scale=1.0)
    assert "rose from 19.3 to 30" in both  # another feature fired too: the change is said as before


def test_an_incident_closed_because_the_change_became_the_new_normal_is_not_called_resolved() -> None:
    """Memory went from 500 MB to 2 GB and stayed: the narrative said "resolved at ... after 2 min 30 s"."""
    note = "the change lasted 60 s and became the new baseline (KL divergence 6.89)"
    moved = Anomaly("cache mem_bytes", "cache", "mem_bytes", T0, 5e8, 2e9, 0.99, dict(LEVEL), end_ns=T0 + 60 * S,
                    scale=1e7, note=note)
    back = Anomaly("cache job_seconds", "cache", "job_seconds", T0, 0.12, 0.9, 0.9, dict(LEVEL), end_ns=T0 + 20 * S,
                   scale=0.01)
    corr = Correlator(60 * S, 30 * S)
    inc = corr.add(moved)
    corr.add(back)
    corr.tick(T0 + 150 * S)
    assert inc.state is State.RESOLVED
    text = inc.narrative()
    assert "resolved" not in text and text.endswith(
        "also cache job_seconds; closed at 11:09:10 UTC after 2 min 30 s as ben took the new level as normal "
        "(not a sign it recovered)"), text
    assert "KL divergence" not in text and "KL divergence 6.89" in moved.sentence()  # jargon kept for explain
    ongoing = Correlator(60 * S, 30 * S)
    still = ongoing.add(moved)
    ongoing.add(Anomaly("cache hits", "cache", "hits", T0 + 5 * S, 10.0, 50.0, 0.9, dict(LEVEL), scale=1.0))
    assert still.narrative().endswith("; also cache hits; ben took its new level as normal; still open")
    plain = Correlator(60 * S, 30 * S)
    other = plain.add(back)
    plain.tick(T0 + 150 * S)
    assert "; resolved at 11:09:10 UTC after 2 min 30 s" in other.narrative()  # it came back: resolved


def _rows(seconds: int, counter_rate, gauge) -> pa.Table:
    """What the store writer hands over: ``counter_rate(sec)`` increments of 1 and 4 gauge points a second."""
    rng, records, seq = random.Random(11), [], 1
    for sec in range(seconds):
        b = BatchBuilder(seq)
        for j in range(4):
            ts = T0 + sec * S + j * S // 4
            b.add(pb.KIND_METRIC, "latency_ms", gauge(sec, rng), "", {}, ts)
        for j in range(counter_rate(sec)):
            b.add(pb.KIND_COUNTER, "errors", 1.0, "", {}, T0 + sec * S + j * S // (counter_rate(sec) + 1))
        seq = b.last_seq + 1
        req = pb.IngestRequest(sender_id="sc", first_seq=sec + 1, last_seq=sec + 1,
                               batch=b.build(pb.Source(subsystem="pay"), "p"))
        records.append((sec + 1, req))
    return to_table(records)


def test_detection_says_a_counters_rate_and_a_spikes_peak() -> None:
    """Through the spine's detection: a counter's values were bare numbers ("errors rose from 2 to 16", per what?)
    and a 10-second spike to ~900 ms was told as "rose to 473 ms" (the episode's mean) with no word of its peak."""
    det = Detection(S, Correlator(60 * S, 30 * S), timing=QUICK)

    def spike(sec: int, rng: random.Random) -> float:
        level = 900.0 if 300 <= sec < 310 else 120.0
        return rng.gauss(level, level / 10)

    det.process(_rows(420, lambda sec: 16 + sec % 3 if 200 <= sec < 230 else 2 + sec % 2, spike))
    found = {a.name: a for i in det.correlator.incidents.values() for a in i.anomalies}
    errors, latency = found.get("errors"), found.get("latency_ms")
    assert errors is not None and latency is not None, found
    assert errors.per_ns == S and " per s to " in errors.sentence(), errors.sentence()
    assert latency.per_ns == 0 and " per " not in latency.sentence()
    assert latency.peak > 700 and f"(peak {narrative.fmt_amount(latency.peak, 'ms')})" in latency.sentence(), latency.sentence()


def _ben(*args: str) -> str:
    out = subprocess.run([sys.executable, "-m", "ben", *args], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


def test_ben_incidents_and_explain_say_memory_that_stayed_high_in_gb_and_not_resolved(make_cluster) -> None:
    """Real spine and sidecar, the SDK: memory goes from 500 MB to 2 GB and stays. ``ben incidents`` said
    "rose from 500,510,451 bytes to 1,999,371,272 bytes ...; resolved at ..." and ``ben explain`` the same
    ten-digit numbers: the operator read of a recovery that never came."""
    c = make_cluster(spine={"detect": {"bucket_ms": 1000, "group_window_s": 60.0, "resolve_after_s": 30.0,
                                       "timing": DEMO_TIMING}}).start()
    rng = random.Random(7)
    client = Client("cache", sidecar=c.sidecar_addr)
    for sec in range(900):
        for j in range(4):
            client.gauge("mem_bytes", rng.gauss(2e9 if sec >= 600 else 5e8, 1e7), ts=T0 + sec * S + j * S // 4)
    assert client.flush(timeout=60)
    client.shutdown(timeout=10)
    c.wait_drained()

    def closed() -> list[dict]:
        rows = json.loads(_ben("incidents", "--json", "--spine", c.spine_addr))
        return [r for r in rows if r["state"] == "resolved" and "mem_bytes" in r["narrative"]]

    wait_for(closed, 120, "the memory incident to close")
    text = closed()[0]["narrative"]
    assert re.search(r"rose from 50\d MB to 2\.0 GB", text) and "as ben took the new level as normal" in text, text
    assert "resolved" not in text and "bytes" not in text.replace("mem_bytes", ""), text
    explained = " ".join(_ben("explain", closed()[0]["id"], "--spine", c.spine_addr).split())
    assert re.search(r"baseline 50\d MB, observed 2\.0 GB", explained), explained


def _db_rows(seconds_per_record: int) -> pa.Table:
    """db connections and queue_depth jump together for 30 s (4 points a second each), in records of
    ``seconds_per_record`` (a sidecar shipping its backlog sends records of minutes)."""
    rng, records, b = random.Random(7), [], None
    for sec in range(900):
        if sec % seconds_per_record == 0:
            if b is not None:
                records.append(b)
            b = BatchBuilder(1 if not records else records[-1].last_seq + 1)
        on = 550 <= sec < 580
        for j in range(4):
            ts = T0 + sec * S + j * S // 4
            b.add(pb.KIND_METRIC, "connections", rng.gauss(200 if on else 50, 5), "", {}, ts)
            b.add(pb.KIND_METRIC, "queue_depth", rng.gauss(80 if on else 5, 1.5), "", {}, ts)
    records.append(b)
    return to_table([(i + 1, pb.IngestRequest(sender_id="sc", first_seq=i + 1, last_seq=i + 1,
                                              batch=r.build(pb.Source(subsystem="db"), "p")))
                     for i, r in enumerate(records)])


def test_two_series_that_moved_together_are_named_whatever_a_record_spans() -> None:
    """The co-movement rings took a whole record before its episodes were correlated: with records of 450 s
    (a backlog) they held the 64 s after the record's end, not the jump, and the narrative said "also db
    connections" of two series that jumped together; in 1-second records it said "moved with"."""
    told = {}
    for span in (1, 450):
        det = Detection(S, Correlator(60 * S, 30 * S), timing=QUICK)
        det.process(_db_rows(span))
        (inc,) = det.correlator.incidents.values()
        text = inc.narrative()
        assert "moved with db" in text and "also db" not in text, (span, text)
        told[span] = sorted((a.series, a.moved_with) for a in inc.anomalies)
    assert told[1] == told[450]  # the same MI whatever the records
