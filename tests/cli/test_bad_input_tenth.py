"""Round 10 of a new user giving bad input on purpose (ADR 0033): two copies of a command at once, a home that is
no directory, times in the wrong unit, public keys given as paths that are no file. In-process (``ben.cli.main``
or the command's own function): no peer is reached."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import typer

import ben.control.keys as control_keys
import ben.core.certs as certs
from ben.cli import keys as cli_keys
from ben.cli import main
from ben.core import dirlock
from ben.core.errors import ConfigError

PUBKEY = "A" * 43 + "="  # 32 zero bytes, base64: a well-formed Ed25519 public key text


def ben(monkeypatch, capsys, home: Path, *args: str, env: dict | None = None) -> tuple[int, str, list[str]]:
    """``ben ARGS`` in this process: exit code, stdout, the lines of stderr."""
    monkeypatch.setenv("BEN_HOME", str(home))
    monkeypatch.setenv("COLUMNS", "200")
    for name, value in (env or {}).items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys, "argv", ["ben", *args])
    with pytest.raises(SystemExit) as exited:
        main()
    out = capsys.readouterr()
    return exited.value.code, out.out, out.err.strip().splitlines()


def _second_copy_inside(monkeypatch, module, name: str, when, second) -> list:
    """Run ``second()`` once, inside the first command, at the moment ``module.name`` is first called with
    arguments ``when`` accepts: the second copy of a command that starts while the first is between its read and
    its write. Returns [outcome of the second]: its result, or the error it was refused with."""
    real, outcome = getattr(module, name), []

    def hooked(*args, **kwargs):
        if not outcome and when(*args):
            outcome.append(None)
            try:
                outcome[0] = ("done", second())
            except (ConfigError, typer.Exit) as exc:
                outcome[0] = ("refused", exc)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, hooked)
    monkeypatch.setattr(dirlock, "WAIT_S", 0.05)  # the second copy waits this long for the first, then is refused
    return outcome


def test_two_keys_trust_at_once_lose_no_pin_they_said_they_made(monkeypatch, home: Path) -> None:
    """Two `ben keys trust` at once (a script pinning its sidecars in parallel): both said "pinned sidecar …" and
    the trust store kept one of the two pins (8 in parallel kept 6 or 7): the second read the store before the
    first wrote it back. One at a time now: a pin said made is in the store, or the command said it was not."""
    trust = home / "trust.toml"
    trust.write_text(f'[[sidecars]]\nid = "sc-0"\npublic_key = "{PUBKEY}"\n')
    import ben.control.trust_store as trust_store

    store = trust_store.TrustStore
    second = _second_copy_inside(
        monkeypatch, store, "load", lambda path: str(path).endswith(".tmp"),  # the new store, written, not renamed in
        lambda: cli_keys.trust(sidecar="sc-b", public_key=PUBKEY, trust_file=trust))
    monkeypatch.setattr(store, "load", staticmethod(store.load))
    cli_keys.trust(sidecar="sc-a", public_key=PUBKEY, trust_file=trust)
    pinned = set(trust_store.TrustStore.load(trust).sidecars)
    assert second and "sc-a" in pinned, (second, pinned)
    if second[0][0] == "done":
        assert "sc-b" in pinned, f"the second `ben keys trust` said it pinned sc-b, the store has {sorted(pinned)}"
    else:
        assert "another process" in str(second[0][1]) and "nothing was written" in str(second[0][1]), second


def test_two_keys_generate_at_once_leave_the_pair_each_one_printed(monkeypatch, home: Path) -> None:
    """Two `ben keys generate alice` at once both printed a key id and a trust entry; alice.pub then held one key
    and alice.key the other (every command it signed refused as signed by an unknown key)."""
    keys = home / "keys"
    second = _second_copy_inside(monkeypatch, control_keys, "write_atomic", lambda path, *_: path.suffix == ".pub",
                                 lambda: control_keys.generate(keys, "alice"))
    first = control_keys.generate(keys, "alice")
    signers = [first] + ([second[0][1]] if second and second[0][0] == "done" else [])
    on_disk = control_keys.load_signer(keys / "alice.key")
    assert (keys / "alice.pub").read_text().strip() == on_disk.public_text, "alice.key and alice.pub are two keys"
    assert all(s.public_text == on_disk.public_text for s in signers), \
        "a `ben keys generate` printed a key that is not the one on disk"
    assert second and (second[0][0] == "done" or "exists" in str(second[0][1])
                       or "another process" in str(second[0][1])), second


def test_two_certs_init_at_once_make_one_ca(monkeypatch, home: Path) -> None:
    """Two `ben certs init` at once could both say they made the CA, ca.key of one and ca.crt of the other."""
    ca_dir = home / "certs"
    second = _second_copy_inside(monkeypatch, certs, "write_atomic", lambda path, *_: path.name == "ca.key",
                                 lambda: certs.init_ca(ca_dir))
    certs.init_ca(ca_dir)
    assert second and second[0][0] == "refused", f"both made the CA: {second}"
    certs.issue(ca_dir, "sc-1")  # refuses a ca.crt and ca.key that are no pair (round 9)


def test_a_public_key_path_that_is_no_file_says_so_not_that_the_path_is_no_key(monkeypatch, capsys, home: Path) -> None:
    """`ben keys trust --sidecar ID PUBKEY` with a path that has a typo, or names a directory, a FIFO or a link to
    /dev/zero: the path was read as the key's base64 text, "not an Ed25519 public key (expected 32 bytes, base64)"."""
    import os

    fifo, device, directory = home / "fifo.pub", home / "zero.pub", home / "dir.pub"
    os.mkfifo(fifo)
    device.symlink_to("/dev/zero")
    directory.mkdir()
    trust = str(home / "trust.toml")
    for given, said in ((str(home / "no" / "sidecar.pub"), "no such file"), (str(fifo), "a FIFO"),
                        (str(device), "a character device"), (str(directory), "a directory"),
                        ("sidecar.pub", "no such file")):
        code, _, err = ben(monkeypatch, capsys, home, "keys", "trust", "--sidecar", "sc1", "--trust", trust, given)
        assert code == 2 and len(err) == 1 and "PUBKEY" in err[0] and given in err[0] and said in err[0], (given, err)
    assert not (home / "trust.toml").exists()
    code, out, err = ben(monkeypatch, capsys, home, "keys", "trust", "--sidecar", "sc1", "--trust", trust, PUBKEY)
    assert code == 0 and "pinned sidecar sc1" in out, err


