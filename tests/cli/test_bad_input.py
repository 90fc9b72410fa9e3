"""A new user giving bad input on purpose (ADR 0033): every case ends in one ``error:`` line that names the flag,
field, file or variable, a non-zero exit code, no traceback, and no wait for a peer that is not there."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest


def ben(*args: str, env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ben", *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "COLUMNS": "200", **(env or {})}, stdin=subprocess.DEVNULL)


def ben_all(runs: list[tuple[tuple[str, ...], dict]]) -> list[subprocess.CompletedProcess]:
    """Several ``ben`` runs at once (each is mostly interpreter start-up): the tables stay fast."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(lambda run: ben(*run[0], env=run[1]), runs))


def check_all(cases: list, outs: list[subprocess.CompletedProcess], code: int, names_of) -> None:
    """one_clear_line for every case; the failures together, each with its case."""
    failed = []
    for case, out in zip(cases, outs):
        try:
            one_clear_line(out, code, *names_of(case))
        except AssertionError as exc:
            failed.append(f"{case}: {exc}")
    assert not failed, "\n".join(failed)


def one_clear_line(out: subprocess.CompletedProcess, code: int, *names: str) -> str:
    """The error line: the last of stderr, starting ``error:``, naming each of ``names``; no traceback."""
    assert "Traceback" not in out.stderr + out.stdout, out.stderr[-3000:]
    assert out.returncode == code, (out.returncode, out.stdout[-1000:], out.stderr[-2000:])
    line = out.stderr.strip().splitlines()[-1]
    assert line.startswith("error: "), out.stderr[-2000:]
    for name in names:
        assert name in line, (name, line)
    return line


@pytest.fixture
def tree(home: Path) -> Path:
    """A home with what the cases point at: a plain file, a directory that is no store, an empty dir,
    data directories of another component, of a newer ben and with a damaged marker."""
    (home / "a file").write_text("x")
    (home / "no store é").mkdir()
    (home / "empty").mkdir()
    (home / "sidecar-data" / "control").mkdir(parents=True)
    (home / "sidecar-data" / "control" / "sidecar.key").write_bytes(b"k")
    (home / "newer").mkdir()
    (home / "newer" / "ben-data-dir.json").write_text(json.dumps({"component": "spine", "layout": 99,
                                                                   "written_by": "ben 9.9"}))
    (home / "damaged").mkdir()
    (home / "damaged" / "ben-data-dir.json").write_text("\x00\x01garbage")
    return home


ADDRESS_FLAGS = [
    ("status", "--spine", "abc"), ("status", "--sidecar", "abc"), ("query", "--spine", "abc", "SELECT 1"),
    ("incidents", "--spine", "abc"), ("explain", "--spine", "abc", "latest"),
    ("acknowledge", "--spine", "abc", "inc-1"), ("replay", "--spine", "abc", "--from", "1", "--to", "2"),
    ("web", "--spine", "nohost:"), ("web", "--sidecar", "abc"), ("status", "--spine", "unix://"),
]


def test_a_bad_address_flag_names_the_flag(home: Path) -> None:
    outs = ben_all([(args, {"BEN_HOME": str(home)}) for args in ADDRESS_FLAGS])
    check_all(ADDRESS_FLAGS, outs, 2, lambda args: (f"'{args[1]}'", "unix:///"))


def test_a_ben_home_too_long_for_a_socket_names_the_variable(home: Path) -> None:
    out = ben("status", env={"BEN_HOME": str(home / ("x" * 120))})
    one_clear_line(out, 2, "$BEN_HOME", "107")


