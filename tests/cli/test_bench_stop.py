"""``ben bench`` commands that start a cluster, stopped by a signal (ADR 0033): every process they started
(spine, its store process, sidecar, load generator) is gone afterwards. A real ``ben bench lanes``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from ben.cli.procs import wait_for
from ben.core.errors import BenError
from tests.helpers import alive, children, cmdline


@pytest.mark.timeout(240)
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_a_bench_stopped_by_a_signal_leaves_no_process_running(home: Path, sig: int) -> None:
    """SIGTERM (``timeout``) ran no cleanup: the bench died, and its spine, store process and sidecar ran on
    (their parent gone, nothing stopped them). Now SIGTERM stops the bench through its ``finally`` blocks
    (exit 143, its temporary directory removed), and even SIGKILL takes the cluster down (the parent-death
    signal, a stop for ben's components)."""
    tmp = home / "tmp"
    tmp.mkdir()
    bench = subprocess.Popen([sys.executable, "-m", "ben", "bench", "lanes", "--seconds", "60", "--runs", "1",
                              "--routine-rate", "1000", "--realtime-priority", "0", "--json"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                             env={**os.environ, "TMPDIR": str(tmp), "BEN_HOME": str(home)}, start_new_session=True)
    started: set[int] = set()
    try:
        def cluster_up() -> bool:  # the load generator runs once the spine and sidecar are ready
            started.update(children(bench.pid, deep=True))
            return any("lanes.py load" in cmdline(p) for p in started)

        wait_for(cluster_up, 120, "ben bench lanes to start its cluster and load")
        started.update(children(bench.pid, deep=True))
        names = " | ".join(cmdline(p) for p in started)
        assert " spine " in names and " sidecar " in names, names
        bench.send_signal(sig)
        _, err = bench.communicate(timeout=120)
        try:
            wait_for(lambda: not [p for p in started if alive(p)], 60, "every process the bench started to be gone")
        except BenError:
            pytest.fail("still running: " + " | ".join(cmdline(p) for p in started if alive(p)))
        if sig == signal.SIGTERM:
            assert bench.returncode == 128 + signal.SIGTERM, (bench.returncode, err[-2000:])
            assert "Traceback" not in err, err[-2000:]
            assert not list(tmp.iterdir()), "the bench's temporary directory was left"
    finally:
        for log in sorted(tmp.glob("*/*/logs/*.log")):  # shown when the test failed
            print(f"--- {log}:\n{log.read_text(errors='replace')[-3000:]}")
        if bench.poll() is None:
            bench.kill()
            bench.wait(30)
        for pid in started:  # a failure leaves nothing running
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


@pytest.mark.timeout(240)
def test_ctrl_c_in_the_middle_of_bench_commands_exits_130_and_stops_its_cluster(home: Path) -> None:
    """Ctrl-C while ``ben bench commands`` sent its burst: "ben: interrupted", a sender thread's traceback
    (UNAVAILABLE: the spine it sent to was stopped), and then nothing for ever: the senders (not daemons) waiting for
    a slot no receipt would free held the interpreter's exit (ADR 0033, round 13; 5 runs of 5). Now: exit 130, no
    traceback, every process it started gone."""
    log = home / "bench.err"
    with open(log, "w") as err:
        bench = subprocess.Popen([sys.executable, "-m", "ben", "bench", "commands"], stdout=subprocess.DEVNULL,
                                 stderr=err, env={**os.environ, "BEN_HOME": str(home)}, start_new_session=True)
    started: set[int] = set()
    baseline: list[int] = []

    def threads() -> int:
        status = Path(f"/proc/{bench.pid}/status").read_text()
        return int(status.split("Threads:")[1].split()[0])

    try:
        def sending() -> bool:  # the four senders run: four threads more than when the baseline was said
            started.update(children(bench.pid, deep=True))
            if not baseline and "baseline gRPC round trip" in log.read_text():
                baseline.append(threads())
            return bool(baseline) and threads() >= baseline[0] + 4

        wait_for(sending, 120, "ben bench commands to start sending")
        names = " | ".join(cmdline(p) for p in started)
        assert " spine " in names and " sidecar " in names, names
        os.killpg(bench.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole foreground group
        bench.wait(timeout=110)  # a bound on the failure (a clean stop of spine and sidecar: ~15 s at most)
        text = log.read_text()
        assert bench.returncode == 130, (bench.returncode, text[-2000:])
        assert "Traceback" not in text and text.strip().splitlines()[-1] == "ben: interrupted", text[-2000:]
        wait_for(lambda: not [p for p in started if alive(p)], 60, "every process the bench started to be gone")
    finally:
        if bench.poll() is None:
            bench.kill()
            bench.wait(30)
        for pid in started:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