@pytest.mark.parametrize("given", ["", "rel", "/tmp/a\nb"])
def test_an_empty_or_relative_home_is_named_not_made_the_root_or_the_current_directory(
        monkeypatch, capsys, home: Path, given: str) -> None:
    """With $BEN_HOME unset, ben's defaults are under ~/.local/state/ben. `HOME=` (an empty HOME, what `env HOME=`
    or a unit file's `Environment=HOME=` gives) put them under /.local/state/ben: `ben keys generate alice` wrote
    the private key there; `HOME=rel` made every socket and data directory relative to the directory each command
    ran in ("unix:rel/.local/state/ben/spine.sock"), so a spine and a `ben status` never met."""
    from ben.core.config import load_config
    from ben.sdk import Client

    monkeypatch.chdir(home)  # where a relative home would have been written (the code before: rel/.local/...)
    unset = {"BEN_HOME": None, "BEN_SIDECAR_SOCKET": None, "HOME": given}
    for args in (("status",), ("keys", "generate", "alice"), ("query", "SELECT 1"), ("emit", "deploy")):
        code, _, err = ben(monkeypatch, capsys, home, *args, env=unset)
        assert code == 2 and len(err) == 1 and "$HOME" in err[0] and "BEN_HOME" in err[0], (args, err)
    assert not (home / "rel").exists() and sorted(p.name for p in home.iterdir()) == []
    with pytest.raises(ConfigError, match=r"\$HOME"):
        Client("checkout-api")
    (home / "ben.toml").write_text('[spine]\ndata_dir = "~/ben-data"\n')
    with pytest.raises(ConfigError, match=r"\$HOME"):  # "~/ben-data" was /ben-data
        load_config(home / "ben.toml")
    # $BEN_HOME set: the home is not needed, and not read
    code, _, err = ben(monkeypatch, capsys, home, "keys", "generate", "alice", env={"HOME": given})
    assert code == 0 and (home / "keys" / "alice.key").is_file(), err


