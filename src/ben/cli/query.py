"""``ben query`` and ``ben status``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from ben.cli import address_flag, app, fail, one_of, only_with, open_chdb, plain, printable

SpineOpt = Annotated[Optional[str], typer.Option(help="spine address (default: $BEN_HOME/spine.sock, $BEN_HOME being ~/.local/state/ben unless set)")]


#: The most rows a table shows (as the web's SQL page). A result of 200,000 rows (well under the store's 256 MiB
#: bound) was laid out by rich for over five minutes, 690 MB and growing, printing nothing: ben looked hung (ADR 0033,
#: round 15). ``--json`` prints every row.
MAX_TABLE_ROWS = 1_000


def render_table(result: dict, title: str | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    names = [m["name"] for m in result.get("meta", [])]
    for name in names:
        table.add_column(plain(name))
    data = result.get("data", [])
    for row in data[:MAX_TABLE_ROWS]:
        table.add_row(*(plain(v if isinstance(v, str) else json.dumps(v)) for v in (row[n] for n in names)))
    Console().print(table)
    rows = result.get("rows", len(data))
    typer.echo(f"{rows} row(s)" + (f"; the first {MAX_TABLE_ROWS:,} shown (--json prints every row)"
                                   if len(data) > MAX_TABLE_ROWS else ""))


def _cancelled_by_ctrl_c(store, sql: str, limits) -> bytes:
    """``store.operator_query`` of a stopped spine's chDB store, run in a thread of its own so that Ctrl-C cancels
    it: run by this thread, chDB held it until the query ended (``query_timeout_s``, a minute by default) and Ctrl-C
    was heard only then. Through the spine, Ctrl-C cancels the call (``run_query``)."""
    import signal
    import threading

    from ben.store.query import new_query_id

    query_id, box, done = new_query_id(), {}, threading.Event()

    def run() -> None:
        try:
            box["raw"] = store.operator_query(sql, query_id, limits)
        except BaseException as exc:  # handed to the caller's thread
            box["error"] = exc
        finally:
            done.set()

    worker = threading.Thread(target=run, name="ben-query", daemon=True)
    # SIGINT is held while the worker starts (a Ctrl-C within start() could not tell whether it runs), and the
    # worker and chDB's threads keep it held: the signal is this thread's. The wait is on an Event, not join():
    # Python 3.11's join() interrupted by Ctrl-C takes the thread for ended (bpo-45274's handling) while it runs.
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        worker.start()
    except BaseException:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
        raise
    try:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)  # a Ctrl-C held meanwhile arrives here
        done.wait()
    except KeyboardInterrupt:
        # again until the query ends: a cancel before its statement started (its sandbox not yet open, its checks
        # under way) finds nothing to kill; a second Ctrl-C leaves at once
        while not done.is_set():
            store.cancel_query(query_id)
            done.wait(0.1)
        raise fail("query interrupted; it was cancelled", code=130) from None
    if "error" in box:
        raise box["error"]
    return box["raw"]


@app.command()
def query(
    sql: Annotated[str, typer.Argument(metavar="SQL", help="one read-only statement, e.g. \"SELECT count() FROM ben.events\"")],
    as_json: Annotated[bool, typer.Option("--json", help="print rows as JSON")] = False,
    spine: SpineOpt = None,
    data_dir: Annotated[Optional[Path], typer.Option(help="read a chDB directory directly (spine stopped)")] = None,
    clickhouse: Annotated[Optional[str], typer.Option(
        metavar="HOST:PORT", help="read a ClickHouse server directly (native protocol; password from "
        "$BEN_CLICKHOUSE_PASSWORD)")] = None,
    clickhouse_user: Annotated[str, typer.Option(help="user for --clickhouse")] = "default",
) -> None:
    """Run SQL on the store: through the running spine, on a chDB directory, or on a ClickHouse server."""
    from ben.core.address import ENV_CLICKHOUSE_PASSWORD
    from ben.core.admin import run_query
    from ben.core.errors import QueryError, StorageError, TransportError
    from ben.store.query import QueryLimits, new_query_id

    one_of(data_dir=data_dir, clickhouse=clickhouse, spine=spine)
    only_with("--clickhouse", clickhouse is not None, "clickhouse_user")
    try:
        sql.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise fail(f"SQL: not valid UTF-8 text (a byte 0x{ord(sql[exc.start]) & 0xff:02x} at {exc.start})") from None
    if clickhouse is not None:
        import os

        from ben.store.server import ClickHouseStore

        host, sep, port = clickhouse.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise fail(f"--clickhouse {clickhouse!r}: expected HOST:PORT (the native protocol port, e.g. 9000)")
        try:
            store = ClickHouseStore(host, int(port), clickhouse_user, os.environ.get(ENV_CLICKHOUSE_PASSWORD, ""),
                                    prepare=False)
        except StorageError as exc:
            raise fail(f"--clickhouse {clickhouse}: {exc}") from None
        try:
            raw = store.operator_query(sql, new_query_id(), QueryLimits())
        except QueryError as exc:
            raise fail(str(exc)) from None
        finally:
            store.close()
    elif data_dir is not None:
        store = open_chdb(data_dir)
        try:
            raw = _cancelled_by_ctrl_c(store, sql, QueryLimits())
        except QueryError as exc:
            raise fail(str(exc)) from None
        finally:
            store.close()
    else:
        address = address_flag(spine, "--spine")
        try:
            raw = run_query(address, sql)
        except KeyboardInterrupt:
            raise fail("query interrupted; the spine cancels it", code=130) from None
        except QueryError as exc:  # the spine answered: what happened to the query
            raise fail(str(exc)) from None
        except TransportError as exc:  # nothing answered, or what answered is not the spine this end may talk to
            hint = "; start the spine, or pass --data-dir to read a stopped spine's store"
            raise fail(f"{exc}{hint if 'nothing answers' in str(exc) else ''}") from None
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
    """Per component: WAL depth, bytes and oldest age per lane, acks, drops and refusals by reason."""
    from ben.core.admin import fetch_status
    from ben.core.errors import TransportError

    out: dict[str, dict] = {}
    for label, address in (("sidecar", address_flag(sidecar, "--sidecar")), ("spine", address_flag(spine, "--spine"))):
        try:
            reply = fetch_status(address)
        except TransportError as exc:
            out[label] = {"error": str(exc)}
            continue
        if reply.component and reply.component != label:  # the two addresses swapped: each shown under the other
            out[label] = {"error": f"{address} is the {reply.component}'s address, not a {label}'s (--{label} names "
                                   f"the {label}'s; the {reply.component}'s is --{reply.component})"}
            continue
        out[label] = {"id": reply.id, "last_error": reply.last_error,
                      "figures": [{"name": f.name, "labels": dict(f.labels), "value": f.value} for f in reply.figures]}
    if as_json:
        typer.echo(json.dumps(out))
    else:
        render_status(out)
    if any("error" in v for v in out.values()):
        raise typer.Exit(1)


def render_status(out: dict) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console()
    # a line is one line (soft_wrap): piped (rich's 80 columns) "nothing answers at ... (is it" and "running?)" were
    # two, which a script's grep or a log reads apart (ADR 0033, round 15); a terminal still wraps it on screen
    for label, comp in out.items():
        if "error" in comp:
            console.print(Text.assemble((label, "bold"), ": ", (printable(comp["error"]), "red")), soft_wrap=True)
            continue
        if not comp["id"] and not comp["figures"]:  # the bare answer to a caller that is no operator (ADR 0045)
            console.print(Text.assemble((label, "bold"), ": up (its figures, last error and data directory are for "
                                        "its operators: spine.operators)"), soft_wrap=True)
            continue
        lanes = sorted({f["labels"]["lane"] for f in comp["figures"] if "lane" in f["labels"]},
                       key=["alert", "anomaly", "routine"].index)
        per_lane = Table(title=plain(f"{label} {comp['id']}: per lane"))
        per_lane.add_column("figure")
        for lane in lanes:
            per_lane.add_column(lane, justify="right")
        rows: dict[str, dict[str, float]] = {}
        others = Table(title=plain(f"{label} {comp['id']}"))
        others.add_column("figure")
        others.add_column("value", justify="right")
        for f in comp["figures"]:
            if "lane" in f["labels"]:  # one row per name and other labels (e.g. a quantile)
                suffix = "".join(f" {k}={v}" for k, v in f["labels"].items() if k != "lane")
                rows.setdefault(f["name"] + suffix, {})[f["labels"]["lane"]] = f["value"]
            else:
                suffix = "".join(f" {k}={v}" for k, v in f["labels"].items())
                others.add_row(plain(f["name"] + suffix), _num(f["value"]))
        for name, values in rows.items():
            per_lane.add_row(plain(name), *(_num(values.get(lane, 0.0)) for lane in lanes))
        console.print(per_lane)
        console.print(others)
        for line in comp["last_error"].splitlines():  # each part's current problem (refusals by reason)
            # a peer's name may be in it
            console.print(Text.assemble(("now:", "red"), " ", printable(line)), soft_wrap=True)


def _num(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.3f}"
