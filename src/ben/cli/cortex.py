"""``ben cortex accept|dismiss|feedback|outcomes|rebuild``, ``ben incidents feedback`` and ``ben bench
triage``: the learning cortex (ADR 0039)."""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from ben.cli import address_flag, fail, printable
from ben.cli.bench import app as bench_app
from ben.cli.query import SpineOpt
from ben.core.errors import BenError

app = typer.Typer(help="Triage recommendations learned from outcomes (humans decide).", no_args_is_help=True)
ConfigOpt = Annotated[Optional[Path], typer.Option("--config", "-c", help="ben config ([cortex], [spine.control])")]


def open_cortex(config: Path | None, spine: str | None = None, *, audited: bool = True):
    """The cortex of a config file: its responses, the spine's command policy, its data dir; its
    decisions go to the audit log of the spine at ``spine`` (default address) unless ``audited`` is
    False (then they wait in the cortex's outbox for the next call that reaches the spine)."""
    from ben.control.policy import Policy
    from ben.core.config import ben_home, load_config
    from ben.cortex.cortex import Cortex, Settings
    from ben.cortex.responses import Responses

    cfg = load_config(config)
    c = cfg.cortex
    responses = Responses.load(c.responses) if c.responses else Responses.default()
    policy = Policy.load(cfg.spine.control.policy) if cfg.spine.control.policy else None
    settings = Settings(alpha=c.alpha, discount=c.discount, feature_dim=c.feature_dim,
                        resolve_within_s=c.resolve_within_s, change_drop=c.change_drop,
                        change_threshold=c.change_threshold)
    return Cortex(data_dir=c.data_dir or ben_home() / "cortex", responses=responses, policy=policy,
                  settings=settings, audit=_auditor(spine) if audited else None).start()


def _auditor(spine: str | None):
    from ben.control.client import record

    address = address_flag(spine, "--spine")
    return lambda kind, subject, body: record(address, kind, subject, body, timeout=10.0)


def change_window_s(config: Path | None) -> float:
    from ben.core.config import load_config

    return load_config(config).cortex.change_window_s


def recommendations(incident: dict, anomalies: list[dict], config: Path | None, *, query=None,
                    commands: list[dict] = (), spine: str | None = None, audited: bool = True) -> dict | None:
    """For ``ben explain``: the ranked, explained responses of an incident (each new ranking a history
    line and an audit entry at the spine); an accepted response's known outcome is learned first.
    ``query(sql) -> rows`` reads the subsystem's recent changes. None when the config names no
    ``[cortex] responses`` (the cortex is off: nothing is written)."""
    from ben.core.config import load_config
    from ben.cortex.features import change_sql

    if load_config(config).cortex.responses is None:
        return None
    changes = query(change_sql(incident, anomalies, change_window_s(config))) if query is not None else []
    cortex = open_cortex(config, spine, audited=audited)
    cortex.observe(incident, anomalies, commands=commands, changes=changes)
    return cortex.recommend(incident, anomalies, changes=changes)


def print_recommendations(console, rec: dict) -> None:
    console.print("[bold]recommended responses[/bold] (learned from outcomes; a human decides)")
    for e in rec["ranked"]:
        drivers = ", ".join(f"{d['feature']} {d['contribution']:+.2f}" for d in e["drivers"]) or "none yet"
        console.print(f"{e['rank']}. {e['response']} [{e['mode']}]: expected {e['expected_reward']:.2f} "
                      f"± {e['uncertainty']:.2f}, {e['support']} similar past incidents; drivers: {drivers}",
                      markup=False)
        if e.get("why_lower"):
            console.print(f"   ranks lower: {e['why_lower']}", markup=False)
    for e in rec["excluded"]:
        console.print(f"- {e['response']} not offered: {e['note']}", markup=False)
    if rec.get("note"):
        console.print(rec["note"], markup=False)


