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


def test_detect_real_says_how_far_its_scoring_is_while_it_scores(monkeypatch, capsys, home: Path) -> None:
    """`ben bench detect-real` printed its per-file lines after every file was scored: 40 files (or one file of
    millions of points, a minute and more here) without a word. It now says "scored i/n files" as it goes."""
    from tests.cli.test_bad_input_in_process import ben

    code, _, err = ben(monkeypatch, capsys, home, "bench", "detect-real", str(home / "corpus"), "--generate",
                       "--files", "3")
    assert code == 0, err
    scored = [i for i, line in enumerate(err) if line.startswith("detect-real: scored ")]
    assert [err[i].split(" (")[0] for i in scored] == [f"detect-real: scored {n}/3 files" for n in (1, 2, 3)], err
    first_file_line = next(i for i, line in enumerate(err) if " windows " in line and " onsets " in line)
    assert scored[-1] < first_file_line, err


def test_a_file_of_many_points_says_how_far_it_is() -> None:
    import importlib.util

    import numpy as np

    from ben.cli.bench import bench_dir
    from ben.detect.corpus import Series

    spec = importlib.util.spec_from_file_location("ben_bench_detect_real_t", bench_dir() / "detect_real.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    n = module.SAY_EVERY_POINTS * 2 + 10
    ts = np.arange(n, dtype=np.int64) * 1_000_000_000 + 1_700_000_000 * 1_000_000_000
    said: list[str] = []

    class Quiet:  # the loop, not the detector, is under test
        def __init__(self, name):
            pass

        def update(self, t, v):
            from types import SimpleNamespace

            return SimpleNamespace(episodes=(), score=0.0)

    module.onset_scores(Series("g/big.csv", ts, np.zeros(n), ()), Quiet, said.append)
    every = module.SAY_EVERY_POINTS
    assert said == [f"g/big.csv: {every}/{n} points", f"g/big.csv: {2 * every}/{n} points"]


def test_an_output_encoding_without_the_characters_or_a_zero_width_still_shows_the_rows(home: Path) -> None:
    """`PYTHONIOENCODING=ascii ben query "SELECT 'é'"` was "unexpected UnicodeEncodeError (a bug in ben)" and
    `ben redact check` of a JSON line holding "é" an "unexpected UnicodeDecodeError"; `COLUMNS=0` drew every table
    0 characters wide: no row at all, exit 0."""
    from ben.store.chdb import ChdbStore

    ChdbStore(home / "store").close()

    def run(env: dict, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "ben", *args], env={**_env(home), **env}, text=True,
                              timeout=120, capture_output=True, input=stdin, encoding="utf-8")

    sql = ("query", "--data-dir", str(home / "store"), "SELECT 'café→' AS drink")
    ascii_out = run({"PYTHONIOENCODING": "ascii"}, *sql)
    assert ascii_out.returncode == 0 and "caf\\xe9\\u2192" in ascii_out.stdout, (ascii_out.stdout, ascii_out.stderr)
    zero = run({"COLUMNS": "0"}, *sql)
    assert zero.returncode == 0 and "café→" in zero.stdout, (zero.stdout, zero.stderr)
    checked = run({"PYTHONIOENCODING": "ascii"}, "redact", "check", stdin='{"name": "café", "body": "é"}\n')
    assert checked.returncode == 0 and "Traceback" not in checked.stderr and "bug in ben" not in checked.stderr, \
        checked.stderr


def test_keys_trust_on_a_full_disk_names_the_store_and_leaves_it_as_it_was(monkeypatch, capsys, home: Path) -> None:
    """`ben keys trust` onto a full disk said "error:: No space left on device" (naming nothing) and left its
    temporary file beside the trust store; one ``os.write`` could also write part of the store and go on."""
    from tests.cli.test_bad_input_in_process import ben
    from tests.core.test_wal_faults import fill, tmpfs

    assert ben(monkeypatch, capsys, home, "keys", "generate", "sc", "--dir", str(home / "keys"))[0] == 0
    pub = next((home / "keys").glob("*.pub"))
    with tmpfs(home / "disk", "1m") as disk:
        store = disk / "trust.toml"
        assert ben(monkeypatch, capsys, home, "keys", "trust", "--sidecar", "sc1", "--trust", str(store),
                   str(pub))[0] == 0
        before = store.read_bytes()
        fill(disk / "filler")
        code, _, err = ben(monkeypatch, capsys, home, "keys", "trust", "--sidecar", "sc2", "--trust", str(store),
                           str(pub))
        assert code == 2 and err[-1].startswith(f"error: --trust {store}: cannot write it: No space left"), err
        assert store.read_bytes() == before
        assert sorted(p.name for p in disk.iterdir()) == ["filler", "trust.toml"]