# (args, names the error line must hold); {h} is the home
PATH_CASES = [
    (("query", "SELECT 1", "--data-dir", "{h}/no store é"), ("--data-dir", "no store é", "not a chDB store")),
    (("query", "SELECT 1", "--data-dir", "{h}/missing"), ("--data-dir", "not a directory")),
    (("query", "SELECT 1", "--data-dir", "{h}/a file"), ("--data-dir", "not a directory")),
    (("incidents", "--data-dir", "{h}/empty"), ("--data-dir", "not a chDB store")),
    (("incidents", "--data-dir", "{h}/empty", "--follow"), ("--data-dir", "--follow")),
    (("explain", "latest", "--data-dir", "{h}/empty"), ("--data-dir", "not a chDB store")),
    (("replay", "--from", "1", "--to", "2", "--data-dir", "{h}/missing"), ("--data-dir", "not a directory")),
    (("keys", "generate", "k", "--dir", "{h}/a file/keys"), ("--dir", "a file")),
    (("certs", "init", "--dir", "{h}/a file/certs"), ("--dir", "a file")),
    (("certs", "issue", "x", "--dir", "{h}/empty"), ("--dir", "no CA", "ben certs init")),
    (("spine", "--config", "{h}/empty"), ("empty", "a directory, not a file")),
    (("spine", "--config", "{h}/missing.toml"), ("missing.toml", "not found")),
]


def test_a_bad_path_names_the_flag_and_the_path(tree: Path) -> None:
    outs = ben_all([(tuple(a.format(h=tree) for a in args), {"BEN_HOME": str(tree)}) for args, _ in PATH_CASES])
    check_all(PATH_CASES, outs, 2, lambda case: case[1])
    assert not (tree / "no store é" / "metadata").exists() and not (tree / "empty" / "metadata").exists()


FLAG_CASES = [
    (("emit", "x", "--timeout", "-1"), "--timeout"),
    (("emit", "x", "--timeout", "nan"), "--timeout"),
    (("emit", "x", "--attr", "novalue"), "--attr"),
    (("emit", "x", "--kind", "log", "--value", "5"), "--value"),   # dropped in silence (ADR 0033 round 7)
    (("emit", "x", "--value", "5"), "--value"),
    (("emit", "x", "--kind", "metric", "--body", "hello"), "--body"),
    (("synth", "--duration", "-5"), "--duration"),
    (("synth", "--rate", "nan"), "--rate"),
    (("synth", "--rate", "1e6", "--duration", "1e6", "--fast"), "--duration"),
    (("replay", "--from", "yesterday", "--to", "2"), "--from"),
    (("demo", "--rate", "0", "--duration", "1"), "--rate"),
    (("demo", "--duration", "nan"), "--duration"),
    (("demo", "--fault-start", "inf", "--duration", "1"), "--fault-start"),
    (("demo", "--data-dir", "/etc/hostname"), "--data-dir"),
]


def test_a_bad_number_or_time_names_the_flag(home: Path) -> None:
    outs = ben_all([(args, {"BEN_HOME": str(home)}) for args, _ in FLAG_CASES])
    for (args, flag), out in zip(FLAG_CASES, outs):
        assert "Traceback" not in out.stderr and out.returncode == 2, (args, out.returncode, out.stderr[-2000:])
        assert flag in out.stderr, (args, out.stderr)


#: Each with a wait for its acknowledgements far longer than the run may take: a command that waited for a sidecar
#: that is not there would meet ``ben``'s subprocess timeout (a bound on the failure, not a measure).
NO_SIDECAR = [("emit", "deploy", "--timeout", "3600"),
              ("synth", "--rate", "10", "--duration", "1", "--flush-timeout", "3600"),
              ("emit", "deploy", "--sidecar", "unix:///tmp/no-such-ben.sock", "--timeout", "3600")]


def test_no_sidecar_is_said_at_once(home: Path) -> None:
    outs = ben_all([(args, {"BEN_HOME": str(home)}) for args in NO_SIDECAR])
    check_all(NO_SIDECAR, outs, 2, lambda args: ("no sidecar listens at", "ben sidecar"))


OTHER_DATA_DIRS = [
    ("spine", "sidecar-data", ("spine.data_dir", "a sidecar's data directory")),
    ("spine", "newer", ("spine.data_dir", "newer ben", "ben 9.9")),
    ("sidecar", "damaged", ("sidecar.data_dir", "ben-data-dir.json", "damaged")),
]


