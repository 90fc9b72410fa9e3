"""Shared fixtures: short temp dirs (unix socket paths are limited to 107 bytes) and real clusters."""

from __future__ import annotations

import contextlib
import random
import shutil
import signal
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ben.cli.procs import Cluster

# The tests that press Ctrl-C on a ben child (SIGINT) need the child to hear it. A background job of a shell without
# job control starts with SIGINT ignored, every child inherits that, and Python then installs no handler for it: the
# child never sees the Ctrl-C and the test waits out its timeout. A Python handler here is reset to the default at
# every exec, so the children start as from a terminal, however pytest was started (ADR 0048, 2026-12-07, fifth).
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_addoption(parser) -> None:
    parser.addoption("--order", default="file", metavar="ORDER",
                     help="test order: file (default), slow-first (the modules of SLOW_FIRST, then file order: "
                          "make test's parallel phase), reverse, or random:SEED (modules shuffled, and the tests "
                          "within each module; a module's tests stay together so its fixtures start once). "
                          "A test that fails in another order depends on one that ran before it.")


#: The slowest modules, slowest first, from the suite's measured durations (ADR 0048). Under ``--dist loadfile``
#: a worker takes modules in collection order; a long module met last keeps one worker busy while the other
#: idles, so ``make test`` starts with these (``--order slow-first``). A name here that no longer exists is ignored.
SLOW_FIRST = (
    "tests/crash/test_harness_rounds.py", "tests/crash/test_torture.py",
    "tests/crash/test_harness_faults.py", "tests/cli/test_cli.py", "tests/cli/test_bad_input.py",
    "tests/spine/test_detection.py", "tests/sdk/test_poison.py", "tests/core/test_service.py",
    "tests/spine/test_auth.py", "tests/core/test_files.py", "tests/store/test_process.py",
    "tests/detect/test_conformance.py", "tests/cli/test_first_hour.py", "tests/spine/test_store_writer.py",
    "tests/otlp/test_resend.py", "tests/redact/test_sidecar_redaction.py", "tests/web/test_web.py",
    "tests/detect/test_checks.py", "tests/baseline/test_export.py", "tests/cli/test_bad_input_fourteenth.py",
    "tests/cli/test_bad_input_thirteenth.py", "tests/cli/test_baseline.py", "tests/cli/test_bad_input_ninth.py",
    "tests/otlp/test_transports.py", "tests/spine/test_explain_units.py",
)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items: list) -> None:
    order = config.getoption("--order")
    if order == "file":
        return
    if order == "slow-first":
        rank = {name: i for i, name in enumerate(SLOW_FIRST)}
        items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))  # stable: file order kept
        return
    if order != "reverse" and not (order.startswith("random:") and order[7:].isdigit()):
        raise pytest.UsageError(f"--order {order!r}: expected file, slow-first, reverse or random:SEED (SEED an integer)")
    modules: dict[str, list] = {}
    for item in items:
        modules.setdefault(item.nodeid.split("::")[0], []).append(item)
    groups = list(modules.values())
    if order == "reverse":
        groups = [g[::-1] for g in groups[::-1]]
    else:
        rng = random.Random(int(order[7:]))
        rng.shuffle(groups)
        for g in groups:
            rng.shuffle(g)
    items[:] = [item for g in groups for item in g]


def pytest_report_header(config) -> str | None:
    order = config.getoption("--order")
    return None if order == "file" else f"test order: {order}"


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


@contextlib.contextmanager
def rig_in_tmp(prefix: str, make: Callable[[Path], Any]) -> Iterator[Any]:
    """A module's rig (``make(home)``, holding a ``cluster``) in a fresh directory under /tmp (short socket
    paths): stopped, its logs printed and the directory removed afterwards."""
    home = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    r = None
    try:
        r = make(home)
        yield r
    finally:
        if r is not None:
            r.cluster.stop()
        dump_logs(home)
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def cluster(home: Path) -> Iterator[Cluster]:
    """A spine and a sidecar, started as real processes on unix sockets."""
    c = Cluster(home)
    try:
        yield c.start()
    finally:
        c.stop()
        dump_logs(home)


@pytest.fixture(scope="module")
def _module_cluster() -> Iterator[Cluster]:
    home = Path(tempfile.mkdtemp(prefix="bt-", dir="/tmp"))
    c = Cluster(home)
    try:
        yield c.start()
    finally:
        c.stop()
        dump_logs(home)
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def module_cluster(_module_cluster: Cluster) -> Iterator[Cluster]:
    """The default spine and sidecar, started once for the module's tests that use it (ADR 0048): for tests that
    check only what they sent themselves (their own producer, names or subsystem), never the cluster's totals,
    and leave both components running. A test that leaves one stopped or dead fails here, at its teardown (the
    next test then finds it restarted)."""
    c = _module_cluster
    for proc, start in ((c.spine, c.start_spine), (c.sidecar, c.start_sidecar)):
        if proc is None or not proc.alive():
            start()
    yield c
    down = [name for name, proc in (("spine", c.spine), ("sidecar", c.sidecar)) if proc is None or not proc.alive()]
    assert not down, f"the test left the module's cluster without its {' and '.join(down)}"


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


@pytest.fixture(scope="session")
def clickhouse_server(tmp_path_factory) -> Iterator:
    """A real clickhouse-server (Debian's 18.16, installed by scripts/debian-deps.sh) on loopback.

    Missing server = a failing test with the install hint, never a skip.
    """
    from ben.core.errors import StorageError
    from ben.store.local_server import LocalClickHouse

    for attempt in range(3):  # a free port can be taken by another process before the server binds it
        server = None
        try:
            server = LocalClickHouse(tmp_path_factory.mktemp("clickhouse"))
            server.start()
            break
        except StorageError as exc:
            if server is not None:
                server.stop()  # not ready in time: never leave it running
            if attempt == 2 or "Address already in use" not in str(exc):
                pytest.fail(f"the ClickHouse server tests need clickhouse-server: {exc}")
    yield server
    server.stop()


@pytest.fixture
def clickhouse(clickhouse_server):
    """The session's clickhouse-server, running, with no ben database (each test starts empty)."""
    from clickhouse_driver import Client

    clickhouse_server.start()  # a test may have killed it
    client = Client(host=clickhouse_server.host, port=clickhouse_server.port)
    try:
        client.execute("DROP DATABASE IF EXISTS ben")
    finally:
        client.disconnect()
    return clickhouse_server
