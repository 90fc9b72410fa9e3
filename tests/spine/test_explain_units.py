"""Units, sigma and dates as an on-call operator reads them (ADR 0012, 2026-12-07 round 2): an OTLP metric's
``unit`` reaches the narrative and ``ben explain`` (it was lost in conversion: a p99 in seconds read "rose from
0.113 to 0.915"), ``ben explain`` says what sigma is, and a sentence's time carries its date."""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.metrics.v1 import metrics_pb2

from ben.cli.demo import DEMO_TIMING
from ben.detect.words import SIGMA_SAID
from ben.cli.procs import query_rows, wait_for
from ben.detect.words import ucum_words
from ben.spine.incidents import Anomaly, Correlator
from tests.otlp.test_transports import ANY_PORT, ports, post

S = 10**9
T0 = 1_795_000_000 * S  # 2026-11-18 11:06:40 UTC
DELTA = metrics_pb2.AGGREGATION_TEMPORALITY_DELTA
BOUNDS = [0.05, 0.1, 0.25, 0.5, 1.0, 2.5]  # seconds
LEVEL = {"level": {"sigma": 40.0}}


def _service(req: ExportMetricsServiceRequest):
    rm = req.resource_metrics.add()
    rm.resource.attributes.append(KeyValue(key="service.name", value=AnyValue(string_value="cache")))
    return rm.scope_metrics.add()


