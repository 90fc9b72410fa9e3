"""kill -9 torture: the sidecar and the spine are each SIGKILLed at random moments, 8 times, under load.

Every event the SDK saw acknowledged must be stored exactly once (identity and count).
Seeded: set BEN_TORTURE_SEED to replay a run; the seed is printed. BEN_TORTURE_KILLS sets the kills of each
(8 here, ADR 0048: each costs a restart of ~3 s, and the outside harness tests below kill at chosen moments).
"""

from __future__ import annotations

import importlib.util
import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ben.core.errors import BenError

from tests.helpers import Load, alive, assert_exactly_once, children, cmdline

KILLS_EACH = int(os.environ.get("BEN_TORTURE_KILLS", "8"))  # each the same case at another moment


@pytest.mark.timeout(400)
def test_kill9_torture(cluster) -> None:
    seed = int(os.environ.get("BEN_TORTURE_SEED", time.time_ns() % 1_000_000))
    print(f"torture seed={seed} (BEN_TORTURE_SEED={seed} replays this run)")
    rng = random.Random(seed)
    load = Load(cluster.sidecar_addr, 10_000_000, rate=8_000)
    kills = {"sidecar": 0, "spine": 0}
    pause = threading.Event()
    while min(kills.values()) < KILLS_EACH:
        target = rng.choice([name for name, n in kills.items() if n < KILLS_EACH])
        pause.wait(rng.uniform(0.05, 0.6))  # a random moment, not a condition: that is the point
        proc = cluster.sidecar if target == "sidecar" else cluster.spine
        proc.kill()
        kills[target] += 1
        if rng.random() < 0.3:
            pause.wait(rng.uniform(0.0, 0.5))  # sometimes stay down a while
        (cluster.start_sidecar if target == "sidecar" else cluster.start_spine)()
    load.stop()
    assert load.dropped == 0
    assert load.client.flush(timeout=120), load.client.last_error
    acked = load.client.stats.acked
    assert acked == load.total
    cluster.wait_drained()
    row = assert_exactly_once(cluster.spine_addr, load.client.producer_id, load.total)
    print(f"torture seed={seed}: kills={kills}, events acknowledged={acked}, checked in the store={row['n']} "
          f"(each exactly once)")
    load.client.shutdown()


