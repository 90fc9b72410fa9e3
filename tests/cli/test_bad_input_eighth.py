"""An eighth stranger's bad input to ``ben`` commands (ADR 0033, Round 8), in-process through ``ben.cli.main``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.test_bad_input_in_process import ben

BOM = b"\xef\xbb\xbf"


def test_detect_real_generate_leaves_a_users_directory_alone(monkeypatch, capsys, home: Path) -> None:
    """``ben bench detect-real ~/project --generate`` wrote ``data/`` among the user's files and replaced their
    ``labels/combined_windows.json`` (then scored their own CSVs with the generated ones)."""
    project = home / "project"
    (project / "labels").mkdir(parents=True)
    (project / "README.md").write_text("my notes\n")
    (project / "labels" / "combined_windows.json").write_text('{"mine": []}\n')
    code, _, err = ben(monkeypatch, capsys, home, "bench", "detect-real", str(project), "--generate", "--files", "1")
    assert code == 2 and len(err) == 1, err
    assert "CORPUS" in err[0] and "holds 'README.md'" in err[0] and "nothing was written" in err[0], err
    assert sorted(p.name for p in project.iterdir()) == ["README.md", "labels"]
    assert (project / "labels" / "combined_windows.json").read_text() == '{"mine": []}\n'
    a_file = home / "afile"
    a_file.write_text("x\n")
    code, _, err = ben(monkeypatch, capsys, home, "bench", "detect-real", str(a_file), "--generate", "--files", "1")
    assert code == 2 and len(err) == 1 and "is a file, not a directory" in err[0], err
    assert a_file.read_text() == "x\n"


def test_detect_real_generated_again_scores_only_what_it_generated(monkeypatch, capsys, home: Path) -> None:
    """Generated with 3 files, then again with 1: the 2 older files stayed in ``data/`` without labels and were
    scored as files without anomalies, in silence (3 files in the figures of a 1-file run)."""
    corpus = home / "corpus"
    for files in ("3", "1"):
        code, out, err = ben(monkeypatch, capsys, home, "bench", "detect-real", str(corpus), "--generate",
                             "--files", files, "--json")
        assert code == 0, err
        assert len(json.loads(out)["files"]) == int(files), out
    assert len(list((corpus / "data").rglob("*.csv"))) == 1
    assert len(json.loads((corpus / "labels" / "combined_windows.json").read_text())) == 1
    assert [p.name for p in home.iterdir() if p.name.startswith(".corpus.")] == []  # nothing left beside it


def test_a_ctrl_c_while_the_command_line_is_parsed_says_interrupted(monkeypatch, capsys, home: Path) -> None:
    """typer turns a KeyboardInterrupt in its parse of the command line (where it imports pydantic, about a
    second after any ``ben`` command starts) into a silent ``Exit(130)``: ``ben query`` then ended 130 without
    a word (Round 7 saw it once and could not say where)."""
    import typer.core

    def interrupted(self, ctx, args):
        raise KeyboardInterrupt

    monkeypatch.setattr(typer.core.TyperGroup, "parse_args", interrupted)
    code, _, err = ben(monkeypatch, capsys, home, "status")
    assert code == 130 and err == ["ben: interrupted"], (code, err)


@pytest.mark.parametrize("command", ["spine", "web"])
def test_a_config_saved_with_a_byte_order_mark_is_read(monkeypatch, capsys, home: Path, command: str) -> None:
    """Notepad's and PowerShell's "UTF-8" put a byte order mark first: "not valid TOML: Invalid statement (at
    line 1, column 1)" of a first line that reads ``[spine]``. It is read (here: to the first value it refuses,
    which shows the file was parsed)."""
    config = home / "ben.toml"
    config.write_bytes(BOM + b"[spine.store]\nretention_dayz = 3\n")
    code, _, err = ben(monkeypatch, capsys, home, command, "--config", str(config))
    assert code == 2 and len(err) == 1 and "did you mean 'spine.store.retention_days'" in err[0], err


def test_a_utf16_config_is_said_to_be_utf16(monkeypatch, capsys, home: Path) -> None:
    config = home / "ben.toml"
    config.write_bytes("[spine]\n".encode("utf-16"))
    code, _, err = ben(monkeypatch, capsys, home, "spine", "--config", str(config))
    assert code == 2 and len(err) == 1, err
    assert str(config) in err[0] and "UTF-16 text, not UTF-8" in err[0] and "binary" not in err[0], err


def test_redact_check_and_keys_trust_read_text_with_a_byte_order_mark(monkeypatch, capsys, home: Path) -> None:
    """``ben redact check < events.jsonl`` said "stdin line 1: not JSON: Unexpected UTF-8 BOM"; ``ben keys trust``
    of a ``.pub`` saved with one said "not an Ed25519 public key"."""
    import io
    import sys

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from ben.control.keys import public_text

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(
        BOM + b'{"name": "x", "body": "card 4111 1111 1111 1111"}\n'), encoding="utf-8"))
    code, out, err = ben(monkeypatch, capsys, home, "redact", "check")
    assert code == 0 and json.loads(out)["fired"] == ["card"], (out, err)
    pub = home / "sc.pub"
    pub.write_bytes(BOM + public_text(Ed25519PrivateKey.generate().public_key()).encode() + b"\n")
    trust = home / "trust.toml"
    code, out, err = ben(monkeypatch, capsys, home, "keys", "trust", "--sidecar", "sc1", "--trust", str(trust), str(pub))
    assert code == 0 and "pinned sidecar sc1" in out, (out, err)
    assert "\ufeff" not in trust.read_text(encoding="utf-8")


@pytest.mark.parametrize("args", [("status",), ("keys", "generate", "alice"), ("spine",), ("emit", "deploy")])
def test_a_ben_home_with_a_newline_is_refused_naming_it(monkeypatch, capsys, home: Path, args) -> None:
    """``BEN_HOME=$'/tmp/a\\nb'`` was taken: the spine ran there and every line naming a path under it broke in
    two (Round 7 left it). Refused before anything is made, naming the variable."""
    weird = home / "a\nb"
    code, _, err = ben(monkeypatch, capsys, weird, *args)
    shown = str(weird).replace("\n", "\\n")
    assert code == 2 and err == [f"error: field '$BEN_HOME': '{shown}' holds a control character (a newline?): "
                                 "give a plain path"], err
    assert not weird.exists()


def test_a_sidecar_socket_variable_with_a_control_character_is_refused(monkeypatch, capsys, home: Path) -> None:
    monkeypatch.setenv("BEN_SIDECAR_SOCKET", str(home / "side\tcar.sock"))
    code, _, err = ben(monkeypatch, capsys, home, "emit", "deploy")
    assert code == 2 and len(err) == 1 and "field '$BEN_SIDECAR_SOCKET'" in err[0] and "side\\tcar" in err[0], err