def test_a_data_directory_that_cannot_be_made_says_so_not_that_it_cannot_be_made_private() -> None:
    """As `nobody` (home /nonexistent), `ben spine` said "cannot make /nonexistent private: Permission denied" of a
    directory it had failed to create."""
    from ben.core.files import private_dir

    with pytest.raises(ConfigError) as refused:
        private_dir(Path("/proc/ben-no-such-dir/spine"), "spine.data_dir")
    assert "cannot create /proc/ben-no-such-dir/spine" in str(refused.value) and "private" not in str(refused.value)
    assert "spine.data_dir" in str(refused.value)


def test_replay_times_in_seconds_or_milliseconds_are_named_not_read_as_nanoseconds(monkeypatch, capsys,
                                                                                 home: Path) -> None:
    """`ben replay --from $(date +%s -d '1 hour ago') --to $(date +%s)` (epoch seconds, what `ben baseline export
    --from` takes) replayed the first seconds of 1970: "replay: points=0 anomalies=0 incidents=0", exit 0."""
    for start, end, unit in (("1767225600", "1767229200", "seconds"), ("1767225600000", "1767229200000",
                                                                       "milliseconds"),
                             ("1767225600000000", "1767229200000000", "microseconds")):
        code, _, err = ben(monkeypatch, capsys, home, "replay", "--from", start, "--to", end)
        assert code == 2 and len(err) == 1 and "--from" in err[0] and f"unix {unit}" in err[0], err
        assert "1767225600000000000" in err[0] and "2026-01-01T00:00:00" in err[0], err
    # nanoseconds and ISO times are read as before (nothing answers at the spine this test never started)
    for start in ("1767225600000000000", "2026-01-01T00:00"):
        code, _, err = ben(monkeypatch, capsys, home, "replay", "--from", start, "--to", "2026-01-01T01:00")
        assert code == 2 and "nothing answers" in err[-1], err


def test_a_spine_that_stops_during_a_query_is_said_to_have_stopped(home: Path) -> None:
    """`ben query` while the spine stopped (a restart): "error: unix:///…/spine.sock: UNAVAILABLE: Cancelling all
    calls", gRPC's words. A real gRPC server on a unix socket, stopped while the call waits in it."""
    import threading
    from concurrent import futures

    import grpc

    from ben.core.admin import run_query
    from ben.core.errors import QueryError
    from ben.v1 import admin_pb2_grpc as pb_grpc

    entered, release = threading.Event(), threading.Event()

    class Admin(pb_grpc.AdminServicer):
        def Query(self, request, context):
            entered.set()
            release.wait(60)
            context.abort(grpc.StatusCode.UNAVAILABLE, "Cancelling all calls")

    server = grpc.server(futures.ThreadPoolExecutor(2))
    pb_grpc.add_AdminServicer_to_server(Admin(), server)
    address = f"unix://{home}/spine.sock"
    server.add_insecure_port(address)
    server.start()
    try:
        caught: list = []
        call = threading.Thread(target=lambda: caught.append(_raised(lambda: run_query(address, "SELECT 1"))))
        call.start()
        assert entered.wait(30), "the query never reached the server"
        release.set()  # what a spine's shutdown answers the calls it cancels
        call.join(30)
    finally:
        server.stop(None)
    assert caught and isinstance(caught[0], QueryError), caught
    said = str(caught[0])
    assert "stopped answering while it ran" in said and address in said and "run it again" in said, said


def _raised(call):
    try:
        call()
    except Exception as exc:  # the error under test
        return exc
    return None


def test_a_key_written_above_every_table_names_the_tables_it_belongs_in(home: Path) -> None:
    """`listen = "…"` above `[spine]` (TOML puts it at the top level) said "unknown field (check its spelling and its
    [table])": the spelling was right, and no table was named."""
    from ben.core.config import load_config

    for text, places in (('listen = "127.0.0.1:7070"\n[spine]\n', "sidecar.listen, spine.listen"),
                         ("retention_days = 3\n", "spine.store.retention_days")):
        (home / "ben.toml").write_text(text)
        with pytest.raises(ConfigError) as refused:
            load_config(home / "ben.toml")
        said = str(refused.value)
        assert "top level" in said and places in said and "ben.toml" in said, said
    (home / "ben.toml").write_text("lisen = 1\n")  # no table has it: as before
    with pytest.raises(ConfigError, match=r"unknown field \(check its spelling"):
        load_config(home / "ben.toml")


