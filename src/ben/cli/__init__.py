"""The ``ben`` command line (typer + rich). Heavy imports happen inside each command."""

from __future__ import annotations

import logging
import os
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


def _version(value: bool) -> None:
    if value:
        from ben import __version__

        typer.echo(f"ben {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="print ben's version and exit"),
) -> None:
    """ben: observability with teeth, without lock-in."""


def plain(value: object):
    """Text shown verbatim in a rich table or line: stored data may hold "[red]", "[/]" or ":x:",
    which rich would otherwise read as markup (or fail on) and emoji codes."""
    from rich.text import Text

    return Text(value if isinstance(value, str) else str(value))


def setup_logging(verbose: bool = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


from ben.cli import (audit, bench, certs, command, demo, emit, federation, incidents, keys, query, redact,  # noqa: E402
                     serve, synth, web)

app.add_typer(bench.app, name="bench")
app.add_typer(redact.app, name="redact")
app.add_typer(keys.app, name="keys")
app.add_typer(command.app, name="command")
app.add_typer(audit.app, name="audit")
app.add_typer(certs.app, name="certs")
app.add_typer(federation.app, name="federation")
from ben.cli import cortex  # noqa: E402
app.add_typer(cortex.app, name="cortex")
from ben.cli import baseline  # noqa: E402  (after cortex: it adds ``label`` to the ``incidents`` group)
app.add_typer(baseline.app, name="baseline")
baseline.add_label_command()
del audit, baseline, bench, certs, command, cortex, demo, emit, federation, incidents, keys, query, redact, serve, synth, web


def main() -> None:
    # Whatever a ben command creates (chDB opened by `ben query --data-dir`, keys, certificates,
    # data directories) is the user's alone (ADR 0034).
    os.umask(0o077)
    try:
        app()
    except BenError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
