"""Shared fixtures: short temp dirs (unix socket paths are limited to 107 bytes) and real clusters."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ben.cli.procs import Cluster


@pytest.fixture
def home() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="bt-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def dump_logs(home: Path) -> None:
    """Print the components' logs; pytest shows them when the test failed."""
    for log in sorted((home / "logs").glob("*.log")) if (home / "logs").is_dir() else []:
        print(f"----- {log.name} (last 40 lines) -----")
        print("\n".join(log.read_text(errors="replace").splitlines()[-40:]))


@pytest.fixture
def cluster(home: Path) -> Iterator[Cluster]:
    """A spine and a sidecar, started as real processes on unix sockets."""
    c = Cluster(home)
    try:
        yield c.start()
    finally:
        c.stop()
        dump_logs(home)


@pytest.fixture
def make_cluster(home: Path) -> Iterator:
    """A cluster the test starts and restarts itself."""
    made = []

    def make(spine_addr: str | None = None, **options) -> Cluster:
        c = Cluster(home, spine_addr, **options)
        made.append(c)
        return c

    yield make
    for c in made:
        c.stop()
    dump_logs(home)
