"""``ben baseline export|import|generate`` and ``ben incidents label``: the baseline library (ADR 0038)."""

from __future__ import annotations

import getpass
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Optional

import typer

from ben.cli import address_flag, chdb_dir, fail, one_of, open_chdb, printable
from ben.cli.query import SpineOpt

app = typer.Typer(help="The baseline library: labelled episodes as an open, versioned dataset.", no_args_is_help=True)
ConfigOpt = Annotated[Optional[Path], typer.Option("--config", "-c", help="ben config ([spine.federation] policy "
                                                                          "and pseudonym key)")]


def label(
    incident_id: Annotated[str, typer.Argument(metavar="ID", help="an incident id (inc-...)")],
    verdict: Annotated[str, typer.Argument(metavar="LABEL", help="real or noise")],
    kind: Annotated[str, typer.Option(help="spike, level, drift, seasonal or other")] = "other",
    note: Annotated[str, typer.Option(help="free-form; exported only if the federation policy allows")] = "",
    by: Annotated[str, typer.Option(help="who labels (the spine records the authenticated operator too)")] = "",
    spine: SpineOpt = None,
) -> None:
    """Label an incident real or noise for the baseline library (audited; stored in ben.incident_labels)."""
    from ben.baseline.labels import check
    from ben.core.admin import label as send
    from ben.core.errors import QueryError, TransportError

    try:
        kind = check(incident_id, verdict, kind, note)
    except ValueError as exc:
        raise fail(str(exc)) from None
    try:
        reply = send(address_flag(spine, "--spine"), incident_id, verdict, kind, note,
                     by or getpass.getuser())
    except QueryError as exc:
        raise fail(str(exc)) from None
    except TransportError as exc:
        raise fail(f"{exc}; incidents are labelled through the running spine") from None
    typer.echo(printable(f"{incident_id}: labelled {verdict} ({kind}); audit entry {reply.audit_seq}"))


def _when(text: str, flag: str) -> int:
    """ISO 8601 (UTC unless it says otherwise) or epoch seconds -> unix ns."""
    try:
        seconds = float(text)
    except ValueError:
        try:
            dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise fail(f"{flag} {text!r}: expected ISO 8601 (2026-03-01 or 2026-03-01T12:00) or epoch "
                       "seconds") from None
        seconds = (dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)).timestamp()
    if not 0 <= seconds < _LAST_S:  # inf and 1e300 were "unexpected OverflowError (a bug in ben)"
        raise fail(f"{flag} {text!r}: expected a time from 1970 to 2261 (ISO 8601 or epoch seconds)")
    return int(seconds * 1e9)


_LAST_S = (2**63 - 1) // 10**9  # the last second an int64 of nanoseconds holds (2262-04-11)
_MAX_SPAN_S = 366 * 86_400  # series exported around an episode: at most a year before and after


@app.command("export")
def export(
    out: Annotated[Path, typer.Argument(metavar="OUT", help="directory to write the package to (new or empty)")],
    since: Annotated[str, typer.Option("--from", help="incidents opened at or after (ISO 8601 or epoch s)")] = "0",
    until: Annotated[str, typer.Option("--to", help="... and before (default: now)")] = "",
    before_s: Annotated[float, typer.Option(help="seconds of series before the first anomaly", min=0)] = 21_600,
    after_s: Annotated[float, typer.Option(help="seconds of series after the last anomaly", min=0)] = 3_600,
    config: ConfigOpt = None,
    data_dir: Annotated[Optional[Path], typer.Option(help="read a stopped spine's store (its data dir)")] = None,
    spine: SpineOpt = None,
) -> None:
    """Labelled incidents as a dataset: Parquet, datapackage.json, datasheet README, detect-real corpus."""
    from ben.baseline.package import write_package
    from ben.core.config import load_config
    from ben.core.errors import ConfigError
    from ben.core.files import own_dir

    one_of(data_dir=data_dir, spine=spine)  # --spine was ignored in silence
    for flag, seconds in (("--before-s", before_s), ("--after-s", after_s)):  # inf: OverflowError, once read
        if not seconds <= _MAX_SPAN_S:
            raise fail(f"{flag} {seconds:g}: expected seconds from 0 to {_MAX_SPAN_S} (a year)")
    from_ns, to_ns = _when(since, "--from"), _when(until, "--to") if until else time.time_ns()
    if to_ns <= from_ns:
        raise fail(f"--to must be after --from ({until} <= {since})")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise fail(f"OUT {out}: exists and is not an empty directory")
    made = not out.exists()
    try:  # made now, ours: another account that owns OUT or may write in it would plant symlinks meanwhile
        own_dir(out, "OUT")
    except ConfigError as exc:
        raise fail(str(exc)) from None
    try:
        pkg = _build(load_config(config).spine, data_dir, spine, from_ns, to_ns, before_s, after_s)
    except BaseException:
        if made and not any(out.iterdir()):  # a failed export left an empty OUT behind
            out.rmdir()
        raise
    write_package(out, pkg)
    typer.echo(f"{out}: {len(pkg.episodes)} episodes, {len(pkg.anomalies)} anomalies, {len(pkg.points)} points "
               f"(score them: ben bench detect-real {out / 'corpus'})")


