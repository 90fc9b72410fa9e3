"""``ben federation status``: peers, lag, published / received / rejected summaries (ADR 0038)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from ben.cli import fail, printable

app = typer.Typer(help="Federated incident summaries over NATS JetStream.", no_args_is_help=True)


@app.command()
def status(
    config: Annotated[Optional[Path], typer.Option("--config", help="ben config file (its spine.data_dir)")] = None,
    data_dir: Annotated[Optional[Path], typer.Option("--data-dir", help="the spine's data directory")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object")] = False,
) -> None:
    """What the running spine's federation reports (written by it every poll)."""
    from ben.cli import one_of
    from ben.core.config import load_config
    from ben.core.files import os_reason

    one_of(config=config, data_dir=data_dir)  # the config only names the data directory: one was ignored
    if data_dir is not None and not data_dir.is_dir():  # was "no federation status (is ... the spine running?)"
        raise fail(f"--data-dir {data_dir}: not a directory (the spine's data_dir)")
    spine = load_config(config).spine
    path = (data_dir or spine.data_dir) / "federation" / "status.json"
    try:
        st = json.loads(path.read_text())
    except FileNotFoundError:
        raise fail(f"{path}: no federation status (is [spine.federation] enabled and the spine running?)") from None
    except OSError as exc:
        raise fail(f"{path}: cannot read the federation status: {os_reason(exc)}") from None
    except ValueError as exc:
        raise fail(f"{path}: cannot read the federation status: {exc}") from None
    if as_json:
        typer.echo(json.dumps(st, indent=1, sort_keys=True))
        return
    if not isinstance(st, dict):  # was "unexpected AttributeError (a bug in ben)"
        raise fail(f"{path}: not a federation status (a JSON {type(st).__name__}, not an object)")
    try:  # a status another version of ben wrote, or a damaged one: was "unexpected KeyError (a bug in ben)"
        lines = _lines(st)
    except KeyError as exc:
        raise fail(f"{path}: not a federation status this ben reads (no field {exc.args[0]!r}); "
                   "--json shows it as it is") from None
    except (TypeError, ValueError, AttributeError, OverflowError, OSError) as exc:
        raise fail(f"{path}: not a federation status this ben reads ({exc}); --json shows it as it is") from None
    for line in lines:  # names of other clusters, as their summaries came: escaped
        typer.echo(printable(line))


def _lines(st: dict) -> list[str]:
    out = []
    age = int(time.time()) - int(st.get("updated", 0))
    # Written every poll: one much older is a spine that stopped (its last word may be "connected").
    stale = age > max(60, 5 * int(st.get("poll_interval_ms", 1000)) // 1000)
    out.append(f"cluster {st['cluster']} on {', '.join(st['servers'])} (stream {st['stream']}): "
               f"{'connected' if st['connected'] else 'NOT connected'}; status {age}s old"
               + (": STALE (the spine writes it every poll: is it running?)" if stale else ""))
    out.append(f"published {st['published']} (duplicates dropped by JetStream {st['publish_duplicates']}), "
               f"outbox {st['outbox_depth']}, held back {st['held_back']}")
    rejected = ", ".join(f"{k} {v}" for k, v in sorted(st["rejected"].items())) or "none"
    out.append(f"received {st['received']} (redelivered {st['redelivered']}), lag {st['lag']}, "
               f"rejected {st['rejected_total']} ({rejected})")
    for name, peer in sorted(st["peers"].items()):
        last = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(peer["last_published"]))
        out.append(f"  peer {name}: {peer['received']} summaries, last published {last} UTC")
    if st.get("last_error"):
        out.append(f"last error: {st['last_error']}")
    return out
