"""``ben synth``: a synthetic subsystem that emits realistic telemetry through the SDK."""

from __future__ import annotations

import json
import random
import signal
import threading
import time
from typing import Annotated, Optional

import typer

from ben.cli import app

ROUTES = ("/pay", "/cart", "/search", "/login")


def run_synth(client, rate: float, duration: float, stop: threading.Event, seed: int = 1) -> int:
    """Emit about `rate` events/s until duration (0 = forever) or stop; return events emitted."""
    rng = random.Random(seed)
    tick = 0.01
    per_tick = rate * tick
    owed = 0.0
    emitted = 0
    started = time.monotonic()
    next_tick = started
    while not stop.is_set() and (duration <= 0 or time.monotonic() - started < duration):
        owed += per_tick
        while owed >= 1:
            owed -= 1
            route = ROUTES[emitted % len(ROUTES)]
            attrs = {"route": route}
            r = emitted % 100
            if r == 99:
                client.log(f"GET {route} took longer than usual", level="warn", attrs=attrs)
            elif r == 98 and emitted % 10_000 == 9_998:
                client.event("config_reload", attrs, body="feature flags reloaded")
            elif r % 2:
                client.counter("requests", 1, attrs)
            else:
                client.gauge("latency_ms", max(1.0, rng.gauss(120.0, 12.0)), attrs)
            emitted += 1
        next_tick += tick
        delay = next_tick - time.monotonic()
        if delay > 0:
            stop.wait(delay)
        elif delay < -1.0:  # far behind (machine busy): do not burst to catch up
            next_tick = time.monotonic()
    return emitted


@app.command()
def synth(
    subsystem: Annotated[str, typer.Option(help="subsystem name")] = "checkout-api",
    rate: Annotated[float, typer.Option(help="events per second")] = 2000.0,
    duration: Annotated[float, typer.Option(help="seconds; 0 = until SIGTERM/SIGINT")] = 0.0,
    sidecar: Annotated[Optional[str], typer.Option(help="sidecar address")] = None,
    seed: Annotated[int, typer.Option(help="random seed")] = 1,
) -> None:
    """Emit synthetic telemetry (latency gauges, request counters, logs, events) at a rate."""
    from ben.sdk import Client

    if rate <= 0:
        raise typer.BadParameter("must be > 0", param_hint="--rate")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    client = Client(subsystem, sidecar=sidecar, full_policy="block", block_timeout_ms=1000)
    emitted = run_synth(client, rate, duration, stop, seed)
    flushed = client.shutdown(timeout=30.0)
    s = client.stats
    typer.echo(json.dumps({"emitted": emitted, "acked": s.acked, "dropped_full": s.dropped_full,
                           "rejected": s.rejected, "flushed": flushed}))