def _build(cfg, data_dir: Path | None, spine: str | None, from_ns: int, to_ns: int, before_s: float, after_s: float):
    """The package of the labelled incidents (through the spine, or a stopped spine's store)."""
    from ben.baseline import export as exporter
    from ben.cli.incidents import _query
    from ben.federation.policy import load_policy

    spine_dir = cfg.data_dir
    if data_dir is not None:  # a directory that is no store was made one (and given a pseudonym key), in silence
        store_dir = chdb_dir(data_dir)
        spine_dir = store_dir.parent if store_dir.name == "chdb" else data_dir
    fed = cfg.federation
    policy = load_policy(fed.policy, fed.pseudonym_key or spine_dir / "federation" / "pseudonym.key")
    store = open_chdb(data_dir) if data_dir is not None else None  # chDB's own lines folded into one
    try:
        pkg = exporter.build(lambda sql: _query(spine, sql, store), policy, from_ns=from_ns, to_ns=to_ns,
                             before_s=before_s, after_s=after_s)
    finally:
        if store is not None:
            store.close()
    if not pkg.episodes:
        raise fail("no labelled incident opened in that period (label them with: ben incidents label ID real|noise)")
    return pkg


@app.command("import")
def import_(
    package: Annotated[Path, typer.Argument(metavar="DIR", help="a baseline package directory")],
    corpus: Annotated[Optional[Path], typer.Option(help="write the detect-real corpus here (default DIR/corpus)")]
    = None,
) -> None:
    """Read and validate a baseline package; write its series in detect-real's layout."""
    from ben.baseline.package import read_package, write_detect_corpus

    pkg = read_package(package)
    target = corpus or package / "corpus"
    files = write_detect_corpus(target, pkg)
    kind = "SYNTHETIC " if pkg.synthetic else ""
    real = sum(e["label"] == "real" for e in pkg.episodes)
    typer.echo(f"{package}: {kind}baseline package, {len(pkg.episodes)} episodes ({real} "
               f"real), {len(pkg.points)} points; {files} series in {target} (ben bench detect-real {target})")


@app.command("generate")
def generate(
    out: Annotated[Path, typer.Argument(metavar="OUT", help="directory to write the synthetic package to")],
    seed: Annotated[int, typer.Option(help="generator seed")] = 17,
    files: Annotated[int, typer.Option(help="generated series", min=1, max=200)] = 8,
) -> None:
    """A synthetic baseline library from ben's series generator (how docs/baseline-library was made)."""
    from ben.baseline.package import check_package_out, write_package
    from ben.baseline.synthetic import build

    check_package_out(out)   # before the work, not after it
    if seed < 0:  # -1 was "unexpected ValueError (a bug in ben)": numpy's seeds are >= 0
        raise fail(f"--seed {seed}: expected a whole number >= 0")
    step = max(1, files // 10)

    def said(done: int, total: int) -> None:   # about ten lines: 200 series take seconds
        if done % step == 0 or done == total:
            typer.echo(f"generate: {done}/{total} series", err=True)

    pkg = build(seed=seed, files=files, progress=said)
    typer.echo(f"generate: writing {out}", err=True)
    write_package(out, pkg)
    typer.echo(f"{out}: SYNTHETIC baseline package, seed {seed}, {len(pkg.episodes)} episodes")


def add_label_command() -> None:
    """``ben incidents label``, beside ``ben incidents feedback`` in the ``incidents`` group."""
    from ben.cli import app as root

    for group in root.registered_groups:
        if group.name == "incidents":
            group.typer_instance.command("label")(label)
            return
    root.command("label-incident")(label)  # no group (should not happen): still reachable