@pytest.mark.parametrize("mark", ["99999:1", "99999999999999999999999:1", "0:1", "x:y", ""])
def test_a_stop_with_parent_mark_ben_did_not_write_is_ignored_not_a_traceback(monkeypatch, capsys, home: Path,
                                                                               mark: str) -> None:
    """$BEN_STOP_WITH_PARENT (set by `ben demo` for its children) of a signal number no signal has, or numbers past
    a C int, was an OSError / ctypes OverflowError traceback before any command ran."""
    from ben import __version__

    code, out, err = ben(monkeypatch, capsys, home, "--version", env={"BEN_STOP_WITH_PARENT": mark})
    assert code == 0 and out.strip() == f"ben {__version__}" and not err, (code, out, err)


def test_federation_status_names_a_data_dir_that_is_none_and_refuses_two_places(monkeypatch, capsys,
                                                                                home: Path) -> None:
    """`ben federation status --data-dir /nonexistent` asked "is [spine.federation] enabled and the spine running?"
    of a directory that is not there; with `--config` too, the config was ignored in silence."""
    (home / "ben.toml").write_text("[spine]\n")
    for args, said in ((("--data-dir", str(home / "nope")), "not a directory"),
                       (("--data-dir", str(home), "--config", str(home / "ben.toml")), "pass one of them")):
        code, _, err = ben(monkeypatch, capsys, home, "federation", "status", *args)
        assert code == 2 and len(err) == 1 and "--data-dir" in err[0] and said in err[0], err


def test_an_address_given_as_a_url_is_refused_naming_it(monkeypatch, capsys, home: Path) -> None:
    """`Client(sidecar="http://127.0.0.1:4318")` (the OTLP/HTTP URL), `ben status --spine http://…:7070`, `[sidecar]
    spine = "http://…"`: taken as the host "http://127.0.0.1", then gRPC's "errors resolving …: Misformatted domain
    name" at every call (the SDK: a warning after each flush, every event held)."""
    from ben.core.address import check_address
    from ben.core.config import parse_config
    from ben.sdk import Client

    for url in ("http://127.0.0.1:4318", "https://spine.example:7070", "grpc://h:1", "tcp://10.0.0.1:7070"):
        with pytest.raises(ValueError, match="is a URL"):
            check_address(url)
    assert check_address("unix:///run/ben/spine.sock") == "unix:///run/ben/spine.sock"
    assert check_address("spine.example:7070") == "spine.example:7070"
    with pytest.raises(ConfigError, match=r"'sidecar'.*is a URL"):
        Client("checkout-api", sidecar="http://127.0.0.1:4318")
    with pytest.raises(ConfigError, match=r"sidecar\.spine.*is a URL"):
        parse_config({"sidecar": {"spine": "http://spine.example:7070"}})
    for args in (("status", "--spine", "http://127.0.0.1:7070"), ("emit", "x", "--sidecar", "https://localhost:4317")):
        code, _, err = ben(monkeypatch, capsys, home, *args)
        assert code == 2 and len(err) == 1 and args[-2] in err[0] and "is a URL" in err[0], (args, err)


@pytest.mark.parametrize("value, shown", [("0", False), ("", False), ("1", True)])
def test_ben_traceback_0_shows_no_traceback(monkeypatch, capsys, home: Path, value: str, shown: bool) -> None:
    """`BEN_TRACEBACK=0` (to turn it off) showed the traceback: any value that was not empty turned it on."""
    import ben.core.address as address

    def broken(value: str) -> str:
        raise RuntimeError("probe")

    monkeypatch.setattr(address, "check_address", broken)
    if shown:
        monkeypatch.setenv("BEN_TRACEBACK", value)
        monkeypatch.setenv("BEN_HOME", str(home))
        monkeypatch.setattr(sys, "argv", ["ben", "status", "--spine", "unix:///x.sock"])
        with pytest.raises(RuntimeError, match="probe"):
            main()
        return
    code, _, err = ben(monkeypatch, capsys, home, "status", "--spine", "unix:///x.sock", env={"BEN_TRACEBACK": value})
    assert code == 1 and err == ["error: unexpected RuntimeError: probe (a bug in ben; BEN_TRACEBACK=1 shows where)"], err


