"""Every ``ben`` command the README and ``docs/*.md`` show is one the ``ben`` command line takes as written (ADR
0033, round 10): each line of a ``sh`` / ``bash`` block is parsed by the command tree itself (its subcommands, flags,
value types and ranges, required arguments), each ``ben …`` in running text names commands and flags that exist, and
the README's TOML blocks load with the loader of the file they stand for. The lines that need running components
run in their own tests (the README's recipe: ``tests/cli/test_first_hour.py``; the notebook lines:
``tests/detect/test_inputs.py``; the queries: ``tests/store/test_queries_doc.py``)."""

from __future__ import annotations

import base64
import functools
import re
import shlex
from pathlib import Path

import pytest
import typer

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
#: Words of running text that stand for a choice or an elision, not a value ben is given.
ELIDED = ("...", "…")


@functools.cache
def _tree():
    from ben.cli import app

    return typer.main.get_command(app)


def block_lines(text: str) -> list[str]:
    """The ``ben …`` lines of the shell blocks (a trailing backslash joins the next line)."""
    lines = []
    for block in re.findall(r"```(?:sh|bash|console|shell)\n(.*?)```", text, re.S):
        for line in re.sub(r"\\\n\s*", " ", block).splitlines():
            line = line.strip().removeprefix("$ ")
            if line.startswith("ben "):
                lines.append(line)
    return lines


def inline_commands(text: str) -> list[str]:
    prose = re.sub(r"```.*?```", "", text, flags=re.S)
    return [" ".join(m.split()) for m in re.findall(r"`(ben [^`(]*)`", prose)]


def words(line: str, *, pipes: bool = True) -> list[str]:
    """The arguments of a shell line's ``ben`` command: up to a comment, ``&``, a pipe or a redirection (in running
    text, ``a|b`` is a choice: ``pipes=False``)."""
    ends = "&|<>;" if pipes else "&<>;"
    lex = shlex.shlex(line, posix=True, punctuation_chars=ends)
    lex.whitespace_split, lex.commenters = True, "#"
    out = []
    for token in lex:
        if set(token) <= set(ends):
            break
        out.append(token)
    return out[1:]


def parse(args: list[str]) -> None:
    """Parse ``args`` as ``ben`` does, down to the command they name (nothing runs)."""
    command = _tree()
    ctx = command.make_context("ben", list(args))
    while hasattr(ctx.command, "commands"):
        rest = [*(getattr(ctx, "_protected_args", None) or getattr(ctx, "protected_args", None) or []), *ctx.args]
        if not rest:
            break
        name, sub, rest = ctx.command.resolve_command(ctx, rest)
        ctx = sub.make_context(name, rest, parent=ctx)


def names_exist(args: list[str]) -> str:
    """"" when every subcommand and flag ``args`` names exists (values and placeholders are not checked), else
    what does not."""
    command, takes_value, skip = _tree(), {}, False
    for token in args:
        if skip:
            skip = False
            continue
        if token.startswith("-") and token not in ELIDED:
            name = token.split("=", 1)[0]
            if name == "--help":
                continue
            if name not in takes_value:
                return f"{command.name} has no option {name}"
            skip = takes_value[name] and "=" not in token
            continue
        subs = getattr(command, "commands", {})
        if not subs:
            continue  # an argument, or a placeholder for one
        choices = [c for c in re.split(r"[|/]", token) if c not in ELIDED]
        if missing := [c for c in choices if c not in subs]:
            return f"{command.name} has no command {missing[0]!r}"
        if choices:
            command = subs[choices[0]]
        takes_value = {o: not p.is_flag and not getattr(p, "count", False) for p in command.params
                       if p.param_type_name == "option" for o in [*p.opts, *p.secondary_opts]}
    return ""


def test_every_shell_line_of_the_docs_parses_as_written() -> None:
    failed, seen = [], 0
    for doc in DOCS:
        for line in block_lines(doc.read_text()):
            seen += 1
            try:
                parse(words(line))
            except Exception as exc:  # click's usage errors: what a reader running the line would see
                failed.append(f"{doc.name}: {line}\n    {type(exc).__name__}: {exc}")
    assert seen >= 25, f"only {seen} lines found: has the README's layout changed?"
    assert not failed, "\n".join(failed)


def test_every_command_named_in_the_docs_text_exists() -> None:
    failed, seen = [], 0
    for doc in DOCS:
        for text in inline_commands(doc.read_text()):
            seen += 1
            if problem := names_exist(words(text, pipes=False)):
                failed.append(f"{doc.name}: `{text}`: {problem}")
    assert seen >= 50, seen
    assert not failed, "\n".join(failed)


@pytest.mark.parametrize("bad, said", [("ben incidents ack inc-1", "no command 'ack'"),
                                       ("ben replay --form 1", "no option --form"),
                                       ("ben bench otlp|comands", "no command 'comands'")])
def test_the_text_check_finds_a_command_or_flag_that_is_not_there(bad: str, said: str) -> None:
    assert said in names_exist(words(bad, pipes=False))


def test_the_readme_s_toml_blocks_load() -> None:
    """The README's ben config, redaction manifest, trust store and policy, as a reader copies them (the public
    keys' placeholders filled in)."""
    from ben.control.policy import Policy
    from ben.control.trust_store import TrustStore
    from ben.core.config import parse_config
    from ben.redact.manifest import parse_manifest

    key = base64.b64encode(bytes(32)).decode()
    blocks = re.findall(r"```toml\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    kinds = []
    for block in blocks:
        text = re.sub(r"\.\.\.contents of [^.]*\.pub\.\.\.", key, block)
        first = text.strip().splitlines()[0]
        if first.startswith("[hash]") or first.startswith("[[rule]]"):
            parse_manifest(text, need_key=False)
            kinds.append("manifest")
        elif first.startswith("[roles"):
            _load_file(TrustStore, text)
            kinds.append("trust")
        elif first.startswith("kill_switch"):
            _load_file(Policy, text)
            kinds.append("policy")
        else:
            import tomllib

            parse_config(tomllib.loads(text))
            kinds.append("config")
    assert sorted(set(kinds)) == ["config", "manifest", "policy", "trust"], kinds


def _load_file(cls, text: str):
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.toml"
        path.write_text(text)
        return cls.load(path)


def test_no_help_text_shows_source_markup() -> None:
    """`ben redact lint --help` said "Warnings (a ``drop`` that would empty bodies)": a docstring's reST shown as is."""
    shown = []

    def walk(command, path: str) -> None:
        for obj in (command, *command.params):
            for attr in ("help", "short_help"):
                text = getattr(obj, attr, None)
                if isinstance(text, str) and ("``" in text or ":func:" in text or ":class:" in text):
                    shown.append(f"{path} ({getattr(obj, 'name', '')}): {text[:80]}")
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, f"{path} {name}")

    walk(_tree(), "ben")
    assert not shown, "\n".join(shown)
