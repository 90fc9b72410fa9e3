"""``ben query`` and ``ben status``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from ben.cli import app, fail

SpineOpt = Annotated[Optional[str], typer.Option(help="spine address (default: ~/.local/state/ben/spine.sock)")]


def render_table(result: dict, title: str | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    names = [m["name"] for m in result.get("meta", [])]
    for name in names:
        table.add_column(name)
    for row in result.get("data", []):
        table.add_row(*(v if isinstance(v, str) else json.dumps(v) for v in (row[n] for n in names)))
    Console().print(table)
    typer.echo(f"{result.get('rows', len(result.get('data', [])))} row(s)")


@app.command()
def query(
    sql: Annotated[str, typer.Argument(metavar="SQL", help="one read-only statement, e.g. \"SELECT count() FROM ben.events\"")],
    as_json: Annotated[bool, typer.Option("--json", help="print rows as JSON")] = False,
    spine: SpineOpt = None,
    data_dir: Annotated[Optional[Path], typer.Option(help="read a chDB directory directly (spine stopped)")] = None,
) -> None:
    """Run SQL on the store: through the running spine, or on a chDB directory."""
    from ben.core.address import check_address, default_spine_address
    from ben.core.admin import run_query
    from ben.core.errors import TransportError

    if data_dir is not None:
        from ben.store.chdb import ChdbStore

        if not data_dir.is_dir():
            raise fail(f"--data-dir {data_dir}: not a directory")
        store = ChdbStore(data_dir)
        try:
            raw = store.query_json(sql)
        finally:
            store.close()
    else:
        address = check_address(spine or default_spine_address())
        try:
            raw = run_query(address, sql)
        except TransportError as exc:
            raise fail(f"{exc}; start the spine, or pass --data-dir to read a stopped spine's store") from None
    result = json.loads(raw)
    if as_json:
        typer.echo(json.dumps(result.get("data", []), indent=None))
    else:
        render_table(result)


@app.command()
def status(
    spine: SpineOpt = None,
    sidecar: Annotated[Optional[str], typer.Option(help="sidecar address")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print as JSON")] = False,
) -> None:
    """Figures of the sidecar and the spine: WAL depth and bytes, acks, rows stored."""
    from ben.core.address import check_address, default_sidecar_address, default_spine_address
    from ben.core.admin import fetch_status
    from ben.core.errors import TransportError

    out = {}
    for label, address in (("sidecar", sidecar or default_sidecar_address()),
                           ("spine", spine or default_spine_address())):
        try:
            reply = fetch_status(check_address(address))
            out[label] = {"id": reply.id, **dict(reply.figures)}
        except TransportError as exc:
            out[label] = {"error": str(exc)}
    if as_json:
        typer.echo(json.dumps(out))
        return
    from rich.console import Console
    from rich.table import Table

    for label, figures in out.items():
        table = Table(title=f"{label} {figures.get('id', '')}")
        table.add_column("figure")
        table.add_column("value", justify="right")
        for key, value in figures.items():
            if key != "id":
                table.add_row(key, f"{value:,.0f}" if isinstance(value, float) and value == int(value) else str(value))
        Console().print(table)
