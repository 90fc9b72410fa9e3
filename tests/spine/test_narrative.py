"""Narratives claim only what the numbers show, and tag-alongs are not attached (the demo's data)."""

from __future__ import annotations

import functools
import math
import re

import numpy as np
import pyarrow as pa

from ben.cli.demo import DEMO_TIMING
from ben.detect.calibrated import Timing
from ben.spine.detection import KIND_COUNTER, KIND_METRIC, Detection
from ben.spine.incidents import MIN_ATTACH_SIGMA, Anomaly, Correlator
from ben.spine.narrative import anomaly_sentence

S = 10**9
QUICK = Timing(**DEMO_TIMING)  # the demo's short memories: detection within seconds
T0 = 1_795_000_000 * S
ROUTES = ("/pay", "/cart", "/search", "/login")


def demo_rows(seconds: int = 160, rate: int = 5_000, seed: int = 1) -> pa.Table:
    """What ``ben demo``'s synthetic subsystem sends (``ben.cli.synth.run_synth``), with its timing:
    ticks of 10 ms, a fault on /pay every 45 s for 10 s from 25 s, and stalls of a busy machine after
    which the missed ticks are sent at once (the generator's catch-up)."""
    rng = np.random.default_rng(seed)
    per_tick = rate // 100
    ts_list, tick_t, t = [], [], 0.0
    while t < seconds:
        if rng.random() < 0.004:  # the machine is busy: no events, then a burst of the missed ticks
            stall = float(rng.uniform(0.1, 0.9))
            burst_at = t + stall
            while t < burst_at:
                tick_t.append(t)
                ts_list.append(burst_at)
                t += 0.01
            continue
        tick_t.append(t)
        ts_list.append(t)
        t += 0.01
    emit = np.repeat(np.array(ts_list), per_tick)
    clock = np.repeat(np.array(tick_t), per_tick)
    n = len(emit)
    e = np.arange(n)
    route = e % 4
    faulty = (clock >= 25) & (((clock - 25) % 45) < 10)
    is_log = e % 100 == 99
    counter = (e % 2 == 1) & ~is_log
    level = np.where(faulty & (route == 0), 480.0, 120.0)
    latency = np.maximum(1.0, rng.normal(level, level / 10))
    keep = ~is_log
    kind = np.where(counter, KIND_COUNTER, KIND_METRIC)[keep]
    return pa.table({
        "ts": pa.array(T0 + (emit[keep] * 1e9).astype(np.int64), pa.int64()),
        "kind": pa.array(kind.astype(np.int8)),
        "subsystem": pa.array(["demo"] * int(keep.sum())),
        "name": pa.array(np.where(counter, "requests", "latency_ms")[keep]),
        "value": pa.array(np.where(counter, 1.0, latency)[keep]),
        "attributes.key": pa.array([["route"]] * int(keep.sum()), pa.list_(pa.string())),
        "attributes.value": pa.array([[ROUTES[r]] for r in route[keep]], pa.list_(pa.string())),
        "spine_seq": pa.array((e[keep] // 1000 + 1).astype(np.uint64)),
    })


@functools.lru_cache(maxsize=1)
def demo_incidents():
    det = Detection(250 * 10**6, Correlator(30 * S, 8 * S), timing=QUICK)  # the demo's [spine.detect]
    det.process(demo_rows())
    return list(det.correlator.incidents.values())


NUMBER = r"(-?[\d,]+(?:\.\d+)?)"


def claims(a: Anomaly) -> tuple[float, float, float] | None:
    """(from, to, sigma) as the sentence states them, or None if it claims no rise or fall."""
    text = a.sentence()
    moved = re.search(rf"(?:rose|fell) from {NUMBER}.*? to {NUMBER}", text)
    if moved is None:
        return None
    sigma = re.search(r"([\d.]+) sigma", text)
    assert sigma, text
    return float(moved.group(1).replace(",", "")), float(moved.group(2).replace(",", "")), float(sigma.group(1))


def test_the_demo_narratives_claim_only_what_the_numbers_show() -> None:
    incidents = demo_incidents()
    assert any("latency_ms{route=/pay} rose from" in i.narrative() for i in incidents), \
        [i.narrative() for i in incidents]
    checked = 0
    for inc in incidents:
        for a in inc.anomalies:
            said = claims(a)
            if said is None:
                assert "changed its distribution" in a.sentence()
                continue
            frm, to, sigma = said
            assert frm != to, a.sentence()
            assert abs(a.observed - a.baseline) >= sigma * a.scale, (a.sentence(), a.baseline, a.observed, a.scale)
            assert abs(to - frm) >= 0.9 * sigma * a.scale, a.sentence()  # as shown, up to rounding
            checked += 1
    assert checked


def test_tag_alongs_below_the_incidents_threshold_are_not_attached() -> None:
    for inc in demo_incidents():
        for a in inc.anomalies[1:]:
            assert a.shift_sigma >= MIN_ATTACH_SIGMA or a.moved_with, (inc.narrative(), a.sentence())
    c = Correlator(30 * S, 8 * S)
    lead = Anomaly("demo latency_ms", "demo", "latency_ms", T0, 120.0, 480.0, 0.999, {"ewma": {}}, scale=12.0)
    inc = c.add(lead)
    weak = Anomaly("demo requests", "demo", "requests", T0 + S, 1_200.0, 1_213.0, 0.6, {"cusum": {}}, scale=12.0)
    assert c.add(weak) is None and inc.anomalies == [lead]
    weak.end_ns = T0 + 5 * S
    assert c.add(weak) is None and c.detached == {weak.id: weak}  # its update stays detached
    assert c.tick(T0 + 100 * S) == [] and inc.state.value == "open"  # the lead is still ongoing
    strong = Anomaly("demo errors", "demo", "errors", T0 + S, 1.0, 40.0, 0.9, {"ewma": {}}, scale=2.0)
    assert c.add(strong) is inc


def test_a_flat_series_never_rises_or_falls() -> None:
    text = anomaly_sentence("demo requests{route=/login}", "requests", 1_200.2, 1_200.4, T0,
                            {"cusum": {"sigma": 12.0, "points": 9}, "ewma": {"sigma": 400.0}}, scale=3.0)
    assert "from" not in text and "sigma" not in text and "changed its distribution around 1,200" in text
    text = anomaly_sentence("x latency_ms", "latency_ms", 120.0, 480.0, T0, {"cusum": {"sigma": 40.0, "points": 14}},
                            scale=20.0)
    assert "rose from 120 ms to 480 ms" in text and "(18.0 sigma; CUSUM over 14 points)" in text


def test_an_onset_opened_by_the_mean_over_hours_is_explained_as_such() -> None:
    from ben.detect.episode import Episode
    from ben.spine.detection import calibrated_evidence

    ep = Episode(3, "anomaly", "open", 1_767_571_200 * 10**9, None, 4, 0.6, 1_767_571_200 * 10**9, 80.0,
                 ("sustained",), 100.0, 10.0, 82.0, -2.0, sustained_spreads=-4.2, sustained_s=10_800.0)
    evidence = {"level_z": 1.5, "kl": 0.1, "drift_z": 0.4, "flat_intervals": 0.0, "sustained_z": -4.2,
                "expected": 100.0, "scale": 10.0}
    detectors = calibrated_evidence(ep, evidence, Timing())
    assert list(detectors) == ["sustained"] and detectors["sustained"]["sustained_z"] == -4.2
    sentence = anomaly_sentence("shop visits", "visits", 100.0, 82.0, ep.start_ts, detectors, scale=10.0)
    assert sentence.endswith("(1.8 sigma; flagged by mean over hours)"), sentence
    assert "(the last 3 h ran 4.2 spreads below the expected)" in ep.summary()


def test_huge_tiny_and_missing_numbers_read_as_a_person_writes_them() -> None:
    """ADR 0033 round 6: 1e300 was written with its 301 digits (and its sigma too), 1e-300 as "1e-300"."""
    from ben.spine.narrative import fmt_value

    assert fmt_value(1e300, "ms") == "1 × 10^300 ms" and fmt_value(-1.234e300) == "-1.23 × 10^300"
    assert fmt_value(5e-5, "s") == "5 × 10^-5 s" and fmt_value(0.0) == "0" and fmt_value(math.nan) == "n/a"
    assert fmt_value(48211.5) == "48,212" and fmt_value(0.001) == "0.001"  # the usual range unchanged
    huge = anomaly_sentence("s x_ms", "x_ms", 1.0, 1e300, 10**18, {"level": {}}, scale=1.0)
    assert huge == ("s x_ms rose from 1 ms to 1 × 10^300 ms at 2001-09-09 01:46:40 UTC (1 × 10^300 sigma; flagged by "
                    "level)")
    cusum = anomaly_sentence("s", "x", 1.0, 2.0, 10**18, {"cusum": {"sigma": 1e300, "points": 3}})
    assert "CUSUM 1 × 10^300 sigma over 3 points" in cusum and "000" not in cusum
