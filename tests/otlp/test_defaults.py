"""Default settings on both sides: a sidecar with no OTLP configuration and applications with no OTLP
endpoint configured find each other (127.0.0.1:4317 gRPC, 127.0.0.1:4318 HTTP, what every SDK sends to).

The default ports are shared by the whole machine, so the cluster and the applications run in a network
namespace of their own (``unshare --net``, util-linux; ben's tests run as root, as CI does). No unshare,
or no permission for it, is a failing test, never a skip."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.otlp.node_sdk import ensure_installed

SCRIPT = Path(__file__).with_name("default_ports.py")


def test_default_sidecar_and_default_sdks_meet_on_the_default_ports(home):
    node = ensure_installed()
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.fail("unshare (util-linux) is needed to give this test the default OTLP ports of its own")
    run = uuid.uuid4().hex[:8]
    done = subprocess.run([unshare, "--net", sys.executable, str(SCRIPT), str(home), run, node],
                          capture_output=True, text=True, timeout=400)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert (result["grpc_port"], result["http_port"]) == (4317, 4318), result
    assert result["exit_codes"] == {"python-grpc": 0, "python-http": 0, "node-http": 0, "node-grpc": 0}, \
        done.stdout[-3000:] + done.stderr[-3000:]
    assert result["stored"] == {"python-grpc": 6, "python-http": 6, "node-http": 8, "node-grpc": 8}, result
