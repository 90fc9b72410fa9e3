"""``ben incidents``, ``ben explain`` and ``ben replay``."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from ben.cli import address_flag, app, chdb_dir, fail, one_of, open_chdb, plain, printable
from ben.cli.query import SpineOpt

INCIDENTS_SQL = ("SELECT id, subsystem, state, severity, opened_ts, resolved_ts, narrative, anomaly_ids "
                 "FROM ben.incidents FINAL ORDER BY opened_ts DESC LIMIT {limit}")


def _query(spine: str | None, sql: str, store=None, *,
           how: str = "incidents are read through the running spine (or pass --data-dir to read a stopped "
                      "spine's store)") -> list[dict]:
    """Rows of sql, through the running spine, or from `store` (a stopped spine's chDB directory); ``how``:
    what the error says when nothing answers (a command without ``--data-dir`` must not offer it)."""
    from ben.core.admin import run_query
    from ben.core.errors import TransportError

    if store is not None:
        return json.loads(store.query_json(sql))["data"]
    try:
        return json.loads(run_query(address_flag(spine, "--spine"), sql))["data"]
    except TransportError as exc:
        raise fail(f"{exc}; {how}") from None


def _g(value, spec: str) -> str:
    """A number from query JSON (NaN and infinities arrive as "nan", "inf", "-inf": shown "n/a")."""
    from ben.detect.words import number

    n = number(value)
    return "n/a" if n is None else format(n, spec)


def _when(ts: int) -> str:
    """A stored time in ns as 'YYYY-MM-DD HH:MM:SS' (UTC); "" for none, "n/a" for one no calendar holds."""
    if not ts:
        return ""
    try:
        return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts / 1e9))
    except (OverflowError, OSError, ValueError, TypeError):
        return "n/a"


def _table(rows: list[dict]):
    from rich.table import Table
    from rich.text import Text

    table = Table(title="incidents")
    for col in ("id", "state", "severity", "opened (UTC)", "narrative"):
        table.add_column(col, overflow="fold")
    colors = {"open": "red", "acknowledged": "yellow", "resolved": "green"}
    for r in rows:
        state = Text(r["state"], style=colors.get(r["state"], "white"))
        table.add_row(plain(r["id"]), state, plain(r["severity"]), _when(r["opened_ts"]), plain(r["narrative"]))
    return table


@app.command()
def incidents(
    follow: Annotated[bool, typer.Option("--follow", "-f", help="keep showing them as they change")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print as JSON")] = False,
    limit: Annotated[int, typer.Option(help="at most this many, newest first", min=1, max=100_000)] = 50,
    wait: Annotated[float, typer.Option(help="seconds to wait for a first incident when there is none yet",
                                        min=0)] = 0.0,
    spine: SpineOpt = None,
    data_dir: Annotated[Optional[Path], typer.Option(help="read a stopped spine's store (its data_dir or "
                                                          "chDB directory)")] = None,
) -> None:
    """Incidents with their narrative, newest first."""
    from rich.console import Console
    from rich.live import Live

    one_of(data_dir=data_dir, spine=spine)
    if follow and wait:  # --wait was ignored: --follow waits, for ever
        raise fail("--follow and --wait: pass one of them (--follow keeps waiting until Ctrl-C; --wait S waits "
                   "S seconds for a first incident)")
    sql = INCIDENTS_SQL.format(limit=int(limit))
    if data_dir is not None:
        if follow or wait:
            raise fail("--data-dir reads a stopped spine's store: --follow and --wait need the running spine")
        store = open_chdb(data_dir)
        try:
            rows = _query(spine, sql, store)
        finally:
            store.close()
    if not follow and data_dir is None:
        rows = _query(spine, sql)
        deadline = time.monotonic() + wait
        if not rows and wait > 0:
            typer.echo(f"no incidents yet; waiting up to {wait:g} s for one...", err=True)
            while not rows and time.monotonic() < deadline:
                time.sleep(0.5)
                rows = _query(spine, sql)
    if not follow:
        if as_json:
            typer.echo(json.dumps(rows))
        else:
            Console().print(_table(rows))
            if rows:
                where = f" --data-dir {data_dir}" if data_dir is not None else ""
                typer.echo(f"see why with: ben explain {rows[0]['id']}{where}")
            elif not wait:  # an empty table, nothing said: a newcomer's first hour (ADR 0033, round 15)
                typer.echo("no incidents yet: detection learns each series before it calls anything abnormal (an hour "
                           "with the default settings; the README's \"make an incident yourself\" makes one in seconds "
                           "with ben synth --fast)")
        if not rows and wait > 0:  # what was waited for did not come: no success (`--wait 120 && ben explain latest`)
            raise fail(f"no incident within --wait {wait:g} s (ben incidents --follow keeps waiting; ben status shows "
                       "whether events arrive)", code=1)
        return
    seen: dict[str, str] = {}
    rows = _query(spine, sql)
    typer.echo(f"ben incidents: following ({len(rows)} so far), refreshed every second; "
               f"{'waiting for the first one' if not rows else 'waiting for changes'}... (Ctrl-C stops)", err=True)
    from ben.core.admin import run_query
    from ben.core.errors import TransportError

    address, lost = address_flag(spine, "--spine"), None
    # Ctrl-C at any point ends it: "ben: interrupted", 130, as every interrupted command (it exited 0: ADR 0033,
    # round 14); the live table is put away first
    with Live(_following(rows), refresh_per_second=2) as live:
        while True:
            if as_json:
                for r in rows:
                    if seen.get(r["id"]) != r["narrative"] + r["state"]:
                        seen[r["id"]] = r["narrative"] + r["state"]
                        live.console.print(json.dumps(r), markup=False, emoji=False, highlight=False)
            live.update(_following(rows))
            time.sleep(1.0)
            try:
                rows = json.loads(run_query(address, sql))["data"]
            except TransportError as exc:  # said once the live table is put away: the error is the last line
                lost = exc
                break
    raise fail(f"{lost}; the spine stopped answering while --follow was following it", code=1)


def _following(rows: list[dict]):
    """The table, and a line that says --follow is waiting (and for what)."""
    from rich.console import Group
    from rich.text import Text

    waiting = ("no incidents yet: " if not rows else "") + \
        f"following, refreshed every second since {time.strftime('%H:%M:%S')} UTC... (Ctrl-C stops)"
    return Group(_table(rows), Text(waiting, style="dim"))


def _similar(config: Path | None, inc: dict, anomalies: list[dict], spine: str | None, store=None) -> list[dict]:
    """Federated incidents with this one's signature (ADR 0038); [] when none."""
    from ben.core.config import load_config
    from ben.federation.policy import PolicyFile
    from ben.control._toml import load_model
    from ben.federation.similar import signature, similar_sql

    policy = load_config(config).spine.federation.policy
    classes = load_model(policy, PolicyFile, "federation policy").classes if policy else {}
    return _query(spine, similar_sql(signature(inc["subsystem"], anomalies, classes)), store)


@app.command()
def explain(
    incident_id: Annotated[str, typer.Argument(metavar="ID", help="an incident id (inc-...), an anomaly id (an-...), "
                                               "or 'latest' (the newest incident)")],
    as_json: Annotated[bool, typer.Option("--json", help="print as JSON")] = False,
    spine: SpineOpt = None,
    data_dir: Annotated[Optional[Path], typer.Option(help="read a stopped spine's chDB directory")] = None,
    config: Annotated[Optional[Path], typer.Option("--config", "-c", help="ben config: its federation policy's "
                                                                          "subsystem classes, [cortex]")] = None,
) -> None:
    """Why an incident was opened: its narrative, every anomaly's evidence in numbers, the
    commands sent because of it (with their reasons), and similar incidents at federated clusters."""
    from rich.console import Console

    one_of(data_dir=data_dir, spine=spine)
    check_id(incident_id)
    store = None
    if data_dir is not None:
        store = open_chdb(data_dir)
    try:
        inc, anomalies, commands = _explained(spine, incident_id, store)
        similar = _similar(config, inc, anomalies, spine, store)
        from ben.cli.cortex import print_recommendations, recommendations

        recs = recommendations(inc, anomalies, config, query=lambda sql: _query(spine, sql, store), commands=commands,
                               spine=spine, audited=store is None)
    finally:
        if store is not None:
            store.close()
    if as_json:
        typer.echo(json.dumps({"incident": inc, "anomalies": anomalies, "commands": commands,
                               "federated_similar": similar, "recommendations": recs}))
        return
    print_explained(Console(emoji=False), inc, anomalies, commands, similar)
    if recs is not None:
        print_recommendations(Console(emoji=False), recs)


def print_explained(console, inc: dict, anomalies: list[dict], commands: list[dict], similar: list[dict]) -> None:
    """An incident as ``ben explain`` prints it: words and units, stored text shown safely (``printable``)."""
    from ben.detect.words import SIGMA_SAID, detector_phrase, number  # SIGMA_SAID: what "sigma" means, said once
    from ben.spine.narrative import fmt_amount

    def fmt_number(value: object, unit: str) -> str:  # bytes in kB, MB, GB as the narrative says them
        n = number(value)
        return "n/a" if n is None else fmt_amount(n, unit)
    from ben.detect.words import unit_of

    def say(text: str, **style) -> None:
        console.print(printable(text), markup=False, **style)

    say(f"{inc['id']} {inc['subsystem']}: {inc['state']}, severity {inc['severity']}, "
        f"opened {_when(inc['opened_ts'])} UTC" + (f", resolved {_when(inc['resolved_ts'])} UTC"
                                                   if inc["resolved_ts"] else ""), style="bold")
    say(inc["narrative"])
    console.print("[bold]evidence[/bold]")
    sigma = " sigma" in str(inc["narrative"])
    for a in anomalies:
        try:
            evidence = json.loads(a["evidence"] or "{}")
        except ValueError:
            evidence = {"stored evidence (not JSON)": {}}
        unit = str(a.get("unit") or "") or unit_of(str(a.get("name") or ""))  # (rows before the unit column: '')
        end = _when(a["end_ts"]) or "still open"
        say(f"- {a['id']} {a['series']}: {_when(a['start_ts'])} UTC -> {end}{' UTC' if a['end_ts'] else ''}; "
            f"baseline {fmt_number(a['baseline'], unit)}, observed {fmt_number(a['observed'], unit)}, "
            f"score {_g(a['score'], '.3f')} (0 to 1)")
        for detector, stats in (evidence.items() if isinstance(evidence, dict) else ()):
            phrase = detector_phrase(detector, stats, unit)
            sigma = sigma or " sigma" in phrase
            say(f"  {phrase}")
        say(f"  {a['sentence']}")
        sigma = sigma or " sigma" in str(a["sentence"])
    if sigma:  # the figure every sentence gives, said once for whoever reads it (ADR 0012, round 2)
        say(SIGMA_SAID)
    if similar:
        console.print("[bold]similar incidents at federated clusters (30 days)[/bold]")
        for f in similar:
            say(f"- {f['cluster']} {f['subsystem_class']}: {f['detector']} {f['direction']} "
                f"{f['magnitude_class']}, severity {f['severity']}, {f['state']}"
                + (f" after {f['duration_bucket']}" if f["state"] == "resolved" else ""))
    if commands:
        console.print("[bold]commands[/bold]")
        for c in commands:
            say(f"- {c['id']} {c['action']} -> {c['target']}: {c['state']} ({_when(c['updated_ts'])} UTC); "
                f"reason: {c['reason']}")


#: Ids ben makes are ASCII and short (inc- and 10 hex digits, an- and 12, cmd- and 16).
_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")
_OTHER_KINDS = {"cmd-": "a command's id: ben command list shows it, with its incident"}


def check_id(incident_id: str) -> None:
    """Refuse an ID no incident or anomaly can have, saying so in one short line (the value cut at 40)."""
    shown = f"'{printable(incident_id[:40])}'"
    if len(incident_id) > 40:
        shown += f"... ({len(incident_id)} characters)"
    if len(incident_id) > 64 or not incident_id or not set(incident_id) <= _ID_CHARS:
        raise fail(f"ID {shown}: expected an id such as inc-3f2a9c0d1e (ASCII letters, digits and '-', "
                   "at most 64), an-... or 'latest'")
    for prefix, what in _OTHER_KINDS.items():
        if incident_id.startswith(prefix):
            raise fail(f"ID {shown} is {what}; explain takes an incident (inc-...) or anomaly (an-...) id")


def _explained(spine: str | None, incident_id: str, store) -> tuple[dict, list[dict], list[dict]]:
    if incident_id == "latest":
        newest = _query(spine, "SELECT id FROM ben.incidents FINAL ORDER BY opened_ts DESC LIMIT 1", store)
        if not newest:
            raise fail("no incidents yet (ben incidents --follow shows them as they open)")
        incident_id = newest[0]["id"]
    found = _query(spine, f"SELECT * FROM ben.incidents FINAL WHERE id = '{incident_id}'", store)
    if not found:
        found_a = _query(spine, f"SELECT incident_id FROM ben.anomalies FINAL WHERE id = '{incident_id}'", store)
        if not found_a:
            raise fail(f"no incident or anomaly with id {incident_id!r} (ben incidents lists them)")
        found = _query(spine, f"SELECT * FROM ben.incidents FINAL WHERE id = '{found_a[0]['incident_id']}'", store)
    inc = found[0]
    anomalies = _query(spine, "SELECT * FROM ben.anomalies FINAL WHERE incident_id = "
                              f"'{inc['id']}' ORDER BY start_ts", store)
    # Commands sent because of this incident (issue 5: every command carries its reason and incident).
    commands = _query(spine, "SELECT id, action, target, issuer, state, reason, updated_ts FROM ben.commands FINAL "
                             f"WHERE incident_id = '{inc['id']}' ORDER BY updated_ts", store)
    return inc, anomalies, commands


@app.command()
def replay(
    start: Annotated[str, typer.Option("--from", help="start: ISO time (UTC) or unix nanoseconds")],
    end: Annotated[str, typer.Option("--to", help="end: ISO time (UTC) or unix nanoseconds")],
    data_dir: Annotated[Optional[Path], typer.Option(help="read a stopped spine's chDB directory")] = None,
    spine: SpineOpt = None,
    config: Annotated[Optional[Path], typer.Option("--config", "-c", help="spine config ([spine.detect])")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print as JSON")] = False,
    cortex: Annotated[bool, typer.Option("--cortex", help="also rebuild the learning cortex's model from its "
                                                       "stored history (the cortex table of --config)")] = False,
) -> None:
    """Re-run the detectors over stored raw events; print the anomalies and incidents they give."""
    from ben.core.config import load_config
    from ben.spine.replay import parse_time, replay_range

    one_of(data_dir=data_dir, spine=spine)
    t1, t2 = parse_time(start, "--from"), parse_time(end, "--to")
    if t2 <= t1:
        raise fail("--to must be after --from")
    if data_dir is None:
        spine = address_flag(spine, "--spine")
    else:  # opened once first: a store chDB cannot load is one line naming --data-dir (open_chdb)
        open_chdb(data_dir).close()
        data_dir = chdb_dir(data_dir)
    detect = load_config(config).spine.detect
    if config is not None:  # a key of [spine.detect.timing] the detection cannot take: named with the file
        from ben.spine.detection import timing_of

        timing_of(detect.timing, source=str(config))
    result = replay_range(t1, t2, detect, spine=spine, data_dir=data_dir)
    if cortex:   # ADR 0039: the model is a function of the cortex's history (decisions, outcomes)
        from ben.cli.cortex import open_cortex

        result["cortex"] = open_cortex(config, audited=False).rebuilt()
    if as_json:
        typer.echo(json.dumps(result))
        return
    for a in result["anomalies"]:
        typer.echo(printable(f"anomaly {a['id']}: {a['sentence']}"))  # names an application chose: escaped
    for i in result["incidents"]:
        typer.echo(printable(f"incident {i['id']} [{i['state']}]: {i['narrative']}"))
    typer.echo(f"replay: points={result['points']} anomalies={len(result['anomalies'])} "
               f"incidents={len(result['incidents'])}")
    if cortex:
        c = result["cortex"]
        typer.echo(f"cortex: model rebuilt from {c['outcomes']} outcomes of {c['history']} history lines "
                   f"({'same as' if c['same'] else 'differs from'} the stored model)")


@app.command()
def acknowledge(
    incident_id: Annotated[str, typer.Argument(metavar="ID", help="an incident id (inc-...)")],
    by: Annotated[str, typer.Option(help="who takes it")] = "",
    spine: SpineOpt = None,
) -> None:
    """Take an incident: open -> acknowledged (it still resolves by itself when quiet)."""
    import getpass

    import re

    from ben.core.admin import acknowledge as ack
    from ben.core.errors import QueryError, TransportError

    if by and not re.fullmatch(r"[\w .@-]{1,64}", by):  # as the web's form: it goes into the incident and the audit
        raise fail(f"--by {by[:80]!r}: the operator's name (letters, digits, '.', '@', '-' and spaces; at most 64)")
    try:
        reply = ack(address_flag(spine, "--spine"), incident_id, by or getpass.getuser())
    except QueryError as exc:
        raise fail(str(exc)) from None
    except TransportError as exc:
        raise fail(f"{exc}; incidents are acknowledged through the running spine") from None
    typer.echo(printable(f"{incident_id}: {reply.state}. {reply.narrative}"))  # the narrative names subsystems