def _request(first: int, seconds: int, rng: random.Random) -> ExportMetricsServiceRequest:
    """``seconds`` of event time from ``first``: memory in bytes ("By") from 500 MB to 2 GB at 300 s (and staying),
    a request duration histogram in seconds ("s") whose p99 goes from under 0.5 s to over 1 s for 30 s from 300 s, and
    a request counter ("{requests}", delta sums a second) from ~10 to ~30 a second from 300 s."""
    req = ExportMetricsServiceRequest()
    scope = _service(req)
    memory = scope.metrics.add(name="process.memory.usage", unit="By").gauge
    duration = scope.metrics.add(name="http.server.request.duration", unit="s").histogram
    duration.aggregation_temporality = DELTA
    requests = scope.metrics.add(name="http.server.requests", unit="{requests}").sum
    requests.aggregation_temporality, requests.is_monotonic = DELTA, True
    for sec in range(first, first + seconds):
        start, end = T0 + sec * S, T0 + (sec + 1) * S
        for j in range(4):
            memory.data_points.add(time_unix_nano=start + j * S // 4, as_double=rng.gauss(2e9 if sec >= 300 else 5e8, 1e7))
        slow = 300 <= sec < 330
        counts = [0, 20 + rng.randint(0, 4), 70 + rng.randint(0, 8), 8 + rng.randint(0, 3), 0, 0, 0]
        if slow:
            counts = [0, 5, 20, 30 + rng.randint(0, 4), 40 + rng.randint(0, 8), 5 + rng.randint(0, 3), 0]
        duration.data_points.add(start_time_unix_nano=start, time_unix_nano=end, count=sum(counts),
                                 sum=0.2 * sum(counts), explicit_bounds=BOUNDS, bucket_counts=counts)
        rate = 30 if sec >= 300 else 10
        requests.data_points.add(start_time_unix_nano=start, time_unix_nano=end, as_int=rate + rng.randint(-2, 2))
    return req


def _ben(*args: str) -> str:
    out = subprocess.run([sys.executable, "-m", "ben", *args], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


def test_otlp_units_are_said_by_incidents_and_explain(make_cluster) -> None:
    """Real spine and sidecar, OTLP/HTTP: the p99 read "rose from 0.2 to 0.9" (no unit), memory sent in "By" read
    as bare ten-digit numbers, requests as bare rates; ``ben explain`` now says "s", "GB" and "requests per s",
    defines sigma, and the narrative's time has its date."""
    c = make_cluster(spine={"detect": {"bucket_ms": 1000, "group_window_s": 120.0, "resolve_after_s": 30.0,
                                       "timing": DEMO_TIMING}}, sidecar=ANY_PORT).start()
    _, http = ports(c)
    rng = random.Random(5)
    for first in range(0, 600, 60):
        assert post(http, "/v1/metrics", _request(first, 60, rng).SerializeToString())[0] == 200
    c.wait_drained()
    wanted = ("process.memory.usage", "http.server.request.duration.p99", "http.server.requests")

    def explained() -> str:
        rows = json.loads(_ben("incidents", "--json", "--spine", c.spine_addr))
        for row in rows:
            if row["subsystem"] == "cache":
                text = " ".join(_ben("explain", row["id"], "--spine", c.spine_addr).split())
                if all(f"cache {name}:" in text for name in wanted):
                    return text
        return ""

    wait_for(explained, 120, "one incident of cache with its three series")
    text = explained()
    assert re.search(r"cache process\.memory\.usage: [^;]*; baseline 50\d MB, observed 2\.0 GB", text), text
    assert re.search(r"cache http\.server\.request\.duration\.p99: [^;]*; baseline 0\.[2-4]\d* s, observed [12](\.\d+)? s",
                     text), text
    assert re.search(r"cache http\.server\.requests: [^;]*; baseline (9|10|11)(\.\d)? requests per s, observed "
                     r"(2\d|3\d)(\.\d)? requests per s", text), text
    assert "2026-11-18 11:1" in text and SIGMA_SAID in text, text  # the narrative's time with its date
    # a replay over the stored rows reads the units back: the same sentences (ids and words)
    stored = query_rows(c.spine_addr, "SELECT id, sentence FROM ben.anomalies FINAL WHERE subsystem = 'cache'")
    replayed = json.loads(_ben("replay", "--from", str(T0), "--to", str(T0 + 600 * S), "--json", "--spine",
                               c.spine_addr, "--config", str(c.home / "ben.toml")))
    said = {a["id"]: a["sentence"] for a in replayed["anomalies"]}
    assert stored and all(said.get(r["id"]) == r["sentence"] for r in stored), (stored, said)
    assert any("requests per s" in r["sentence"] for r in stored), stored


def test_ucum_units_in_words() -> None:
    said = {u: ucum_words(u) for u in ("s", "ms", "By", "1", "%", "{requests}", "By/s", "By{compressed}", "Cel", "")}
    assert said == {"s": "s", "ms": "ms", "By": "bytes", "1": "", "%": "%", "{requests}": "requests",
                    "By/s": "bytes per s", "By{compressed}": "bytes", "Cel": "°C", "": ""}, said
    for not_a_unit in ('{"bounds": [0.1]}', "x" * 41, "two words", "a\x1b[2Jb"):  # a body that is something else
        assert ucum_words(not_a_unit) == "", not_a_unit


def test_a_sentence_says_its_date_and_a_close_on_another_day_says_it_too() -> None:
    """The narrative said "rose ... at 23:59:30 UTC; resolved at 00:02:30 UTC" with no date: read days later, or
    across midnight, the operator could not tell which day (``ben incidents`` prints dates beside it, a copied
    narrative does not)."""
    late = T0 + (12 * 3600 + 52 * 60 + 50) * S  # 2026-11-18 23:59:30 UTC
    a = Anomaly("cache latency_ms", "cache", "latency_ms", late, 120.0, 480.0, 0.99, dict(LEVEL), end_ns=late + 20 * S,
                scale=5.0)
    corr = Correlator(60 * S, 30 * S)
    inc = corr.add(a)
    corr.tick(late + 180 * S)
    text = inc.narrative()
    assert "at 2026-11-18 23:59:30 UTC" in text and "resolved at 2026-11-19 00:02:30 UTC after 3 min" in text, text
    same_day = Correlator(60 * S, 30 * S)
    b = Anomaly("cache latency_ms", "cache", "latency_ms", T0, 120.0, 480.0, 0.99, dict(LEVEL), end_ns=T0 + 20 * S,
                scale=5.0)
    inc = same_day.add(b)
    same_day.tick(T0 + 180 * S)
    assert "resolved at 11:09:40 UTC after 3 min" in inc.narrative(), inc.narrative()  # the day said once


def test_an_anomaly_says_its_series_unit_and_its_rate() -> None:
    p99 = Anomaly("api d.p99", "api", "d.p99", T0, 0.113, 0.915, 0.99, dict(LEVEL), scale=0.01, unit="s")
    assert "rose from 0.113 s to 0.915 s" in p99.sentence() and p99.shown_unit == "s", p99.sentence()
    reqs = Anomaly("api r", "api", "r", T0, 10.0, 30.0, 0.99, dict(LEVEL), scale=0.5, unit="requests", per_ns=S)
    assert "rose from 10 requests per s to 30 requests per s" in reqs.sentence()
    assert reqs.shown_unit == "requests per s"
    mem = Anomaly("c m", "c", "m", T0, 5e8, 2e9, 0.99, dict(LEVEL), scale=1e7, unit="bytes")
    assert "rose from 500 MB to 2 GB" in mem.sentence(), mem.sentence()
    named = Anomaly("c lat_ms", "c", "lat_ms", T0, 120.0, 480.0, 0.99, dict(LEVEL), scale=5.0)
    assert "from 120 ms to 480 ms" in named.sentence() and named.shown_unit == "ms"  # no unit: the name's suffix
