"""``ben command send|list|approve|refuse|kill-switch|redeliver``: signed commands through the spine."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from ben.cli import fail, plain, printable

app = typer.Typer(help="Signed, bounded, audited commands (sent through the spine).", no_args_is_help=True)

SpineOpt = Annotated[Optional[str], typer.Option(help="spine address (default: $BEN_HOME/spine.sock)")]
KeyOpt = Annotated[Optional[Path], typer.Option("--key", help="private key that signs (default: $BEN_KEY or "
                                                              "$BEN_HOME/keys/operator.key)")]
#: --ttl's bound: a year (a signed expiry must fit in int64 nanoseconds; the spine's max_ttl_s is 1 day by default).
MAX_TTL_S = 365 * 86_400
ReasonOpt = Annotated[str, typer.Option("--reason", help="why, in a sentence a human reads later (required)")]


def _spine(spine: str | None) -> str:
    from ben.core.address import check_address, default_spine_address

    try:
        return check_address(spine or default_spine_address())
    except ValueError as exc:
        raise fail(f"--spine: {exc}") from None


def _signer(key: Path | None):
    """--key, else $BEN_KEY, else $BEN_HOME/keys/operator.key, else the only key in $BEN_HOME/keys."""
    import os

    from ben.cli.keys import default_key_dir
    from ben.control.keys import load_signer
    from ben.core.address import ENV_KEY, expand_user, path_problem
    from ben.core.errors import ConfigError

    chosen = key or os.environ.get(ENV_KEY)
    named = "--key" if key else f"${ENV_KEY}"  # said in the error: "in /x: key file not found" named neither
    if chosen and (problem := path_problem(str(chosen))):  # " " was "in  : key file …"; a newline split the line
        raise ConfigError(problem, field=named)
    if chosen and str(chosen).startswith("~"):  # quoted ("~/keys/alice.key" in a unit or .env file): the home's,
        chosen = expand_user(str(chosen))     # as $BEN_HOME's is (was "key file not found" of a key that is there)
    if not chosen:
        kdir = default_key_dir()
        present = sorted(kdir.glob("*.key")) if kdir.is_dir() else []
        if (kdir / "operator.key").exists():
            chosen = kdir / "operator.key"
        elif len(present) == 1:
            chosen = present[0]
        elif not present:
            raise fail(f"--key: no key in {kdir} (create one with: ben keys generate NAME; or give --key or "
                       f"${ENV_KEY})")
        else:
            raise fail(f"--key: {len(present)} keys in {kdir} ({', '.join(p.stem for p in present)}): say which one "
                       f"with --key {kdir}/NAME.key or ${ENV_KEY}")
        named = "--key"
    try:
        return load_signer(chosen)
    except ConfigError as exc:
        if exc.field is not None:
            raise
        message = str(exc).removeprefix(f"in {exc.source}: ") if exc.source else str(exc)
        raise ConfigError(message, source=exc.source, field=named) from None


#: Which flag gives each signed field (for errors).
_FLAGS = {"reason": "--reason", "target": "--target", "action": "ACTION", "incident_id": "--incident",
          "params": "--param"}


def _flag_error(exc) -> typer.Exit:
    """A signed field refused while signing, named by the flag that gave it."""
    text = str(exc)
    name = text.split("'")[1] if text.startswith("field '") else ""
    return fail(f"{_FLAGS.get(name.split('.')[0], name or 'command')}: {text}")


def _reason(reason: str) -> str:
    if not reason.strip():
        raise fail("--reason must say why (it travels with the command, its receipt and the audit log)")
    return reason.strip()


def _call(fn, *args):
    from ben.core.errors import ControlError, TransportError

    try:
        return fn(*args)
    except ControlError as exc:
        raise fail(str(exc)) from None
    except TransportError as exc:
        raise fail(f"{exc}; commands go through the running spine") from None


def _params(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise fail(f"--param {item!r}: expected KEY=VALUE")
        if key in out:
            raise fail(f"--param {key!r} given twice")
        out[key] = value
    return out


def _show(reply, as_json: bool) -> None:
    rec = json.loads(reply.record_json) if reply.record_json else {}
    if as_json:
        typer.echo(json.dumps(rec))
        return
    line = f"{reply.command_id}: {reply.state}"
    if rec.get("code") and rec.get("code") not in ("ok", "approved"):
        line += f" ({rec['code']})"
    # the reason is an operator's (for the approver, another's), a refusal quoting it, or a sidecar's receipt: signed
    # texts take bidirectional overrides, so the line is written ``printable`` (ADR 0045, round 14)
    typer.echo(printable(f"{line}. {reply.reason}"))


@app.command()
def send(
    action: Annotated[str, typer.Argument(metavar="ACTION", help="set_mode, throttle_job, quarantine_artifact, or "
                                                                 "a custom action")],
    target: Annotated[str, typer.Option("--target", help="the subsystem to act on")],
    reason: ReasonOpt,
    param: Annotated[Optional[list[str]], typer.Option("--param", help="KEY=VALUE (repeatable)")] = None,
    incident: Annotated[str, typer.Option("--incident", help="the incident that prompted it (inc-...)")] = "",
    ttl: Annotated[int, typer.Option("--ttl", help="seconds the command stays valid (the spine's "
                                                   "control.max_ttl_s bounds it)", min=1, max=MAX_TTL_S)] = 600,
    key: KeyOpt = None,
    wait: Annotated[float, typer.Option("--wait", help="wait up to SECS for the receipt", min=0)] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="print the record as JSON")] = False,
    spine: SpineOpt = None,
) -> None:
    """Sign a command with your key and send it to the spine (policy decides: run, propose or refuse)."""
    from ben.control import client
    from ben.control.actions import coerce_params
    from ben.control.documents import ACTION_RE, ID_RE, TARGET_RE, make_envelope
    from ben.core.errors import ControlError

    if not ACTION_RE.fullmatch(action):
        raise fail(f"ACTION {action!r}: expected lowercase letters, digits and '_' (e.g. set_mode)")
    if not TARGET_RE.fullmatch(target):
        raise fail(f"--target {target!r}: expected letters, digits, '.', '_' or '-'")
    if incident and not ID_RE.fullmatch(incident):
        raise fail(f"--incident {incident!r}: expected an id such as inc-3f2a9c0d1e")
    reason = _reason(reason)
    try:
        params = coerce_params(action, _params(param or []))
    except ControlError as exc:
        from ben.cli.usage import shorter

        why = shorter(str(exc)).replace(": Field required", ": missing (--param KEY=VALUE)")
        raise fail(f"--param: {why}") from None
    address = _spine(spine)
    signer = _signer(key)
    try:
        _, signed = make_envelope(signer, action, target, params, reason, ttl_s=ttl, incident_id=incident)
    except ControlError as exc:
        raise _flag_error(exc) from None
    reply = _call(client.send, address, signed)
    if wait and reply.state in ("pending", "delivered"):
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            rec = _call(client.get_command, address, reply.command_id)
            if rec.get("receipt"):
                reply = type(reply)(command_id=rec["id"], state=rec["state"],
                                    reason=rec.get("refusal") or rec["reason"], record_json=json.dumps(rec))
                break
            time.sleep(0.1)
    _show(reply, as_json)
    if reply.state in ("refused", "failed"):
        raise typer.Exit(1)
    if reply.state in ("pending", "delivered"):  # was "pending. <reason>", exit 0: read as done
        waited = f"no receipt within --wait {wait:g} s" if wait else "sent, no receipt yet"
        typer.echo(f"{waited}: it runs when a sidecar of subsystem {printable(target)!r} is attached and takes it "
                   "(ben status lists the sidecars; ben command list shows the receipt when it comes)",
                   err=True)
        if wait:
            raise typer.Exit(1)


@app.command("list")
def list_(
    state: Annotated[str, typer.Option(help="only commands in this state: awaiting_approval, pending, delivered, "
                                            "refused, accepted or failed")] = "",
    limit: Annotated[int, typer.Option(min=1, max=100_000)] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="print as JSON")] = False,
    spine: SpineOpt = None,
) -> None:
    """Commands, newest first: state, who signed, why, and the receipt's outcome."""
    from rich.console import Console
    from rich.table import Table

    from ben.control import client

    if state and state not in client.COMMAND_STATES:
        raise fail(f"--state {state!r}: expected one of {', '.join(client.COMMAND_STATES)}")
    records = _call(client.list_commands, _spine(spine), limit, state)
    if as_json:
        typer.echo(json.dumps(records))
        return
    table = Table(title="commands")
    for col in ("id", "state", "action", "target", "issuer", "reason", "incident", "outcome"):
        table.add_column(col, overflow="fold")
    for r in records:
        outcome = r.get("refusal") or (json.dumps(r.get("result")) if r.get("receipt") else "")
        table.add_row(*map(plain, (r["id"], r["state"], r["action"], r["target"], r.get("issuer_name", r["issuer"]),
                                   r["reason"], r.get("incident_id", ""), outcome)))
    Console().print(table)


