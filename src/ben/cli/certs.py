"""``ben certs``: a small CA and the certificates of mutual TLS between spine, sidecars, operators."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Annotated, Optional

import typer

from ben.cli import fail
from ben.core.files import os_reason

app = typer.Typer(help="Certificates for mutual TLS on TCP (a small CA; or use your own PKI).", no_args_is_help=True)


def default_cert_dir() -> Path:
    from ben.core.address import ben_home

    return ben_home() / "certs"


DirOpt = Annotated[Optional[Path], typer.Option("--dir", help="where the CA and certificates live "
                                                              "(default: $BEN_HOME/certs)")]
ForceOpt = Annotated[bool, typer.Option("--force", help="overwrite existing files")]


@app.command()
def init(directory: DirOpt = None, force: ForceOpt = False) -> None:
    """Create the CA: ca.crt (give it to every component) and ca.key (mode 600: keep it offline)."""
    from ben.core.certs import init_ca

    try:
        path = init_ca(directory or default_cert_dir(), overwrite=force)
    except OSError as exc:
        raise fail(f"--dir {exc.filename or directory}: {os_reason(exc)}") from None
    typer.echo(f"CA certificate: {path}\nCA key:         {path.with_suffix('.key')} (mode 600)")


#: A DNS name (a leading "*." allowed); an IP address is the other name a certificate may carry.
_HOST = re.compile(r"(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]{0,62})?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62})?)*\.?")


def _is_host(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return len(text) <= 253 and _HOST.fullmatch(text) is not None


@app.command()
def issue(
    name: Annotated[str, typer.Argument(metavar="NAME", help="common name: a sidecar id, an operator name, or spine")],
    directory: DirOpt = None,
    server: Annotated[bool, typer.Option("--server", help="a server certificate (the spine's)")] = False,
    host: Annotated[Optional[list[str]], typer.Option(
        "--host", help="host name or IP address sidecars dial the spine by (repeatable; default: loopback)")] = None,
    force: ForceOpt = False,
) -> None:
    """Create NAME.crt and NAME.key (mode 600) signed by the CA; print the config snippet."""
    from ben.core.certs import issue as make

    for one in host or ():
        if not _is_host(one):  # was signed as given: "" or "a,b" in the certificate, refused at the handshake
            raise fail(f"--host {one!r}: expected a host name (spine.example) or an IP address, one per --host")
    directory = directory or default_cert_dir()
    try:
        cert, key = make(directory, name, server=server, hosts=tuple(host or ()), overwrite=force)
    except OSError as exc:
        raise fail(f"--dir {exc.filename or directory}: {os_reason(exc)}") from None
    typer.echo(f"certificate: {cert}\nprivate key: {key} (mode 600)")
    section = "spine" if server else "sidecar"
    typer.echo(f'\n[{section}.tls]\ncert = "{cert}"\nkey = "{key}"\nca = "{directory / "ca.crt"}"')
    if not server:
        typer.echo(f"\n(a sidecar: set sidecar.id = {name!r}; an operator: [[spine.operators]] name = {name!r}, "
                   f"and BEN_TLS_CERT/BEN_TLS_KEY/BEN_TLS_CA for the ben command)")
