"""The spine's control database on a full disk: commands and queries are refused in one line, the
spine stays up, and once there is room again both work without a restart, the audit chain intact.

The spine's control directory (``<data_dir>/control``: the audit log, the query log, the command
records) is a small tmpfs the test mounts (we run as root; a failed mount fails the test). Before
the fix RocksDB kept the failed write's error: every later command and every ``ben query`` (each
one is written to the query log before its answer) failed until the spine was restarted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from ben.cli.procs import Cluster, wait_for
from tests.control.conftest import Recorder, attach, make_setup
from tests.core.test_wal_faults import fill, tmpfs


def ben(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ben", *args], capture_output=True, text=True, timeout=90,
                          env={**os.environ})


def send_ping(setup, spine: str, reason: str) -> subprocess.CompletedProcess:
    return ben("command", "send", "ping", "--target", "shop", "--reason", reason, "--key",
               str(setup.home / "keys" / "alice.key"), "--wait", "30", "--json", "--spine", spine)


@pytest.mark.timeout(300)
def test_a_full_control_disk_refuses_in_one_line_and_works_again_without_a_restart(home) -> None:
    setup = make_setup(home)
    cluster = Cluster(home, spine=setup.control_options(), sidecar=setup.sidecar_options())
    recorder = Recorder()
    client = None
    with tmpfs(home / "spine" / "control", "8m") as disk:
        try:
            cluster.start()
            client = attach(cluster.sidecar_addr, "shop", recorder, cluster)
            before = send_ping(setup, cluster.spine_addr, "before the disk filled")
            assert before.returncode == 0 and json.loads(before.stdout)["state"] == "accepted", before.stderr

            filler = fill(disk / "filler")
            refused = send_ping(setup, cluster.spine_addr, "while the disk is full")
            query = ben("query", "SELECT 1 AS one", "--json", "--spine", cluster.spine_addr)
            for out in (refused, query):
                assert out.returncode != 0, out.stdout
                assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr
                assert "No space left" in out.stderr and "control database" in out.stderr, out.stderr
            assert cluster.spine.alive(), cluster.spine.tail()

            filler.unlink()  # room again: no restart
            after = send_ping(setup, cluster.spine_addr, "after the disk had room again")
            assert after.returncode == 0, after.stderr
            rec = json.loads(after.stdout)
            assert rec["state"] == "accepted" and recorder.count(rec["id"]) == 1, rec
            query = ben("query", "SELECT 1 AS one", "--json", "--spine", cluster.spine_addr)
            assert query.returncode == 0 and json.loads(query.stdout)[0]["one"] == 1, query.stderr
            for flag, address in (("--spine", cluster.spine_addr), ("--sidecar", cluster.sidecar_addr)):
                verified = ben("audit", "verify", flag, address)
                assert verified.returncode == 0 and "audit: intact" in verified.stdout, verified.stdout + verified.stderr
            assert "reopened after a failed write" in (home / "logs" / "spine.log").read_text()
        finally:
            if client is not None:
                client.shutdown(timeout=2)
            cluster.stop()  # before the tmpfs goes
