"""``ben emit``: send one event from the shell and wait for the sidecar's acknowledgement."""

from __future__ import annotations

import logging
import math
import time
from typing import Annotated, Optional

import typer

from ben.cli import app, fail, sdk_client, sidecar_listening
from ben.core.address import NOT_BEN

KINDS = ("metric", "counter", "event", "log", "alert")


def parse_attrs(pairs: list[str], flag: str = "--attr") -> dict[str, str]:
    attrs = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise fail(f"{flag} {pair!r}: expected KEY=VALUE")
        if key in attrs and attrs[key] != value:  # the last one won, in silence
            raise fail(f"{flag} {key!r} given twice ({attrs[key]!r} and {value!r}): an event has one value per key")
        attrs[key] = value
    return attrs


def _flushed(client, sidecar: str, timeout: float) -> bool:
    """``client.flush(timeout)``, cut short once what answers at ``sidecar`` is no ben component (an OTLP port):
    it never acknowledges, and the whole --timeout was waited before the line said so."""

    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if client.flush(min(0.25, left)):
            return True
        if left <= 0.25 or NOT_BEN in client.last_error:
            return False


@app.command()
def emit(
    name: Annotated[str, typer.Argument(metavar="NAME", help="series or event name, e.g. deploy or latency_ms")],
    kind: Annotated[str, typer.Option(help=f"one of {', '.join(KINDS)} (gauge: metric, the SDK's name)")] = "event",
    value: Annotated[Optional[float], typer.Option(help="the value (metric, counter; default 1)")] = None,
    body: Annotated[str, typer.Option(help="text: log message, alert or event description")] = "",
    attr: Annotated[Optional[list[str]], typer.Option("--attr", "-a", help="KEY=VALUE, repeatable")] = None,
    subsystem: Annotated[str, typer.Option(help="subsystem the event belongs to")] = "shell",
    sidecar: Annotated[Optional[str], typer.Option(help="sidecar address (default: $BEN_SIDECAR_SOCKET, else $BEN_HOME/sidecar.sock; $BEN_HOME: ~/.local/state/ben unless set)")] = None,
    timeout: Annotated[float, typer.Option(help="seconds to wait for the acknowledgement")] = 10.0,
) -> None:
    """Send one event and wait until the sidecar has it on disk."""

    kind = "metric" if kind == "gauge" else kind  # Client.gauge() stores a "metric" row: both words are taken
    if kind not in KINDS:
        raise fail(f"--kind {kind!r}: expected one of {', '.join(KINDS)}")
    if not name.strip():
        raise fail("NAME must not be empty")
    if value is not None and kind not in ("metric", "counter"):   # was dropped in silence
        raise fail(f"--value applies to --kind metric or counter, not {kind} (its text goes in --body)")
    if body and kind in ("metric", "counter"):
        raise fail(f"--body applies to an event, log or alert; a {kind} has a --value and --attr, no text")
    value = 1.0 if value is None else value
    attrs = parse_attrs(attr or [])
    if not (math.isfinite(timeout) and timeout > 0):
        raise fail(f"--timeout {timeout}: expected a number of seconds > 0")
    sidecar = sidecar_listening(sidecar)
    client = sdk_client(subsystem, sidecar=sidecar, flush_interval_ms=10, reconnect_max_ms=500)
    # emit says every outcome itself, in one line: the SDK's own warnings (a refused event, a shutdown with the
    # event unacknowledged) would repeat it, the latter after the error line.
    logging.getLogger("ben.sdk").setLevel(logging.ERROR)
    try:
        if kind == "metric":
            seq = client.gauge(name, value, attrs)
        elif kind == "counter":
            seq = client.counter(name, value, attrs)
        elif kind == "log":
            seq = client.log(body or name, level=name, attrs=attrs)
        elif kind == "alert":
            seq = client.alert(name, body, attrs)
        else:
            seq = client.event(name, attrs, body=body)
        if seq is None:
            flags = {"value": "--value", "increment": "--value", "name": "NAME", "attrs": "--attr", "body": "--body",
                     "level": "NAME"}
            field = client.stats.last_invalid.split("'", 2)[1] if "'" in client.stats.last_invalid else ""
            flag = flags.get(field.split("[")[0], "")
            raise fail(f"{flag + ': ' if flag else ''}the event was refused: {client.stats.last_invalid}")
        if not _flushed(client, sidecar, timeout):
            why = client.last_error or "no answer; is a ben sidecar listening there?"
            raise fail(f"no acknowledgement from the sidecar: {why}" if NOT_BEN in why else
                       f"no acknowledgement from the sidecar at {sidecar} within {timeout:g} s (--timeout): {why}",
                       code=1)
        if client.stats.rejected:
            raise fail("the sidecar refused the event (see its log)", code=1)
    finally:
        client.shutdown(timeout=0.5)
    if client.stats.truncated or client.stats.replaced_strings:
        typer.echo(f"note: {client.stats.truncated} text(s) cut to ben's limits, {client.stats.replaced_strings} with "
                   "invalid UTF-8 replaced (ben.sdk.limits)", err=True)
    typer.echo(f"acknowledged: {kind} {name!r} producer={client.producer_id} seq={seq}")
