"""The spine's calibrated detection: its configuration, its evidence, and a change that becomes the new normal."""

from __future__ import annotations

import random

import pytest

from ben.cli.demo import DEMO_TIMING
from ben.core.config import load_config
from ben.core.errors import ConfigError
from ben.detect.calibrated import Timing
from ben.sdk.batch import BatchBuilder
from ben.spine.detection import Detection
from ben.spine.incidents import Correlator
from ben.store.rows import to_table
from ben.v1 import telemetry_pb2 as pb

S = 10**9
T0 = 1_795_000_000 * S


def test_the_detection_algorithm_and_its_timing_are_configured(tmp_path) -> None:
    path = tmp_path / "ben.toml"
    path.write_text('[spine.detect]\nbucket_ms = 250\n[spine.detect.timing]\nwarmup_s = 15.0\nclear_s = 5\n')
    detect = load_config(path).spine.detect
    det = Detection.from_config(detect)
    assert det.algorithm == "calibrated" and det.bank.timing == Timing(warmup_s=15.0, clear_s=5.0)
    assert Detection.from_config(load_config(None).spine.detect).bank.timing == Timing()  # documented defaults
    path.write_text('[spine.detect]\nalgorithm = "bank"\n')
    assert Detection.from_config(load_config(path).spine.detect).algorithm == "bank"
    for text, words in (('[spine.detect.timing]\nwarmup = 5\n', ("spine.detect.timing", "warmup", "warmup_s")),
                        ('[spine.detect.timing]\nclear_s = -1\n', ("spine.detect.timing", "clear_s")),
                        ('[spine.detect]\nalgorithm = "fancy"\n', ("spine.detect.algorithm",))):
        path.write_text(text)
        with pytest.raises(ConfigError) as err:  # values at load; keys where the spine builds its detection
            Detection.from_config(load_config(path).spine.detect)
        assert all(w in str(err.value) for w in words), str(err.value)


def shifted_rows(seconds: int = 480) -> object:
    """One latency series at 1 point a second that moves from 120 to 300 ms at 300 s and stays there."""
    rng = random.Random(11)
    records = []
    for sec in range(seconds):
        b = BatchBuilder(sec * 10 + 1)
        for j in range(4):
            b.add(pb.KIND_METRIC, "latency_ms", rng.gauss(300.0 if sec >= 300 else 120.0, 5.0), "",
                  {"route": "/pay"}, T0 + sec * S + j * S // 4)
        req = pb.IngestRequest(sender_id="sc", first_seq=sec + 1, last_seq=sec + 1,
                               batch=b.build(pb.Source(subsystem="checkout-api"), "p"))
        records.append((sec + 1, req))
    return to_table(records)


def test_a_lasting_change_becomes_the_new_normal_and_the_evidence_says_why() -> None:
    det = Detection(S, Correlator(60 * S, 30 * S), timing=Timing(**DEMO_TIMING))
    changes = det.process(shifted_rows())
    found = [a for a in changes.anomalies if a is not None]
    opened, closed = found[0], found[-1]
    assert opened.end_ns is None and T0 + 300 * S <= opened.start_ns <= T0 + 302 * S
    stats = opened.detectors["level"]
    assert set(stats) == {"sigma", "evidence", "level_z", "kl", "drift_z", "flat_intervals", "sustained_z",
                          "expected", "band"}
    assert stats["evidence"] >= DEMO_TIMING.get("open_evidence", Timing().open_evidence)
    assert 110 < stats["expected"] and 0 < stats["band"] < 50
    assert "flagged by level" in opened.sentence() and "rose from" in opened.sentence()
    # sustained for rebaseline_s (60 s): closed as the new normal, and said so
    assert closed.end_ns is not None and closed.note and "became the new baseline" in closed.note
    assert closed.detectors["level"]["rebaselined"] == 1.0
    assert closed.sentence().endswith(closed.note) or f"; {closed.note}" in closed.sentence()
    assert len({a.id for a in found}) == 1                      # one episode, once per onset