def test_a_data_dir_of_another_component_or_version_is_refused(tree: Path) -> None:
    runs = []
    for i, (command, data_dir, _) in enumerate(OTHER_DATA_DIRS):
        config = tree / f"ben{i}.toml"
        config.write_text(f'[{command}]\ndata_dir = "{tree / data_dir}"\nlisten = "unix://{tree / f"s{i}.sock"}"\n')
        runs.append(((command, "--config", str(config)), {}))
    check_all(OTHER_DATA_DIRS, ben_all(runs), 2, lambda case: case[2])


def test_a_data_dir_is_marked_and_then_refused_to_the_other_component(home: Path) -> None:
    from ben.core.data_dir import claim_data_dir
    from ben.core.errors import ConfigError

    claim_data_dir(home, "sidecar", "sidecar.data_dir")
    assert json.loads((home / "ben-data-dir.json").read_text())["component"] == "sidecar"
    claim_data_dir(home, "sidecar", "sidecar.data_dir")  # its own: taken again
    with pytest.raises(ConfigError, match="spine.data_dir.*a sidecar's data directory"):
        claim_data_dir(home, "spine", "spine.data_dir")


BAD_CONFIGS = [
    ('[spine]\ndata_dirr = "x"\n', ("spine.data_dirr", "did you mean 'spine.data_dir'")),
    ('[spien]\nlisten = "x"\n', ("'spien'", "did you mean 'spine'")),
    ("[spine]\nstore = 3\n", ("spine.store", "expected a table")),
    ("[spine]\nlisten = 5\n", ("spine.listen", "got 5")),
    ("not toml [[[\n", ("not valid TOML", "line 1")),
    ("\udcff\x00\x01", ("not UTF-8 text at line 1",)),
    ("[sidecar]\nsocket_mode = 660\n", ("sidecar.socket_mode", "octal", "0o660")),  # was "less than or equal to 511"
]


def test_a_bad_config_file_names_the_file_and_the_nearest_key(home: Path) -> None:
    runs = []
    for i, (text, _) in enumerate(BAD_CONFIGS):
        config = home / f"my config ü {i}.toml"
        config.write_bytes(text.encode("utf-8", "surrogateescape"))
        runs.append((("sidecar", "--config", str(config)), {}))
    check_all(list(zip(runs, BAD_CONFIGS)), ben_all(runs), 2, lambda case: (case[0][0][2], *case[1][1]))


def test_an_unexpected_error_is_one_line_and_the_traceback_on_request(home: Path) -> None:
    script = ("import ben.cli as c\n@c.app.command('boom')\ndef boom():\n    raise RuntimeError('kaput')\n"
              "c.main()\n")
    out = subprocess.run([sys.executable, "-c", script, "boom"], capture_output=True, text=True, timeout=60)
    one_clear_line(out, 1, "unexpected RuntimeError: kaput", "BEN_TRACEBACK=1")
    out = subprocess.run([sys.executable, "-c", script, "boom"], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "BEN_TRACEBACK": "1"})
    assert "Traceback" in out.stderr and out.returncode == 1


