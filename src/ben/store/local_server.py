"""A ClickHouse server of ben's own on loopback: for the tests and ``ben bench ingest --store clickhouse``.

Runs Debian's ``clickhouse-server`` (installed by ``scripts/debian-deps.sh``) with a generated
minimal config: loopback only, a free TCP port (native protocol only: no HTTP, no interserver
port), data, logs and tmp under one directory, a ``default`` user without password reachable from
localhost only. ``start`` waits until ``SELECT 1`` answers; ``kill`` is the crash case (SIGKILL);
``start`` again reuses the port and the data.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from ben.core.errors import StorageError

log = logging.getLogger(__name__)
# Waiting for a server that is starting, each refused connect is expected: the driver logged it with a traceback at
# WARNING (320 tracebacks in one kill -9 harness run of --store clickhouse); ben.store.server does the same.
logging.getLogger("clickhouse_driver.connection").setLevel(logging.ERROR)

BINARY_CANDIDATES = ("/usr/sbin/clickhouse-server", "/usr/bin/clickhouse-server")
INSTALL_HINT = "install it with scripts/debian-deps.sh (as root; `make test` runs it)"

CONFIG = """<?xml version="1.0"?>
<yandex>
    <logger>
        <level>information</level>
        <log>{root}/log/server.log</log>
        <errorlog>{root}/log/server.err.log</errorlog>
        <size>100M</size>
        <count>1</count>
    </logger>
    <listen_host>127.0.0.1</listen_host>
    <tcp_port>{port}</tcp_port>
    <path>{root}/data/</path>
    <tmp_path>{root}/tmp/</tmp_path>
    <user_files_path>{root}/user_files/</user_files_path>
    <format_schema_path>{root}/format_schemas/</format_schema_path>
    <mark_cache_size>268435456</mark_cache_size>
    <uncompressed_cache_size>268435456</uncompressed_cache_size>
    <max_concurrent_queries>64</max_concurrent_queries>
    <timezone>UTC</timezone>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <users>
        <default>
            <password></password>
            <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
        <ben_reader>
            <password></password>
            <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
            <profile>ben_reader</profile>
            <quota>default</quota>
            <allow_databases><database>ben</database></allow_databases>
        </ben_reader>
    </users>
    <profiles>
        <default><background_pool_size>4</background_pool_size></default>
        <ben_reader>
            <readonly>1</readonly>
            <max_execution_time>60</max_execution_time>
            <timeout_overflow_mode>throw</timeout_overflow_mode>
            <max_result_bytes>268435456</max_result_bytes>
            <result_overflow_mode>throw</result_overflow_mode>
            <max_memory_usage>1073741824</max_memory_usage>
        </ben_reader>
    </profiles>
    <quotas><default></default></quotas>
</yandex>
"""


def find_binary() -> str:
    """The clickhouse-server executable, or a StorageError saying how to install it."""
    found = shutil.which("clickhouse-server") or next((p for p in BINARY_CANDIDATES if os.access(p, os.X_OK)), None)
    if not found:
        raise StorageError(f"clickhouse-server not found (looked in PATH and {', '.join(BINARY_CANDIDATES)}); "
                           f"{INSTALL_HINT}")
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalClickHouse:
    """One clickhouse-server process with its data under `root`."""

    def __init__(self, root: Path | str, port: int | None = None):
        self.root = Path(root)
        self.port = port or free_port()
        self.host = "127.0.0.1"
        self.binary = find_binary()
        self.proc: subprocess.Popen | None = None
        for sub in ("data", "tmp", "user_files", "format_schemas", "log"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        self.config = self.root / "config.xml"
        self.config.write_text(CONFIG.format(root=self.root, port=self.port))

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        out = []
        for name in ("stdout.log", "log/server.err.log"):
            try:
                out += (self.root / name).read_text(errors="replace").splitlines()[-lines:]
            except OSError:
                pass
        return "\n".join(out)

    def start(self, timeout: float = 60.0) -> LocalClickHouse:
        if self.alive():
            return self
        with open(self.root / "stdout.log", "ab") as out:
            self.proc = subprocess.Popen([self.binary, f"--config-file={self.config}"], stdout=out,
                                         stderr=subprocess.STDOUT, cwd=self.root, start_new_session=True)
        self.wait_ready(timeout)
        log.info("clickhouse-server (pid %d) ready on %s, data in %s", self.proc.pid, self.address, self.root)
        return self

    def wait_ready(self, timeout: float) -> None:
        from clickhouse_driver import Client
        from clickhouse_driver import errors as ch_errors

        deadline = time.monotonic() + timeout
        while True:
            if not self.alive():
                raise StorageError(f"clickhouse-server exited with {self.proc.returncode if self.proc else '?'}:\n"
                                   f"{self.log_tail()}")
            client = Client(host=self.host, port=self.port, connect_timeout=1, send_receive_timeout=5)
            try:
                if client.execute("SELECT 1") == [(1,)]:
                    return
            except (ch_errors.Error, EOFError, OSError):
                if time.monotonic() > deadline:
                    raise StorageError(f"clickhouse-server on {self.address} not ready after {timeout}s:\n"
                                       f"{self.log_tail()}") from None
            finally:
                client.disconnect()
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: the crash case."""
        if self.alive():
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM, then SIGKILL if it does not exit in time."""
        if not self.alive():
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
