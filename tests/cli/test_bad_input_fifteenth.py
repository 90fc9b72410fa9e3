"""ben as the fifteenth stranger used it (ADR 0033, "2026-12-07/08, round 15"): each test fails on the code before
its fix. Real ``ben`` processes; runs of a table go in parallel (each is mostly the interpreter's start)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest


def ben(*args: str, home: Path, env: dict | None = None, cwd: Path | None = None,
        timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ben", *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "BEN_HOME": str(home), "COLUMNS": "200", **(env or {})},
                          stdin=subprocess.DEVNULL, cwd=cwd)


def private(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(0o600)
    return path


def one_line(out: subprocess.CompletedProcess) -> str:
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in out.stderr, out.stderr
    return lines[0]


def test_web_check_says_it_would_start_and_binds_nothing(tmp_path: Path) -> None:
    """``ben spine --check`` and ``ben sidecar --check`` existed (ADR 0049); ``ben web --check`` was "No such option:
    --check". It checks what the start checks (the config and its owner, the flags, the access token, [web.tls], the
    cortex's responses file), binds nothing and asks the spine nothing: it passes with its port held by another
    socket, makes no home, and refuses what the start refuses in one line naming the field and the file. Without
    ``--spine`` it reads the spine the config's ``[spine] listen`` names (it read ``$BEN_HOME/spine.sock`` whatever
    the config said: ``ben spine -c ben.toml`` and ``ben web -c ben.toml`` never met)."""
    home = tmp_path / "home"
    with socket.socket() as held:  # the port taken: a check that bound it would fail
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        elsewhere = f"unix://{tmp_path}/elsewhere/spine.sock"  # the spine's listen of the config: read without --spine
        good = private(tmp_path / "web.toml", f'[spine]\nlisten = "{elsewhere}"\n[web]\nlisten_port = {port}\n')
        cases = [
            (["web", "--check", "--config", str(good)], None),
            (["web", "--check", "--config", str(private(tmp_path / "open.toml", '[web]\nlisten_host = "0.0.0.0"\n'))],
             ("open.toml", "web.token_env", "not loopback")),
            (["web", "--check", "--config", str(private(tmp_path / "tok.toml", '[web]\ntoken_env = "BEN_R15_UNSET"\n'))],
             ("tok.toml", "web.token_env", "empty or unset")),
            (["web", "--check", "--config", str(private(tmp_path / "cx.toml", '[cortex]\nresponses = "none.toml"\n'))],
             ("none.toml", "responses file not found")),
        ]
        with ThreadPoolExecutor(len(cases)) as pool:
            outs = list(pool.map(lambda c: ben(*c[0], home=home), cases))
    first = outs[0]
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == (f"ben web: {good} would start: listen http://127.0.0.1:{port}/, spine "
                                    f"{elsewhere}"), first.stdout
    for (args, words), out in zip(cases[1:], outs[1:]):
        assert out.returncode == 2, (args, out.stdout, out.stderr)
        line = one_line(out)
        assert all(w in line for w in words), (args, line)
    assert not home.exists()
    free = ben("web", "--check", "--port", "0", home=home)  # port 0: a free one, which only the start knows
    assert free.returncode == 0 and "listen http://127.0.0.1 on a free port (said at start)," in free.stdout, free


def test_a_blank_ben_home_or_socket_variable_says_to_unset_it(tmp_path: Path) -> None:
    """``BEN_HOME=" "`` (a blank left by a shell script) said "an empty path (leave the key out for its default)": a
    config file's words, and there is no key to leave out of an environment."""
    cases = [(["status"], {"BEN_HOME": " "}, "$BEN_HOME"), (["emit", "x"], {"BEN_SIDECAR_SOCKET": "  "},
                                                             "$BEN_SIDECAR_SOCKET")]
    with ThreadPoolExecutor(len(cases)) as pool:
        outs = list(pool.map(lambda c: ben(*c[0], home=tmp_path / "home", env=c[1]), cases))
    for (args, env, name), out in zip(cases, outs):
        line = one_line(out)
        assert out.returncode == 2 and name in line and f"unset {name[1:]}" in line and "key" not in line, line