def test_a_web_port_in_use_is_one_line(home: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = ben("web", "--port", str(port), env={"BEN_HOME": str(home)})
    one_clear_line(out, 2, "web.listen_port", f"127.0.0.1:{port}", "--port")
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr  # not uvicorn's "ERROR: [Errno 98] ..." first


def test_a_sidecar_without_its_spine_says_so_and_keeps_the_events(home: Path) -> None:
    from ben.cli.procs import Proc, wait_for

    config = home / "ben.toml"
    config.write_text(f'[sidecar]\ndata_dir = "{home / "sc"}"\nlisten = "unix://{home / "sc.sock"}"\n'
                      f'spine = "unix://{home / "no-spine.sock"}"\n[sidecar.otlp]\ngrpc_listen = ""\nhttp_listen = ""\n')
    proc = Proc(["sidecar", "--config", str(config)], home / "logs" / "sidecar.log")
    try:
        proc.wait_ready(f"unix://{home / 'sc.sock'}")
        out = ben("emit", "deploy", "--sidecar", f"unix://{home / 'sc.sock'}")
        assert out.returncode == 0 and "acknowledged" in out.stdout, out.stderr[-2000:]
        wait_for(lambda: "is the spine running there?" in proc.tail(50), 30, "the sidecar to say the spine is missing")
        assert "Traceback" not in proc.tail(200)
    finally:
        assert proc.stop() == 0


def test_an_event_or_query_the_cli_cannot_send_names_the_flag(home: Path) -> None:
    import socket

    with socket.socket(socket.AF_UNIX) as stale:  # the values are refused before anything is sent
        stale.bind(str(home / "sc.sock"))
    side = f"unix://{home / 'sc.sock'}"
    cases = [(("emit", "c", "--kind", "counter", "--value", "-5", "--sidecar", side), ("--value", "increment")),
             (("emit", "c", "--kind", "counter", "--value", "inf", "--sidecar", side), ("--value", "increment")),
             (("emit", "wran", "--kind", "log", "--sidecar", side), ("NAME", "'level'", "'wran'", "warn")),
             (("query", "SELECT '\udcff'", "--spine", "unix:///tmp/no-such-ben.sock"), ("SQL", "UTF-8", "0xff"))]
    check_all(cases, ben_all([(args, {"BEN_HOME": str(home)}) for args, _ in cases]), 2, lambda case: case[1])

    # a sidecar that does not take the events (its socket left behind): synth fails, saying how many
    out = ben("synth", "--rate", "20", "--duration", "0.5", "--flush-timeout", "1", "--sidecar", side)
    one_clear_line(out, 1, "not acknowledged by the sidecar", "within 1 s")
    assert '"flushed": false' in out.stdout, out.stdout


@pytest.mark.parametrize("timeout_s", ["1.5", "0.1"])  # 0.1: it gives up before any retry is logged (as a slow try did)
def test_a_clickhouse_store_that_does_not_answer_says_how_long_the_spine_tries(home: Path, timeout_s: str) -> None:
    config = home / "ben.toml"
    config.write_text(f'[spine]\ndata_dir = "{home / "spine"}"\nlisten = "unix://{home / "s.sock"}"\n'
                      f'[spine.store]\nbackend = "clickhouse"\nport = 9\nstart_retry_timeout_s = {timeout_s}\n')
    out = ben("spine", "--config", str(config))
    one_clear_line(out, 2, "127.0.0.1:9")
    assert "spine.store.start_retry_timeout_s" in out.stderr, out.stderr[-2000:]


def test_the_demo_web_interface_moves_off_a_taken_port_without_an_error(home: Path, caplog, capfd) -> None:
    import logging
    import socket

    from ben.web.server import start_beside

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with caplog.at_level(logging.INFO):
            ui = start_beside(f"unix://{home / 'spine.sock'}", port=port)
        try:
            assert ui.port not in (0, port)
        finally:
            ui.shutdown(2.0)
    err = capfd.readouterr().err  # uvicorn logs to stderr through its own handler
    assert "ERROR" not in err and "Errno" not in err, err
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], [r.getMessage() for r in caplog.records]
    assert any(f"port {port} is taken" in r.getMessage() for r in caplog.records)


def test_a_second_ctrl_c_ends_a_synth_stuck_on_a_sidecar_that_is_gone(home: Path) -> None:
    import signal
    import socket

    with socket.socket(socket.AF_UNIX) as stale:  # a socket file nothing listens on: --fast waits for room for ever
        stale.bind(str(home / "sc.sock"))
    proc = subprocess.Popen([sys.executable, "-m", "ben", "synth", "--fast", "--rate", "100000", "--duration", "60",
                             "--sidecar", f"unix://{home / 'sc.sock'}"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "BEN_HOME": str(home)})
    err = ""
    try:
        assert "Ctrl-C stops" in proc.stderr.readline()  # its handlers are in place
        # Two signals that the kernel does not merge into one (two SIGINTs sent at once may be): the first
        # stops it (and it would then wait: for room, or for the flush), the second ends it at once.
        proc.send_signal(signal.SIGINT)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130 and "stopping" in err and "exiting now" in err, (proc.returncode, err)
    assert "Traceback" not in err, err


