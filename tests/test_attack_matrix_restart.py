"""The attack matrix (ADR 0045, round 7) after a restart: files the processes make when they start again on
an existing data directory, with the umask still 000 (new WAL segments, RocksDB files, chDB parts, the
cortex's and the control plane's state); and what another account reads from the metrics listener.
Real spine (with its web interface and store process) and sidecar (``tests/test_attack_matrix.py``'s rig).
"""

from __future__ import annotations

import os
import urllib.request
from collections.abc import Iterator

import pytest

from ben.cli.procs import Proc
from ben.sdk import Client
from tests.conftest import rig_in_tmp
from tests.core.test_files import modes
from tests.test_attack_matrix import READ_ALL, Rig, as_nobody

SUBSYSTEM = "restart-probe-subsystem"


def _send(rig: Rig, name: str) -> None:
    client = Client(SUBSYSTEM, sidecar=rig.cluster.sidecar_addr)
    for i in range(200):
        client.gauge(name, float(i))
    assert client.flush(timeout=60)
    client.shutdown()
    rig.cluster.wait_drained()


@pytest.fixture(scope="module")
def restarted() -> Iterator[Rig]:
    """The rig with telemetry stored, both processes stopped and started again under umask 000, and more stored."""
    with rig_in_tmp("bz-", Rig) as rig:
        _send(rig, "before_restart")
        old = os.umask(0)
        try:
            rig.cluster.sidecar.stop()
            rig.cluster.spine.stop()
            rig.cluster.spine = Proc(["spine", "--config", str(rig.cluster.config), "--web"],
                                     rig.home / "logs" / "spine-again.log")
            rig.cluster.spine.wait_ready(rig.cluster.spine_addr)
            rig.cluster.start_sidecar()
        finally:
            os.umask(old)
        _send(rig, "after_restart")
        yield rig


def test_files_made_after_a_restart_under_umask_000_are_private(restarted: Rig) -> None:
    seen = {**modes(restarted.home / "spine"), **modes(restarted.home / "sidecar")}
    assert len(seen) > 50, "too few files for the cell to test anything"
    loose = {str(p): oct(m) for p, m in seen.items() if m & 0o077}
    assert not loose, loose
    code = READ_ALL.replace("sys.argv[1:]", repr([str(restarted.home / "spine"), str(restarted.home / "sidecar")]))
    run = as_nobody(code)
    assert run.returncode == 0 and run.stdout.strip() == "[]", (run.stdout, run.stderr)


def test_another_account_reads_counts_from_the_metrics_listener_and_no_telemetry(restarted: Rig) -> None:
    """The metrics listener on loopback answers any local account (Prometheus's scraper is often another
    user): what it serves must be counts only, never a subsystem's or a series' name."""
    url = f"http://127.0.0.1:{restarted.metrics}/metrics"
    run = as_nobody(f"import urllib.request; print(urllib.request.urlopen({url!r}, timeout=20).read().decode())")
    assert run.returncode == 0, run.stderr
    assert "ben_" in run.stdout or "wal" in run.stdout, run.stdout[:500]
    for secret in (SUBSYSTEM, "before_restart", "after_restart"):
        assert secret not in run.stdout
    with urllib.request.urlopen(url, timeout=20) as answer:  # the same for ben's own user
        assert SUBSYSTEM not in answer.read().decode()
