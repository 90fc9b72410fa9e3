"""Another account against a sidecar's plain loopback ``listen``: the tests of ADR 0045's rounds 10-15 run a script
as ``nobody`` (through ``setpriv``) against a real sidecar that every local account may reach."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

from ben.cli.procs import Cluster

ROOT = Path(__file__).resolve().parents[2]
#: The command line that runs ``python -c SCRIPT ARGS...`` as ``nobody``, with no supplementary groups.
AS_NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def loopback_cluster(home: Path, **sidecar) -> Cluster:
    """A cluster (not started) whose sidecar listens on plain loopback TCP, its home readable by ``nobody``."""
    os.chmod(home, 0o755)
    addr = f"127.0.0.1:{free_port()}"
    cluster = Cluster(home, sidecar={"listen": addr, "insecure": True, **sidecar})
    cluster.sidecar_addr = addr
    return cluster


def nobody_env(*, tests: bool = False) -> dict[str, str]:
    """The environment of a script run as ``nobody``: ben's sources (and the tests' helpers with ``tests``)."""
    path = f"{ROOT / 'src'}:{ROOT}" if tests else str(ROOT / "src")
    return {"PYTHONPATH": path, "PATH": os.environ["PATH"]}
