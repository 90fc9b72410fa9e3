"""``ben incidents``, ``ben explain`` and ``ben replay``."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from ben.cli import app, fail
from ben.cli.query import SpineOpt

INCIDENTS_SQL = ("SELECT id, subsystem, state, severity, opened_ts, resolved_ts, narrative, anomaly_ids "
                 "FROM ben.incidents FINAL ORDER BY opened_ts DESC LIMIT {limit}")


def _query(spine: str | None, sql: str) -> list[dict]:
    from ben.core.address import check_address, default_spine_address
    from ben.core.admin import run_query
    from ben.core.errors import TransportError

    try:
        return json.loads(run_query(check_address(spine or default_spine_address()), sql))["data"]
    except TransportError as exc:
        raise fail(f"{exc}; incidents are read through the running spine") from None


def _when(ts: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts / 1e9)) if ts else ""


def _table(rows: list[dict]):
    from rich.table import Table

    table = Table(title="incidents")
    for col in ("id", "state", "severity", "opened (UTC)", "narrative"):
        table.add_column(col, overflow="fold")
    colors = {"open": "red", "acknowledged": "yellow", "resolved": "green"}
    for r in rows:
        state = f"[{colors.get(r['state'], 'white')}]{r['state']}[/]"
        table.add_row(r["id"], state, r["severity"], _when(r["opened_ts"]), r["narrative"])
    return table


@app.command()
def incidents(
    follow: Annotated[bool, typer.Option("--follow", "-f", help="keep showing them as they change")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print as JSON")] = False,
    limit: Annotated[int, typer.Option(help="at most this many, newest first", min=1)] = 50,
    spine: SpineOpt = None,
) -> None:
    """Incidents with their narrative, newest first."""
    from rich.console import Console
    from rich.live import Live

    sql = INCIDENTS_SQL.format(limit=int(limit))
    if as_json and not follow:
        typer.echo(json.dumps(_query(spine, sql)))
        return
    if not follow:
        Console().print(_table(_query(spine, sql)))
        return
    seen: dict[str, str] = {}
    with Live(_table(_query(spine, sql)), refresh_per_second=2) as live:
        try:
            while True:
                rows = _query(spine, sql)
                if as_json:
                    for r in rows:
                        if seen.get(r["id"]) != r["narrative"] + r["state"]:
                            seen[r["id"]] = r["narrative"] + r["state"]
                            live.console.print(json.dumps(r))
                live.update(_table(rows))
                time.sleep(1.0)
        except KeyboardInterrupt:
            return


@app.command()
def explain(
    incident_id: Annotated[str, typer.Argument(metavar="ID", help="an incident id (inc-...) or anomaly id (an-...)")],
    as_json: Annotated[bool, typer.Option("--json", help="print as JSON")] = False,
    spine: SpineOpt = None,
    config: Annotated[Optional[Path], typer.Option("--config", "-c", help="ben config ([cortex])")] = None,
) -> None:
    """Why an incident was opened: its narrative, every anomaly's evidence in numbers, and the
    commands sent because of it (with their reasons)."""
    from rich.console import Console

    if not incident_id.replace("-", "").isalnum():
        raise fail(f"ID {incident_id!r}: expected an id such as inc-3f2a9c0d1e")
    found = _query(spine, f"SELECT * FROM ben.incidents FINAL WHERE id = '{incident_id}'")
    if not found:
        found_a = _query(spine, f"SELECT incident_id FROM ben.anomalies FINAL WHERE id = '{incident_id}'")
        if not found_a:
            raise fail(f"no incident or anomaly with id {incident_id!r} (ben incidents lists them)")
        found = _query(spine, f"SELECT * FROM ben.incidents FINAL WHERE id = '{found_a[0]['incident_id']}'")
    inc = found[0]
    anomalies = _query(spine, "SELECT * FROM ben.anomalies FINAL WHERE incident_id = "
                              f"'{inc['id']}' ORDER BY start_ts")
    # Commands sent because of this incident (issue 5: every command carries its reason and incident).
    commands = _query(spine, "SELECT id, action, target, issuer, state, reason, updated_ts FROM ben.commands FINAL "
                             f"WHERE incident_id = '{inc['id']}' ORDER BY updated_ts")
    from ben.cli.cortex import print_recommendations, recommendations

    recs = recommendations(inc, anomalies, config)
    if as_json:
        typer.echo(json.dumps({"incident": inc, "anomalies": anomalies, "commands": commands,
                               "recommendations": recs}))
        return
    console = Console()
    console.print(f"[bold]{inc['id']}[/bold] {inc['subsystem']}: {inc['state']}, severity {inc['severity']}, "
                  f"opened {_when(inc['opened_ts'])} UTC" + (f", resolved {_when(inc['resolved_ts'])} UTC"
                                                              if inc["resolved_ts"] else ""))
    console.print(inc["narrative"], markup=False)
    console.print("[bold]evidence[/bold]")
    for a in anomalies:
        evidence = json.loads(a["evidence"])
        dets = "; ".join(f"{d} " + ", ".join(f"{k}={v:.3g}" for k, v in ev.items()) if ev else d
                         for d, ev in evidence.items())
        console.print(f"- {a['id']} {a['series']}: {_when(a['start_ts'])} -> {_when(a['end_ts']) or 'ongoing'}; "
                      f"baseline {a['baseline']:.4g}, observed {a['observed']:.4g}, score {a['score']:.3f}; "
                      f"detectors: {dets}", markup=False)
        console.print(f"  {a['sentence']}", markup=False)
    if commands:
        console.print("[bold]commands[/bold]")
        for c in commands:
            console.print(f"- {c['id']} {c['action']} -> {c['target']}: {c['state']} ({_when(c['updated_ts'])} UTC); "
                          f"reason: {c['reason']}", markup=False)
    if recs is not None:
        print_recommendations(console, recs)


@app.command()
def replay(
    start: Annotated[str, typer.Option("--from", help="start: ISO time (UTC) or unix nanoseconds")],
    end: Annotated[str, typer.Option("--to", help="end: ISO time (UTC) or unix nanoseconds")],
    data_dir: Annotated[Optional[Path], typer.Option(help="read a stopped spine's chDB directory")] = None,
    spine: SpineOpt = None,
    config: Annotated[Optional[Path], typer.Option("--config", "-c", help="spine config ([spine.detect])")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print as JSON")] = False,
) -> None:
    """Re-run the detectors over stored raw events; print the anomalies and incidents they give."""
    from ben.core.config import load_config
    from ben.spine.replay import parse_time, replay_range

    t1, t2 = parse_time(start, "--from"), parse_time(end, "--to")
    if t2 <= t1:
        raise fail("--to must be after --from")
    result = replay_range(t1, t2, load_config(config).spine.detect, spine=spine, data_dir=data_dir)
    if as_json:
        typer.echo(json.dumps(result))
        return
    for a in result["anomalies"]:
        typer.echo(f"anomaly {a['id']}: {a['sentence']}")
    for i in result["incidents"]:
        typer.echo(f"incident {i['id']} [{i['state']}]: {i['narrative']}")
    typer.echo(f"replay: points={result['points']} anomalies={len(result['anomalies'])} "
               f"incidents={len(result['incidents'])}")


@app.command()
def acknowledge(
    incident_id: Annotated[str, typer.Argument(metavar="ID", help="an incident id (inc-...)")],
    by: Annotated[str, typer.Option(help="who takes it")] = "",
    spine: SpineOpt = None,
) -> None:
    """Take an incident: open -> acknowledged (it still resolves by itself when quiet)."""
    import getpass

    from ben.core.address import check_address, default_spine_address
    from ben.core.admin import acknowledge as ack
    from ben.core.errors import QueryError, TransportError

    try:
        reply = ack(check_address(spine or default_spine_address()), incident_id, by or getpass.getuser())
    except QueryError as exc:
        raise fail(str(exc)) from None
    except TransportError as exc:
        raise fail(f"{exc}; incidents are acknowledged through the running spine") from None
    typer.echo(f"{incident_id}: {reply.state}. {reply.narrative}")
