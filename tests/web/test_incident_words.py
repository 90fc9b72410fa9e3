"""The incident page as a newcomer reads it (ADR 0033, round 6), over real HTTP to ``WebServer``: each
detector's evidence in words and units beside its statistics, and an anomaly whose numbers the store
answers as "nan" / "inf" (or whose evidence is no JSON object) is a page, not a 500. The spine's rows are
given to the reader (no spine runs): what is tested is the page."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from ben.core.config import WebConfig
from ben.core.errors import TransportError
from ben.web import WebServer
from ben.web.reads import Reader

INC = {"id": "inc-3f2a9c0d1e", "subsystem": "checkout-api", "state": "resolved", "severity": "high",
       "opened_ts": 1_765_000_000 * 10**9, "resolved_ts": 1_765_000_024 * 10**9, "narrative": "latency rose",
       "anomaly_ids": ["an-1", "an-2"]}
LEVEL = {"band": 2.41, "evidence": 642.0, "expected": 123.0, "kl": 0.429, "level_z": 0.941, "sigma": 442.0}
ANOMALIES = [
    {"id": "an-1", "series": "checkout-api latency_ms{route=/pay}", "subsystem": "checkout-api",
     "name": "latency_ms", "start_ts": INC["opened_ts"], "end_ts": 0, "baseline": 120.2, "observed": 439.9,
     "score": 0.985, "evidence": json.dumps({"level": LEVEL}), "sentence": "latency rose"},
    {"id": "an-2", "series": "checkout-api queue", "subsystem": "checkout-api", "name": "queue",
     "start_ts": INC["opened_ts"], "end_ts": 0, "baseline": "nan", "observed": "inf", "score": "nan",
     "evidence": "[1, 2]", "sentence": "queue changed"},
]


def rows(self, sql: str) -> list[dict]:
    if sql.startswith("SELECT * FROM ben.incidents"):
        return [dict(INC)]
    if sql.startswith("SELECT * FROM ben.anomalies"):
        return [dict(a) for a in ANOMALIES]
    return []


def no_plot(self, a: dict) -> dict:
    raise TransportError("no spine in this test")


@pytest.fixture
def url(tmp_path: Path, monkeypatch) -> str:
    monkeypatch.setattr(Reader, "rows", rows)
    monkeypatch.setattr(Reader, "anomaly_plot", no_plot)
    server = WebServer(WebConfig(listen_port=0), f"unix://{tmp_path / 'no-spine.sock'}").start()
    yield server.url.rstrip("/")
    server.shutdown(2.0)


def test_the_incident_page_says_the_evidence_in_words_and_survives_numbers_that_are_none(url: str) -> None:
    try:
        with urllib.request.urlopen(f"{url}/incident/{INC['id']}", timeout=30) as answer:
            status, page = answer.status, answer.read().decode()
    except urllib.error.HTTPError as exc:  # was 500: "%.4g" | format("nan")
        status, page = exc.code, exc.read().decode()
    assert status == 200, (status, page[:300])
    page = " ".join(page.split())
    for said in ("baseline 120 ms", "observed 440 ms", "score 0.985 (0 to 1)", "442 sigma from normal at its peak",
                 "expected 123 ms", "normal band ± 2.4 ms", "baseline n/a, observed n/a, score n/a"):
        assert said in page, said
    assert "level_z=0.941" in page  # the statistics stay for who wants them
