"""The SDK client against a real sidecar process (and without one)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ben.cli.procs import count_stored, query_rows
from ben.core.errors import ConfigError
from ben.sdk import Client


def test_acknowledged_events_reach_the_store(cluster) -> None:
    client = Client("checkout", sidecar=cluster.sidecar_addr, max_batch_events=100, flush_interval_ms=20)
    seqs = [client.gauge("latency_ms", 100.0 + i, {"route": "/pay"}) for i in range(250)]
    seqs.append(client.counter("requests", 3, {"route": "/pay"}))
    seqs.append(client.event("deploy", {"version": "1.2"}, body="rolled out"))
    seqs.append(client.log("disk almost full", level="warn"))
    seqs.append(client.alert("provider_down", "payments answer 503"))
    assert seqs == list(range(1, 255))
    assert client.flush(timeout=30)
    assert client.acked_seq == 254 and client.is_acked(254) and client.buffered == 0
    assert client.stats.acked == 254
    assert client.shutdown(timeout=5)
    assert client.shutdown(timeout=5)  # a second shutdown is a no-op
    assert client.gauge("late", 1.0) is None and client.stats.dropped_closed == 1
    cluster.wait_drained()
    assert count_stored(cluster.spine_addr) == 254
    rows = query_rows(cluster.spine_addr, "SELECT kind, name, body, attributes.value AS v FROM ben.events "
                                          "WHERE kind != 'metric' ORDER BY producer_seq")
    assert [(r["kind"], r["name"], r["body"]) for r in rows] == [
        ("counter", "requests", ""), ("event", "deploy", "rolled out"), ("log", "warn", "disk almost full"),
        ("alert", "provider_down", "payments answer 503")]
    assert rows[3]["v"] == ["critical"]


def test_flush_reports_false_without_a_sidecar(home: Path) -> None:
    client = Client("x", sidecar=f"unix://{home / 'absent.sock'}", reconnect_max_ms=100)
    assert client.gauge("m", 1.0) == 1
    assert not client.flush(timeout=0.5)
    assert client.acked_seq == 0 and client.buffered == 1
    assert "unreachable" in client.last_error or "UNAVAILABLE" in client.last_error
    assert not client.shutdown(timeout=0.2)


@pytest.mark.parametrize("kwargs, field", [
    ({"subsystem": ""}, "subsystem"),
    ({"subsystem": "s", "max_batch_events": 0}, "max_batch_events"),
    ({"subsystem": "s", "full_policy": "sometimes"}, "full_policy"),
    ({"subsystem": "s", "sidecar": "not-an-address"}, "sidecar"),
    ({"subsystem": "lone\ud800"}, "subsystem"),
    ({"subsystem": "s", "instance": "i\udc80"}, "instance"),
])
def test_bad_arguments_name_the_field(kwargs, field: str) -> None:
    with pytest.raises(ConfigError, match=field):
        Client(**kwargs)


def test_a_timeout_longer_than_a_lock_waits_is_no_limit(cluster) -> None:
    """``flush(timeout=1e10)`` (``ben emit --timeout 1e10``) was "OverflowError: timestamp out of range for
    platform time_t": past what a lock's wait takes, a timeout is no limit (ADR 0033, round 7)."""
    client = Client("checkout", sidecar=cluster.sidecar_addr, flush_interval_ms=20)
    assert client.gauge("latency_ms", 1.0) == 1
    assert client.flush(timeout=1e10) is True and client.flush(timeout=-1e300) is True
    assert client.shutdown(timeout=1e12) is True


EXITS_WITHOUT_SHUTDOWN = """
import sys
import ben.sdk.client
from ben.sdk import Client
ben.sdk.client.EXIT_FLUSH_S = float(sys.argv[2])
client = Client("exit-probe", sidecar=sys.argv[1])
for i in range(1000):
    client.gauge("g", float(i))
# a script that ends here, without flush() or shutdown()
"""


def test_a_script_that_ends_without_shutdown_sends_what_it_holds_or_says_it_could_not(home: Path) -> None:
    """A script that emitted and ended without `shutdown()` (the README's last line, forgotten) lost every event in
    silence: the sender's daemon thread went with the interpreter. At exit each Client never shut down now sends
    what it holds (up to `EXIT_FLUSH_S`), or says how many the sidecar did not take (ADR 0033, round 10). Real
    sidecar and interpreters."""
    import subprocess
    import sys

    from ben.cli.procs import Cluster, wait_for

    cluster = Cluster(home)  # a sidecar alone acknowledges what is on its disk
    cluster.start_sidecar()
    try:
        out = subprocess.run([sys.executable, "-c", EXITS_WITHOUT_SHUTDOWN, cluster.sidecar_addr, "30"],
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0 and not out.stderr, out.stderr
        received = wait_for(lambda: cluster.status("sidecar").get("events_received_total{lane=routine}"), 30,
                            "the sidecar's figures")
        assert received == 1000, cluster.status("sidecar")
    finally:
        cluster.stop()
    out = subprocess.run([sys.executable, "-c", EXITS_WITHOUT_SHUTDOWN, f"unix://{home}/no-sidecar.sock", "0.2"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "1000 events not acknowledged by the sidecar" in out.stderr, out.stderr
