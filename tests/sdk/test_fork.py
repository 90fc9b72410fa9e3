"""A Client and ``os.fork()`` (ADR 0033, fourth round): gRPC does not survive a fork of a process whose SDK ran.
Before, the child's events were buffered for ever: ``emit`` returned sequence numbers, nothing reached the
sidecar, and a Client made in the child never connected either. Now the inherited Client drops and counts
(said once), a new one is refused naming why, and a child of a process without a running SDK is unaffected."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ben.cli.procs import Cluster
from ben.sdk import Client


def _in_child(body) -> dict:
    """Run ``body()`` in a forked child; what it returned (a dict, through a pipe)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: no pytest machinery, report and leave whatever happens
        try:
            try:
                out = body()
            except BaseException as exc:  # noqa: BLE001 (reported to the parent)
                out = {"raised": f"{type(exc).__name__}: {exc}"}
            os.write(w, json.dumps(out).encode())
        finally:
            os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        data = f.read()
    _, status = os.waitpid(pid, 0)
    assert data, f"the child reported nothing (wait status {status})"
    return json.loads(data)


def test_a_fork_of_a_process_whose_client_runs(cluster: Cluster) -> None:
    client = Client("forky", sidecar=cluster.sidecar_addr)
    try:
        assert client.gauge("g", 1.0) == 1 and client.flush(timeout=30)

        def inherited() -> dict:
            seq = client.gauge("g", 2.0)
            return {"seq": seq, "flushed": client.flush(timeout=30), "dropped": client.stats.dropped_closed,
                    "shutdown": client.shutdown(timeout=30)}

        got = _in_child(inherited)
        assert got == {"seq": None, "flushed": True, "dropped": 1, "shutdown": True}, got

        got = _in_child(lambda: {"made": repr(Client("forky-child", sidecar=cluster.sidecar_addr))})
        assert "field '(process)'" in got.get("raised", "") and "'spawn'" in got["raised"], got
        assert client.gauge("g", 3.0) == 2 and client.flush(timeout=30)  # the parent's goes on
    finally:
        client.shutdown(timeout=10)


def test_a_client_made_in_a_child_of_a_process_without_one_works(cluster: Cluster) -> None:
    """In a fresh interpreter (this one's SDK may have run already): fork first, then a Client in the child."""
    import subprocess
    import sys

    code = (f"import json, os\nfrom ben.sdk import Client\nfrom tests.sdk.test_fork import _in_child\n"
            f"def fresh():\n    c = Client('forky-child', sidecar={cluster.sidecar_addr!r})\n"
            f"    return {{'seq': c.gauge('g', 1.0), 'flushed': c.flush(timeout=60), 'shutdown': c.shutdown(timeout=10)}}\n"
            f"print(json.dumps(_in_child(fresh)))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=Path(__file__).parents[2])
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {"seq": 1, "flushed": True, "shutdown": True}, out.stderr
