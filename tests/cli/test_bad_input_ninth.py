"""Round 9 of a new user giving bad input on purpose (ADR 0033): standard streams closed, full or gone, TLS
material that is no TLS material, a package written onto a full disk. Real ``ben`` processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from tests.cli.test_bad_input import one_clear_line

NO_OTLP = '[sidecar.otlp]\ngrpc_listen = ""\nhttp_listen = ""\n'


def _env(home: Path) -> dict:
    return {**os.environ, "BEN_HOME": str(home), "COLUMNS": "200"}


def _wait_for(what, proc: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not what():
        assert proc.poll() is None, f"exited {proc.returncode} before it was ready"
        assert time.monotonic() < deadline, "not ready in time"
        time.sleep(0.05)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_a_component_started_with_its_standard_streams_closed_gives_their_numbers_to_no_file(home: Path) -> None:
    """`ben sidecar >&- 2>&-` (a supervisor closing them): the next files it opened took descriptors 1 and 2 (an
    epoll, a socket, a RocksDB file), so whatever was printed or logged there went into them, and the spine's
    store process inherited them as its stdout and stderr. /dev/null is put there first."""
    (home / "ben.toml").write_text(NO_OTLP)
    proc = subprocess.Popen(["/bin/sh", "-c", f'exec "{sys.executable}" -m ben sidecar -c ben.toml >&- 2>&-'],
                            cwd=home, env=_env(home), stdin=subprocess.DEVNULL)
    try:
        _wait_for((home / "sidecar.sock").is_socket, proc)
        targets = {fd: os.readlink(f"/proc/{proc.pid}/fd/{fd}") for fd in (1, 2)}
        assert targets == {1: "/dev/null", 2: "/dev/null"}, targets
    finally:
        _stop(proc)


def test_a_component_whose_stdout_reader_is_gone_runs_on(home: Path) -> None:
    """`ben sidecar | …` whose reader left before "sidecar: ready": the print raised BrokenPipeError out of the
    service, and the sidecar exited 1 without a word (typer's broken-pipe exit), its shutdown never run."""
    (home / "ben.toml").write_text(NO_OTLP)
    read, write = os.pipe()
    os.close(read)
    log = home / "sidecar.log"
    with open(log, "w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "ben", "sidecar", "-c", "ben.toml"], cwd=home, env=_env(home),
                                stdin=subprocess.DEVNULL, stdout=write, stderr=err)
    os.close(write)
    try:
        _wait_for(lambda: "sidecar: ready (could not say so on stdout" in log.read_text(), proc)
        assert proc.poll() is None, log.read_text()[-2000:]
        assert (home / "sidecar.sock").is_socket()
    finally:
        _stop(proc)
    assert proc.returncode == 0, log.read_text()[-2000:]


def _ben(home: Path, *args: str, **streams) -> subprocess.CompletedProcess:
    out = subprocess.run([sys.executable, "-m", "ben", *args], env=_env(home), text=True, timeout=120,
                         stderr=subprocess.PIPE, **streams)
    out.stdout = out.stdout or ""
    return out


def test_output_that_cannot_be_written_is_said_and_no_success(home: Path) -> None:
    """`> /dev/full` said "error:: No space left on device" (naming nothing), exit 2; `>&-` printed nothing and
    exited 0, the output lost in silence."""
    with open("/dev/full", "w") as full:
        out = _ben(home, "redact", "default", stdout=full, stdin=subprocess.DEVNULL)
    line = one_clear_line(out, 1, "<standard output>", "No space left on device")
    assert "error::" not in line
    closed = subprocess.run(["/bin/sh", "-c", f'exec "{sys.executable}" -m ben redact default >&-'],
                            env=_env(home), text=True, timeout=120, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    closed.stdout = ""
    one_clear_line(closed, 1, "<standard output>", "closed")


def test_redact_check_with_stdin_closed_is_one_line(home: Path) -> None:
    """`ben redact check <&-` was "unexpected TypeError: 'NoneType' object is not iterable (a bug in ben)"."""
    out = subprocess.run(["/bin/sh", "-c", f'exec "{sys.executable}" -m ben redact check <&-'], env=_env(home),
                         text=True, timeout=120, capture_output=True)
    one_clear_line(out, 2, "no events on stdin")
