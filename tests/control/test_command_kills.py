"""Signed commands under kill -9, with real processes: spine, sidecar, the spine's store process and
the target app (``command_app``, a subsystem in its own process that journals every run, fsync'd).

A command is sent with ``ben command send`` and one process is killed at each step of its way:
issued (the spine, at once), delivered and running (the sidecar, then the app, while the handler
runs), acknowledged (the spine, just after the handler's run) and audited (the store process,
while the audit mirror copies into ``ben.audit``). After the restarts: each command ran at most
once (the app's journal), none ran without the sidecar's ``execution`` audit entry written
before it, each has its ``command`` entry at the spine and a final state, and ``ben audit verify``
finds both logs and the store copy intact.

Seeded (the moments of the kills): BEN_COMMAND_KILL_SEED replays a run; BEN_COMMAND_KILL_ROUNDS
repeats the steps (default 1; ``scripts/crash_harness.py`` is the long run of the data path).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import psutil
import pytest

from ben.cli.procs import Cluster, wait_for
from ben.control import client
from ben.control.documents import make_envelope
from tests.control.conftest import POLICY, make_setup
from tests.helpers import Load
from tests.spine.test_store_kills import store_process

ROOT = Path(__file__).resolve().parents[2]
FINAL = ("accepted", "failed", "refused")


def ben(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ben", *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ})


class App:
    """The target subsystem ``shop`` in a process of its own."""

    def __init__(self, home: Path, sidecar: str):
        self.home, self.sidecar = home, sidecar
        self.journal = home / "journal.txt"
        self.hold = home / "hold"
        self.proc: subprocess.Popen | None = None

    def start(self, cluster: Cluster) -> None:
        log = open(self.home / "logs" / "app.log", "ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.control.command_app", self.sidecar,
                                      str(self.journal), str(self.hold)], cwd=ROOT, stdout=log, stderr=log,
                                     start_new_session=True)
        log.close()
        wait_for(lambda: cluster.status("sidecar").get("subsystems_attached", 0) >= 1, 60, "the app attached")

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def lines(self) -> list[str]:
        return self.journal.read_text().splitlines() if self.journal.exists() else []

    def count(self, what: str, command_id: str) -> int:
        return self.lines().count(f"{what} {command_id}")


def append_until(stop: threading.Event, cluster: Cluster, setup, sent: list[str]) -> None:
    """Commands and operator queries, back to back, until stopped; failures while the spine is down
    are expected (nothing was acknowledged)."""
    from ben.core.admin import run_query
    from ben.core.errors import BenError

    i = 0
    while not stop.is_set():
        i += 1
        env, signed = make_envelope(setup.alice, "ping", "shop", {}, f"appended {i}")
        try:
            reply = client.send(cluster.spine_addr, signed, timeout=5)
            if reply.state in ("pending", "delivered", "accepted"):
                sent.append(env.id)  # acknowledged: it must be in the chain after the kill
            run_query(cluster.spine_addr, f"SELECT {i} AS n", timeout=5)
        except BenError:
            stop.wait(0.05)


def state(spine: str, command_id: str) -> dict:
    return client.get_command(spine, command_id)


def settled(spine: str, command_id: str, timeout: float = 90) -> dict:
    return wait_for(lambda: (r := state(spine, command_id))["state"] in FINAL and r, timeout,
                    f"command {command_id} to reach a final state")


@pytest.mark.timeout(900)
def test_commands_run_at_most_once_and_audited_through_kill9_at_every_step(home: Path) -> None:
    seed = int(os.environ.get("BEN_COMMAND_KILL_SEED", time.time_ns() % 1_000_000))
    rounds = int(os.environ.get("BEN_COMMAND_KILL_ROUNDS", "1"))
    print(f"command kill seed={seed} rounds={rounds} (BEN_COMMAND_KILL_SEED={seed} replays this run)")
    rng = random.Random(seed)
    setup = make_setup(home)
    # Interrupted and failed runs are what this test makes: they must not open the breakers over rounds.
    setup.policy.write_text(POLICY.replace("[actions.slow_job]\n", "[actions.slow_job]\nbreaker_failures = 1000\n")
                            .replace("[actions.ping]\n", "[actions.ping]\nbreaker_failures = 1000\n"))
    # Detection checkpoints every 0.5 s, so kills land on and between checkpoint writes (step 6).
    cluster = Cluster(home, spine={**setup.control_options(), "detect": {"checkpoint_interval_s": 0.5}},
                      sidecar=setup.sidecar_options())
    (home / "logs").mkdir(parents=True, exist_ok=True)
    app = App(home, cluster.sidecar_addr)
    sent: list[str] = []

    def send(action: str, reason: str) -> str:
        env, signed = make_envelope(setup.alice, action, "shop", {}, reason)
        reply = client.send(cluster.spine_addr, signed)
        assert reply.state in ("pending", "delivered", "accepted"), (reply.state, reply.reason)
        sent.append(env.id)
        return env.id

    def restart_spine() -> None:
        cluster.spine.kill()
        cluster.start_spine()

    try:
        cluster.start()
        app.start(cluster)
        for n in range(rounds):
            # 1. issued: the spine dies at once (0-30 ms after answering the send).
            issued = send("ping", f"round {n}: the spine dies as it delivers")
            time.sleep(rng.uniform(0, 0.03))
            restart_spine()
            assert settled(cluster.spine_addr, issued)["state"] == "accepted"

            # 2. delivered and running: the sidecar dies while the handler runs. Not run again: the
            #    redelivery is answered "interrupted" from the ledger.
            app.hold.touch()
            running = send("slow_job", f"round {n}: the sidecar dies while it runs")
            wait_for(lambda: app.count("start", running) == 1, 60, "the handler to start")
            time.sleep(rng.uniform(0, 0.2))
            cluster.sidecar.kill()
            app.hold.unlink()
            cluster.start_sidecar()
            rec = settled(cluster.spine_addr, running)
            assert (rec["state"], rec["code"]) == ("refused", "interrupted"), rec

            # 3. running: the app dies inside its handler; it starts again and the command is
            #    delivered again: the same receipt, not run again.
            app.hold.touch()
            in_app = send("slow_job", f"round {n}: the app dies while it runs")
            wait_for(lambda: app.count("start", in_app) == 1, 60, "the handler to start")
            app.kill()
            app.hold.unlink()
            first = settled(cluster.spine_addr, in_app)
            assert first["state"] == "failed", first
            app.start(cluster)
            assert ben("command", "redeliver", in_app, "--spine", cluster.spine_addr).returncode == 0
            again = wait_for(lambda: (r := state(cluster.spine_addr, in_app))["receipts_seen"] >= 2 and r, 60,
                             "the receipt of the redelivery")
            assert again["receipt"] == first["receipt"] and again["receipt_mismatch"] == 0

            # 4. acknowledged: the spine dies just after the handler ran (its receipt on the way).
            acked = send("ping", f"round {n}: the spine dies as the receipt comes back")
            wait_for(lambda: app.count("ran", acked) == 1, 60, "the handler to run")
            time.sleep(rng.uniform(0, 0.03))
            restart_spine()
            assert settled(cluster.spine_addr, acked)["state"] == "accepted"

            # 5. audited: the store process dies while the mirror copies commands into ben.audit.
            burst = [send("ping", f"round {n}: burst {i} while the store process dies") for i in range(12)]
            time.sleep(rng.uniform(0, 0.5))
            worker = wait_for(lambda: store_process(cluster.spine.pid, set()), 30, "the store process")
            os.kill(worker.pid, signal.SIGKILL)
            for command_id in burst:
                assert settled(cluster.spine_addr, command_id)["state"] == "accepted"

        # 6. appends: commands (the audit chain) and queries (the query log, fsync'd before each answer)
        #    go on from a thread while the spine is killed at random moments, data flowing (detection
        #    checkpoints). Each start must work on what the kill left.
        load = Load(cluster.sidecar_addr, total=10_000_000, rate=2_000)
        checkpoint = home / "spine" / "detect.ckpt"
        for _ in range(rounds):
            stop = threading.Event()
            appender = threading.Thread(target=append_until, args=(stop, cluster, setup, sent), daemon=True)
            appender.start()
            wait_for(checkpoint.exists, 60, "a detection checkpoint")  # kills land on and between its writes
            time.sleep(rng.uniform(0.3, 2.0))
            before = len((home / "logs" / "spine.log").read_text())
            restart_spine()
            stop.set()
            appender.join(60)
            resumed = (home / "logs" / "spine.log").read_text()[before:]
            assert "detection resumed from its checkpoint" in resumed, resumed[-3000:]
        load.stop()
        load.client.shutdown(timeout=5)
        queries = client.audit_entries(cluster.spine_addr, log="queries")
        print(f"command kill seed={seed}: {len(sent)} commands acknowledged, {len(queries)} query log entries")
        assert queries
        spine_log = (home / "logs" / "spine.log").read_text()
        at = spine_log.find("Traceback")
        assert at < 0, f"seed {seed}: " + spine_log[max(at - 1500, 0):at + 3000]
        assert "unreadable" not in spine_log  # a killed checkpoint write leaves the old file or the new one

        # The store process dies once more with nothing in flight: the verification below is the first
        # to meet the dead process (before, it failed with "a new one starts at the next call").
        worker = wait_for(lambda: store_process(cluster.spine.pid, set()), 30, "the store process")
        os.kill(worker.pid, signal.SIGKILL)
        psutil.Process(worker.pid).wait(10) if psutil.pid_exists(worker.pid) else None

        # At most once, and never without its audit entries.
        runs = Counter(line.split()[1] for line in app.lines() if line.startswith("start ") or
                       (line.startswith("ran ") and f"start {line.split()[1]}" not in app.lines()))
        assert runs and max(runs.values()) == 1, [i for i, k in runs.items() if k > 1]
        spine_audit = client.audit_entries(cluster.spine_addr)
        sidecar_audit = client.audit_entries(cluster.sidecar_addr)
        executed = {e["command_id"] for e in sidecar_audit if e["kind"] == "execution"}
        commanded = {e["command_id"] for e in spine_audit if e["kind"] == "command"}
        assert set(runs) <= executed, set(runs) - executed
        assert set(sent) <= commanded, set(sent) - commanded
        # ... and audited once: one command entry each at the spine, one execution entry each at the sidecar.
        twice = {kind: [i for i, k in Counter(e["command_id"] for e in log if e["kind"] == kind).items() if k > 1]
                 for kind, log in (("command", spine_audit), ("execution", sidecar_audit))}
        assert twice == {"command": [], "execution": []}, f"seed {seed}: audited twice: {twice}"
        for command_id in sent:
            settled(cluster.spine_addr, command_id)
        for flag, address in (("--spine", cluster.spine_addr), ("--sidecar", cluster.sidecar_addr)):
            out = ben("audit", "verify", flag, address, "--json")
            assert out.returncode == 0, f"seed {seed}: {out.stdout}{out.stderr}"
            report = json.loads(out.stdout)
            assert report["ok"] and all(copy["ok"] for copy in report["copies"]), out.stdout
        # A spine killed as a receipt was written broke the sidecar's link with a logged traceback.
        assert "Traceback" not in (home / "logs" / "sidecar.log").read_text()
    finally:
        app.stop()
        cluster.stop()
        from tests.conftest import dump_logs

        dump_logs(home)
