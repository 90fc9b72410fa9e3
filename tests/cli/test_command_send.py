"""``ben command send`` as a newcomer uses it (ADR 0033, round 6): against a real spine with no sidecar
attached, a command the policy lets through is pending; that is said, not left as a bare "pending" with
exit 0 that reads as done, and ``--wait`` without a receipt is a failure (exit 1). A file that is no key,
readable by others, is said to be no key (it was "chmod 600 it", of a trust store)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ben.cli import main
from ben.cli.procs import Cluster
from ben.control.keys import load_signer
from ben.core.errors import ConfigError
from tests.control.conftest import make_setup


@pytest.fixture(scope="module")
def spine(tmp_path_factory):
    home: Path = tmp_path_factory.mktemp("cmd")
    setup = make_setup(home)
    cluster = Cluster(home, spine=setup.control_options())
    cluster.start_spine()
    yield setup, cluster
    cluster.stop()


def ben(monkeypatch, capsys, *args: str) -> tuple[int, str, list[str]]:
    monkeypatch.setattr(sys, "argv", ["ben", *args])
    with pytest.raises(SystemExit) as exited:
        main()
    out = capsys.readouterr()
    return exited.value.code, out.out, out.err.strip().splitlines()


@pytest.mark.parametrize("wait, code, said", [((), 0, "sent, no receipt yet"),
                                              (("--wait", "0.5"), 1, "no receipt within --wait 0.5 s")])
def test_a_command_no_sidecar_takes_says_so(spine, monkeypatch, capsys, wait, code, said) -> None:
    setup, cluster = spine
    got, out, err = ben(monkeypatch, capsys, "command", "send", "ping", "--target", "shop", "--reason", "a test",
                        "--key", str(setup.home / "keys" / "alice.key"), "--spine", cluster.spine_addr, *wait)
    assert got == code and ": pending" in out, (got, out, err)
    assert len(err) == 1 and err[0].startswith(said) and "subsystem 'shop' is attached" in err[0], err


def test_a_file_that_is_no_key_is_said_to_be_none_even_when_others_can_read_it(tmp_path: Path) -> None:
    trust = tmp_path / "trust.toml"
    trust.write_text('[roles.operator]\nkind = "human"\n')
    trust.chmod(0o644)
    with pytest.raises(ConfigError) as info:
        load_signer(trust)
    assert "not a PEM private key" in str(info.value) and "chmod" not in str(info.value), info.value
    key = tmp_path / "k.key"  # a real private key others can read is still refused before it is read as a key
    key.write_bytes(b"-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n")
    key.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        load_signer(key)


def test_an_unknown_command_id_of_thousands_of_characters_is_one_short_line(spine, monkeypatch, capsys) -> None:
    """Its 3,000 characters were echoed whole in "no command '...' at the spine"."""
    setup, cluster = spine
    code, _, err = ben(monkeypatch, capsys, "command", "approve", "cmd-" + "c" * 3000, "--reason", "ok",
                       "--key", str(setup.home / "keys" / "alice.key"), "--spine", cluster.spine_addr)
    assert code == 2 and len(err) == 1 and "(3004 characters)" in err[0] and len(err[0]) < 200, err


#: A right-to-left override, an isolate and a zero-width joiner's look-alike break: signed texts refuse control
#: characters but take these, and a terminal shows the line reordered (ADR 0045, round 14).
BIDI = "fix \u202egnp.exe\u2066 now"
RAW = ("\u202e", "\u2066", "\x1b", "\x07")


def _safe(text: str) -> bool:
    return not any(ch in text for ch in RAW)


def test_send_and_approve_echo_a_reason_s_bidirectional_overrides_escaped(spine, monkeypatch, capsys) -> None:
    """``ben command send`` and ``approve`` printed the command's reason (another operator's, for the approver) with
    its bidirectional overrides as they came: the terminal reordered the line (round 14)."""
    setup, cluster = spine
    key = str(setup.home / "keys" / "alice.key")
    code, out, err = ben(monkeypatch, capsys, "command", "send", "quarantine_artifact", "--target", "shop",
                         "--param", "artifact=a1", "--reason", BIDI, "--key", key, "--spine", cluster.spine_addr)
    assert code == 0 and "awaiting_approval" in out, (code, out, err)
    assert _safe(out) and "\\u202e" in out and "\\u2066" in out, out
    command_id = out.split(":")[0]
    code, out, err = ben(monkeypatch, capsys, "command", "approve", command_id, "--reason", "ok \u202eevil",
                         "--key", key, "--spine", cluster.spine_addr)
    assert code == 0 and command_id in out, (code, out, err)
    assert _safe(out) and _safe("\n".join(err)), (out, err)


def test_an_error_that_quotes_what_came_is_one_escaped_line(monkeypatch, capsys) -> None:
    """An error's text holds what an operator or a peer sent (here an address with an escape sequence and an
    override): ``fail`` and the top-level handler write it escaped, on one line."""
    code, out, err = ben(monkeypatch, capsys, "command", "list", "--spine", "unix:/nonexistent/\x1b]0;owned\x07\u202e/s")
    assert code != 0 and len(err) == 1 and _safe(err[0]) and "\\x1b" in err[0], err