def _incident(spine: str | None, incident_id: str, config: Path | None) -> dict:
    """The incident, its anomalies, its commands and its subsystem's recent changes (keyword args)."""
    from ben.cli.incidents import _query as query
    from ben.cortex.features import change_sql

    def _query(spine: str | None, sql: str) -> list[dict]:  # "or pass --data-dir": these commands have none
        return query(spine, sql, how="the cortex reads incidents through the running spine (start it, or name it "
                                     "with --spine)")

    if not incident_id.replace("-", "").isalnum():
        raise fail(f"ID {incident_id!r}: expected an id such as inc-3f2a9c0d1e")
    found = _query(spine, f"SELECT * FROM ben.incidents FINAL WHERE id = '{incident_id}'")
    if not found:
        raise fail(f"no incident with id {incident_id!r} (ben incidents lists them)")
    anomalies = _query(spine, f"SELECT * FROM ben.anomalies FINAL WHERE incident_id = '{incident_id}' "
                              "ORDER BY start_ts")
    commands = _query(spine, "SELECT id, action, state, updated_ts FROM ben.commands FINAL "
                             f"WHERE incident_id = '{incident_id}' ORDER BY updated_ts")
    changes = _query(spine, change_sql(found[0], anomalies, change_window_s(config)))
    return {"incident": found[0], "anomalies": anomalies, "commands": commands, "changes": changes}


@app.command()
def accept(
    incident_id: Annotated[str, typer.Argument(metavar="ID", help="an incident id (inc-...)")],
    response_arg: Annotated[str, typer.Argument(metavar="[RESPONSE]", help="another response `ben explain ID` "
                                                "offers (default: the top recommendation)", show_default=False)] = "",
    response: Annotated[str, typer.Option("--response", "-r", help="same as RESPONSE")] = "",
    by: Annotated[str, typer.Option(help="who decides")] = "",
    config: ConfigOpt = None,
    spine: SpineOpt = None,
) -> None:
    """Accept the recommendation (or pick another response): prints the signed-command line to run
    (or the advice to follow). Audited."""
    if response and response_arg and response != response_arg:
        raise fail(f"RESPONSE {response_arg!r} and --response {response!r} differ: give one")
    got = _incident(spine, incident_id, config)
    cortex = open_cortex(config, spine)
    cortex.observe(got["incident"], got["anomalies"], commands=got["commands"], changes=got["changes"])
    try:
        out = cortex.accept(got["incident"], got["anomalies"], response or response_arg, by=by or getpass.getuser(),
                            changes=got["changes"])
    except BenError as exc:
        raise fail(str(exc)) from None
    if not out["command"]:
        typer.echo(printable(f"{incident_id}: {out['response']} accepted (advice: nothing to send)"))
        return
    if out["mode"] == "proposal":
        typer.echo(printable(f"# proposal ({out['note']}): the spine holds it for approval, or review it before "
                             "running"))
    typer.echo(printable(out["command"]))


@app.command()
def dismiss(
    incident_id: Annotated[str, typer.Argument(metavar="ID", help="an incident id (inc-...)")],
    reason: Annotated[str, typer.Option(help="why (recorded)")] = "",
    by: Annotated[str, typer.Option(help="who decides")] = "",
    config: ConfigOpt = None,
    spine: SpineOpt = None,
) -> None:
    """Dismiss the recommendations of an incident (nothing is sent; no response is learned). Audited."""
    got = _incident(spine, incident_id, config)
    open_cortex(config, spine).dismiss(got["incident"], got["anomalies"], by=by or getpass.getuser(), why=reason,
                                       changes=got["changes"])
    typer.echo(f"{incident_id}: recommendations dismissed")


@app.command()
def feedback(
    incident_id: Annotated[str, typer.Argument(metavar="ID", help="an incident id (inc-...)")],
    verdict: Annotated[str, typer.Argument(metavar="VERDICT", help="helpful or unhelpful")],
    response: Annotated[str, typer.Option(help="the response judged (default: the accepted one, else the top)")] = "",
    by: Annotated[str, typer.Option(help="who judges")] = "",
    config: ConfigOpt = None,
    spine: SpineOpt = None,
) -> None:
    """Teach the cortex: was the response to this incident helpful? (with its resolution time and
    receipt, when the outcome has not taught them already)"""
    if verdict not in ("helpful", "unhelpful"):
        raise fail(f"VERDICT {verdict!r}: expected helpful or unhelpful")
    got = _incident(spine, incident_id, config)
    event = open_cortex(config, spine).feedback(got["incident"], got["anomalies"], verdict=verdict, response=response,
                                                commands=got["commands"], changes=got["changes"],
                                                by=by or getpass.getuser())
    typer.echo(f"{incident_id}: learned reward {event['reward']:.2f} for {event['response']}")


