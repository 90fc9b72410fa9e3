"""Bad input to ``ben`` commands whose error comes before any process or peer is reached (ADR 0033, third
amendment): run in-process through ``ben.cli.main``, the entry point the ``ben`` script calls."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ben.cli import main

PUBKEY = "A" * 43 + "="  # 32 zero bytes, base64: a well-formed Ed25519 public key text


def ben(monkeypatch, capsys, home: Path, *args: str) -> tuple[int, str, list[str]]:
    """``ben ARGS`` in this process: exit code, stdout, the lines of stderr."""
    monkeypatch.setenv("BEN_HOME", str(home))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setattr(sys, "argv", ["ben", *args])
    with pytest.raises(SystemExit) as exited:
        main()
    out = capsys.readouterr()
    return exited.value.code, out.out, out.err.strip().splitlines()


def cases(home: Path) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    """(arguments, what the one error line must name)."""
    binary = home / "sidecar.pub"
    binary.write_bytes(b"\xd0\xcf\x11\xe0\x00binary")
    return [
        # a public key file that is no text was "unexpected UnicodeDecodeError ... (a bug in ben)"
        (("keys", "trust", "--sidecar", "sc1", "--trust", str(home / "t.toml"), str(binary)),
         ("PUBKEY", str(binary), "not a text file")),
        # a directory as the trust store, or one in a directory that does not exist ("x.toml.tmp: No such file")
        (("keys", "trust", "--sidecar", "sc1", "--trust", str(home), PUBKEY), ("--trust", "a directory")),
        (("keys", "trust", "--sidecar", "sc1", "--trust", str(home / "no" / "t.toml"), PUBKEY),
         ("--trust", "no directory")),
        # a role that breaks the printed TOML snippet (role = "x"y") was taken
        (("keys", "generate", "alice", "--dir", str(home / "keys"), "--role", 'x"y'), ("--role", "'x\"y'")),
        # a key name that is no file name of its own: ".." wrote "...key", "." ".key"
        *[(("keys", "generate", name, "--dir", str(home / "keys")), ("NAME", repr(name)))
          for name in ("..", ".", "", "a/b", "../x", "ali ce", "é", "x" * 65)],
        # an unknown state listed no command, in silence
        (("command", "list", "--state", "bogus"), ("--state", "'bogus'", "awaiting_approval")),
        # pydantic's wording of a parameter
        (("command", "send", "throttle_job", "--target", "t", "--reason", "r", "--param", "job=x", "--param",
          "rate_per_s=abc"), ("--param", "rate_per_s", "not a whole number")),
        (("command", "send", "throttle_job", "--target", "t", "--reason", "r"), ("--param", "'job'", "missing")),
    ]


def test_bad_input_before_any_peer_is_one_line_naming_the_flag(monkeypatch, capsys, home: Path) -> None:
    failed = []
    for args, names in cases(home):
        code, _, err = ben(monkeypatch, capsys, home, *args)
        line = err[-1] if err else ""
        if code != 2 or len(err) != 1 or not line.startswith("error: ") or not all(n in line for n in names):
            failed.append(f"{args}: exit {code}, {err}")
    assert not failed, "\n".join(failed)
    assert not (home / "keys" / "alice.key").exists()  # the refused --role wrote no key
    assert not [p.name for p in home.glob("**/*.key")]  # nor a refused name ("...key" beside the keys)


def test_help_shows_config_tables_verbatim(monkeypatch, capsys, home: Path) -> None:
    """typer reads help texts as rich markup: "[web] in the config" showed as " in the config"."""
    for args, table in ((("spine", "--help"), "[web] in the config"), (("web", "--help"), "[web] listen_port")):
        code, out, _ = ben(monkeypatch, capsys, home, *args)
        assert code == 0 and table in " ".join(out.replace("│", " ").split()), out


def test_redact_check_refuses_an_event_key_it_does_not_know(monkeypatch, capsys, home: Path) -> None:
    """``"attrs"`` for ``"attributes"`` was ignored: the dry run said "0 redacted" of attributes it never saw."""
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO('{"name": "x"}\n{"name": "login", "attrs": {"password": "pw"}}\n'))
    code, out, err = ben(monkeypatch, capsys, home, "redact", "check")
    assert code == 2 and err == ["error: stdin line 2: unknown key 'attrs' (an event has attributes, body, kind, "
                                 "name)"], (code, out, err)


def test_certs_and_audit_flags_out_of_their_domain(monkeypatch, capsys, home: Path) -> None:
    """``--host ""`` and ``--host "not a host!"`` were signed into a server certificate (a SAN "DNS:" that no
    client verifies); ``audit queries --after -5`` was "unexpected ValueError ... (a bug in ben)"."""
    code, _, err = ben(monkeypatch, capsys, home, "certs", "init", "--dir", str(home / "certs"))
    assert code == 0, err
    for bad in ("", "not a host!", "a,b"):
        code, _, err = ben(monkeypatch, capsys, home, "certs", "issue", "spine", "--server", "--host", bad,
                           "--dir", str(home / "certs"))
        assert code == 2 and err == [f"error: --host {bad!r}: expected a host name (spine.example) or an IP "
                                     "address, one per --host"], err
    assert not (home / "certs" / "spine.crt").exists()
    code, _, err = ben(monkeypatch, capsys, home, "certs", "issue", "spine", "--server", "--host", "::1", "--host",
                       "spine.example", "--dir", str(home / "certs"))
    assert code == 0 and (home / "certs" / "spine.crt").exists(), err
    code, _, err = ben(monkeypatch, capsys, home, "audit", "queries", "--after", "-5")
    assert code == 2 and len(err) == 1 and "'--after'" in err[0] and "-5" in err[0], err


def test_emit_to_a_sidecar_socket_that_is_a_file_is_refused_at_once(monkeypatch, capsys, home: Path) -> None:
    """``BEN_SIDECAR_SOCKET`` (or ``--sidecar``) naming a file or a directory waited the whole ``--timeout`` (10 s)
    for a connection that could never be made."""
    (home / "a file").write_text("x")
    monkeypatch.setenv("BEN_SIDECAR_SOCKET", str(home / "a file"))
    code, _, err = ben(monkeypatch, capsys, home, "emit", "deploy", "--timeout", "60")
    assert code == 2 and err == [f"error: the default sidecar socket ($BEN_HOME or $BEN_SIDECAR_SOCKET): no socket, "
                                 f"a file: {home / 'a file'} (start one with: ben sidecar; or pass --sidecar "
                                 "ADDRESS)"], err
    code, _, err = ben(monkeypatch, capsys, home, "emit", "deploy", "--sidecar", f"unix://{home}")
    assert code == 2 and err[0].startswith(f"error: --sidecar: no socket, a directory: {home}"), err


def test_bench_lanes_refuses_a_rate_or_duration_that_is_no_positive_number(monkeypatch, capsys, home: Path) -> None:
    """``--seconds -1`` ran a whole cluster, then ended in "unexpected IndexError (a bug in ben)"; ``--routine-rate
    nan`` ran for ever (click's FloatRange lets NaN through)."""
    for flag, value in (("--seconds", "-1"), ("--seconds", "nan"), ("--routine-rate", "nan"), ("--routine-rate", "0")):
        code, _, err = ben(monkeypatch, capsys, home, "bench", "lanes", flag, value)
        assert code == 2 and len(err) == 1 and f"field '{flag}'" in err[0] and "finite number > 0" in err[0], err


def test_incidents_follow_and_wait_exclude_each_other(monkeypatch, capsys, home: Path) -> None:
    """``--follow --wait 5`` followed for ever, the ``--wait`` ignored in silence."""
    code, _, err = ben(monkeypatch, capsys, home, "incidents", "--follow", "--wait", "5")
    assert code == 2 and len(err) == 1 and err[0].startswith("error: --follow and --wait: pass one of them"), err


def test_a_fifo_or_a_device_named_as_a_file_is_one_line_not_a_hang(monkeypatch, capsys, home: Path) -> None:
    """A FIFO nobody writes to as ``--config`` (or a manifest, a signing key, a corpus file) made ben wait for
    ever in ``open``; ``/dev/zero`` was read until memory ran out. Both are one line naming the file."""
    import os

    from ben.core import files

    monkeypatch.setattr(files, "PIPE_WAIT_S", 0.3)
    fifo = home / "ben.toml"
    os.mkfifo(fifo)
    corpus = home / "corpus"
    (corpus / "data" / "g").mkdir(parents=True)
    (corpus / "labels").mkdir()
    (corpus / "labels" / "combined_windows.json").write_text("{}")
    os.mkfifo(corpus / "data" / "g" / "a.csv")
    send = ("command", "send", "throttle_job", "--target", "t", "--reason", "r", "--param", "job=x", "--param",
            "rate_per_s=1", "--key")
    failed = []
    for args, path in ((("spine", "--config", str(fifo)), fifo), (("sidecar", "-c", "/dev/zero"), "/dev/zero"),
                       (("web", "--config", "/dev/zero"), "/dev/zero"), (("redact", "lint", str(fifo)), fifo),
                       (("redact", "check", "-m", "/dev/zero"), "/dev/zero"), ((*send, str(fifo)), fifo),
                       ((*send, "/dev/zero"), "/dev/zero"),
                       (("bench", "detect-real", str(corpus)), corpus / "data" / "g" / "a.csv")):
        code, _, err = ben(monkeypatch, capsys, home, *args)
        what = "a character device" if path == "/dev/zero" else "a FIFO (named pipe) nobody wrote to"
        if code != 2 or len(err) != 1 or str(path) not in err[0] or what not in err[0]:
            failed.append(f"{args}: exit {code}, {err}")
    assert not failed, "\n".join(failed)


def test_a_public_key_given_for_a_private_one_and_back_says_so(monkeypatch, capsys, home: Path) -> None:
    """``--key alice.pub`` was "not a PEM private key: Unable to load PEM file. See https://cryptography.io/...
    MalformedFraming" (or "chmod 600 it" when the .pub was 0644); ``ben keys trust ... alice.key`` was "not an
    Ed25519 public key"; an encrypted key was cryptography's own words."""
    import subprocess

    keys = home / "keys"
    code, _, err = ben(monkeypatch, capsys, home, "keys", "generate", "alice", "--dir", str(keys))
    assert code == 0, err
    (keys / "alice.pub").chmod(0o644)
    (keys / "enc.key").write_bytes(subprocess.run(
        ["openssl", "genpkey", "-algorithm", "ed25519", "-aes256", "-pass", "pass:x"], capture_output=True,
        check=True).stdout)
    (keys / "enc.key").chmod(0o600)
    send = ("command", "send", "throttle_job", "--target", "t", "--reason", "r", "--param", "job=x", "--param",
            "rate_per_s=1", "--key")
    for args, says in (((*send, str(keys / "alice.pub")), f"this is a public key: signing takes the private key "
                                                           f"({keys / 'alice.key'}"),
                       ((*send, str(keys / "enc.key")), "an encrypted private key"),
                       (("keys", "trust", "--sidecar", "sc1", "--trust", str(home / "t.toml"), str(keys / "alice.key")),
                        f"PUBKEY {keys / 'alice.key'}: a private key, not the public one")):
        code, _, err = ben(monkeypatch, capsys, home, *args)
        assert code == 2 and len(err) == 1 and says in err[0] and "cryptography.io" not in err[0], (args, err)
    assert not (home / "t.toml").exists()


def test_a_file_given_where_a_directory_belongs_says_so(monkeypatch, capsys, home: Path) -> None:
    """``--dir alice.key`` (a file) was "--dir alice.key: File exists", and a directory below a file "Not a
    directory": errno's words for a path the user gave."""
    afile = home / "alice.key"
    afile.write_text("x")
    for args in (("keys", "generate", "bob", "--dir", str(afile)), ("certs", "init", "--dir", str(afile)),
                 ("keys", "generate", "bob", "--dir", str(afile / "sub")), ("baseline", "generate", str(afile))):
        code, _, err = ben(monkeypatch, capsys, home, *args)
        assert code == 2 and len(err) == 1 and err[0].endswith(f"{afile} is a file, not a directory"), (args, err)
