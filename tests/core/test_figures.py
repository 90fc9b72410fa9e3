"""Figures: the same numbers in `ben status` and on Prometheus /metrics, from real processes."""

from __future__ import annotations

import socket
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from ben.core.figures import counter, flat, gauge
from ben.sdk import Client


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scrape(port: int) -> dict[tuple[str, tuple], float]:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_flat() -> None:
    figures = [gauge("wal_bytes", 5, lane="alert"), gauge("wal_bytes", 7, lane="routine"), counter("acks_total", 3)]
    assert flat(figures) == {"wal_bytes": 12, "wal_bytes{lane=alert}": 5, "wal_bytes{lane=routine}": 7,
                             "acks_total": 3}


def test_metrics_match_status(make_cluster) -> None:
    side_port, spine_port = free_port(), free_port()
    cluster = make_cluster(sidecar={"metrics_listen": f"127.0.0.1:{side_port}"},
                           spine={"metrics_listen": f"127.0.0.1:{spine_port}"})
    cluster.start()
    client = Client("metrics", sidecar=cluster.sidecar_addr)
    for i in range(300):
        client.gauge("m", float(i))
    client.alert("boom", "it broke")
    assert client.flush(timeout=30)
    cluster.wait_drained()
    side, spine = scrape(side_port), scrape(spine_port)
    assert side[("ben_sidecar_events_received_total", (("lane", "routine"),))] == 300
    assert side[("ben_sidecar_events_received_total", (("lane", "alert"),))] == 1
    assert side[("ben_sidecar_wal_records", (("lane", "routine"),))] == 0
    assert ("ben_sidecar_wal_oldest_age_seconds", (("lane", "alert"),)) in side
    assert side[("ben_sidecar_refused_total", (("reason", "quota"),))] == 0
    assert ("ben_sidecar_dropped_total", (("reason", "invalid"),)) in side
    assert spine[("ben_spine_rows_stored_total", (("lane", "routine"),))] == 300
    assert spine[("ben_spine_rows_stored_total", (("lane", "alert"),))] == 1
    status = cluster.status("spine")
    assert status["rows_stored_total{lane=routine}"] == 300 and status["acks_total"] == spine[("ben_spine_acks_total", ())]
    client.shutdown()
