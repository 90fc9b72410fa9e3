"""``ben demo``: spine, sidecar and a synthetic subsystem as separate processes, with a live view."""

from __future__ import annotations

import importlib.util
import os
import logging
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from ben.cli import app, fail, interrupted_by
from ben.core.interpreter import python_argv

log = logging.getLogger(__name__)

#: The demo's calibrated detection (``[spine.detect.timing]``, keys of ``ben.detect.calibrated.Timing``): memories
#: of seconds instead of hours, so a subsystem started seconds ago is past its warm-up (15 s and 30 points)
#: when the first fault comes (production keeps the documented defaults: ADR 0028, 0040). Tests that need
#: detection within seconds use it too.
DEMO_TIMING = {"level_half_life_s": 10.0, "scale_half_life_s": 120.0, "recent_half_life_s": 5.0,
               "calibration_half_life_s": 600.0, "slow_half_life_s": 120.0, "warmup_s": 15.0, "warmup_points": 30.0,
               "clear_s": 5.0, "rebaseline_s": 60.0, "confirm_s": 3.0}
#: The demo's ``[spine.detect]``: short buckets, the timing above, a quick incident lifecycle.
#: The spine's first start after an install compiles detection's kernels (~15 s of CPU; minutes on a busy machine):
#: the demo waits this long for each component, saying every few seconds what it waits for (a dead one is said at once).
START_TIMEOUT_S = 300.0
DEMO_DETECT = {"bucket_ms": 250, "group_window_s": 30.0, "resolve_after_s": 8.0, "timing": DEMO_TIMING}


def _incidents(spine_addr: str, tries: int = 1) -> list[dict]:
    from ben.cli.procs import query_rows
    from ben.core.errors import BenError

    for attempt in range(tries):
        try:
            return query_rows(spine_addr, "SELECT id, state, narrative FROM ben.incidents FINAL "
                                          "ORDER BY opened_ts DESC LIMIT 5")
        except BenError as exc:
            if attempt + 1 < tries:
                time.sleep(1.0)
            else:
                log.debug("demo: incidents not read: %s", exc)
    return []


def _view(home: Path, side: dict, spine: dict, rate: float, started: float, incidents: list[dict], spine_addr: str):
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    from ben.cli import plain

    table = Table(title=plain(f"ben demo: {time.monotonic() - started:5.0f}s, data in {home} (Ctrl-C stops)"))
    for col in ("", "events in", "events/s stored", "WAL records", "WAL bytes", "acks", "rows stored"):
        table.add_column(col, justify="right")
    g = lambda f, k: f"{f.get(k, 0):,.0f}"  # noqa: E731
    table.add_row("sidecar", g(side, "events_received_total"), "", g(side, "wal_records"), g(side, "wal_bytes"),
                  g(side, "acks_total"), "")
    table.add_row("spine", g(spine, "events_received_total"), f"{rate:,.0f}", g(spine, "wal_records"),
                  g(spine, "wal_bytes"), g(spine, "acks_total"), g(spine, "rows_stored_total"))
    found = Table(title="incidents (newest first)", show_header=False)
    found.add_column("", overflow="fold")
    for inc in incidents or [{"id": "", "state": "", "narrative": "none yet (detectors warm up for ~16 s)"}]:
        color = {"open": "red", "acknowledged": "yellow", "resolved": "green"}.get(inc["state"], "white")
        found.add_row(Text.assemble((inc["id"], "bold"), " ", (inc["state"], color), " ", inc["narrative"]))
    if not incidents:
        return Group(table, found)
    return Group(table, found, plain(f"try, in another terminal: {explain_line(incidents[0]['id'], spine_addr)}"))


def explain_line(incident_id: str, spine_addr: str | None = None, data_dir: Path | None = None) -> str:
    """The command that explains an incident of the demo (through its spine, or its stopped store)."""
    where = f"--data-dir {data_dir}" if data_dir is not None else f"--spine {spine_addr}"
    return f"ben explain {incident_id} {where}"


def _free_or_any(port: int) -> str:
    """``127.0.0.1:port`` when nothing listens there, else ``127.0.0.1:0`` (any free port)."""
    import socket

    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return "127.0.0.1:0"
    return f"127.0.0.1:{port}"


