"""Manifests: what is accepted, and errors that name the file, the rule and the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from ben.core.errors import BenError, RedactionError
from ben.redact import DEFAULT_MANIFEST, OPT_IN, load_manifest, parse_manifest

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "redact.toml"
KEY = "k" * 32


def test_default_manifest_turns_on_the_sane_detectors() -> None:
    m = parse_manifest(DEFAULT_MANIFEST)
    on = {d.name for r in m.rules for d in r.secret_rules}
    assert {"card", "private_key", "jwt", "bearer", "aws_key", "gcp_key", "azure_key", "github_token",
            "slack_token", "email"} <= on
    assert not on & OPT_IN
    assert all(r.action == "mask" for r in m.rules)   # no key needed


def test_example_manifest_lints(monkeypatch) -> None:
    monkeypatch.setenv("BEN_REDACT_KEY", KEY)
    m = load_manifest(EXAMPLE)
    assert m.hash_key == KEY.encode() and len(m.rules) >= 10
    assert {r.action for r in m.rules} == {"drop", "mask", "hash", "truncate"}


BAD = [
    ('version = 1\n\n[[rule]]\nname = "a"\ndetect = "email"\naction = "mask"\n\n[[rule]]\nname = "b"\n'
     'detect = "emial"\naction = "mask"\n', "b", 10, "unknown detector 'emial'"),
    ('[[rule]]\nname = "a"\nfields = ["attributes.x"]\naction = "explode"\n', "a", 4, "action"),
    ('[[rule]]\nname = "a"\nfields = ["headers.x"]\naction = "drop"\n', "a", 3, "must be 'name', 'body'"),
    ('[[rule]]\nname = "a"\nfields = ["body"]\naction = "truncate"\n', "a", 1, "needs max_chars"),
    ('[[rule]]\nname = "a"\npattern = "[a-"\naction = "mask"\n', "a", 3, "not a valid regular expression"),
    ('[[rule]]\nname = "a"\npattern = "x*"\naction = "mask"\n', "a", 3, "matches the empty string"),
    ('[[rule]]\nname = "a"\ndetect = "email"\naction = "hash"\n', "a", 4, "needs a [hash] table"),
    ('[[rule]]\nname = "a"\ndetect = "email"\naction = "mask"\ncolour = 1\n', "a", 5, "unknown key 'colour'"),
    ('[[rule]]\nname = "a"\nfields = ["name"]\naction = "drop"\n', "a", 1, "cannot be dropped"),
    ('[[rule]]\nname = "a"\ndetect = "card"\naction = "mask"\n[[rule]]\nname = "a"\ndetect = "jwt"\n'
     'action = "mask"\n', "a", 5, "already used"),
    ('[[rule]]\naction = "mask"\ndetect = "card"\n', "#1", 1, "missing key 'name'"),
]


@pytest.mark.parametrize("text, rule, line, message", BAD)
def test_errors_name_rule_and_line(tmp_path: Path, text: str, rule: str, line: int, message: str) -> None:
    path = tmp_path / "m.toml"
    path.write_text(text)
    with pytest.raises(RedactionError) as err:
        load_manifest(path)
    e = err.value
    assert isinstance(e, BenError)
    assert (e.rule, e.line) == (rule, line), str(e)
    assert message in str(e) and str(path) in str(e) and f"line {line}" in str(e)


def test_top_level_and_toml_errors_name_the_line() -> None:
    with pytest.raises(RedactionError, match=r"line 2: mode"):
        parse_manifest('version = 1\nmode = "permissive"\n')
    with pytest.raises(RedactionError, match=r"not valid TOML.*line 3") as err:
        parse_manifest('version = 1\n[[rule]]\nname = = "x"\n')
    assert err.value.line == 3


def test_hash_key_from_file_relative_to_manifest(tmp_path: Path) -> None:
    (tmp_path / "k").write_text(KEY + "\n")
    (tmp_path / "m.toml").write_text('[hash]\nkey_file = "k"\n[[rule]]\nname = "e"\ndetect = "email"\n'
                                     'action = "hash"\n')
    assert load_manifest(tmp_path / "m.toml").hash_key == KEY.encode()
    (tmp_path / "k").write_text("short")
    with pytest.raises(RedactionError, match=r"line 1: hash key is 5 bytes; at least 16"):
        load_manifest(tmp_path / "m.toml")


def test_missing_key_env_is_named(monkeypatch) -> None:
    monkeypatch.delenv("NO_SUCH_BEN_KEY", raising=False)
    text = '[hash]\nkey_env = "NO_SUCH_BEN_KEY"\n[[rule]]\nname = "e"\ndetect = "email"\naction = "hash"\n'
    with pytest.raises(RedactionError, match="NO_SUCH_BEN_KEY is not set"):
        parse_manifest(text)
    assert parse_manifest(text, need_key=False).rules[0].action == "hash"


def test_allow_mode_and_missing_file(tmp_path: Path) -> None:
    m = parse_manifest('mode = "allow"\nallow = ["http.*", "zone"]\n')
    assert m.allowed("http.route") and m.allowed("zone") and not m.allowed("user.email")
    with pytest.raises(RedactionError, match="allow is only used with mode"):
        parse_manifest('allow = ["x"]\n')
    with pytest.raises(RedactionError, match="file not found"):
        load_manifest(tmp_path / "nope.toml")
    (tmp_path / "link.toml").symlink_to(tmp_path / "nope.toml")   # round 5: say what the path is
    with pytest.raises(RedactionError, match=r"file not found \(a symbolic link to .*nope.toml, which does not"):
        load_manifest(tmp_path / "link.toml")
    with pytest.raises(RedactionError, match=r": a directory, not a file$"):
        load_manifest(tmp_path)


def test_a_field_rule_shadowed_by_an_earlier_one_is_a_lint_warning() -> None:
    """The first field rule naming a field applies: a ``drop`` of ``attributes.user`` written under an older
    ``mask`` of it never dropped it, and ``ben redact lint`` said ok (ADR 0033 round 11). The manifest still
    loads (a refusal would stop sidecars whose manifests hold such a pair); lint says it."""
    from ben.redact.manifest import lint_warnings

    m = parse_manifest('[[rule]]\nname = "a"\nfields = ["attributes.user"]\naction = "mask"\n\n[[rule]]\n'
                       'name = "b"\nfields = ["attributes.token", "attributes.user"]\naction = "drop"\n\n[[rule]]\n'
                       'name = "c"\nfields = ["attributes.token"]\naction = "drop"\n')
    assert lint_warnings(m) == [
        "rule 'b' (line 6): field 'attributes.user' is named by rule 'a' already (line 1, action mask), which applies "
        "first: this rule's drop never applies to it (name each field in one rule)"]
    assert lint_warnings(parse_manifest(DEFAULT_MANIFEST)) == []
