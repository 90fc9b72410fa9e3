"""Detection over stored rows: faults found, explained, and the same whatever the chunking (replay)."""

from __future__ import annotations

import json
import random
import subprocess
import sys

import pyarrow as pa
import pytest

from ben.cli.demo import DEMO_TIMING
from ben.cli.procs import query_rows, wait_for
from ben.detect.calibrated import Timing
from ben.sdk import Client
from ben.sdk.batch import BatchBuilder
from ben.spine.detection import Detection
from ben.spine.incidents import Correlator
from ben.store.rows import to_table
from ben.v1 import telemetry_pb2 as pb

T0 = 1_795_000_000 * 10**9
S = 10**9
QUICK = Timing(**DEMO_TIMING)  # the demo's short memories: detection within seconds
QUICK_DETECT = {"bucket_ms": 1000, "group_window_s": 60.0, "resolve_after_s": 30.0, "timing": DEMO_TIMING}


def level(sec: int) -> float:
    return 480.0 if 300 <= sec < 330 else 120.0


def stored_rows(seconds: int = 420, seed: int = 3) -> pa.Table:
    """What the store writer hands over: 10 latency points and 10 request counts per second."""
    rng = random.Random(seed)
    records, seq = [], 1
    for sec in range(seconds):
        b = BatchBuilder(seq)
        for j in range(10):
            ts = T0 + sec * S + j * S // 10
            b.add(pb.KIND_METRIC, "latency_ms", rng.gauss(level(sec), level(sec) / 10), "", {"route": "/pay"}, ts)
            b.add(pb.KIND_COUNTER, "requests", 1.0, "", {"route": "/pay"}, ts)
        seq = b.last_seq + 1
        req = pb.IngestRequest(sender_id="sc", first_seq=sec + 1, last_seq=sec + 1,
                               batch=b.build(pb.Source(subsystem="checkout-api"), "p"))
        records.append((sec + 1, req))
    return to_table(records)


def findings(det: Detection) -> tuple[list, list]:
    incidents = sorted(det.correlator.incidents.values(), key=lambda i: i.id)
    return ([(a.id, a.sentence(), a.end_ns) for i in incidents for a in i.anomalies],
            [(i.id, i.state, i.narrative()) for i in incidents])


def test_a_level_shift_becomes_an_explained_incident() -> None:
    det = Detection(S, Correlator(60 * S, 30 * S), timing=QUICK)
    det.process(stored_rows())
    anomalies, incidents = findings(det)
    assert incidents, "the level shift was not detected"
    latency = [a for i in det.correlator.incidents.values() for a in i.anomalies if a.name == "latency_ms"]
    assert latency, anomalies
    first = min(latency, key=lambda a: a.start_ns)
    assert 110 <= first.baseline <= 130 and first.observed > 300  # ~120 ms before, ~480 ms during
    assert first.sentence().startswith("checkout-api latency_ms{route=/pay} rose from 1")
    assert T0 + 300 * S <= first.start_ns <= T0 + 310 * S  # found within 10 s of the fault
    assert incidents[0][1].value == "resolved"  # the fault ended; the incident closed itself
    assert "resolved at" in incidents[0][2]
    assert not [a for a in anomalies if "requests" in a[1]]  # a steady rate is quiet


def test_same_rows_any_chunking_same_findings() -> None:
    table = stored_rows()
    whole = Detection(S, Correlator(60 * S, 30 * S), timing=QUICK)
    whole.process(table)
    chunked = Detection(S, Correlator(60 * S, 30 * S), timing=QUICK)
    rng = random.Random(5)
    at = 0
    while at < table.num_rows:
        n = rng.randint(1, 5_000)
        chunked.process(table.slice(at, n))
        at += n
    assert findings(whole) == findings(chunked)