# A second round (ADR 0033, amendment of 2026-12-06): usage errors were typer's boxed panel of five lines.
# (args, names the one line must hold); {stale} is a unix socket nothing listens on (values are checked first)
USAGE_CASES = [
    (("status", "--bogus"), ("No such option: --bogus", "'ben status --help'")),
    (("query",), ("Missing argument 'SQL'", "'ben query --help'")),
    (("nosuch",), ("No such command 'nosuch'", "'ben --help'")),
    (("emit", "x", "--timeout", "abc"), ("'--timeout'", "not a number", "(got 'abc')")),
    (("emit", "x", "--timeout=abc"), ("'--timeout'", "(got 'abc')")),
    (("emit", "x", "--kind"), ("'--kind' requires an argument", "'ben emit --help'")),
    (("query", "-- my query\nSELECT 1"), ("starts with '-' but is no option", "ben query [OPTIONS] -- '-- my query")),
    (("incidents", "--limit", "0"), ("'--limit'", "must be >= 1", "(got '0')")),
    (("incidents", "--limit", "99999999999999999999"), ("'--limit'", "must be <= 100000")),  # was a ClickHouse error
    (("command", "list", "--limit", "99999999999999999999"), ("'--limit'", "must be <= 100000")),  # was "a bug"
    (("command", "send", "x", "--target", "y", "--reason", "r", "--ttl", "9999999999"),
     ("'--ttl'", "must be <= 31536000")),  # was "command: command: $.expires_at: integer out of int64 range"
    (("spine", "--config", "a.toml", "--config", "b.toml"), ("--config", "given more than once")),  # ran with b alone
    (("query", "SELECT 1", "--spine", "unix:///tmp/a.sock", "--spine", "unix:///tmp/b.sock"),
     ("--spine", "given more than once")),
    (("synth", "--fault-for", "nan", "--duration", "1"), ("--fault-for", "> 0")),  # ran
    (("synth", "--fault-every", "-5", "--fault-start", "0", "--duration", "1"), ("--fault-every", ">= 0")),  # ran
    (("command", "kill-switch", "maybe", "--reason", "r"), ("on|off", "'maybe'")),
    (("acknowledge", "inc-1", "--by", "eve\nforged: line"), ("--by", "operator's name")),  # was sent to the spine
    (("emit", "x", "--subsystem", "a\nb", "--sidecar", "unix://{stale}"), ("--subsystem", "printable")),
    (("synth", "--subsystem", "", "--duration", "1", "--sidecar", "unix://{stale}"), ("--subsystem", "non-empty")),
]


def test_a_usage_error_is_one_line_naming_the_flag_and_the_value(home: Path) -> None:
    import socket

    with socket.socket(socket.AF_UNIX) as stale:
        stale.bind(str(home / "sc.sock"))
    runs = [(tuple(a.format(stale=home / "sc.sock") for a in args), {"BEN_HOME": str(home)}) for args, _ in USAGE_CASES]
    outs = ben_all(runs)
    check_all(USAGE_CASES, outs, 2, lambda case: case[1])
    boxed = [(case, out.stderr) for case, out in zip(USAGE_CASES, outs) if len(out.stderr.strip().splitlines()) != 1]
    assert not boxed, boxed


