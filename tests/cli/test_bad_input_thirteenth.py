"""Round 13 of a new user giving bad input on purpose (ADR 0033): every key of the config file given a wrong value,
ben's environment variables set to nonsense. Real ``ben`` processes where a component would otherwise start."""

from __future__ import annotations

import os
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

from tests.cli.test_bad_input import ben as ben_process
from tests.cli.test_bad_input import one_clear_line


def _path_keys(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> typing.Iterator[tuple[str, ...]]:
    """Every key of the config whose value is a path, dotted as the file writes it (lists of tables aside)."""
    for name, field in model.model_fields.items():
        kinds = [field.annotation, *typing.get_args(field.annotation)]
        table = next((k for k in kinds if isinstance(k, type) and issubclass(k, BaseModel)), None)
        if table is not None and typing.get_origin(field.annotation) is not list:
            yield from _path_keys(table, (*prefix, name))
        elif Path in kinds:
            yield (*prefix, name)


def _config_text(key: tuple[str, ...], value: str) -> str:
    """A config setting ``key`` to ``value`` (a TOML string), with what the key needs beside it to be valid."""
    *tables, name = key
    partner = {"tls_cert_file": "tls_key_file", "tls_key_file": "tls_cert_file"}
    lines = [f"[{'.'.join(tables)}]", f"{name} = {value}"]
    if tables[-1] == "otlp" and name.startswith("tls_"):  # the OTLP TLS files go together
        lines += [f'{partner.get(name, "tls_cert_file")} = "x.pem"'] + (['tls_key_file = "x.key"']
                                                                        if name == "tls_client_ca_file" else [])
    return "\n".join(lines) + "\n"


def test_every_path_of_a_config_file_is_taken_from_the_file_s_directory_and_none_may_be_empty(tmp_path: Path) -> None:
    """``[spine.control] audit_key_file = "audit.key"`` was read from the directory ben was started in, not the config
    file's (as every other path of the file, and the module's docstring, say): the spine started from / said "in
    audit.key: key file not found" of a key beside its config; ``audit_key_file = ""`` was the current directory
    ("cannot read key file: [Errno 21] Is a directory: '.'"). Every path key of every table, checked by walking the
    config's model, so that the next key added is not left out again."""
    from ben.core.config import BenConfig, load_config
    from ben.core.errors import ConfigError

    config = tmp_path / "conf" / "ben.toml"
    config.parent.mkdir()
    keys = list(_path_keys(BenConfig))
    assert ("spine", "control", "audit_key_file") in keys and len(keys) > 30, keys
    wrong, empty_taken = [], []
    for key in keys:
        config.write_text(_config_text(key, '"rel/x.pem"'))
        value: typing.Any = load_config(config)
        for part in key:
            value = getattr(value, part)
        if Path(value) != config.parent / "rel" / "x.pem":
            wrong.append(f"{'.'.join(key)} = {value}")
        config.write_text(_config_text(key, '""'))
        try:
            load_config(config)
            empty_taken.append(".".join(key))
        except ConfigError as exc:
            if exc.field != ".".join(key) or "empty path" not in str(exc):
                empty_taken.append(f"{'.'.join(key)}: {exc}")
    assert not wrong, f"paths not taken from the config file's directory: {wrong}"
    assert not empty_taken, f"an empty path taken, or refused without naming its key: {empty_taken}"


def test_a_control_file_that_cannot_be_used_names_its_config_key(home: Path) -> None:
    """``[sidecar.control] key`` and ``audit_key_file`` said the same line of a bad file ("in /etc/ben/x: key file not
    found") without the key that named it; a directory given as a key was "[Errno 21] Is a directory". The start
    now refuses naming the file, the config key and what it expected (a real sidecar, from another directory than
    its config's)."""
    conf = home / "conf"
    conf.mkdir()
    (conf / "audit.key").write_text("not a key\n")
    (conf / "audit.key").chmod(0o600)
    (conf / "keys").mkdir()
    config = conf / "ben.toml"
    base = f'[sidecar]\ndata_dir = "{home}/sc"\nlisten = "unix://{home}/sc.sock"\nspine = "unix://{home}/sp.sock"\n'
    cases = [('audit_key_file = "audit.key"', "sidecar.control.audit_key_file", str(conf / "audit.key"),
              "not a PEM private key"),
             ('key = "keys"', "sidecar.control.key", str(conf / "keys"), "a directory, not a key file"),
             ('trust = "missing.toml"', "sidecar.control.trust", str(conf / "missing.toml"), "not found")]
    for line, *names in cases:
        config.write_text(base + "[sidecar.otlp]\ngrpc_listen = \"\"\nhttp_listen = \"\"\n[sidecar.control]\n"
                          + line + "\n")
        out = ben_process("sidecar", "-c", str(config), env={"BEN_HOME": str(home)}, timeout=60)
        one_clear_line(out, 2, *names)
    assert not (home / "sc.sock").exists()


def test_a_socket_mode_that_shuts_out_its_own_owner_is_refused(home: Path) -> None:
    """``socket_mode = 0`` (or ``0o400``, ``"0060"``) was taken: the sidecar said "ready" on a socket only root could
    connect to, and every SDK and ``ben status`` of the account it ran as got "Permission denied" (connecting to a
    unix socket needs write permission). Refused at start, naming the key."""
    config = home / "ben.toml"
    for mode in ("0", "0o400", '"0060"'):
        config.write_text(f'[sidecar]\ndata_dir = "{home}/sc"\nlisten = "unix://{home}/sc.sock"\n'
                          f'socket_mode = {mode}\n[sidecar.otlp]\ngrpc_listen = ""\nhttp_listen = ""\n')
        out = ben_process("sidecar", "-c", str(config), env={"BEN_HOME": str(home)}, timeout=30)
        one_clear_line(out, 2, str(config), "sidecar.socket_mode", "write permission")
    assert not (home / "sc.sock").exists()


def test_ben_home_naming_a_file_is_refused_not_searched_for_sockets(home: Path) -> None:
    """``BEN_HOME=/etc/ben/ben.toml`` (the config file where the directory goes) was taken: ``ben status`` said
    "nothing answers at unix:///etc/ben/ben.toml/spine.sock (is it running?)" of a spine that was running; ``ben
    spine`` would have made its data under it. One line naming ``$BEN_HOME`` and what it names."""
    config = home / "ben.toml"
    config.write_text("[spine]\n")
    for args in (("status",), ("query", "SELECT 1")):
        out = ben_process(*args, env={"BEN_HOME": str(config)})
        one_clear_line(out, 2, "$BEN_HOME", str(config), "not a directory")


def test_ben_sidecar_socket_of_no_path_or_a_url_is_refused(home: Path) -> None:
    """``BEN_SIDECAR_SOCKET=unix:`` (or ``unix://``, a variable left half-written) was the current directory ("no
    socket, a directory: /home/me"); ``=tcp://host:4317`` the relative path ``tcp:/host:4317``. Each is one line
    naming the variable."""
    for value, said in (("unix:", "no path"), ("unix://", "no path"), ("tcp://127.0.0.1:7777", "is a URL")):
        out = ben_process("emit", "x", "--timeout", "2", env={"BEN_HOME": str(home), "BEN_SIDECAR_SOCKET": value},
                          timeout=30)
        one_clear_line(out, 2, "$BEN_SIDECAR_SOCKET", said)


@pytest.mark.parametrize("text, field", [
    ("[web]\nlocal_uids = [-1]\n", "web.local_uids.0"),
    ("[web]\nlocal_uids = [1099511627776]\n", "web.local_uids.0"),
    ('[[spine.operators]]\nname = "alice"\nuids = [-1000]\n', "spine.operators.0.uids.0"),
    ("[cortex]\nchange_threshold = inf\n", "cortex.change_threshold"),
])
def test_a_uid_no_account_can_have_or_an_infinite_threshold_is_refused(tmp_path: Path, text: str, field: str) -> None:
    """``local_uids = [-1]`` (or 2**40, a uid the kernel never names) was taken, serving nobody it named; so were an
    operator's; ``change_threshold = inf`` turned the cortex's change detection off without a word (0 of
    ``change_drop`` is the documented off)."""
    from ben.core.config import load_config
    from ben.core.errors import ConfigError

    config = tmp_path / "ben.toml"
    config.write_text(text)
    with pytest.raises(ConfigError) as refused:
        load_config(config)
    assert refused.value.field == field and str(config) in str(refused.value), refused.value


def test_is_acked_of_what_a_refused_emit_returned_says_so(home: Path) -> None:
    """In a notebook, ``seq = client.gauge("p99", "12 ms")`` (refused: the emit returns None, counted) and then
    ``client.is_acked(seq)`` was "TypeError: '<=' not supported between instances of 'NoneType' and 'int'", naming
    neither the argument nor why it was None (and a loop waiting for it could not end). It raises naming ``seq``
    and the refusal; a string is said not to be a sequence number; an int is answered as before."""
    from ben.core.errors import InvalidEventError
    from ben.sdk import Client

    client = Client("api", sidecar=f"unix://{home}/no-sidecar.sock")
    try:
        seq = client.gauge("p99", "12 ms")  # type: ignore[arg-type]
        assert seq is None
        with pytest.raises(InvalidEventError) as refused:
            client.is_acked(seq)  # type: ignore[arg-type]
        assert refused.value.field == "seq" and "refused" in str(refused.value) and "'value'" in str(refused.value)
        with pytest.raises(InvalidEventError, match="not a sequence number"):
            client.is_acked("1")  # type: ignore[arg-type]
        assert client.is_acked(0) and not client.is_acked(1)
    finally:
        client.shutdown(0.1)


def test_a_component_s_tcp_port_another_process_holds_is_said_in_one_line(home: Path) -> None:
    """The README's ``ben sidecar`` (or ``ben spine``) started on a TCP ``listen`` that another process already held
    (a sidecar started twice, another program) printed gRPC's own "E1207 ... add_port.cc:83] Failed to add port to
    server ..." line, then "cannot listen on 127.0.0.1:17071: Failed to bind to address 127.0.0.1:17071; set
    GRPC_VERBOSITY=debug environment variable to see detailed error message": the reason only in gRPC's line. As the
    OTLP listeners already did: one line of ben's, with the reason, before gRPC binds."""
    import socket

    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        config = home / "ben.toml"
        config.write_text(f'[sidecar]\ndata_dir = "sc"\nlisten = "127.0.0.1:{port}"\ninsecure = true\n'
                          '[sidecar.otlp]\ngrpc_listen = ""\nhttp_listen = ""\n')
        out = ben_process("sidecar", "-c", str(config), env={"BEN_HOME": str(home)}, timeout=60)
    line = one_clear_line(out, 2, "sidecar.listen", f"127.0.0.1:{port}", "Address already in use")
    assert "GRPC_VERBOSITY" not in out.stderr and "add_port" not in out.stderr, out.stderr
    assert line.startswith("error: field 'sidecar.listen'")


def test_a_data_directory_of_another_account_is_called_a_directory(tmp_path: Path, monkeypatch) -> None:
    """``data_dir`` naming a directory another account owns was refused as "/srv/ben: the symlink belongs to uid
    65534": there was no symlink. The directory is called a directory; a symlink standing for it, a symlink."""
    from ben.core.errors import ConfigError
    from ben.core.files import own_dir

    (tmp_path / "data").mkdir(mode=0o700)
    (tmp_path / "link").symlink_to(tmp_path / "data")
    monkeypatch.setattr(os, "geteuid", lambda: os.getuid() + 1)  # the directory is now another account's
    with pytest.raises(ConfigError, match="the directory belongs to uid") as refused:
        own_dir(tmp_path / "data", "sidecar.data_dir")
    assert "symlink" not in str(refused.value) and refused.value.field == "sidecar.data_dir"
    with pytest.raises(ConfigError, match="the symlink belongs to uid"):
        own_dir(tmp_path / "link", "sidecar.data_dir")


def test_an_integer_past_64_bits_is_refused_at_start_not_at_every_batch(home: Path) -> None:
    """``wal_max_bytes = 1000000000000000000000000000000`` ("no limit", written large) was taken: the sidecar said
    "ready", then every acknowledgement failed to encode its credit (a uint64): "Value out of range" with a traceback
    in its log for every batch, and `ben emit` "no acknowledgement … UNKNOWN: Unexpected <class 'ValueError'>": **no
    event taken**. TOML's integers are 64-bit; a larger one is refused at start naming the key (the largest, 2**63-1,
    starts and takes events: checked by hand, ADR 0033 round 13)."""
    config = home / "ben.toml"
    config.write_text(f'[sidecar]\ndata_dir = "{home}/sc"\nlisten = "unix://{home}/sc.sock"\n'
                      'wal_max_bytes = 1000000000000000000000000000000\n'
                      '[sidecar.otlp]\ngrpc_listen = ""\nhttp_listen = ""\n')
    out = ben_process("sidecar", "-c", str(config), env={"BEN_HOME": str(home)}, timeout=30)
    one_clear_line(out, 2, str(config), "sidecar.wal_max_bytes", "64-bit")
    assert not (home / "sc.sock").exists()


def test_ben_key_of_nonsense_is_named_as_the_variable_it_came_from(home: Path) -> None:
    """``ben command send`` with ``BEN_KEY`` set to a blank said "error: in  : key file not found"; to a path with a
    newline, an error line cut in two; to a path that is no key, "in /x: key file not found", naming neither
    ``$BEN_KEY`` nor ``--key``, so a user who had forgotten the variable in their environment looked for the flag.
    Each is one line naming where the key came from (no spine is asked: the key is read first)."""
    send = ("command", "send", "throttle_job", "--target", "api", "--reason", "a test", "--param", "job=x",
            "--param", "rate_per_s=1", "--spine", f"unix://{home}/no-spine.sock")
    for value, said in ((" ", "an empty path"), ("a\nb", "control character"), (str(home / "none.key"), "not found"),
                        ("/etc/passwd", "not a PEM private key")):
        out = ben_process(*send, env={"BEN_HOME": str(home), "BEN_KEY": value})
        one_clear_line(out, 2, "$BEN_KEY", said)
    out = ben_process(*send, "--key", str(home / "none.key"), env={"BEN_HOME": str(home), "BEN_KEY": ""})
    one_clear_line(out, 2, "--key", str(home / "none.key"), "not found")


@pytest.mark.parametrize("text, said", [
    ("[otlp]\ngrpc_listen = \"\"\n", "write it as [sidecar.otlp]"),
    ("[federation]\nenabled = true\n", "write it as [spine.federation]"),
    ("[tls]\ncert = \"a.pem\"\n", "write it as [sidecar.tls] or [spine.tls] or [web.tls]"),
    ("[spine.otlp]\nhttp_listen = \"\"\n", "write it as [sidecar.otlp]"),
    ("[sidecar.detect]\nbucket_ms = 5\n", "write it as [spine.detect]"),
    ("[web.cortex]\nalpha = 1.0\n", "write it as [cortex]"),
])
def test_a_table_written_in_the_wrong_place_names_where_it_goes(tmp_path: Path, text: str, said: str) -> None:
    """``[otlp]`` (the README's OTLP table without its component) was "a key at the top level (above every [table]):
    write it under its table's header (sidecar.otlp)" — it was a table, written as one; ``[spine.otlp]``,
    ``[sidecar.detect]`` and ``[web.cortex]`` were only "unknown field (check its spelling and its [table])", the
    spelling being right. Each names the table it is."""
    from ben.core.config import load_config
    from ben.core.errors import ConfigError

    config = tmp_path / "ben.toml"
    config.write_text(text)
    with pytest.raises(ConfigError) as refused:
        load_config(config)
    assert said in str(refused.value) and str(config) in str(refused.value), refused.value


def test_a_web_token_env_that_names_no_variable_is_refused_in_one_line(home: Path) -> None:
    """``[web] token_env = "a\\nb"`` (a name pasted with its newline) cut the error line in two ("…variable a" and
    "b (named by web.token_env) is empty or unset"); a blank was "the environment variable   (named by …)". Refused
    as no name of a variable, naming the file and the key, before the token is looked for."""
    config = home / "ben.toml"
    for value in ('"a\\nb"', '" "', '"1X"'):
        config.write_text(f'[web]\nlisten_host = "0.0.0.0"\nlisten_port = 0\ntoken_env = {value}\n')
        out = ben_process("web", "-c", str(config), env={"BEN_HOME": str(home)}, timeout=30)
        one_clear_line(out, 2, str(config), "web.token_env", "not the name of an environment variable")
