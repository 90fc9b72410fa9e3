"""Starting ben's components as real processes and waiting for them (demo, bench, tests)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from ben.core.admin import fetch_status, run_query
from ben.core.errors import BenError, TransportError
from ben.cli.parent import PARENT_ENV
from ben.core.service import PARENT_GONE
from ben.core.figures import flat
from ben.core.interpreter import python_argv

#: A start that takes longer says so this often (``Proc.wait_ready``'s progress).
PROGRESS_EVERY_S = 10.0


def _toml_table(name: str, options: dict) -> str:
    """A TOML table: scalar keys first, then nested dicts as sub-tables [name.key]."""
    scalars = "".join(f"{k} = {json.dumps(v)}\n" for k, v in options.items() if not isinstance(v, dict))
    nested = "".join(_toml_table(f"{name}.{k}", v) for k, v in options.items() if isinstance(v, dict))
    return f"[{name}]\n{scalars}{nested}"


def write_config(path: Path, home: Path, spine_addr: str | None = None, *, spine: dict | None = None,
                 sidecar: dict | None = None, store: dict | None = None) -> Path:
    """A config file for a spine and a sidecar living under home (short socket paths).

    The spine listens on spine_addr (default: a unix socket under home); spine, sidecar and
    store add options to those tables (nested dicts become sub-tables). The sidecar's OTLP
    listeners take any free loopback port unless sidecar["otlp"] names one: the well-known
    4317/4318 are one per machine, and two clusters side by side must not share them.
    """
    spine_addr = spine_addr or f"unix://{home / 'spine.sock'}"
    spine_table = {"data_dir": str(home / "spine"), "listen": spine_addr, **(spine or {})}
    spine_table["store"] = {**spine_table.get("store", {}), **(store or {})}
    sidecar_table = {"data_dir": str(home / "sidecar"), "listen": f"unix://{home / 'sidecar.sock'}",
                     "spine": spine_addr, **(sidecar or {})}
    sidecar_table["otlp"] = {"grpc_listen": "127.0.0.1:0", "http_listen": "127.0.0.1:0",
                             **sidecar_table.get("otlp", {})}
    try:  # 0644 whatever the umask: under umask 000 the spine refused the file it was started with (round 18)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        with os.fdopen(fd, "w") as out:
            os.fchmod(fd, 0o644)
            out.write(_toml_table("spine", spine_table) + _toml_table("sidecar", sidecar_table))
    except OSError as exc:  # a full disk fails at close, with no file named: "error:: No space left on device"
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    return path


def stop_with_parent_env(sig: int = PARENT_GONE) -> dict[str, str]:
    """The environment that makes a child started with it get ``sig`` when this process dies, kill -9
    included, once the child calls ``follow_parent`` (``ben``'s entry point does; so do the benches'
    load generators). Without it a killed ``ben demo`` left its spine and sidecar running in sessions
    of their own, holding the data directory the next ``ben demo`` wants. ben's components take
    ``PARENT_GONE`` as a stop however often it comes (the kernel can send it more than once).

    Set in the child, after exec, not in a ``preexec_fn``: that forks (not vfork) a process with
    gRPC threads and runs Python in the child before exec, and ``ben bench lanes`` hung there in two
    runs of four, its parent waiting in ``subprocess`` for an exec that never came."""
    return {PARENT_ENV: f"{int(sig)}:{os.getpid()}"} if sys.platform == "linux" else {}


class Proc:
    """A ben component in its own process, its output in a log file.

    ``stop_with_parent``: stop it (``PARENT_GONE``) when this process dies (Linux; for ``ben demo``, whose
    components live and die with it); start it from a thread that lives as long as the process.
    """

    def __init__(self, args: list[str], log_path: Path, env: dict[str, str] | None = None, *,
                 stop_with_parent: bool = False):
        self.args = args
        self.log_path = log_path
        log_path.parent.mkdir(parents=True, exist_ok=True, mode=0o755)  # not the umask's: no other account
        self._log_from = log_path.stat().st_size if log_path.exists() else 0  # this run's lines come after
        follow = stop_with_parent_env() if stop_with_parent else {}
        # -P: `python -m` would put the current directory first on sys.path, and a file there named like a
        # module ben imports (attr.py, chdb.py) broke the component (ADR 0033); `ben` itself runs without it.
        # the child keeps its own copy of the descriptor; 0644 whatever the umask (000 made it 0666: round 18)
        with os.fdopen(os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644), "ab") as log:
            self.popen = subprocess.Popen(python_argv("-m", "ben", *args), stdout=log,
                                          stderr=subprocess.STDOUT, env={**os.environ, **(env or {}), **follow},
                                          start_new_session=True)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def said_ready(self) -> bool:
        """This run of a spine or sidecar printed "<component>: ready" (True for any other command)."""
        if self.args[0] not in ("spine", "sidecar"):
            return True
        try:
            with open(self.log_path, "rb") as log:
                log.seek(self._log_from)
                return f"{self.args[0]}: ready".encode() in log.read()
        except OSError:
            return False

    def wait_ready(self, address: str, timeout: float = 60.0,
                   progress: Callable[[float, str], None] | None = None) -> None:
        """Wait until the component said it is ready and answers Status at address (or died: raise with its log).
        An answer alone is not enough: another process listening at that address (a sidecar the user runs, given
        the same data directory to ``ben demo --data-dir``) answered while this one failed to start, and the demo
        went on with the user's sidecar (ADR 0033, round 10). progress(seconds waited, its last log line) is
        called every PROGRESS_EVERY_S while it waits."""
        started = time.monotonic()
        deadline, said = started + timeout, started
        while True:
            if progress is not None and time.monotonic() - said >= PROGRESS_EVERY_S:
                said = time.monotonic()
                progress(said - started, self.tail(1))
            if not self.alive():
                raise BenError(f"ben {' '.join(self.args)} exited with {self.popen.returncode}:\n{self.tail()}")
            try:
                if not self.said_ready():
                    raise TransportError("not ready yet")
                fetch_status(address, timeout=1.0)
                return
            except TransportError:
                if time.monotonic() > deadline:
                    raise BenError(f"ben {' '.join(self.args)} not ready after {timeout}s:\n{self.tail()}") from None
                time.sleep(0.05)

    def signal(self, sig: int) -> None:
        if self.alive():
            self.popen.send_signal(sig)

    def kill(self) -> None:
        """SIGKILL: the crash case."""
        self.signal(signal.SIGKILL)
        self.popen.wait()

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM, then wait; SIGKILL if it does not exit in time."""
        self.signal(signal.SIGTERM)
        try:
            code = self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            code = self.popen.wait()
        return code


