"""The ``ben`` command line (typer + rich). Heavy imports happen inside each command."""

from __future__ import annotations

import logging
import sys

import typer

from ben.core.errors import BenError

app = typer.Typer(
    name="ben",
    help="ben: observability with teeth, without lock-in.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def setup_logging(verbose: bool = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


from ben.cli import audit, bench, command, demo, emit, incidents, keys, query, redact, serve, synth  # noqa: E402

app.add_typer(bench.app, name="bench")
app.add_typer(redact.app, name="redact")
app.add_typer(keys.app, name="keys")
app.add_typer(command.app, name="command")
app.add_typer(audit.app, name="audit")
from ben.cli import cortex  # noqa: E402
app.add_typer(cortex.app, name="cortex")
del audit, bench, command, demo, emit, incidents, keys, query, redact, serve, synth


def main() -> None:
    try:
        app()
    except BenError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
