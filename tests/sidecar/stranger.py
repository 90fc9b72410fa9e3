"""Another account against a sidecar's plain loopback ``listen`` or its unix socket: the tests of ADR 0045's rounds 10-15 run a script
as ``nobody`` (through ``setpriv``) against a real sidecar that every local account may reach."""

from __future__ import annotations

import os
import socket
import subprocess
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


def unix_cluster(home: Path, **sidecar) -> Cluster:
    """A cluster (not started) whose sidecar listens on its default unix socket, mode 0666: every account connects."""
    os.chmod(home, 0o755)
    return Cluster(home, sidecar={"socket_mode": "0666", **sidecar})


def nobody_env(*, tests: bool = False) -> dict[str, str]:
    """The environment of a script run as ``nobody``: ben's sources (and the tests' helpers with ``tests``)."""
    path = f"{ROOT / 'src'}:{ROOT}" if tests else str(ROOT / "src")
    return {"PYTHONPATH": path, "PATH": os.environ["PATH"]}


#: Opens N connections to ADDRESS (a unix socket's path, or a loopback port), each past HTTP/2's preface and a
#: SETTINGS frame (gRPC then holds it as a client's), and says how many the server closed once ``closed`` of them were
#: (or 30 s passed); holds the rest until stdin ends.
HOLD = r"""
import selectors, socket, sys, time
address, n, closed_wanted = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
socks = []
for _ in range(n):
    if address.startswith("/"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(address)
    else:
        s = socket.create_connection(("127.0.0.1", int(address)))
    try:
        s.sendall(PREFACE)
    except OSError:
        pass
    socks.append(s)
watch = selectors.DefaultSelector()
for s in socks:
    watch.register(s, selectors.EVENT_READ)
closed = 0
deadline = time.monotonic() + 30
while closed < closed_wanted and time.monotonic() < deadline:
    for key, _ in watch.select(0.2):
        try:
            data = key.fileobj.recv(65536)
        except OSError:
            data = b""
        if not data:
            watch.unregister(key.fileobj)
            closed += 1
print(closed, flush=True)
sys.stdin.readline()
"""


def hold(address: str | int, n: int, closed: int, *, as_nobody: bool) -> subprocess.Popen:
    """``HOLD`` against ``address`` (a unix socket's path or a loopback port), as ``nobody`` or as this account."""
    command = [*AS_NOBODY, HOLD] if as_nobody else ["python3", "-c", HOLD]
    return subprocess.Popen([*command, str(address), str(n), str(closed)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, env=nobody_env(), cwd="/")
