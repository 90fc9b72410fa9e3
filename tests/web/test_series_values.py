"""``/api/series`` over a real spine that stored gauges of NaN and ±inf (ADR 0033): such a bucket is null (a
gap in the plot, which uPlot draws as one), never the strings "nan" / "inf" the plot drew nowhere."""

from __future__ import annotations

import json
import math
import urllib.request

from ben.core.config import WebConfig
from ben.sdk import Client
from ben.web import WebServer

T0 = 1_795_000_000 * 10**9
S = 10**9


def test_a_bucket_of_nan_or_infinite_values_is_null(make_cluster) -> None:
    cluster = make_cluster()
    cluster.start()
    client = Client("checkout-api", sidecar=cluster.sidecar_addr)
    values = [12.5, float("nan"), float("inf"), float("-inf"), 13.0]
    for i, value in enumerate(values):
        client.gauge("latency_ms", value, ts=T0 + i * S)
    assert client.flush(timeout=60)
    client.shutdown()
    cluster.wait_drained()
    web = WebServer(WebConfig(listen_port=0), cluster.spine_addr).start()
    try:  # ten buckets of a second: one point each
        q = f"subsystem=checkout-api&name=latency_ms&from={T0 / S}&to={T0 / S + 10}&width=10"
        with urllib.request.urlopen(f"{web.url.rstrip('/')}/api/series?{q}", timeout=30) as answer:
            data = json.loads(answer.read(), parse_constant=lambda c: _not_json(c))
    finally:
        web.shutdown(2.0)
    assert data["points"] == 5 and data["buckets"] == 5, data
    expected = [v if math.isfinite(v) else None for v in values]
    assert data["lo"] == data["hi"] == data["mean"] == expected, data


def _not_json(constant: str):
    raise AssertionError(f"{constant} is not JSON")
