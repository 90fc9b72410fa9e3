from __future__ import annotations

from ben.spine.incidents import Anomaly, Correlator, State
from ben.spine.narrative import fmt_value

T0 = 1_795_000_000 * 10**9  # some fixed moment
S = 10**9


def latency(start: int, end: int | None = None, observed: float = 480.0, score: float = 0.995) -> Anomaly:
    return Anomaly("checkout-api latency_ms{route=/pay}", "checkout-api", "latency_ms", start, baseline=120.0,
                   observed=observed, score=score, detectors={"cusum": {"sigma": 6.2, "points": 14}}, end_ns=end)


def test_narrative_reads_in_one_breath() -> None:
    a = latency(T0 + 3 * 60 * S)
    assert a.sentence().startswith("checkout-api latency_ms{route=/pay} rose from 120 ms to 480 ms at ")
    assert a.sentence().endswith("(CUSUM 6.2 sigma over 14 points)")
    c = Correlator()
    inc = c.add(a)
    assert inc.narrative().endswith("; still open") and inc.state is State.OPEN
    assert inc.severity == "high"


def test_grouping_by_subsystem_and_time_and_lifecycle() -> None:
    c = Correlator(group_window_ns=300 * S, resolve_after_ns=120 * S)
    first = c.add(latency(T0))
    errors = Anomaly("checkout-api errors", "checkout-api", "errors", T0 + 30 * S, 1.0, 40.0, 0.999,
                     {"ewma": {"sigma": 9.0}})
    assert c.add(errors) is first  # same subsystem, within the window
    other = c.add(Anomaly("search latency_ms", "search", "latency_ms", T0 + 40 * S, 50, 20, 0.95))
    assert other is not first
    assert first.severity == "critical"
    assert first.narrative().startswith("checkout-api errors rose from 1 to 40")  # the strongest leads
    assert "; also checkout-api latency_ms{route=/pay}; still open" in first.narrative()
    assert c.tick(T0 + 600 * S) == []  # every anomaly is still ongoing
    # The episodes end; the incident resolves after a quiet period.
    c.add(latency(T0, end=T0 + 60 * S))
    c.add(Anomaly("checkout-api errors", "checkout-api", "errors", T0 + 30 * S, 1.0, 40.0, 0.999,
                  {"ewma": {"sigma": 9.0}}, end_ns=T0 + 70 * S))
    assert len(first.anomalies) == 2  # updates replace, not duplicate
    assert c.tick(T0 + 100 * S) == []
    assert c.tick(T0 + 200 * S) == [first]
    assert first.state is State.RESOLVED and "resolved at" in first.narrative()
    # A later anomaly opens a new incident.
    assert c.add(latency(T0 + 900 * S)) is not first


def test_acknowledge() -> None:
    c = Correlator()
    inc = c.add(latency(T0))
    c.acknowledge(inc.id, by="oncall")
    assert inc.state is State.ACKNOWLEDGED and "acknowledged by oncall, still open" in inc.narrative()


def test_ids_are_deterministic() -> None:
    assert latency(T0).id == latency(T0).id != latency(T0 + 1).id
    assert Correlator().add(latency(T0)).id == Correlator().add(latency(T0)).id


def test_numbers() -> None:
    assert fmt_value(120.0, "ms") == "120 ms" and fmt_value(0.1234) == "0.123" and fmt_value(48211.5) == "48,212"
    assert fmt_value(12.5, "%") == "12.5%"


def test_a_calibrated_anomaly_is_graded_by_its_evidence_not_its_score() -> None:
    """Calibrated scores are evidence / (evidence + 10), so a 0.9 score would need 90 nats: severity
    reads the evidence itself (15 nats strong, 30 very strong); a bank anomaly keeps its score grades."""
    def calibrated(evidence: float, series: str = "checkout-api latency_ms") -> Anomaly:
        return Anomaly(series, "checkout-api", "latency_ms", T0, 120.0, 480.0, evidence / (evidence + 10.0),
                       {"level": {"sigma": 8.0, "evidence": evidence}})

    assert [calibrated(e).strength for e in (8.0, 15.0, 29.9, 30.0)] == [0, 1, 1, 2]
    assert [Correlator().add(calibrated(e)).severity for e in (8.0, 20.0, 45.0)] == ["low", "medium", "high"]
    c = Correlator()
    c.add(calibrated(45.0))
    assert c.add(calibrated(20.0, "checkout-api errors")).severity == "critical"
    assert [latency(T0, score=s).strength for s in (0.5, 0.9, 0.99)] == [0, 1, 2]
