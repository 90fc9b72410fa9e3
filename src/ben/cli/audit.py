"""``ben audit verify``: is every audit entry there, in order, unaltered, and signed?"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from ben.cli import fail, one_of, only_with, printable

app = typer.Typer(help="The hash-chained, signed audit log of the control plane.", no_args_is_help=True)


@app.command()
def verify(
    spine: Annotated[Optional[str], typer.Option(help="ask the running spine (default)")] = None,
    sidecar: Annotated[Optional[str], typer.Option(help="ask a running sidecar instead (its local log)")] = None,
    data_dir: Annotated[Optional[Path], typer.Option(help="a stopped spine's or sidecar's data directory")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
    audit_key: Annotated[Optional[Path], typer.Option(
        help="with --data-dir: the component's audit_key_file (or its .pub), kept outside the data dir")] = None,
) -> None:
    """Verify the local audit log and (spine) its ClickHouse copy: hashes, chain, signatures, both copies alike.

    Exit code 0 when intact, 1 when anything was altered, removed or reordered.
    """
    from ben.core.address import check_address, default_spine_address
    from ben.core.errors import TransportError

    one_of(data_dir=data_dir, spine=spine, sidecar=sidecar)
    # a running component verifies with its own key: the key kept apart (from a component an intruder may hold)
    # was ignored, and "intact" printed as if it had been checked against it
    only_with("--data-dir", data_dir is not None, "audit_key")
    if data_dir is not None:
        from ben.control.offline import verify_data_dir

        if not data_dir.is_dir():
            raise fail(f"--data-dir {data_dir}: not a directory")
        if audit_key is not None and not audit_key.with_suffix(".pub").is_file():
            raise fail(f"--audit-key {audit_key}: no {audit_key.with_suffix('.pub').name} beside it")
        report = verify_data_dir(data_dir, key=audit_key)
    else:
        from ben.control import client

        try:
            address = check_address(sidecar or spine or default_spine_address())
        except ValueError as exc:
            raise fail(f"--{'sidecar' if sidecar else 'spine'}: {exc}") from None
        try:
            report = json.loads(client.verify_audit(address).report_json)
        except TransportError as exc:
            raise fail(f"{exc}; with the component stopped use --data-dir") from None
        for copy in report:
            copy.setdefault("problems", [])
    problems = [p for copy in report for p in copy["problems"]]
    if as_json:
        typer.echo(json.dumps({"ok": not problems, "copies": report}))
    else:
        for copy in report:
            start = (f" from entry {copy['first_seq']} (earlier ones trimmed behind a signed anchor)"
                     if copy.get("first_seq", 1) > 1 else "")
            typer.echo(f"{copy['copy']}: {copy['entries']} entries{start}, head {copy['head'][:16]}, "
                       f"{'intact' if copy['ok'] else 'DAMAGED'}")
        for problem in problems:
            typer.echo(f"  - {problem}")
        typer.echo("audit: intact" if not problems else f"audit: {len(problems)} problem(s)")
    if problems:
        raise typer.Exit(1)


@app.command()
def queries(
    spine: Annotated[Optional[str], typer.Option(help="the running spine (default)")] = None,
    after: Annotated[int, typer.Option(help="entries after this seq", min=0, max=2**63 - 1)] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="print the entries as JSON")] = False,
) -> None:
    """The spine's query log: every operator query, who ran it, when, the statement and how it ended."""
    from datetime import datetime, timezone

    from ben.control import client
    from ben.core.address import check_address, default_spine_address
    from ben.core.errors import TransportError

    try:
        address = check_address(spine or default_spine_address())
    except ValueError as exc:
        raise fail(f"--spine: {exc}") from None
    try:
        entries = client.audit_entries(address, after, log="queries")
    except TransportError as exc:
        raise fail(str(exc)) from None
    if as_json:
        typer.echo(json.dumps([{**e, "body": json.loads(e["body"])} for e in entries]))
        return
    for entry in entries:
        body = json.loads(entry["body"])
        when = datetime.fromtimestamp(entry["ts"] / 1e9, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        typer.echo(f"{entry['seq']:>6} {when} {printable(body['reason'])}")  # the engine's error quotes the SQL
        for stmt in body.get("statements", [body]):
            typer.echo(f"         {stmt['sql'][:200]!r} sha256 {stmt['sql_sha256'][:16]}")
