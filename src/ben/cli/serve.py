"""``ben spine`` and ``ben sidecar``: run one component until SIGTERM/SIGINT.

Stopped by SIGTERM (a service manager's stop) the command exits 0 once the component stopped cleanly; by Ctrl-C
(SIGINT) it stops as cleanly and then exits 130 with "ben: interrupted", as every interrupted ``ben`` command
(ADR 0033, round 14)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Optional

import typer

from ben.cli import app, interrupted_by, setup_logging

ConfigOpt = Annotated[Optional[Path], typer.Option("--config", "-c", help="TOML config file (defaults work without)")]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="debug logging")]
CheckOpt = Annotated[bool, typer.Option("--check", help="check the configuration and the files it names as a start "
                                                     "would, then exit (0: it would start); opens nothing")]


def trusted_config(config: Path | None):
    """The config a component runs with, refused (naming ``--config``) when another account could change it: it
    names the operators' uids, the socket group, the trust store, the redaction manifest, ``insecure``. Its trust
    store and policy were already refused so (ADR 0045, round 9), the file naming them was not (round 14)."""
    from ben.core.config import load_config
    from ben.core.files import check_trusted

    if config is not None:
        check_trusted(config, "--config")
    return load_config(config)


def checked(name: str, config: Path | None, component, where: str) -> None:
    """``--check``: the component's own checks (``check()``, what its start refuses before it opens anything); a
    refusal is raised as the start would raise it, one line naming the field and file."""
    component.check()
    typer.echo(f"ben {name}: {config or 'the defaults (no --config)'} would start: {where}")


@app.command()
def spine(config: ConfigOpt = None, verbose: VerboseOpt = False,
          web: Annotated[bool, typer.Option("--web", help="also serve the web interface ([web] in the config; "
                                                          "default http://127.0.0.1:8427/)")] = False,
          check: CheckOpt = False) -> None:
    """Run the spine: ingest from sidecars, WAL, store writer (chDB), query API."""
    from ben.core.service import EXIT_GRACE_S, serve
    from ben.spine import Spine

    full = trusted_config(config)
    cfg = full.spine
    if config is not None and cfg.detect.enabled:  # the spine checks it again at start, without the file's name
        from ben.spine.detection import timing_of

        timing_of(cfg.detect.timing, source=str(config))
    if check:
        return checked("spine", config, Spine(cfg), f"listen {cfg.listen}, data in {cfg.data_dir}, store "
                       + (f"chDB in {cfg.store_path}" if cfg.store.backend == "chdb"
                          else f"ClickHouse server {cfg.store.host}:{cfg.store.port}"))
    setup_logging(verbose)
    ui = None
    if web:  # started before serve() so that its thread never inherits realtime scheduling (ADR 0037)
        from ben.web import WebServer
        from ben.web.triage import recommender

        ui = WebServer(full.web, cfg.listen, recommend=recommender(full)).start()
        typer.echo(f"ben spine: web interface on {ui.url}", err=True)
    try:
        stopped_by = asyncio.run(serve(Spine(cfg), cfg.shutdown_timeout_ms / 1000, cfg.background_nice,
                                       cfg.realtime_priority,
                                       force_exit_after_s=cfg.shutdown_timeout_ms / 1000 + EXIT_GRACE_S))
    finally:
        if ui is not None:
            ui.shutdown(2.0)
    interrupted_by(stopped_by)


@app.command()
def sidecar(config: ConfigOpt = None, verbose: VerboseOpt = False, check: CheckOpt = False) -> None:
    """Run a sidecar: ingest from local SDKs on a unix socket, WAL, ship to the spine."""
    from ben.core.service import EXIT_GRACE_S, serve
    from ben.sidecar import Sidecar

    cfg = trusted_config(config).sidecar
    if check:
        return checked("sidecar", config, Sidecar(cfg), f"listen {cfg.listen}, spine {cfg.spine}, data in "
                       f"{cfg.data_dir}")
    setup_logging(verbose)
    interrupted_by(asyncio.run(serve(Sidecar(cfg), cfg.shutdown_timeout_ms / 1000, cfg.background_nice,
                                     cfg.realtime_priority, force_exit_after_s=cfg.shutdown_timeout_ms / 1000 + EXIT_GRACE_S)))
