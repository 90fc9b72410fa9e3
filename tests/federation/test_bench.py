"""``ben bench federation --json``: the figures the issue asks for, nothing lost or duplicated."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.federation.conftest import NATS


def test_bench_federation_json() -> None:
    if not Path(NATS).exists():
        pytest.fail("nats-server is not installed: run scripts/debian-deps.sh")
    out = subprocess.run([sys.executable, "-m", "ben", "bench", "federation", "--summaries", "2000", "--json"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout)
    assert result["summaries"] == 2000 and result["lost"] == 0 and result["duplicated"] == 0
    for key in ("summaries_per_s", "p99_ms", "raw_publish_per_s", "raw_js_async_publish_per_s"):
        assert result[key] > 0, key