def _decide(command_id: str, decision: str, reason: str, key: Path | None, spine: str | None, as_json: bool) -> None:
    from ben.control import client
    from ben.control.documents import Approval, Signed, new_nonce, now_ns

    reason = _reason(reason)
    address = _spine(spine)
    rec = _call(client.get_command, address, command_id)
    signer = _signer(key)
    envelope = Signed.from_json(rec["envelope"])
    approval = Approval(command_id=rec["id"], envelope_hash=envelope.hash, decision=decision, issuer=signer.id,
                        issued_at=now_ns(), nonce=new_nonce(), reason=reason).sign(signer)
    _checked(Approval, approval)
    _show(_call(client.decide, address, approval), as_json)


def _checked(kind, signed) -> None:
    """Refuse to send what the spine would refuse to read (e.g. a control character in --reason)."""
    from ben.core.errors import ControlError

    try:
        kind.parse(signed.body)
    except ControlError as exc:
        raise _flag_error(exc) from None


@app.command()
def approve(
    command_id: Annotated[str, typer.Argument(metavar="ID")],
    reason: ReasonOpt,
    key: KeyOpt = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    spine: SpineOpt = None,
) -> None:
    """Approve a command awaiting approval (signed with your operator key); it is then delivered."""
    _decide(command_id, "approve", reason, key, spine, as_json)


