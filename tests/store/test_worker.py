"""The store process and the signals of a terminal or a service manager (``ben.store.worker``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from ben.cli.procs import wait_for
from ben.store import ChdbProcessStore


def test_sigint_and_sigterm_leave_the_store_process_to_its_spine(tmp_path: Path) -> None:
    """Ctrl-C reaches every process of the terminal's group and systemd's stop every process of the unit:
    the store process died of them (a KeyboardInterrupt traceback) in the middle of the spine's last writes."""
    store = ChdbProcessStore(tmp_path / "chdb")
    try:
        pid = store.pid
        for sig in (signal.SIGINT, signal.SIGTERM):
            os.kill(pid, sig)
        assert store.rows("SELECT 1") == [(1,)]
        assert store.pid == pid, "the store process died of a signal and was started again"
    finally:
        store.close()
    assert wait_for(lambda: not _alive(pid), 10, "the store process to exit after close")


def test_ctrl_c_on_a_spine_in_a_terminal_is_no_traceback(home: Path) -> None:
    """A real ``ben spine`` in a process group of its own, as a shell runs it; SIGINT to the whole group."""
    env = {**os.environ, "BEN_HOME": str(home)}
    proc = subprocess.Popen([sys.executable, "-m", "ben", "spine"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    out = []
    try:
        for line in proc.stdout:
            out.append(line)
            if "spine: ready" in line:
                break
        assert any("spine: ready" in line for line in out), "".join(out)
        os.killpg(proc.pid, signal.SIGINT)
        rest, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    text = "".join(out) + rest
    assert proc.returncode == 130 and "spine: stopped" in text, text  # stopped cleanly, then interrupted (ADR 0033 r14)
    assert "Traceback" not in text and "KeyboardInterrupt" not in text, text
    assert "store process" not in text, text       # no "failed during ...; a new one starts" while stopping


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return True
