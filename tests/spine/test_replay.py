"""``ben replay`` over what a spine stored, through a real spine and sidecar (ADR 0033, third amendment)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from ben.cli.procs import wait_for
from ben.sdk import Client

T0 = 1_795_000_000 * 10**9
S = 10**9


def ben(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ben", *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "200"}, stdin=subprocess.DEVNULL)


def test_replay_reads_stored_nan_and_infinite_values(make_cluster) -> None:
    """Gauges of NaN and ±inf are kept (ADR 0033) and travel as "nan"/"inf" in the spine's JSON: ``ben replay``
    failed on them with "unexpected ArrowInvalid: Could not convert 'nan' ... (a bug in ben)"."""
    cluster = make_cluster()
    cluster.start()
    client = Client("checkout-api", sidecar=cluster.sidecar_addr)
    for i, value in enumerate([12.5, float("nan"), float("inf"), float("-inf"), 13.0]):
        client.gauge("latency_ms", value, {"route": "/pay"}, ts=T0 + i * S)
    assert client.flush(timeout=60)
    client.shutdown()
    cluster.wait_drained()
    out = subprocess.run([sys.executable, "-X", "importtime", "-m", "ben", "replay", "--from", str(T0), "--to",
                          str(T0 + 10 * S), "--json", "--spine", cluster.spine_addr], capture_output=True, text=True,
                         timeout=120, stdin=subprocess.DEVNULL)
    assert out.returncode == 0, out.stderr[-2000:]
    imported = {line.rsplit("|", 1)[-1].strip() for line in out.stderr.splitlines() if line.startswith("import time:")}
    # ADR 0048: its Arrow table built without pandas (pyarrow's attempt at "pandas" is logged, none of its modules)
    assert "pyarrow.lib" in imported and not [m for m in imported if m.startswith("pandas.")], imported
    points = json.loads(out.stdout)["points"]
    assert points >= 2, out.stdout
    wait_for(lambda: cluster.status("spine").get("detect_points_total", 0) == points, 60,
             f"the live detectors to count the {points} points replay counted")
    out = ben("replay", "--from", str(T0), "--to", "9" * 23, "--spine", cluster.spine_addr)
    assert out.returncode == 2 and out.stderr.strip().splitlines() == [
        f"error: in command line, field '--to': '{'9' * 23}' is past the largest time (unix nanoseconds below "
        "2**63)"], out.stderr
