"""``ben redact lint|check|default``: validate a manifest, dry-run it over sample events, show the default."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from ben.cli import fail

app = typer.Typer(help="Redaction manifests (ADR 0014): lint, dry run, the built-in default.",
                  no_args_is_help=True)

KINDS = {"metric": 1, "counter": 2, "event": 3, "log": 4, "alert": 5}


@app.command()
def lint(
    manifest: Annotated[Path, typer.Argument(metavar="FILE", help="manifest (TOML)")],
    no_key: Annotated[bool, typer.Option("--no-key", help="do not read the hash key (env var or key_file)")] = False,
) -> None:
    """Validate a manifest; errors name the rule and the line (exit code 2). Warnings (a drop rule that
    would empty bodies) go to stderr; the exit code stays 0."""
    from ben.redact import load_manifest
    from ben.redact.manifest import lint_warnings

    from ben.core.errors import RedactionError

    m = load_manifest(manifest, need_key=False)  # the rules first: a missing key is said apart from them
    if not no_key:
        try:
            m = load_manifest(manifest, need_key=True)
        except RedactionError as exc:  # the example manifest failed here for a newcomer, rules unchecked
            raise fail(f"{exc}; the rules are valid ({len(m.rules)}): --no-key checks them without the key") from None
    for warning in lint_warnings(m):
        typer.echo(f"{manifest}: warning: {warning}", err=True)
    typer.echo(f"{manifest}: ok, mode {m.mode}, {len(m.rules)} rules: {', '.join(r.name for r in m.rules) or '-'}")


@app.command()
def default() -> None:
    """Print the built-in manifest a sidecar runs when its config names none."""
    from ben.redact import DEFAULT_MANIFEST

    typer.echo(DEFAULT_MANIFEST, nl=False)


#: The keys of an event on ``ben redact check``'s stdin.
_EVENT_KEYS = {"name", "body", "attributes", "kind"}


def _events(lines) -> list[tuple[int, dict]]:
    out = []
    for no, line in enumerate(lines, 1):
        if no == 1:
            line = line.removeprefix("\ufeff")  # a byte order mark (a Windows editor's): "Unexpected UTF-8 BOM"
        if not line.strip():
            continue
        try:
            ev = json.loads(line)
        except ValueError as exc:
            raise fail(f"stdin line {no}: not JSON: {exc}")
        if not isinstance(ev, dict):
            raise fail(f"stdin line {no}: expected a JSON object with name, body, attributes")
        unknown = sorted(set(ev) - _EVENT_KEYS)
        if unknown:  # "attrs" for "attributes" was ignored: the attributes went unchecked, in silence
            raise fail(f"stdin line {no}: unknown key {unknown[0]!r} (an event has {', '.join(sorted(_EVENT_KEYS))})")
        attrs = ev.get("attributes", {})
        if not isinstance(attrs, dict):
            raise fail(f"stdin line {no}: 'attributes' must be an object")
        if ev.get("kind", "log") not in KINDS:
            raise fail(f"stdin line {no}: 'kind' must be one of {', '.join(KINDS)}")
        out.append((no, ev))
    return out


@app.command()
def check(
    manifest: Annotated[Optional[Path], typer.Option("--manifest", "-m", help="manifest (default: the built-in)")] = None,
) -> None:
    """Dry run: JSON lines of events on stdin ({"name", "body", "attributes"}); prints, per event, the
    rules that fired and the redacted event (only redacted values: what would be stored)."""
    from ben.redact import REDACTED_KEY, Engine
    from ben.redact.redactor import load
    from ben.sdk.batch import BatchBuilder
    from ben.v1 import telemetry_pb2 as pb

    engine = Engine(load(manifest))
    events = _events(sys.stdin)
    if not events:
        raise fail("no events on stdin (JSON lines: {\"name\": ..., \"body\": ..., \"attributes\": {...}})")
    builder = BatchBuilder(1)
    for _, ev in events:
        attrs = {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in ev.get("attributes", {}).items()}
        body = ev.get("body", "")
        builder.add(KINDS[ev.get("kind", "log")], str(ev.get("name") or "event"), 0.0,
                    body if isinstance(body, str) else json.dumps(body), attrs, 0)
    batch = engine.apply(builder.build(pb.Source(host="check"), "check"))
    s = batch.strings
    at = 0
    touched = 0
    for i, (no, _) in enumerate(events):
        attrs = {s[batch.attr_keys[j]]: s[batch.attr_values[j]] for j in range(at, at + batch.attr_counts[i])}
        at += batch.attr_counts[i]
        fired = attrs.pop(REDACTED_KEY, "")
        touched += bool(fired)
        typer.echo(json.dumps({"line": no, "fired": fired.split(",") if fired else [], "name": s[batch.names[i]],
                               "body": s[batch.bodies[i]], "attributes": attrs}, ensure_ascii=False))
    summary = ", ".join(f"{name} {n}" for name, n in sorted(engine.counts.items())) or "nothing"
    typer.echo(f"{len(events)} events, {touched} redacted; by rule: {summary}", err=True)