def test_help_and_a_bare_group_still_show_the_usage(home: Path) -> None:
    runs = [(("--help",), {}), (("emit", "--help"), {}), (("command", "send", "--help"), {}), ((), {}), (("keys",), {}),
            (("--version",), {})]
    top, emit, send, bare, keys, version = ben_all(runs)
    assert top.returncode == 0 and "Usage: ben" in top.stdout and "emit" in top.stdout, top.stderr
    assert emit.returncode == 0 and "--timeout" in emit.stdout and send.returncode == 0 and "--ttl" in send.stdout
    assert bare.returncode == 2 and "Commands" in bare.stdout + bare.stderr and "error" not in bare.stderr
    assert keys.returncode == 2 and "generate" in keys.stdout + keys.stderr
    assert version.returncode == 0 and version.stdout.startswith("ben ")


OTHER_FILES = [
    ('[[keys]]\nname = "alice"\nrole = "operator"\npublic_key = "x"\n', ("a trust store", "[spine.control] trust")),
    ('kill_switch = false\n[actions.throttle_job]\nrate = 1\n', ("a command policy", "[spine.control] policy")),
    ('[[rule]]\nname = "r"\naction = "drop"\n', ("a redaction manifest", "[sidecar] redact_manifest")),
]


def test_another_ben_file_given_as_the_config_says_what_it_is(home: Path) -> None:
    runs = []
    for i, (text, _) in enumerate(OTHER_FILES):  # was "field 'keys': unknown field (check its spelling ...)"
        (home / f"other{i}.toml").write_text(text)
        runs.append((("spine", "--config", str(home / f"other{i}.toml")), {}))
    check_all(list(zip(runs, OTHER_FILES)), ben_all(runs), 2, lambda case: (case[0][0][2], *case[1][1]))


def test_a_tilde_in_a_config_path_is_the_home(home: Path, monkeypatch) -> None:
    from ben.core.config import load_config

    monkeypatch.setenv("HOME", str(home / "me"))
    (home / "etc").mkdir()
    (home / "etc" / "ben.toml").write_text('[spine]\ndata_dir = "~/ben-data"\n[sidecar]\ndata_dir = "rel"\n')
    cfg = load_config(home / "etc" / "ben.toml")
    assert Path(cfg.spine.data_dir) == home / "me" / "ben-data"  # was <config dir>/~/ben-data
    assert Path(cfg.sidecar.data_dir) == home / "etc" / "rel"


def test_a_socket_mode_written_as_a_string_is_octal() -> None:
    from ben.core.config import parse_config

    for text in ("0660", "660", "0o660"):  # was refused: "less than or equal to 511 (got '0660')"
        assert parse_config({"sidecar": {"socket_mode": text}}).sidecar.socket_mode == 0o660


def test_emit_to_a_socket_that_never_answers_is_one_line_and_bounded(home: Path) -> None:
    import socket

    with socket.socket(socket.AF_UNIX) as mute:  # listens, takes the connection, never speaks gRPC
        mute.bind(str(home / "mute.sock"))
        mute.listen(8)
        started = time.monotonic()
        out = ben("emit", "x", "--timeout", "1", "--sidecar", f"unix://{home / 'mute.sock'}")
    assert time.monotonic() - started < 30
    one_clear_line(out, 1, "no acknowledgement from the sidecar at unix://", "within 1 s (--timeout)")
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr  # was followed by the SDK's shutdown warning


def test_a_damaged_store_is_said_damaged_in_one_line(home: Path) -> None:
    cases = [("query", "SELECT 1"), ("incidents",), ("explain", "latest"), ("replay", "--from", "1", "--to", "2")]
    for i in range(len(cases)):  # a chDB store whose database file is junk; one each: the runs go at once, and
        (home / f"bad{i}" / "metadata").mkdir(parents=True)  # one opening a shared store holds its lock
        (home / f"bad{i}" / "metadata" / "ben.sql").write_text("junk")
    runs = [((*args, "--data-dir", str(home / f"bad{i}")), {"BEN_HOME": str(home)}) for i, args in enumerate(cases)]
    outs = ben_all(runs)  # was chDB's lines on stderr, then "... is in use by another process (is a spine running?)"
    check_all(cases, outs, 2, lambda case: ("--data-dir", "a damaged store", "Syntax error (in file metadata/ben.sql)"))
    spilled = [(case, out.stderr) for case, out in zip(cases, outs) if len(out.stderr.strip().splitlines()) != 1]
    assert not spilled, spilled