def ben(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ben", *args], capture_output=True, text=True, timeout=120)


def test_incidents_explain_and_replay_from_the_store(make_cluster) -> None:
    cluster = make_cluster(spine={"detect": QUICK_DETECT})
    cluster.start()
    client = Client("checkout-api", sidecar=cluster.sidecar_addr, max_batch_events=20)
    rng = random.Random(3)
    for sec in range(420):  # seven minutes of event time, sent in a moment
        for j in range(10):
            ts = T0 + sec * S + j * S // 10
            client.gauge("latency_ms", rng.gauss(level(sec), level(sec) / 10), {"route": "/pay"}, ts=ts)
    assert client.flush(timeout=60)
    client.shutdown()
    cluster.wait_drained()
    # Detection runs in its own thread after storage: wait for the incident's final state.
    wait_for(lambda: query_rows(cluster.spine_addr, "SELECT count() AS n FROM ben.incidents FINAL "
                                                    "WHERE state = 'resolved'")[0]["n"] > 0, 60,
             "the incident to be stored, resolved")
    wait_for(lambda: cluster.status("spine").get("detect_points_total", 0) >= 419, 60, "detection to catch up")
    out = ben("incidents", "--json", "--spine", cluster.spine_addr)
    assert out.returncode == 0, out.stderr
    [incident] = json.loads(out.stdout)
    assert incident["state"] == "resolved" and "latency_ms{route=/pay} rose from" in incident["narrative"]
    out = ben("explain", incident["id"], "--spine", cluster.spine_addr)
    assert out.returncode == 0, out.stderr
    assert "evidence" in out.stdout and "baseline" in out.stdout
    text = " ".join(out.stdout.split())  # (wrapped) the calibrated features, the prediction and its band, in words
    for stat in ("level:", "sigma from normal at its peak", "surprise", "bands from the expected value",
                 "(KL divergence)", "fast level", "expected", "normal band ±"):
        assert stat in text, (stat, out.stdout)
    out = ben("explain", "inc-doesnotexist", "--spine", cluster.spine_addr)
    assert out.returncode == 2 and "no incident or anomaly" in out.stderr

    stored = query_rows(cluster.spine_addr, "SELECT id, sentence FROM ben.anomalies FINAL ORDER BY id")
    assert stored
    config = cluster.home / "ben.toml"
    out = ben("replay", "--from", str(T0), "--to", str(T0 + 600 * S), "--json", "--spine", cluster.spine_addr,
              "--config", str(config))
    assert out.returncode == 0, out.stderr
    replayed = json.loads(out.stdout)
    assert sorted((a["id"], a["sentence"]) for a in replayed["anomalies"]) == [(r["id"], r["sentence"]) for r in stored]
    assert [(i["id"], i["narrative"]) for i in replayed["incidents"]] == [(incident["id"], incident["narrative"])]
    out = ben("replay", "--from", "yesterday", "--to", "now", "--spine", cluster.spine_addr)
    assert out.returncode == 2 and "--from" in out.stderr


def test_an_operator_acknowledges_an_open_incident(make_cluster) -> None:
    cluster = make_cluster(spine={"detect": QUICK_DETECT})
    cluster.start()
    client = Client("checkout-api", sidecar=cluster.sidecar_addr, max_batch_events=20)
    rng = random.Random(4)
    for sec in range(320):  # the data ends during the fault: the incident stays open
        for j in range(10):
            ts = T0 + sec * S + j * S // 10
            client.gauge("latency_ms", rng.gauss(level(sec), level(sec) / 10), {"route": "/pay"}, ts=ts)
    assert client.flush(timeout=60)
    client.shutdown()
    wait_for(lambda: query_rows(cluster.spine_addr, "SELECT count() AS n FROM ben.incidents FINAL "
                                                    "WHERE state = 'open'")[0]["n"] > 0, 60, "an open incident")
    [incident] = json.loads(ben("incidents", "--json", "--spine", cluster.spine_addr).stdout)
    out = ben("acknowledge", incident["id"], "--by", "alice", "--spine", cluster.spine_addr)
    assert out.returncode == 0 and "acknowledged" in out.stdout, out.stderr
    [after] = json.loads(ben("incidents", "--json", "--spine", cluster.spine_addr).stdout)
    assert after["state"] == "acknowledged" and "acknowledged by alice, still open" in after["narrative"]
    out = ben("acknowledge", "inc-0000000000", "--spine", cluster.spine_addr)
    assert out.returncode == 2 and "no incident" in out.stderr


def emit_seconds(cluster, first: int, last: int, seed: int) -> None:
    client = Client("checkout-api", sidecar=cluster.sidecar_addr, max_batch_events=20)
    rng = random.Random(seed)
    for sec in range(first, last):
        for j in range(10):
            ts = T0 + sec * S + j * S // 10
            client.gauge("latency_ms", rng.gauss(level(sec), level(sec) / 10), {"route": "/pay"}, ts=ts)
    assert client.flush(timeout=60)
    client.shutdown()


def test_detection_survives_spine_restarts(make_cluster) -> None:
    """kill -9 and a clean stop in the middle of a fault: the findings equal a replay of everything."""
    cluster = make_cluster(spine={"detect": QUICK_DETECT})
    cluster.start()
    emit_seconds(cluster, 0, 200, seed=1)
    cluster.wait_drained()
    wait_for(lambda: cluster.status("spine").get("detect_points_total", 0) >= 199, 60, "detection to catch up")
    assert cluster.spine.stop() == 0  # clean: a checkpoint at shutdown
    cluster.start_spine()
    emit_seconds(cluster, 200, 310, seed=2)  # the fault starts at 300
    cluster.wait_drained()
    cluster.spine.kill()  # kill -9: the last periodic checkpoint is older; the store has the rest
    cluster.start_spine()
    emit_seconds(cluster, 310, 420, seed=3)
    cluster.wait_drained()
    wait_for(lambda: query_rows(cluster.spine_addr, "SELECT count() AS n FROM ben.incidents FINAL "
                                                    "WHERE state = 'resolved'")[0]["n"] > 0, 60,
             "the incident to be resolved")
    stored_a = query_rows(cluster.spine_addr, "SELECT id, sentence FROM ben.anomalies FINAL ORDER BY id")
    stored_i = query_rows(cluster.spine_addr, "SELECT id, narrative FROM ben.incidents FINAL ORDER BY id")
    out = ben("replay", "--from", str(T0), "--to", str(T0 + 600 * S), "--json", "--spine", cluster.spine_addr,
              "--config", str(cluster.home / "ben.toml"))
    replayed = json.loads(out.stdout)
    assert stored_a and sorted((a["id"], a["sentence"]) for a in replayed["anomalies"]) == [
        (r["id"], r["sentence"]) for r in stored_a]
    assert sorted((i["id"], i["narrative"]) for i in replayed["incidents"]) == [
        (r["id"], r["narrative"]) for r in stored_i]


def test_a_timing_the_detection_cannot_take_is_a_config_error_naming_the_key() -> None:
    from ben.core.config import parse_config
    from ben.core.errors import ConfigError
    from ben.spine.detection import timing_of

    assert timing_of({"warmup_s": 5.0}).warmup_s == 5.0
    with pytest.raises(ConfigError, match="spine.detect.timing.warmup_minutes"):
        timing_of({"warmup_minutes": 5.0})
    with pytest.raises(ConfigError, match="spine.detect.timing"):
        parse_config({"spine": {"detect": {"timing": {"warmup_s": -1.0}}}})
    with pytest.raises(ConfigError, match="spine.detect.timing"):
        Detection.from_config(parse_config({"spine": {"detect": {"timing": {"warmup": 5.0}}}}).spine.detect)


def test_a_bad_timing_refuses_the_spine_before_it_opens_anything(tmp_path) -> None:
    import asyncio

    from ben.core.config import parse_config
    from ben.core.errors import ConfigError
    from ben.spine.app import Spine

    cfg = parse_config({"spine": {"data_dir": str(tmp_path / "spine"), "detect": {"timing": {"warmup": 5.0}}}})
    with pytest.raises(ConfigError, match="spine.detect.timing.warmup"):
        asyncio.run(Spine(cfg.spine).start())
    assert not (tmp_path / "spine").exists()  # no WAL, no store opened for a start that cannot run