def wait_for(condition, timeout: float, what: str, interval: float = 0.05):
    """Poll condition() until it returns something truthy; raise BenError naming `what` on timeout."""
    deadline = time.monotonic() + timeout
    last_exc: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = condition()
            if value:
                return value
        except BenError as exc:
            last_exc = exc
        time.sleep(interval)
    raise BenError(f"timed out after {timeout}s waiting for {what}" + (f" (last error: {last_exc})" if last_exc else ""))


def query_rows(spine: str, sql: str) -> list[dict]:
    return json.loads(run_query(spine, sql))["data"]


def count_stored(spine: str) -> int:
    return int(query_rows(spine, "SELECT count() AS n FROM ben.events")[0]["n"])


class Cluster:
    """A spine and a sidecar under one directory, as real processes (demo, bench, tests)."""

    def __init__(self, home: Path, spine_addr: str | None = None, *, stop_with_parent: bool = False,
                 **options: dict):
        """options: spine={...}, sidecar={...}, store={...} (config keys of those tables);
        stop_with_parent: see ``Proc``."""
        self.stop_with_parent = stop_with_parent
        self.home = Path(home)
        self.home.mkdir(parents=True, exist_ok=True, mode=0o755)  # its sockets' and config's: no other account's
        self.spine_addr = spine_addr or f"unix://{self.home / 'spine.sock'}"
        self.config = write_config(self.home / "ben.toml", self.home, self.spine_addr, **options)
        self.sidecar_addr = f"unix://{self.home / 'sidecar.sock'}"
        self.spine: Proc | None = None
        self.sidecar: Proc | None = None

    def start_spine(self, timeout: float = 60.0, progress: Callable[[float, str], None] | None = None) -> Proc:
        self.spine = Proc(["spine", "--config", str(self.config)], self.home / "logs" / "spine.log",
                          stop_with_parent=self.stop_with_parent)
        self.spine.wait_ready(self.spine_addr, timeout, progress)
        return self.spine

    def start_sidecar(self, timeout: float = 60.0, progress: Callable[[float, str], None] | None = None) -> Proc:
        self.sidecar = Proc(["sidecar", "--config", str(self.config)], self.home / "logs" / "sidecar.log",
                            stop_with_parent=self.stop_with_parent)
        self.sidecar.wait_ready(self.sidecar_addr, timeout, progress)
        return self.sidecar

    def start(self, timeout: float = 60.0, progress: Callable[[str, float, str], None] | None = None) -> Cluster:
        """Start the spine, then the sidecar, each within timeout; progress(component, seconds, last log line)
        while either is still starting."""
        self.start_spine(timeout, None if progress is None else partial(progress, "spine"))
        self.start_sidecar(timeout, None if progress is None else partial(progress, "sidecar"))
        return self

    def status(self, which: str) -> dict[str, float]:
        """Figures of "spine" or "sidecar", flattened ({} if it does not answer)."""
        try:
            return flat(fetch_status(self.spine_addr if which == "spine" else self.sidecar_addr, 1.0).figures)
        except TransportError:
            return {}

    def wait_drained(self, timeout: float = 60.0) -> None:
        """Wait until the sidecar WAL is shipped and the spine WAL is stored."""
        wait_for(lambda: self.status("sidecar").get("wal_records", 1) == 0, timeout, "the sidecar WAL to drain")
        wait_for(lambda: self.status("spine").get("wal_records", 1) == 0, timeout, "the spine WAL to be stored")

    def stop(self) -> None:
        for proc in (self.sidecar, self.spine):
            if proc is not None and proc.alive():
                proc.stop()