def test_a_relative_or_tilde_ben_home_is_made_absolute(home: Path) -> None:
    def status(**env: str) -> str:
        return subprocess.run([sys.executable, "-m", "ben", "status"], capture_output=True, text=True, timeout=60,
                              cwd=home, env={**os.environ, "COLUMNS": "300", "HOME": str(home / "me"), **env}).stdout

    # were unix:relhome/spine.sock and unix:~/x/spine.sock: another spine for every directory, or none at all
    assert f"unix://{home}/relhome/spine.sock" in status(BEN_HOME="relhome")
    assert f"unix://{home}/me/x/spine.sock" in status(BEN_HOME="~/x")
    assert f"unix://{home}/rel.sock" in status(BEN_SIDECAR_SOCKET="rel.sock", BEN_HOME=str(home))


def test_incidents_follow_ends_with_one_line_when_the_spine_stops(home: Path) -> None:
    from ben.cli.procs import Proc

    config = home / "ben.toml"
    sock = f"unix://{home / 'spine.sock'}"
    config.write_text(f'[spine]\ndata_dir = "{home / "spine"}"\nlisten = "{sock}"\n')
    spine = Proc(["spine", "--config", str(config)], home / "logs" / "spine.log")
    follow = None
    try:
        spine.wait_ready(sock)
        follow = subprocess.Popen([sys.executable, "-m", "ben", "incidents", "--follow", "--spine", sock],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  env={**os.environ, "BEN_HOME": str(home)})
        assert "following" in follow.stderr.readline()  # its first query was answered
        assert spine.stop() == 0
        out, err = follow.communicate(timeout=60)  # bounded: it does not wait for a spine that is gone
    finally:
        if follow is not None and follow.poll() is None:
            follow.kill()
        spine.stop()
    lines = err.strip().splitlines()
    assert follow.returncode == 1 and "Traceback" not in err, (follow.returncode, err)
    assert lines[-1].startswith("error: ") and "the spine stopped answering while --follow" in lines[-1], err


def test_a_ben_config_given_as_another_file_says_so(home: Path) -> None:
    (home / "ben.toml").write_text('[spine]\nlisten = "unix:///tmp/x.sock"\n')
    (home / "spine.toml").write_text(f'[spine]\ndata_dir = "{home / "spine"}"\nlisten = "unix://{home / "s.sock"}"\n'
                                     '[spine.control]\ntrust = "ben.toml"\n')
    cases = [(("redact", "lint", str(home / "ben.toml")), ("this is a ben config ([spine]), not a redaction manifest",)),
             (("spine", "--config", str(home / "spine.toml")), ("ben.toml", "this is a ben config ([spine]), not a "
                                                                             "trust store"))]
    # were "spine: unknown key 'spine' (check its spelling)" and "field 'spine': unknown field"
    check_all(cases, ben_all([(args, {"BEN_HOME": str(home)}) for args, _ in cases]), 2, lambda case: case[1])


def test_flags_that_exclude_each_other_are_refused(home: Path) -> None:
    spine = f"unix://{home / 's.sock'}"
    cases = [("query", "SELECT 1", "--data-dir", str(home), "--spine", spine),
             ("incidents", "--data-dir", str(home), "--spine", spine),
             ("explain", "latest", "--data-dir", str(home), "--spine", spine),
             ("replay", "--from", "1", "--to", "2", "--data-dir", str(home), "--spine", spine),
             ("audit", "verify", "--spine", spine, "--sidecar", f"unix://{home / 'c.sock'}")]
    # were: --spine ignored in silence (the stopped store was read), --spine ignored for --sidecar
    check_all(cases, ben_all([(args, {"BEN_HOME": str(home)}) for args in cases]), 2,
              lambda args: ("--spine and --sidecar" if "--sidecar" in args else "--data-dir and --spine",
                            "pass one of them"))
