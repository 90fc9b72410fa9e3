"""The pinned OpenTelemetry JS SDK of ``tests/otlp/node`` (package.json + package-lock.json), installed
with ``npm ci`` into ``tests/otlp/node/node_modules`` by ``make node-otel`` (``make test`` runs it) or,
when that was not done, by the first test that needs it. No Node.js, no npm, or an install that fails
is a FAILING test, never a skip: the JS SDK is how ben proves that a second language sends unchanged."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

NODE_DIR = Path(__file__).with_name("node")
STAMP = NODE_DIR / "node_modules" / ".installed"
LOCK = NODE_DIR / "package-lock.json"


def ensure_installed(timeout: float = 600.0) -> str:
    """The path of ``node``, with the pinned SDK installed (``npm ci`` when the stamp is missing or
    older than the lockfile); pytest.fail naming what is missing otherwise."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.fail("node and npm are needed by the OTLP JS SDK tests: run `bash scripts/debian-deps.sh` "
                    "(installs Debian's nodejs and npm)")
    if STAMP.exists() and STAMP.stat().st_mtime >= LOCK.stat().st_mtime:
        return node
    done = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--prefer-offline"],
                          cwd=NODE_DIR, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        pytest.fail(f"`npm ci` in {NODE_DIR} failed (run `make node-otel`):\n{done.stdout[-2000:]}"
                    f"{done.stderr[-4000:]}")
    STAMP.touch()
    return node