def _harness():
    """scripts/crash_harness.py, the outside kill -9 harness (a script, not a package module)."""
    path = Path(__file__).resolve().parents[1] / "scripts" / "crash_harness.py"
    spec = importlib.util.spec_from_file_location("crash_harness", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _run_harness(home, **options) -> dict:
    """Seeded rounds of the outside harness (``BEN_CRASH_SEED`` replays one) at the suite's load; the summary,
    checked for findings, SDK events and OTLP records lost or stored twice."""
    seed = int(os.environ.get("BEN_CRASH_SEED", random.SystemRandom().randrange(1_000_000)))
    print(f"crash harness seed={seed} (BEN_CRASH_SEED={seed} replays this run)")
    summary = _harness().run(seed=seed, rate=1_500, otlp_rate=300, home=home / "h", drain_timeout=120, **options)
    print(summary)
    assert not summary["findings"], f"seed={seed}: {summary['findings']}"
    assert summary["sdk_lost"] == summary["sdk_duplicated"] == 0, f"seed={seed}: {summary}"
    assert summary["otlp_lost"] == summary["otlp_duplicated_unexplained"] == summary["otlp_duplicated_after_retry"] == 0, \
        f"seed={seed}: {summary}"
    return summary


@pytest.mark.timeout(300)
def test_outside_harness_random_kill_rounds_lose_and_duplicate_nothing(home) -> None:
    """A few seeded rounds of the outside harness: processes started and restarted with documented
    commands, SDK and OTLP load, random kill -9 faults (BEN_CRASH_SEED replays one)."""
    quick = tuple(s for s in _harness().SCENARIOS  # (ADR 0046: the slow ones and those with a test of their own)
                  if s not in ("backlog", "replay", "checkpoint", "wal-file", "wal-open", "store-part"))
    summary = _run_harness(home, rounds=3, scenarios=quick)
    assert summary["sdk_acked"] > 0 and summary["otlp_records_acked"] > 0, summary


@pytest.mark.timeout(300)
def test_outside_harness_kills_the_sidecar_at_its_otlp_gate_and_exporters_come_back(home) -> None:
    """Round 4 of the outside harness (ADR 0046): the sidecar killed with a request passing its OTLP/gRPC gate,
    with the gate just listening in its start, and with the gate closed in its SIGTERM drain (one round
    each); after each restart the OTLP exporter is answered again, and in the end every acknowledged record is
    stored once. ``BEN_CRASH_SEED`` replays a run."""
    summary = _run_harness(home, rounds=3, scenarios=("otlp-gate",))
    assert summary["faults"] == {"otlp-gate": 3} and summary["otlp_reconnect_s"] is not None, summary
    assert summary["sdk_acked"] > 0 and summary["otlp_records_acked"] > 0, summary


@pytest.mark.timeout(300)
def test_outside_harness_kills_as_a_wal_or_the_store_writes_a_file_and_nothing_is_left_behind(home) -> None:
    """Round 5 of the outside harness (ADR 0046): a component killed again within 3 ms of its WAL making a file
    in the recovery after a first kill (RocksDB's open), and the store process killed as chDB writes a part;
    every acknowledged event stored once, and after the final stop no file a killed write left
    (``BEN_CRASH_SEED`` replays a run). ``wal-file`` (running: a flush comes rarely at this load) is left to
    the long run."""
    summary = _run_harness(home, rounds=2, scenarios=("wal-open", "store-part"))
    assert sum(summary["faults"].values()) == 2 and summary["sdk_acked"] > 0, summary


@pytest.mark.timeout(300)
def test_outside_harness_kills_in_replay_checkpoint_full_disk_and_the_clickhouse_server(home) -> None:
    """Round 3 of the outside harness (ADR 0046): the spine on a ClickHouse server, each data directory on a
    small file system of its own; faults drawn from a sidecar killed while it ships a backlog it replayed
    after a kill, the spine killed as it writes its detection checkpoint, a disk filled under load (and the
    component killed there half the time), the ClickHouse server killed. ``BEN_CRASH_SEED`` replays a run,
    ``BEN_CRASH_ROUNDS`` (default 1) makes it longer."""
    summary = _run_harness(home, rounds=int(os.environ.get("BEN_CRASH_ROUNDS", "1")),
                           scenarios=("replay", "checkpoint", "disk-full", "clickhouse"), store="clickhouse",
                           small_disk_mb=256)
    assert summary["sdk_acked"] > 0 and summary["otlp_records_acked"] > 0, summary


@pytest.mark.timeout(300)
def test_a_killed_demo_takes_its_components_down_and_starts_again_on_its_data(home) -> None:
    """kill -9 of `ben demo` stops its spine, sidecar and subsystem (they drained and exited), and
    the next `ben demo` on the same data directory starts without manual repair."""
    from ben.cli.procs import count_stored, wait_for

    data = home / "d"
    args = [sys.executable, "-m", "ben", "demo", "--rate", "500", "--no-web", "--data-dir", str(data)]
    demo = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for(lambda: (data / "logs" / "synth.log").exists(), 120, "the demo to start its subsystem")
        wait_for(lambda: count_stored(f"unix://{data / 'spine.sock'}") > 0, 60, "events to be stored")
        components = {pid: cmdline(pid) for pid in children(demo.pid)}  # with the OpenTelemetry example app
        assert sum(" -m ben " in c for c in components.values()) == 3, components  # spine, sidecar, synth
        demo.kill()
        demo.wait()
        try:
            wait_for(lambda: not any(alive(pid) for pid in components), 60, "the demo's components to exit")
        except BenError:
            running = {pid: c for pid, c in components.items() if alive(pid)}
            logs = {f.name: f.read_text(errors="replace")[-3000:] for f in (data / "logs").glob("*.log")}
            raise AssertionError(f"still running 60 s after the demo was killed: {running}; logs: {logs}") from None
        logs = "".join(f.read_text(errors="replace") for f in (data / "logs").glob("*.log"))
        assert "second signal" not in logs  # each drained (before, the kernel's repeated SIGTERM skipped that)
    finally:
        demo.kill()
    again = subprocess.run([*args, "--duration", "2"], capture_output=True, text=True, timeout=240)
    assert again.returncode == 0, again.stderr[-2000:]
    assert again.stdout.strip().splitlines()[-1].startswith("demo: events_stored=")


@pytest.mark.timeout(300)
def test_outside_harness_kills_a_component_in_its_sighup_reload_after_a_bad_manifest_was_refused(home) -> None:
    """Round 6 of the outside harness (ADR 0046): SIGHUP with a bad redaction manifest is refused (the one in
    force stays, the log says why, the component answers), then SIGHUP with a good new one and SIGKILL 0-50 ms
    into that reload; the restarted component runs the new manifest and nothing acknowledged is lost or stored
    twice. ``BEN_CRASH_SEED`` replays a run."""
    summary = _run_harness(home, rounds=1, scenarios=("reload",))
    assert summary["faults"] == {"reload": 1} and summary["sdk_acked"] > 0, summary
