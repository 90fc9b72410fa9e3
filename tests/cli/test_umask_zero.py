"""The attack matrix (ADR 0045, round 18): what ben makes under a shared umask of 000. Real spine and sidecar
processes started by ``ben.cli.procs.Cluster`` (what ``ben demo``, the benches and the tests start them with) from a
process whose umask is 000.

The ``ben`` command sets the umask 0o077 before anything (``ben.cli.main``) and every component does at its start
(``ben.core.files.private_umask``), so ``ben demo`` held. A program using ``Cluster`` itself (a test, a bench run from
Python) did not: on the code before, the cluster's config file was written 0666 and the spine refused it ("has mode
0666: group or others may write it"); and its logs directory was 0777 and the components' logs 0666 (any account
could write lines into them, or replace them). Now they are 0755 and 0644 whatever the umask.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from tests.sidecar.stranger import ROOT

#: Starts a cluster under ``argv[1]`` with umask 000, sends an event, stops it; prints nothing but errors.
UNDER_UMASK_ZERO = r"""
import os, sys
from pathlib import Path
os.umask(0)
from ben.cli.procs import Cluster
from ben.sdk import Client
cluster = Cluster(Path(sys.argv[1]))
try:
    cluster.start()
    client = Client("umask", sidecar=cluster.sidecar_addr, flush_interval_ms=20)
    client.gauge("made", 1.0)
    assert client.flush(30), "not acknowledged"
    client.shutdown(timeout=5)
finally:
    cluster.stop()
"""


def test_nothing_ben_makes_under_umask_zero_is_another_account_s_to_write(home) -> None:
    where = home / "demo"
    done = subprocess.run([sys.executable, "-c", UNDER_UMASK_ZERO, str(where)], capture_output=True, text=True,
                          timeout=600, env={**os.environ, "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}"})
    assert done.returncode == 0, done.stderr[-2000:]
    loose = []
    for root, dirs, files in os.walk(where):
        for name in dirs + files:
            st = os.lstat(Path(root) / name)
            if stat.S_ISLNK(st.st_mode) or stat.S_ISSOCK(st.st_mode):  # a socket's mode is its configured one
                continue
            if stat.S_IMODE(st.st_mode) & 0o022:
                loose.append(f"{oct(stat.S_IMODE(st.st_mode))} {Path(root) / name}")
        # what is inside a directory no other account may enter (a data directory, 0700) is no other account's
        dirs[:] = [d for d in dirs if stat.S_IMODE(os.lstat(Path(root) / d).st_mode) & 0o077]
    assert stat.S_IMODE(os.stat(where).st_mode) & 0o022 == 0
    assert not loose, loose
