"""``ben keys generate``: an Ed25519 key pair for an operator, an automation, or a component."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

app = typer.Typer(help="Ed25519 keys that sign commands and approvals.", no_args_is_help=True)


def default_key_dir() -> Path:
    from ben.core.address import ben_home

    return ben_home() / "keys"


@app.command()
def generate(
    name: Annotated[str, typer.Argument(metavar="NAME", help="key name, e.g. alice or nightly-automation")],
    directory: Annotated[Optional[Path], typer.Option("--dir", help="where to write NAME.key and NAME.pub "
                                                                    "(default: $BEN_HOME/keys)")] = None,
    role: Annotated[str, typer.Option(help="role to print in the trust-store snippet")] = "operator",
    force: Annotated[bool, typer.Option("--force", help="overwrite an existing key")] = False,
) -> None:
    """Create NAME.key (private, mode 0600) and NAME.pub; print its id and a trust-store entry."""
    from ben.control.keys import generate as make

    signer = make(directory or default_key_dir(), name, overwrite=force)
    typer.echo(f"key id:      {signer.id}")
    typer.echo(f"private key: {signer.path} (mode 600: keep it secret)")
    typer.echo(f"public key:  {signer.path.with_suffix('.pub')}")
    typer.echo("\nAdd to the trust store:\n")
    typer.echo(f'[[keys]]\nname = "{name}"\nrole = "{role}"\npublic_key = "{signer.public_text}"')
