"""The web's reads without a spine: which plots and lists are kept, and for how long (a Reader whose
statements are answered here and counted)."""

from __future__ import annotations

import time

from ben.web import reads
from ben.web.reads import Reader

S = 10**9


class Counting(Reader):
    """Answers every statement with a few rows of a series (or its newest point) and counts them."""

    def __init__(self):
        super().__init__("unix:///nonexistent.sock")
        self.sent: list[str] = []

    def rows(self, sql: str) -> list[dict]:
        self.sent.append(sql)
        if "DISTINCT" in sql:
            return [{"subsystem": "api", "name": "latency_ms", "kind": "metric"},
                    {"subsystem": "api", "name": "deploy", "kind": "event"}]
        if "ORDER BY ts DESC LIMIT 1" in sql:
            return [{"ts": time.time_ns()}]
        now = time.time_ns()
        return [{"t": now - i * S, "lo": 1.0, "hi": 2.0, "mean": 1.5, "n": 3} for i in range(5, 0, -1)]


def anomaly(*, ended_s_ago: float | None, version: int = 1, id: str = "an-1") -> dict:  # noqa: A002
    now = time.time_ns()
    start = now - int(((ended_s_ago or 0) + 60) * S)
    return {"id": id, "version": version, "series": "api latency_ms{route=/pay}", "subsystem": "api",
            "name": "latency_ms", "start_ts": start, "end_ts": 0 if ended_s_ago is None else now - int(ended_s_ago * S),
            "baseline": 1.5}


def test_a_settled_plot_is_asked_once_an_ongoing_or_recent_one_every_time() -> None:
    r = Counting()
    settled = anomaly(ended_s_ago=3600)
    first = r.anomaly_plot(settled)
    assert r.anomaly_plot(settled) == first and len(r.sent) == 1
    r.anomaly_plot({**settled, "version": 2})  # a new version of the anomaly: asked again
    assert len(r.sent) == 2
    for a in (anomaly(ended_s_ago=None, id="an-2"), anomaly(ended_s_ago=10, id="an-3")):  # ongoing; window open
        r.sent.clear()
        r.anomaly_plot(a)
        r.anomaly_plot(a)
        assert len([s for s in r.sent if "GROUP BY b" in s]) == 2, r.sent


def test_a_kept_plot_expires_and_the_cache_is_bounded(monkeypatch) -> None:
    r = Counting()
    monkeypatch.setattr(reads, "PLOT_CACHE", 3)
    for v in range(5):
        r.anomaly_plot(anomaly(ended_s_ago=3600, version=v))
    assert len(r._plots) == 3
    r.sent.clear()
    r.anomaly_plot(anomaly(ended_s_ago=3600, version=4))
    assert r.sent == []
    monkeypatch.setattr(reads, "PLOT_TTL_S", 0.0)
    r.anomaly_plot(anomaly(ended_s_ago=3600, version=4))
    assert len(r.sent) == 1


def test_the_series_list_is_metric_series_and_re_read_after_its_ttl(monkeypatch) -> None:
    r = Counting()
    assert r.series_names() == [{"subsystem": "api", "name": "latency_ms"}]
    r.series_names()
    assert len(r.sent) == 1
    monkeypatch.setattr(reads, "NAMES_TTL_S", 0.0)
    r.series_names()
    assert len(r.sent) == 2


def test_the_incident_page_reads_anomalies_by_primary_key() -> None:
    r = Counting()
    r.rows = lambda sql: r.sent.append(sql) or []  # type: ignore[method-assign]
    assert r.incident("inc-1") is None
    anomalies = next(s for s in r.sent if "ben.anomalies" in s)
    assert "WHERE id IN (SELECT arrayJoin(anomaly_ids)" in anomalies and "incident_id" not in anomalies
    assert len(r.sent) == 4  # incident, anomalies, commands, audit: asked at once