@app.command()
def refuse(
    command_id: Annotated[str, typer.Argument(metavar="ID")],
    reason: ReasonOpt,
    key: KeyOpt = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    spine: SpineOpt = None,
) -> None:
    """Refuse a command awaiting approval (signed with your operator key)."""
    _decide(command_id, "refuse", reason, key, spine, as_json)


@app.command("kill-switch")
def kill_switch(
    state: Annotated[str, typer.Argument(metavar="on|off", help="on: stop all automation now; off: resume")],
    reason: ReasonOpt,
    key: KeyOpt = None,
    spine: SpineOpt = None,
) -> None:
    """Stop (or resume) every automation-signed command at once."""
    from ben.control import client
    from ben.control.documents import KillSwitch, new_nonce, now_ns

    if state not in ("on", "off"):
        raise fail(f"on|off {state!r}: expected 'on' or 'off' (on: stop all automation; off: resume)")
    signer = _signer(key)
    order = KillSwitch(on=state == "on", issuer=signer.id, issued_at=now_ns(), nonce=new_nonce(),
                       reason=_reason(reason)).sign(signer)
    _checked(KillSwitch, order)
    reply = _call(client.kill_switch, _spine(spine), order)
    typer.echo(printable(f"kill switch {state}: {reply.reason}"))


@app.command()
def redeliver(
    command_id: Annotated[str, typer.Argument(metavar="ID")],
    spine: SpineOpt = None,
) -> None:
    """Deliver a command to its sidecar again: it does not run again; the sidecar answers the same receipt."""
    from ben.control import client

    reply = _call(client.redeliver, _spine(spine), command_id)
    typer.echo(printable(f"{reply.command_id}: redelivered ({reply.state})"))
