"""kill -9 torture: the sidecar and the spine are each SIGKILLed at random moments, 8 times, under load.

Every event the SDK saw acknowledged must be stored exactly once (identity and count).
Seeded: set BEN_TORTURE_SEED to replay a run; the seed is printed. BEN_TORTURE_KILLS sets the kills of each
(8 here, ADR 0048: each costs a restart of ~3 s, and the outside harness tests below kill at chosen moments).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time

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
