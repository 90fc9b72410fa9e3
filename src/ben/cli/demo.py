"""``ben demo``: spine, sidecar and a synthetic subsystem as separate processes, with a live view."""

from __future__ import annotations

import signal
import tempfile
import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from ben.cli import app


def _incidents(spine_addr: str) -> list[dict]:
    from ben.cli.procs import query_rows
    from ben.core.errors import BenError

    try:
        return query_rows(spine_addr, "SELECT id, state, narrative FROM ben.incidents FINAL "
                                      "ORDER BY opened_ts DESC LIMIT 5")
    except BenError:
        return []


def _view(home: Path, side: dict, spine: dict, rate: float, started: float, incidents: list[dict]):
    from rich.console import Group
    from rich.table import Table

    table = Table(title=f"ben demo: {time.monotonic() - started:5.0f}s, data in {home} (Ctrl-C stops)")
    for col in ("", "events in", "events/s stored", "WAL records", "WAL bytes", "acks", "rows stored"):
        table.add_column(col, justify="right")
    g = lambda f, k: f"{f.get(k, 0):,.0f}"  # noqa: E731
    table.add_row("sidecar", g(side, "events_received_total"), "", g(side, "wal_records"), g(side, "wal_bytes"),
                  g(side, "acks_total"), "")
    table.add_row("spine", g(spine, "events_received_total"), f"{rate:,.0f}", g(spine, "wal_records"),
                  g(spine, "wal_bytes"), g(spine, "acks_total"), g(spine, "rows_stored_total"))
    found = Table(title="incidents (newest first)", show_header=False)
    found.add_column("", overflow="fold")
    for inc in incidents or [{"state": "", "narrative": "none yet (detectors warm up for ~16 s)"}]:
        color = {"open": "red", "acknowledged": "yellow", "resolved": "green"}.get(inc["state"], "white")
        found.add_row(f"[{color}]{inc['state']}[/] {inc['narrative']}")
    return Group(table, found)


@app.command()
def demo(
    duration: Annotated[float, typer.Option(help="seconds, then exit by itself; 0 = until Ctrl-C")] = 0.0,
    rate: Annotated[float, typer.Option(help="events per second from the synthetic subsystem")] = 5000.0,
    data_dir: Annotated[Optional[Path], typer.Option(help="where the demo keeps its data (default: a new temp dir)")] = None,
    fault_start: Annotated[float, typer.Option(help="seconds until the first injected fault (then every 45 s)")] = 25.0,
    web: Annotated[bool, typer.Option("--web/--no-web", help="serve the web interface (127.0.0.1:8427)")] = True,
) -> None:
    """All in one: spine + sidecar + a synthetic subsystem, embedded chDB, no config."""
    from rich.console import Console
    from rich.live import Live

    from ben.cli.procs import Cluster, Proc, count_stored, query_rows

    if duration < 0:
        raise typer.BadParameter("must be >= 0", param_hint="--duration")
    home = Path(data_dir) if data_dir else Path(tempfile.mkdtemp(prefix="ben-demo-"))
    home.mkdir(parents=True, exist_ok=True)
    # Short buckets so the detectors are past their warm-up within seconds; quick incident lifecycle.
    cluster = Cluster(home, spine={"detect": {"bucket_ms": 250, "group_window_s": 30.0, "resolve_after_s": 8.0}})
    spine_addr, side_addr = cluster.spine_addr, cluster.sidecar_addr  # noqa: F841
    console = Console()
    console.print(f"ben demo: starting spine, sidecar and a synthetic subsystem in {home}")
    stopping = {"flag": False}
    signal.signal(signal.SIGINT, lambda *_: stopping.update(flag=True))
    signal.signal(signal.SIGTERM, lambda *_: stopping.update(flag=True))
    synth: Proc | None = None
    ui = None
    try:
        cluster.start()
        if web:
            from ben.web.server import start_beside

            ui = start_beside(spine_addr, (side_addr,))
            console.print(f"ben demo: web interface on {ui.url}")
        synth = Proc(["synth", "--rate", str(rate), "--sidecar", side_addr, "--fault-start", str(fault_start),
                      "--fault-every", "45", "--fault-for", "10"], home / "logs" / "synth.log")
        started = time.monotonic()
        last = (started, 0.0)
        rate_now = 0.0
        incidents: list[dict] = []
        last_incidents = 0.0
        with Live(console=console, refresh_per_second=4, transient=False) as live:
            while not stopping["flag"] and (duration <= 0 or time.monotonic() - started < duration):
                side_f, spine_f = cluster.status("sidecar"), cluster.status("spine")
                now, stored = time.monotonic(), spine_f.get("rows_stored_total", 0.0)
                if now - last[0] >= 1.0:
                    rate_now = (stored - last[1]) / (now - last[0])
                    last = (now, stored)
                if now - last_incidents >= 2.0:
                    incidents, last_incidents = _incidents(spine_addr), now
                live.update(_view(home, side_f, spine_f, rate_now, started, incidents))
                if not synth.alive():
                    console.print(f"[red]synthetic subsystem exited:[/red]\n{synth.tail()}")
                    break
                time.sleep(0.25)
        console.print("\nben demo: stopping the subsystem and draining the WALs")
        synth.stop()
        cluster.wait_drained()
        stored = count_stored(spine_addr)
        found = query_rows(spine_addr, "SELECT (SELECT count() FROM ben.anomalies FINAL) AS a, "
                                       "(SELECT count() FROM ben.incidents FINAL) AS i")[0]
        for inc in _incidents(spine_addr):
            console.print(f"incident {inc['id']} [{inc['state']}]: {inc['narrative']}", markup=False)
        console.print(f"ben demo: query the data with: ben query --data-dir {home / 'spine' / 'chdb'} "
                      "\"SELECT kind, count() FROM ben.events GROUP BY kind\"")
    finally:
        if ui is not None:
            ui.shutdown(2.0)
        if synth is not None:
            synth.stop()
        cluster.stop()
    print(f"demo: events_stored={stored} anomalies={found['a']} incidents={found['i']}", flush=True)
