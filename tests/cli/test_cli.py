"""The ``ben`` command line as a user runs it: real processes, exit codes, messages."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from ben.cli.procs import count_stored, query_rows, wait_for

# a directory no one has: not /nonexistent, which anything else on the machine may create
ABSENT_DIR = f"/tmp/ben-absent-{uuid.uuid4().hex}/x"


def ben(*args: str, timeout: float = 120, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ben", *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


@pytest.mark.parametrize("command", ["spine", "sidecar"])
def test_bad_config_is_refused_naming_field_and_file(home: Path, command: str) -> None:
    config = home / "bad.toml"
    config.write_text(f"[{command}]\nshutdown_timeout_ms = -5\n")
    out = ben(command, "--config", str(config))
    assert out.returncode == 2
    assert f"{command}.shutdown_timeout_ms" in out.stderr and str(config) in out.stderr
    assert "Traceback" not in out.stderr


def test_unknown_section_is_refused(home: Path) -> None:
    config = home / "bad.toml"
    config.write_text("[spien]\nlisten = \"127.0.0.1:1\"\n")
    out = ben("spine", "--config", str(config))
    assert out.returncode == 2 and "'spien'" in out.stderr and "unknown field" in out.stderr


def test_missing_config_file(home: Path) -> None:
    out = ben("sidecar", "--config", str(home / "nope.toml"))
    assert out.returncode == 2 and "file not found" in out.stderr


def test_second_spine_is_refused(cluster) -> None:
    out = ben("spine", "--config", str(cluster.config))  # same data_dir
    assert out.returncode == 2 and "in use by another process" in out.stderr, out.stderr
    other = cluster.home / "other.toml"
    other.write_text(f'[spine]\ndata_dir = "{cluster.home / "other"}"\nlisten = "{cluster.spine_addr}"\n')
    out = ben("spine", "--config", str(other))  # same socket
    assert out.returncode == 2 and "already listening" in out.stderr, out.stderr


@pytest.mark.parametrize("args, message", [
    (["emit", "x", "--attr", "novalue"], "expected KEY=VALUE"),
    (["emit", "x", "--kind", "bogus"], "--kind 'bogus'"),
    (["emit", "x", "--value", "abc"], "'--value'"),
    (["emit", " "], "NAME must not be empty"),
    (["query", "--data-dir", ABSENT_DIR, "SELECT 1"], "not a directory"),
])
def test_bad_cli_input(args: list[str], message: str) -> None:
    out = ben(*args)
    assert out.returncode == 2, out
    assert message in out.stderr
    assert "Traceback" not in out.stderr


def test_emit_without_sidecar_fails_clearly(home: Path) -> None:
    out = ben("emit", "deploy", "--sidecar", f"unix://{home / 'none.sock'}", "--timeout", "1")
    assert out.returncode == 2 and "no sidecar listens at" in out.stderr  # no socket: said at once
    import socket

    with socket.socket(socket.AF_UNIX) as stale:  # a socket file nothing listens on (a sidecar killed -9)
        stale.bind(str(home / "stale.sock"))
    out = ben("emit", "deploy", "--sidecar", f"unix://{home / 'stale.sock'}", "--timeout", "1")
    assert out.returncode == 1 and "no acknowledgement from the sidecar" in out.stderr


def test_query_without_spine_gives_a_hint(home: Path) -> None:
    out = ben("query", "--spine", f"unix://{home / 'none.sock'}", "SELECT 1")
    assert out.returncode == 2 and "start the spine" in out.stderr


def test_emit_query_status_roundtrip(cluster) -> None:
    out = ben("emit", "deploy", "--attr", "version=1.2.3", "--body", "rolled out", "--sidecar", cluster.sidecar_addr)
    assert out.returncode == 0 and "acknowledged: event 'deploy'" in out.stdout, out.stderr
    out = ben("emit", "latency_ms", "--kind", "metric", "--value", "12.5", "--sidecar", cluster.sidecar_addr)
    assert out.returncode == 0, out.stderr
    wait_for(lambda: count_stored(cluster.spine_addr) == 2, 30, "both events stored")
    out = ben("query", "--json", "--spine", cluster.spine_addr,
              "SELECT kind, name, value, body, attributes.value AS v FROM ben.events ORDER BY kind")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [
        {"kind": "metric", "name": "latency_ms", "value": 12.5, "body": "", "v": []},
        {"kind": "event", "name": "deploy", "value": 1, "body": "rolled out", "v": ["1.2.3"]},
    ]
    out = ben("query", "--spine", cluster.spine_addr, "SELECT count() AS n FROM ben.events")
    assert out.returncode == 0 and "1 row(s)" in out.stdout and "│ 2 " in out.stdout
    out = ben("query", "--spine", cluster.spine_addr, "DROP TABLE ben.events")
    assert out.returncode == 2 and "only read-only" in out.stderr
    out = ben("query", "--spine", cluster.spine_addr, "SELECT nope FROM ben.events")
    assert out.returncode == 2 and "nope" in out.stderr
    out = ben("status", "--json", "--spine", cluster.spine_addr, "--sidecar", cluster.sidecar_addr)
    status = json.loads(out.stdout)
    assert figure(status["spine"], "rows_stored_total", lane="routine") == 2
    assert figure(status["sidecar"], "acks_total") >= 2
    assert figure(status["sidecar"], "wal_records", lane="alert") == 0
    assert figure(status["sidecar"], "wal_syncs_total", lane="routine") >= 2  # a durable write per event at least
    assert figure(status["spine"], "wal_sync_seconds", lane="routine", quantile="1") > 0
    out = ben("status", "--spine", cluster.spine_addr, "--sidecar", cluster.sidecar_addr)
    assert out.returncode == 0, out.stderr
    assert "per lane" in out.stdout and "wal_oldest_age_seconds" in out.stdout and "reason=quota" in out.stdout
    assert "wal_sync_seconds" in out.stdout and "quantile=0.99" in out.stdout  # a row per quantile


def figure(component: dict, name: str, **labels: str) -> float:
    return sum(f["value"] for f in component["figures"]
               if f["name"] == name and all(f["labels"].get(k) == v for k, v in labels.items()))


def test_query_reads_a_stopped_spines_store(cluster) -> None:
    out = ben("emit", "deploy", "--sidecar", cluster.sidecar_addr)
    assert out.returncode == 0, out.stderr
    cluster.wait_drained()
    cluster.stop()
    out = ben("query", "--json", "--data-dir", str(cluster.home / "spine" / "chdb"), "SELECT name FROM ben.events")
    assert out.returncode == 0 and json.loads(out.stdout) == [{"name": "deploy"}], out.stderr


def test_demo_runs_and_reports(home: Path) -> None:
    out = ben("demo", "--duration", "4", "--rate", "2000", "--data-dir", str(home / "demo"), timeout=180)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    summary = demo_summary(out.stdout)
    assert summary["events_stored"] > 1000 and set(summary) == {"events_stored", "anomalies", "incidents",
                                                                 "otel_spans", "otel_events"}
    synth = json.loads((home / "demo" / "logs" / "synth.log").read_text().strip().splitlines()[-1])
    # everything acknowledged was stored, once; the OpenTelemetry example app's 50 requests too (over OTLP)
    assert synth["acked"] == summary["events_stored"] - summary["otel_events"]
    assert summary["otel_spans"] == 50 and summary["otel_events"] > 50
    assert re.search(r"ben demo: web interface on http://127\.0\.0\.1:\d+/", out.stdout)  # on by default (ADR 0037)


def demo_summary(stdout: str) -> dict[str, int]:
    last = stdout.strip().splitlines()[-1]
    assert last.startswith("demo: "), last
    return {k: int(v) for k, v in (pair.split("=") for pair in last[len("demo: "):].split())}


RISE = "latency_ms{route=/pay} rose from"


@pytest.mark.timeout(240)
def test_demo_injects_a_fault_and_shows_the_incident(home: Path) -> None:
    """The fault comes 18 s in (the detectors' warm-up is 15 s); Ctrl-C once its incident is stored."""
    data, printed, errors = home / "demo", home / "demo.out", home / "demo.err"
    with open(printed, "wb") as stdout, open(errors, "wb") as stderr:  # files: no pipe to fill while it runs
        demo = subprocess.Popen([sys.executable, "-m", "ben", "demo", "--rate", "2000", "--fault-start", "18",
                                 "--data-dir", str(data)], stdout=stdout, stderr=stderr)
    try:
        spine = f"unix://{data / 'spine.sock'}"
        wait_for(lambda: demo.poll() is not None or query_rows(
            spine, f"SELECT count() AS n FROM ben.incidents FINAL WHERE position(narrative, '{RISE}') > 0")[0]["n"],
            150, "the injected fault's incident")
        demo.send_signal(signal.SIGINT)
        demo.wait(timeout=120)
    finally:
        demo.kill()
    out = subprocess.CompletedProcess(demo.args, demo.returncode, printed.read_text(), errors.read_text())
    assert out.returncode == 130, out.stdout[-3000:] + out.stderr[-2000:]  # interrupted, once summed up (ADR 0033)
    summary = demo_summary(out.stdout)
    assert summary["anomalies"] >= 1 and summary["incidents"] >= 1, out.stdout[-3000:]
    assert RISE in " ".join(out.stdout.split())
    # The demo names its incidents and the line that explains one; that line works on its stopped store.
    line = re.search(r"see why an incident was opened with: (ben explain (inc-[0-9a-f]+) --data-dir (\S+))",
                     out.stdout)
    assert line, out.stdout[-6000:]
    assert f"incident {line.group(2)} [" in out.stdout
    explained = ben(*line.group(1).split()[1:])
    assert explained.returncode == 0 and explained.stdout.startswith(line.group(2)), explained.stderr[-2000:]


def test_bench_ingest_json(home: Path) -> None:
    out = ben("bench", "ingest", "--events", "5000", "--runs", "1", "--json", timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout)
    for key in ("events_per_s", "raw_store_rows_per_s", "raw_wal_records_per_s", "ratio"):
        assert result[key] > 0, key
    assert result["ratio"] == pytest.approx(
        result["events_per_s"] / min(result["raw_store_rows_per_s"], result["raw_wal_records_per_s"]))


def test_bench_lanes_json(home: Path) -> None:
    """A short run: every key the issue names, both latency measures, no alert lost."""
    out = ben("bench", "lanes", "--routine-rate", "2000", "--spine-rows-per-s", "1000", "--seconds", "3",
              "--runs", "2", "--json", timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout)
    assert result["runs"] == 2 and len(result["alert_p99_ms_runs"]) == 2
    assert result["alerts_sent"] >= 80 and result["alerts_stored"] == result["alerts_sent"]
    assert result["alerts_lost_runs"] == 0
    assert 0 < result["alert_p50_ms"] <= result["alert_p99_ms"] <= result["alert_p99_ms_worst"] <= result["alert_max_ms"]
    assert min(result["alert_p99_ms_runs"]) <= result["alert_p99_ms"] <= max(result["alert_p99_ms_runs"])
    assert 0 < result["alert_p99_issued_ms"] and 0 < result["baseline_alert_p99_ms"]
    assert result["routine_events_per_s"] > 0 and result["ratio"] > 0
    for run in result["overload_runs"]:  # each alert waited for one fsync in the sidecar and one in the spine
        for who in ("sidecar", "spine"):
            assert 0 < run[f"{who}_alert_sync_p99_ms"] <= run[f"{who}_alert_sync_max_ms"] <= result["alert_sync_max_ms"]
    # The cluster asks for realtime priority 1 by default (ADR 0027); each run says what it got.
    assert result["realtime_priority"] == 1
    got = {run[f"{who}_realtime_priority"] for run in result["overload_runs"] for who in ("sidecar", "spine")}
    assert got <= {0, 1} and result["realtime_applied"] == (got == {1})
    out = ben("bench", "lanes", "--realtime-priority", "100")
    assert out.returncode == 2 and "--realtime-priority" in out.stderr


def test_bench_commands_json(home: Path) -> None:
    """A short burst: every key the issue names; each command pushed and run once."""
    out = ben("bench", "commands", "--commands", "200", "--json", timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout)
    assert result["ran_once"] is True and result["accepted"] == 200 and result["send_errors_total"] == 0
    assert result["deliveries_per_command"] == 1.0 and result["commands_per_s"] > 0
    assert 0 < result["p50_ms"] <= result["p99_ms"] <= result["max_ms"] and result["baseline_rtt_p50_ms"] > 0
    assert result["sidecar_rss_mib"]["after"] > 0
    out = ben("bench", "commands", "--commands", "0")
    assert out.returncode == 2 and "--commands" in out.stderr


def test_bench_wal_json(home: Path) -> None:
    out = ben("bench", "wal", "--cycles", "1000", "--dir", str(home), "--json", timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout)
    assert result["cycles"] == 1000 and result["baseline_range_cycles"] == 1000
    for key in ("cycle_us_first", "cycle_us_last", "ratio", "baseline_point_us_first", "baseline_range_us_last"):
        assert result[key] > 0, key
    assert result["ratio"] == pytest.approx(result["cycle_us_last"] / result["cycle_us_first"])
    out = ben("bench", "wal", "--dir", str(home / "absent"))
    assert out.returncode == 2 and "--dir" in out.stderr


def test_bench_ingest_on_a_clickhouse_server(home: Path, clickhouse) -> None:
    out = ben("bench", "ingest", "--store", "clickhouse", "--clickhouse", clickhouse.address, "--events", "5000",
              "--runs", "1", "--json", timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout)
    assert result["store"] == "clickhouse 18.16.1"
    for key in ("events_per_s", "raw_native_rows_per_s", "raw_store_rows_per_s", "raw_wal_records_per_s"):
        assert result[key] > 0, key
    assert result["ratio_to_raw_native"] == pytest.approx(result["events_per_s"] / result["raw_native_rows_per_s"])
    out = ben("bench", "ingest", "--store", "mysql")
    assert out.returncode != 0 and "--store" in out.stderr


def test_demo_stops_cleanly_on_ctrl_c(home: Path) -> None:
    demo = subprocess.Popen([sys.executable, "-m", "ben", "demo", "--rate", "1000", "--data-dir", str(home / "d")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: (home / "d" / "logs" / "synth.log").exists(), 120, "the demo to start its subsystem")
        wait_for(lambda: count_stored(f"unix://{home / 'd' / 'spine.sock'}") > 0, 60, "events to be stored")
        demo.send_signal(signal.SIGINT)
        out, err = demo.communicate(timeout=120)
    finally:
        demo.kill()
    # stopped in order and summed up, then interrupted as every command: 130 (it was 0; ADR 0033, round 14)
    assert demo.returncode == 130 and err.strip().splitlines()[-1] == "ben: interrupted", err[-2000:]
    assert out.strip().splitlines()[-1].startswith("demo: events_stored=")


def test_demo_ctrl_c_while_it_starts_starts_nothing_more_and_twice_stops_at_once(home: Path) -> None:
    """A Ctrl-C while the spine opened its store (the demo's first seconds) was only a flag read by the live
    view: the demo went on to start the sidecar, the example app, the web interface and the subsystem, said
    nothing, and a second Ctrl-C did nothing either (ADR 0033, fourth round)."""
    from tests.helpers import alive, children

    data = home / "d"
    args = [sys.executable, "-m", "ben", "demo", "--rate", "500", "--no-web"]
    demo = subprocess.Popen([*args, "--data-dir", str(data)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        wait_for(lambda: (data / "logs" / "spine.log").exists(), 60, "the demo to start its spine")
        demo.send_signal(signal.SIGINT)
        out, err = demo.communicate(timeout=120)
    finally:
        demo.kill()
    assert demo.returncode == 130, err[-2000:]
    assert "ben demo: SIGINT received, stopping" in err, err[-2000:]
    assert out.strip().splitlines()[-1].startswith("demo: events_stored=0 ")
    assert not (data / "logs" / "synth.log").exists() and not (data / "logs" / "otel_app.log").exists()

    errfile = home / "e.err"
    with open(errfile, "w") as errs:
        demo = subprocess.Popen([*args, "--data-dir", str(home / "e")], stdout=subprocess.DEVNULL, stderr=errs)
    try:
        components = wait_for(lambda: children(demo.pid), 60, "the demo to start its spine")
        demo.send_signal(signal.SIGINT)
        wait_for(lambda: "stopping" in errfile.read_text(), 30, "the demo to take the first Ctrl-C")
        demo.send_signal(signal.SIGINT)
        demo.wait(timeout=30)
    finally:
        demo.kill()
    err = errfile.read_text()
    assert demo.returncode == 130 and err.strip().splitlines()[-1] == "ben: interrupted", err[-2000:]
    assert not (home / "e" / "logs" / "sidecar.log").exists()
    wait_for(lambda: not any(alive(pid) for pid in components), 60, "the demo's spine to exit")