def _otel_app(side: dict, home: Path, console):
    """The OpenTelemetry example app (docs/examples/otel_app.py), sending to the sidecar's OTLP port."""
    port = int(side.get("otlp_grpc_port", 0))
    example = Path(__file__).resolve().parents[3] / "docs" / "examples" / "otel_app.py"
    if not port or not example.is_file() or importlib.util.find_spec("opentelemetry.sdk") is None:
        return None
    console.print(f"ben demo: an OpenTelemetry-instrumented app ({example}) sends spans and logs to the "
                  f"sidecar's OTLP/gRPC port 127.0.0.1:{port}")
    with open(home / "logs" / "otel_app.log", "ab") as log:  # it ends after its 50 requests
        return subprocess.Popen(python_argv(str(example)), stdout=log, stderr=subprocess.STDOUT,
                                env={**os.environ, "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}",
                                     "OTEL_APP_REQUESTS": "50"})


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

    import math

    if not (math.isfinite(duration) and duration >= 0):
        raise typer.BadParameter("must be a number of seconds >= 0 (0 = until Ctrl-C)", param_hint="--duration")
    if not (math.isfinite(rate) and rate > 0):
        raise typer.BadParameter("must be a number > 0", param_hint="--rate")
    if not math.isfinite(fault_start):
        raise typer.BadParameter("must be a number of seconds (< 0: no fault)", param_hint="--fault-start")
    if data_dir is not None and data_dir.exists() and not data_dir.is_dir():
        raise fail(f"--data-dir {data_dir}: not a directory")
    from ben.core.errors import ConfigError
    from ben.core.files import private_dir

    home = Path(data_dir) if data_dir else Path(tempfile.mkdtemp(prefix="ben-demo-"))
    try:
        private_dir(home, "--data-dir")
    except ConfigError as exc:
        raise fail(str(exc)) from None
    # OTLP on the ports OpenTelemetry exporters use by default, or any free one if another process has them.
    otlp = {"grpc_listen": _free_or_any(4317), "http_listen": _free_or_any(4318)}
    cluster = Cluster(home, spine={"detect": DEMO_DETECT}, sidecar={"otlp": otlp}, stop_with_parent=True)
    spine_addr, side_addr = cluster.spine_addr, cluster.sidecar_addr  # noqa: F841
    console = Console()
    console.print(f"ben demo: starting spine, sidecar and a synthetic subsystem in {home}", markup=False)
    stopping: dict = {"flag": False, "by": None}

    def stop(signum, _frame) -> None:
        """The first Ctrl-C (or SIGTERM) stops the demo in order, what has not started yet is not started; a
        second one stops it at once (the components get their stop as the demo exits: stop_with_parent)."""
        if stopping["flag"]:
            raise KeyboardInterrupt
        stopping["flag"], stopping["by"] = True, signum
        sys.stderr.write(f"\nben demo: {signal.Signals(signum).name} received, stopping (again: stop at once)\n")
        sys.stderr.flush()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    synth: Proc | None = None
    otel = None
    ui = None
    try:
        cluster.start(START_TIMEOUT_S, lambda what, waited, line: console.print(
            f"ben demo: the {what} is still starting ({waited:.0f} s): {line.partition(': ')[2] or line}", markup=False))
        if not stopping["flag"]:  # a Ctrl-C while the spine opened its store: nothing more is started
            otel = _otel_app(cluster.status("sidecar"), home, console)
            if web:
                from ben.web.server import start_beside

                ui = start_beside(spine_addr, (side_addr,))
                console.print(f"ben demo: web interface on {ui.url}")
            synth = Proc(["synth", "--rate", str(rate), "--sidecar", side_addr, "--fault-start", str(fault_start),
                          "--fault-every", "45", "--fault-for", "10"], home / "logs" / "synth.log",
                         stop_with_parent=True)
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
                    live.update(_view(home, side_f, spine_f, rate_now, started, incidents, spine_addr))
                    if not synth.alive():
                        console.print(f"synthetic subsystem exited:\n{synth.tail()}", markup=False, style="red")
                        break
                    time.sleep(0.25)
        console.print("\nben demo: stopping the subsystem and draining the WALs")
        if synth is not None:
            synth.stop()
        if otel is not None:
            otel.wait(timeout=60)
        cluster.wait_drained()
        stored = count_stored(spine_addr)
        found = query_rows(spine_addr, "SELECT (SELECT count() FROM ben.anomalies FINAL) AS a, "
                                       "(SELECT count() FROM ben.incidents FINAL) AS i, "
                                       "(SELECT count() FROM ben.spans) AS s, "
                                       "(SELECT count() FROM ben.events WHERE subsystem = 'otel-shop') AS o")[0]
        shown = _incidents(spine_addr, tries=5)
        for inc in shown:
            console.print(f"incident {inc['id']} [{inc['state']}]: {inc['narrative']}", markup=False, emoji=False)
        if shown:
            console.print("ben demo: see why an incident was opened with: "
                          + explain_line(shown[0]["id"], data_dir=home / "spine" / "chdb"), markup=False,
                          soft_wrap=True)  # a command to copy: never wrapped
        console.print(f"ben demo: query the data with: ben query --data-dir {home / 'spine' / 'chdb'} "
                      "\"SELECT kind, count() FROM ben.events GROUP BY kind\"", markup=False, soft_wrap=True)
    finally:
        if ui is not None:
            ui.shutdown(2.0)
        if synth is not None:
            synth.stop()
        if otel is not None and otel.poll() is None:
            otel.kill()
        cluster.stop()
    print(f"demo: events_stored={stored} anomalies={found['a']} incidents={found['i']} otel_spans={found['s']} "
          f"otel_events={found['o']}",
          flush=True)
    interrupted_by(stopping["by"])  # Ctrl-C: stopped in order, summed up, then 130 as every command (ADR 0033 round 14)
