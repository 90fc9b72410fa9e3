"""``ben demo``: spine, sidecar and a synthetic subsystem as separate processes, with a live view."""

from __future__ import annotations

import signal
import tempfile
import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from ben.cli import app


def _figures(address: str) -> dict[str, float]:
    from ben.core.admin import fetch_status
    from ben.core.errors import TransportError

    try:
        return dict(fetch_status(address, timeout=1.0).figures)
    except TransportError:
        return {}


def _view(home: Path, side: dict, spine: dict, rate: float, started: float):
    from rich.table import Table

    table = Table(title=f"ben demo: {time.monotonic() - started:5.0f}s, data in {home} (Ctrl-C stops)")
    for col in ("", "events in", "events/s stored", "WAL records", "WAL bytes", "acks", "rows stored"):
        table.add_column(col, justify="right")
    g = lambda f, k: f"{f.get(k, 0):,.0f}"  # noqa: E731
    table.add_row("sidecar", g(side, "events_received_total"), "", g(side, "wal_records"), g(side, "wal_bytes"),
                  g(side, "acks_total"), "")
    table.add_row("spine", g(spine, "events_received_total"), f"{rate:,.0f}", g(spine, "wal_records"),
                  g(spine, "wal_bytes"), g(spine, "acks_total"), g(spine, "rows_stored_total"))
    return table


@app.command()
def demo(
    duration: Annotated[float, typer.Option(help="seconds, then exit by itself; 0 = until Ctrl-C")] = 0.0,
    rate: Annotated[float, typer.Option(help="events per second from the synthetic subsystem")] = 5000.0,
    data_dir: Annotated[Optional[Path], typer.Option(help="where the demo keeps its data (default: a new temp dir)")] = None,
) -> None:
    """All in one: spine + sidecar + a synthetic subsystem, embedded chDB, no config."""
    from rich.console import Console
    from rich.live import Live

    from ben.cli.procs import Proc, count_stored, wait_for, write_config

    if duration < 0:
        raise typer.BadParameter("must be >= 0", param_hint="--duration")
    home = Path(data_dir) if data_dir else Path(tempfile.mkdtemp(prefix="ben-demo-"))
    home.mkdir(parents=True, exist_ok=True)
    config = write_config(home / "ben.toml", home)
    spine_addr, side_addr = f"unix://{home / 'spine.sock'}", f"unix://{home / 'sidecar.sock'}"
    console = Console()
    console.print(f"ben demo: starting spine, sidecar and a synthetic subsystem in {home}")
    stopping = {"flag": False}
    signal.signal(signal.SIGINT, lambda *_: stopping.update(flag=True))
    signal.signal(signal.SIGTERM, lambda *_: stopping.update(flag=True))
    procs: list[Proc] = []
    try:
        spine = Proc(["spine", "--config", str(config)], home / "logs" / "spine.log")
        procs.append(spine)
        spine.wait_ready(spine_addr)
        side = Proc(["sidecar", "--config", str(config)], home / "logs" / "sidecar.log")
        procs.append(side)
        side.wait_ready(side_addr)
        synth = Proc(["synth", "--rate", str(rate), "--sidecar", side_addr], home / "logs" / "synth.log")
        procs.append(synth)
        started = time.monotonic()
        last = (started, 0.0)
        rate_now = 0.0
        with Live(console=console, refresh_per_second=4, transient=False) as live:
            while not stopping["flag"] and (duration <= 0 or time.monotonic() - started < duration):
                side_f, spine_f = _figures(side_addr), _figures(spine_addr)
                now, stored = time.monotonic(), spine_f.get("rows_stored_total", 0.0)
                if now - last[0] >= 1.0:
                    rate_now = (stored - last[1]) / (now - last[0])
                    last = (now, stored)
                live.update(_view(home, side_f, spine_f, rate_now, started))
                if not synth.alive():
                    console.print(f"[red]synthetic subsystem exited:[/red]\n{synth.tail()}")
                    break
                time.sleep(0.25)
        console.print("\nben demo: stopping the subsystem and draining the WALs")
        synth.stop()
        wait_for(lambda: _figures(side_addr).get("wal_records", 1) == 0, 60, "the sidecar WAL to drain")
        wait_for(lambda: _figures(spine_addr).get("wal_records", 1) == 0, 60, "the spine to store its WAL")
        stored = count_stored(spine_addr)
        console.print(f"ben demo: query the data with: ben query --data-dir {home / 'spine' / 'chdb'} "
                      "\"SELECT kind, count() FROM ben.events GROUP BY kind\"")
    finally:
        for proc in reversed(procs):
            proc.stop()
    print(f"demo: events_stored={stored}", flush=True)