@app.command()
def outcomes(config: ConfigOpt = None, spine: SpineOpt = None) -> None:
    """Learn the outcomes now known of every accepted response (resolved in time or not, receipt);
    ben explain and the other verbs do it for their incident (run this one periodically)."""
    cortex = open_cortex(config, spine)
    ids = sorted({e["incident"] for e in cortex.events if e["type"] == "accept"})
    learned = 0
    for iid in ids:
        if cortex.accepted_for(iid) is None:
            continue
        got = _incident(spine, iid, config)
        learned += cortex.observe(got["incident"], got["anomalies"], commands=got["commands"],
                                  changes=got["changes"]) is not None
    typer.echo(f"cortex: {learned} outcomes learned ({len(ids)} incidents with an accepted response)")


@app.command()
def rebuild(config: ConfigOpt = None) -> None:
    """Rebuild the model from the cortex's stored history (same history, same model)."""
    n = open_cortex(config).rebuild()
    typer.echo(f"cortex: model rebuilt from {n} outcomes")


@bench_app.command("triage")
def triage(
    incidents: Annotated[int, typer.Option(help="simulated incidents", min=100)] = 2000,
    seed: Annotated[int, typer.Option(help="simulator seed")] = 7,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Simulated triage: the cortex against the oracle, random and the best fixed response."""
    from ben.cortex.simulate import run

    r = run(incidents=incidents, seed=seed)
    if as_json:
        typer.echo(json.dumps(r.to_json()))
        return
    typer.echo(f"triage over {r.incidents} incidents (rewards over the last half; changes at {r.changes}):")
    typer.echo(f"  cortex {r.policy_reward:.1f}  oracle {r.oracle_reward:.1f}  random {r.random_reward:.1f}  "
               f"best fixed ({r.best_fixed}) {r.best_fixed_reward:.1f}")
    typer.echo(f"  oracle_ratio {r.oracle_ratio:.3f} (target >= 0.90); recovery_incidents {r.recovery_incidents} "
               "(target <= 200)")
    o = r.off_policy
    typer.echo(f"  off-policy ({o['estimator']}, {o['logged']} logged random decisions): estimate {o['estimate']:.3f}, "
               f"truth {o['truth']:.3f}, error {o['abs_error']:.3f}")


def _incidents_group() -> None:
    """``ben incidents feedback``: ``ben incidents`` becomes a group whose bare form runs the same
    command with the same options (its signature is taken from ``ben.cli.incidents.incidents``)."""
    import inspect

    from ben.cli import app as root
    from ben.cli import incidents as listing

    def show(ctx: typer.Context, **options) -> None:
        if ctx.invoked_subcommand is None:
            listing.incidents(**options)
            return
        # `ben incidents --spine S label …`: the listing's options were dropped in silence, and the label went to
        # the default spine
        from typer._click.core import ParameterSource

        given = [p.opts[0] for p in ctx.command.params
                 if ctx.get_parameter_source(p.name) == ParameterSource.COMMANDLINE]
        if given:
            sub = ctx.invoked_subcommand
            raise fail(f"{' and '.join(given)} before '{sub}' {'is an option' if len(given) == 1 else 'are options'} "
                       f"of the listing (ben incidents), not of 'ben incidents {sub}': give {sub}'s options after its "
                       f"arguments ('ben incidents {sub} --help' lists them)")

    sig = inspect.signature(listing.incidents, eval_str=True)
    ctx_param = inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context)
    show.__signature__ = sig.replace(parameters=[ctx_param, *sig.parameters.values()])
    show.__doc__ = listing.incidents.__doc__
    group = typer.Typer(help=listing.incidents.__doc__)
    group.callback(invoke_without_command=True)(show)
    group.command("feedback")(feedback)
    root.registered_commands[:] = [c for c in root.registered_commands if c.callback is not listing.incidents]
    root.add_typer(group, name="incidents")


_incidents_group()