def test_is_acked_of_a_negative_or_boolean_number_is_refused(tmp_path: Path) -> None:
    """``client.is_acked(-1)`` answered True, "durable", of an event no emit returned (``True``, an int to Python, was
    event 1); a wait on such a number is wrong for ever. 0 (where ``acked_seq`` starts) is still answered."""
    from ben.core.errors import InvalidEventError
    from ben.sdk import Client

    client = Client("api", sidecar=f"unix://{tmp_path}/no-sidecar.sock")
    try:
        for seq in (-1, -(2 ** 70), True):
            with pytest.raises(InvalidEventError) as refused:
                client.is_acked(seq)
            assert refused.value.field == "seq" and "sequence number" in str(refused.value), refused.value
        assert client.is_acked(0)
    finally:
        client.shutdown(0.1)


@pytest.fixture(scope="module")
def empty_store(tmp_path_factory) -> Path:
    """A chDB store of ben's tables, empty (read with --data-dir, one process at a time)."""
    from ben.store import ChdbStore

    path = tmp_path_factory.mktemp("store") / "chdb"
    ChdbStore(path).close()
    return path


def test_an_empty_incident_list_says_why(empty_store: Path, tmp_path: Path) -> None:
    """``ben incidents`` before any incident printed an empty table and nothing else: a newcomer's first hour
    (detection learns each series first) looked like ben not working."""
    out = ben("incidents", "--data-dir", str(empty_store), home=tmp_path / "home")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1].startswith("no incidents yet: detection learns each series"), out.stdout


def test_a_query_of_many_rows_shows_the_first_thousand_and_says_so(empty_store: Path, tmp_path: Path) -> None:
    """``ben query "SELECT number, toString(number) s, now() t FROM numbers(200000)"`` (a few MB, well under the
    store's 256 MiB bound) printed nothing for over five minutes while rich laid out the whole table (690 MB and
    growing): ben looked hung. The table shows the first 1,000 rows, as the web's SQL page does, and says so;
    ``--json`` prints every row."""
    table = ben("query", "--data-dir", str(empty_store), "SELECT number FROM numbers(5000)", home=tmp_path / "home")
    assert table.returncode == 0, table.stderr
    lines = table.stdout.strip().splitlines()
    assert lines[-1] == "5000 row(s); the first 1,000 shown (--json prints every row)", lines[-3:]
    assert "│ 999 " in table.stdout and "│ 1000 " not in table.stdout  # (--json's output is unchanged)


def test_status_piped_writes_each_line_whole(tmp_path: Path) -> None:
    """``ben status | grep …`` (or a log of it): piped, rich lays text out 80 columns wide, and "sidecar: nothing
    answers at unix:///…/sidecar.sock (is it" and "running?)" came out as two lines, which a script reads apart."""
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    sock = Path("/tmp") / f"ben-r15-{os.getpid()}-a-directory-long-enough-to-take-the-line-past-80-columns" / "s.sock"
    out = subprocess.run([sys.executable, "-m", "ben", "status", "--spine", f"unix://{sock}", "--sidecar",
                          f"unix://{sock}"], capture_output=True, text=True, timeout=60, env=env,
                         stdin=subprocess.DEVNULL)
    assert out.returncode == 1, out.stderr
    lines = out.stdout.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == ["sidecar", "spine"], lines
    assert all(line.endswith("(is it running?)") for line in lines), lines


def test_synth_refuses_a_run_that_would_send_nothing_or_inject_no_fault(tmp_path: Path) -> None:
    """``ben synth --fast --rate 0.001 --duration 10`` sent 0 events and said ``"flushed": true``, exit 0;
    ``--duration 3900 --fault-start 3900`` (the README's recipe with the fault moved one step too far) ran its hour
    of telemetry without the fault it asked for, and no incident came of it, in silence. Both are refused before
    anything is sent, naming the flag (no sidecar is needed to be told)."""
    cases = [(["--fast", "--rate", "0.001", "--duration", "10"], ("--duration", "0.01 events", "would send none")),
             (["--fast", "--rate", "100", "--duration", "3900", "--fault-start", "3900"],
              ("--fault-start", "not before --duration 3900 s", "no fault would be injected")),
             (["--rate", "10", "--duration", "1", "--fault-start", "5"], ("--fault-start", "no fault"))]
    with ThreadPoolExecutor(len(cases)) as pool:
        outs = list(pool.map(lambda c: ben("synth", *c[0], "--sidecar", f"unix://{tmp_path}/none.sock",
                                           home=tmp_path / "home"), cases))
    for (args, words), out in zip(cases, outs):
        assert out.returncode == 2, (args, out.stdout, out.stderr)
        line = one_line(out)
        assert all(w in line for w in words), (args, line)
