"""``ben keys generate``: an Ed25519 key pair for an operator, an automation, or a component;
``ben keys trust --sidecar ID PUBKEY``: pin a sidecar's key in the trust store."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Optional

import typer

from ben.cli import fail
from ben.core.files import os_reason

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
    from ben.control.trust_store import NAME

    if not re.fullmatch(NAME.strip("^$"), role):  # it goes into the TOML snippet printed below
        raise fail(f"--role {role!r}: expected letters, digits, '.', '_' or '-' (at most 64), a role of the trust "
                   "store")

    try:
        signer = make(directory or default_key_dir(), name, overwrite=force)
    except OSError as exc:
        raise fail(f"--dir {exc.filename or directory}: {os_reason(exc)}") from None
    typer.echo(f"key id:      {signer.id}")
    typer.echo(f"private key: {signer.path} (mode 600: keep it secret)")
    typer.echo(f"public key:  {signer.path.with_suffix('.pub')}")
    typer.echo("\nAdd to the trust store:\n")
    typer.echo(f'[[keys]]\nname = "{name}"\nrole = "{role}"\npublic_key = "{signer.public_text}"')


@app.command()
def trust(
    sidecar: Annotated[str, typer.Option("--sidecar", metavar="ID", help="the sidecar's id (its `id` setting)")],
    public_key: Annotated[str, typer.Argument(metavar="PUBKEY", help="the sidecar's public key: the base64 text of "
                                                                     "<data_dir>/control/sidecar.pub, or that file")],
    trust_file: Annotated[Path, typer.Option("--trust", help="the trust store to add the pin to (the spine's "
                                                             "control.trust)")],
    target: Annotated[Optional[list[str]], typer.Option(
        "--target", metavar="PATTERN", help="a glob of the targets this sidecar may take commands for (repeat it; "
                                            "default: any target it announces)")] = None,
) -> None:
    """Pin a sidecar's receipt key in the trust store: the spine takes its attach and receipts only then.

    The spine reads the trust store again when it changed, and audits every pin change.

    With --target, the pin names the only targets the sidecar may take commands for (ADR 0045 round 14).
    """
    from ben.cli import fail
    from ben.control.keys import key_id, public_from_text
    from ben.control.trust_store import NAME
    from ben.core.dirlock import writing_in
    from ben.core.errors import ConfigError

    if not re.fullmatch(NAME.strip("^$"), sidecar):
        raise fail(f"--sidecar {sidecar!r}: expected letters, digits, '.', '_' or '-' (at most 64)")
    for pattern in target or ():
        if not pattern or not pattern.isprintable() or any(c.isspace() for c in pattern):
            raise fail(f"--target {pattern!r}: not a glob of targets (no space or control character; e.g. 'web-*')")
    if Path(public_key).is_file():
        try:
            text = Path(public_key).read_text(encoding="utf-8-sig").strip()  # a byte order mark: no key
        except (OSError, UnicodeDecodeError) as exc:
            why = "not a text file" if isinstance(exc, UnicodeDecodeError) else f"cannot read: {exc.strerror or exc}"
            raise fail(f"PUBKEY {public_key}: {why} (expected the base64 text of <data_dir>/control/sidecar.pub)") \
                from None
    elif os.path.lexists(public_key):  # a directory, a FIFO, a device, a dangling link: was read as key text
        raise fail(f"PUBKEY {public_key}: {_not_a_file(Path(public_key))} (expected the base64 text of "
                   "<data_dir>/control/sidecar.pub, or that file)")
    else:
        text = public_key.strip()
        if not re.fullmatch(r"[A-Za-z0-9+/]{42,44}=*", text):  # a path with a typo: was "not an Ed25519 public key"
            raise fail(f"PUBKEY {public_key[:120]!r}: no such file, and not the base64 text of a public key "
                       "(give the sidecar's <data_dir>/control/sidecar.pub, or its text)")
    if "PRIVATE KEY-----" in text:  # was "not an Ed25519 public key": the .key beside the .pub, given by mistake
        raise fail(f"PUBKEY {public_key if Path(public_key).is_file() else '(text)'}: a private key, not the public "
                   "one: give the sidecar's <data_dir>/control/sidecar.pub")
    if trust_file.is_dir() or not trust_file.parent.is_dir():
        raise fail(f"--trust {trust_file}: " + ("a directory, not a file" if trust_file.is_dir() else
                                                f"no directory {trust_file.parent}"))
    try:
        public = public_from_text(text, source="command line", field="PUBKEY")
    except ConfigError as exc:
        raise fail(str(exc)) from None
    # the store is read, checked and written back by one `ben keys trust` at a time: two at once (a script pinning
    # its sidecars in parallel) both said "pinned" and the store kept one of the two pins (ADR 0033, round 10)
    with writing_in(trust_file.parent, "--trust", trust_file.name):
        if not _pin(trust_file, sidecar, text, key_id(public.public_bytes_raw()), target or None):
            return
    typer.echo(f"pinned sidecar {sidecar} to key {key_id(public.public_bytes_raw())}"
               f"{' for targets ' + ', '.join(target) if target else ''} in {trust_file}")


def _not_a_file(path: Path) -> str:
    import stat

    try:
        mode = path.stat().st_mode
    except OSError as exc:  # a dangling link, a loop
        return f"cannot read it: {os_reason(exc)}"
    kinds = {stat.S_IFDIR: "a directory", stat.S_IFIFO: "a FIFO (named pipe)", stat.S_IFSOCK: "a socket",
             stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device"}
    return kinds.get(stat.S_IFMT(mode), "no regular file") + ", not a file"


def _pin(trust_file: Path, sidecar: str, text: str, kid: str, targets: list[str] | None = None) -> bool:
    """Add the pin to ``trust_file`` (whole or not at all); False when it is there already."""
    import json
    import tempfile

    from ben.control.trust_store import TrustStore
    from ben.core.errors import ConfigError

    try:
        current = TrustStore.load(trust_file) if trust_file.exists() else None
    except ConfigError as exc:
        raise fail(str(exc)) from None
    if current is not None and sidecar in current.sidecars:
        if current.sidecars[sidecar] == text:
            held = current.sidecar_targets.get(sidecar)
            if targets is not None and held != targets:  # was: "already pinned", the targets asked for not written
                raise fail(f"--target: sidecar {sidecar} is already pinned in {trust_file} with targets "
                           f"{held or 'any'}; edit its [[sidecars]] entry to change them (the spine audits the change)")
            typer.echo(f"sidecar {sidecar} is already pinned to {kid} in {trust_file}")
            return False
        raise fail(f"--sidecar {sidecar}: already pinned to another key in {trust_file}; edit its [[sidecars]] "
                   "entry to change it (the spine audits the change)")
    old = trust_file.read_text() if trust_file.exists() else ""
    new = old + ("" if not old or old.endswith("\n") else "\n") + (
        f'\n[[sidecars]]\nid = "{sidecar}"\npublic_key = "{text}"\n'
        + (f"targets = [{', '.join(json.dumps(t) for t in targets)}]\n" if targets else ""))
    # an unguessable name made with O_EXCL: never a file or symlink another account made first (ADR 0045)
    fd, name = tempfile.mkstemp(prefix=f".{trust_file.name}.", suffix=".tmp", dir=trust_file.parent)
    tmp = Path(name)
    try:  # all of it (one os.write may write part on a nearly full disk), or nothing: a full disk left the
        # temporary file beside the store and said "error:: No space left on device", naming nothing
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), trust_file.stat().st_mode & 0o777 if trust_file.exists() else 0o600)
            f.write(new.encode())
            f.flush()
            os.fsync(f.fileno())
        TrustStore.load(tmp)
        os.replace(tmp, trust_file)
    except OSError as exc:
        raise fail(f"--trust {trust_file}: cannot write it: {exc.strerror or exc} (it is as it was; nothing "
                   "was pinned)") from None
    except ConfigError as exc:
        raise fail(f"the trust store would not load with this pin: {exc}") from None
    finally:  # Ctrl-C while it wrote left the temporary file beside the store (only an OSError removed it)
        tmp.unlink(missing_ok=True)
    return True