def test_a_ctrl_c_while_keys_trust_writes_leaves_the_store_as_it_was_and_nothing_beside_it(monkeypatch,
                                                                                          home: Path) -> None:
    """Ctrl-C while `ben keys trust` synced its new store left `.trust.toml.XXXX.tmp` beside it (only an OSError
    removed it)."""
    import os

    trust = home / "trust.toml"
    trust.write_text(f'[[sidecars]]\nid = "sc-0"\npublic_key = "{PUBKEY}"\n')
    before = trust.read_bytes()

    def interrupted(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        cli_keys.trust(sidecar="sc-1", public_key=PUBKEY, trust_file=trust)
    monkeypatch.undo()
    assert trust.read_bytes() == before and sorted(p.name for p in home.iterdir()) == ["trust.toml"]


def test_a_component_that_fails_to_start_is_not_taken_for_another_one_at_its_address(home: Path) -> None:
    """`ben demo --data-dir DIR` with DIR's sidecar running (the user's own `ben sidecar`, BEN_HOME=DIR): the demo's
    sidecar exited at once ("WAL … is in use by another process"), but the user's sidecar answered at the same
    socket, so the demo took its sidecar for started and ran on with the user's. Real sidecar processes."""
    from ben.cli.procs import Cluster, Proc
    from ben.core.errors import BenError

    cluster = Cluster(home)  # the user's: a sidecar (no spine: it waits for one, as it does)
    cluster.start_sidecar()
    try:
        second = Proc(["sidecar", "--config", str(cluster.config)], home / "logs" / "sidecar.log")
        with pytest.raises(BenError) as failed:
            second.wait_ready(cluster.sidecar_addr, timeout=60)
        assert "exited with 2" in str(failed.value) and "in use by another process" in str(failed.value), failed.value
        assert cluster.sidecar.alive()
    finally:
        cluster.stop()


def test_a_quoted_tilde_in_ben_key_and_the_tls_variables_is_the_home(monkeypatch, capsys, home: Path) -> None:
    """`BEN_KEY="~/keys/alice.key"` (quoted, as in a unit or .env file, where no shell expands it), or `--key
    '~/…'`: "in ~/keys/alice.key: key file not found" of a key that is there; the same for `BEN_TLS_CERT|KEY|CA`.
    `$BEN_HOME` and `$BEN_SIDECAR_SOCKET` already read `~` as the home (round 2)."""
    import ben.core.transport as transport

    control_keys.generate(home / "keys", "alice")
    spine = f"unix://{home}/no-spine.sock"
    monkeypatch.setenv("HOME", str(home))
    for args, env in ((("--key", "~/keys/alice.key"), {}), ((), {"BEN_KEY": "~/keys/alice.key"})):
        code, _, err = ben(monkeypatch, capsys, home, "command", "kill-switch", "on", "--reason", "r", "--spine",
                           spine, *args, env=env)
        assert code == 2 and "nothing answers" in err[-1] and "not found" not in err[-1], err  # the key was read
    for name in ("BEN_TLS_CERT", "BEN_TLS_KEY", "BEN_TLS_CA"):
        monkeypatch.setenv(name, f"~/certs/{name.lower()}.pem")
    monkeypatch.setattr(transport, "_client_tls", None)
    tls = transport.client_tls()
    assert tls is not None and tls.cert == home / "certs" / "ben_tls_cert.pem" and tls.ca == home / "certs" / \
        "ben_tls_ca.pem", tls


def test_a_tilde_after_an_equals_sign_is_the_home_not_a_directory_named_tilde(monkeypatch, capsys,
                                                                            home: Path) -> None:
    """`ben keys generate alice --dir=~/keys`: no shell expands a `~` after `=` (nor a quoted one); ben made a
    directory named `~` in the current one, wrote the private key in it and printed "private key: ~/keys/alice.key"
    (a later `rm -rf ~` to tidy it up is another matter)."""
    cwd = home / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("HOME", str(home))
    code, out, err = ben(monkeypatch, capsys, home, "keys", "generate", "alice", "--dir=~/keys")
    assert code == 0 and (home / "keys" / "alice.key").is_file() and f"{home}/keys/alice.key" in out, (out, err)
    code, out, err = ben(monkeypatch, capsys, home, "certs", "init", "--dir", "~/certs")
    assert code == 0 and (home / "certs" / "ca.key").is_file(), err
    code, _, err = ben(monkeypatch, capsys, home, "incidents", "--data-dir=~/no-store")  # a group's own option
    assert code == 2 and f"--data-dir {home}/no-store" in err[-1], err
    assert list(cwd.iterdir()) == []
