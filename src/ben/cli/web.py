"""``ben web``: the web interface beside a running spine (reads through its admin API)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ben.cli import address_flag, app, setup_logging


def web_config(config: Path | None, host: str | None, port: int | None):
    """[web] from the config file, with --host/--port over it (validated like the file)."""
    import re

    from ben.cli.serve import trusted_config
    from ben.core.config import WebConfig
    from ben.core.config_sections import not_ipv4
    from ben.core.errors import ConfigError

    cfg = trusted_config(config).web  # [web] names the token file and the local uids it serves (round 14)
    if host is not None and not re.fullmatch(r"[A-Za-z0-9._-]+|\[?[0-9A-Fa-f:.]+\]?", host):  # was "not loopback"
        raise ConfigError(f"expected an IP address or a host name, got {host!r}", source="command line", field="--host")
    if host is not None and (problem := not_ipv4(host)):  # 999.1.1.1 was "not loopback: set web.token_env"
        raise ConfigError(problem, source="command line", field="--host")
    changes = {k: v for k, v in (("listen_host", host), ("listen_port", port)) if v is not None}
    if not changes:
        return cfg
    from pydantic import ValidationError

    try:
        return WebConfig(**{**cfg.model_dump(), **changes})
    except ValidationError as exc:
        err = exc.errors()[0]
        flag = {"listen_host": "--host", "listen_port": "--port"}.get(str(err["loc"][0]), str(err["loc"][0]))
        raise ConfigError(f"{err['msg']} (got {err.get('input')!r})", source="command line", field=flag) from None


@app.command()
def web(
    spine: Annotated[Optional[str], typer.Option(help="spine address (default: the config's [spine] listen, "
                                                      "$BEN_HOME/spine.sock without one)")] = None,
    sidecar: Annotated[Optional[list[str]], typer.Option(help="a sidecar to show on the map (repeatable)")] = None,
    host: Annotated[Optional[str], typer.Option(help="listen address (default [web] listen_host, 127.0.0.1); "
                                                     "not loopback: needs [web] token_env or token_file")] = None,
    port: Annotated[Optional[int], typer.Option(help="listen port (default [web] listen_port, 8427)")] = None,
    config: Annotated[Optional[Path], typer.Option("--config", "-c", help="TOML config file ([web]; [cortex]: "
                                                                          "recommendations on incident pages)")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="debug logging")] = False,
    check: Annotated[bool, typer.Option("--check", help="check the configuration and the files it names as a start "
                                                        "would, then exit (0: it would start); opens nothing")] = False,
) -> None:
    """Serve the web interface: cluster map, incident feed, series, SQL, status, commands."""
    from ben.core.errors import ConfigError
    from ben.web import WebServer

    setup_logging(verbose)
    from ben.core.config import load_config
    from ben.web.triage import recommender

    # Everything the start refuses before it listens (the config and its owner, --host/--port, the addresses, the
    # access token, [web.tls], [cortex] responses) is checked by building the server, which opens nothing
    cfg = web_config(config, host, port)
    full = load_config(config)
    # Without --spine, the spine of the config given: `ben spine -c ben.toml` and `ben web -c ben.toml` (a [spine]
    # listen of its own) read $BEN_HOME/spine.sock, "nothing answers", where `ben spine --web -c` found it (round 15)
    spine_addr = address_flag(spine, "--spine") if spine is not None or config is None else full.spine.listen
    try:
        server = WebServer(cfg, spine_addr, tuple(address_flag(s, "--sidecar") for s in sidecar or ()),
                           recommend=recommender(full))
    except ConfigError as exc:  # a [web] key's refusal named the field, not the file it is in (web round 16)
        if config is None or exc.source is not None or not str(exc.field or "").startswith("web."):
            raise
        raise ConfigError(str(exc).split(": ", 1)[1], source=str(config), field=exc.field) from None
    if check:  # as ben spine --check / ben sidecar --check (ADR 0049): one line, nothing bound or read from the spine
        where = server.url if cfg.listen_port else f"{server.url.rpartition(':')[0]} on a free port (said at start)"
        typer.echo(f"ben web: {config or 'the defaults (no --config)'} would start: listen {where}, spine "
                   f"{server.spine}" + (f", sidecars {', '.join(server.sidecars)}" if sidecar else ""))
        return
    import signal
    import sys

    # uvicorn raises the signal it stopped on again once it has stopped cleanly: SIGINT is then "ben: interrupted",
    # 130, as every interrupted command; SIGTERM (a service manager's stop) killed the process (-15) where the spine
    # and sidecar exit 0: it exits 0 too (ADR 0033, round 14)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server.run(announce=lambda url: typer.echo(f"ben web: serving {url} (Ctrl-C stops)", err=True))
