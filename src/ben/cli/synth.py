"""``ben synth``: a synthetic subsystem that emits realistic telemetry through the SDK."""

from __future__ import annotations

import json
import logging
import math
import os
import random
import signal
import threading
import time
from typing import Annotated, Optional

import typer

from ben.cli import app, fail, interrupted_by, sdk_client, sidecar_listening
from ben.core.service import PARENT_GONE

#: --fast builds every event at once: past this, a mistyped flag would take hours and the machine's memory.
MAX_FAST_EVENTS = 100_000_000
PARENT_GONE_FLUSH_S = 5.0  # what the synth gives its sidecar to take the rest when `ben demo` died

ROUTES = ("/pay", "/cart", "/search", "/login")


def in_fault(elapsed: float, fault_start: float, fault_every: float, fault_for: float) -> bool:
    """Whether a fault is injected `elapsed` seconds after the start (fault_start < 0: never)."""
    if fault_start < 0 or elapsed < fault_start:
        return False
    since = elapsed - fault_start
    return (since % fault_every if fault_every > 0 else since) < fault_for


def run_synth(client, rate: float, duration: float, stop: threading.Event, seed: int = 1,
              fault_start: float = -1.0, fault_every: float = 0.0, fault_for: float = 10.0, fast: bool = False) -> int:
    """Emit about `rate` events/s until duration (0 = forever) or stop; return events emitted.

    During a fault, latency on /pay is four times higher and the subsystem raises an alert once.
    fast: emit the `duration` seconds' events at once, as fast as the sidecar takes them, their
    event times spread over the `duration` seconds that end now (detection goes by event time).
    """
    if fast:
        return _run_fast(client, rate, duration, stop, seed, fault_start, fault_every, fault_for)
    rng = random.Random(seed)
    tick = 0.01
    per_tick = rate * tick
    owed = 0.0
    emitted = 0
    started = time.monotonic()
    next_tick = started
    alerted = False
    while not stop.is_set() and (duration <= 0 or time.monotonic() - started < duration):
        faulty = in_fault(time.monotonic() - started, fault_start, fault_every, fault_for)
        if faulty and not alerted:
            client.alert("payment_latency_slo", "p99 latency on /pay above its 300 ms SLO", {"route": "/pay"})
        alerted = faulty
        owed += per_tick
        while owed >= 1 and not stop.is_set():
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
                level = 480.0 if faulty and route == "/pay" else 120.0
                client.gauge("latency_ms", max(1.0, rng.gauss(level, level / 10)), attrs)
            emitted += 1
            if not emitted % 1024 and time.monotonic() - next_tick > 1.0:  # a rate out of reach (--rate 1e12 was
                owed = 0.0  # one tick of 1e10 events, deaf to Ctrl-C and --duration): never a second behind
                break
        next_tick += tick
        delay = next_tick - time.monotonic()
        if delay > 0:
            stop.wait(delay)
        elif delay < -1.0:  # far behind (machine busy): do not burst to catch up
            next_tick = time.monotonic()
    return emitted


def _run_fast(client, rate: float, duration: float, stop: threading.Event, seed: int, fault_start: float,
              fault_every: float, fault_for: float) -> int:
    rng = random.Random(seed)
    total = int(rate * duration)
    t0 = time.time_ns() - int(duration * 1e9)
    alerted = False
    for i in range(total):
        if stop.is_set():
            return i
        elapsed = i / rate
        ts = t0 + int(elapsed * 1e9)
        faulty = in_fault(elapsed, fault_start, fault_every, fault_for)
        if faulty and not alerted:
            client.alert("payment_latency_slo", "p99 latency on /pay above its 300 ms SLO", {"route": "/pay"}, ts=ts)
        alerted = faulty
        route = ROUTES[i % len(ROUTES)]
        if i % 2:
            client.counter("requests", 1, {"route": route}, ts=ts)
        else:
            level = 480.0 if faulty and route == "/pay" else 120.0
            client.gauge("latency_ms", max(1.0, rng.gauss(level, level / 10)), {"route": route}, ts=ts)
    return total


@app.command()
def synth(
    subsystem: Annotated[str, typer.Option(help="subsystem name")] = "checkout-api",
    rate: Annotated[float, typer.Option(help="events per second")] = 2000.0,
    duration: Annotated[float, typer.Option(help="seconds; 0 = until SIGTERM/SIGINT")] = 0.0,
    sidecar: Annotated[Optional[str], typer.Option(help="sidecar address")] = None,
    seed: Annotated[int, typer.Option(help="random seed")] = 1,
    fault_start: Annotated[float, typer.Option(help="seconds until the first injected fault; < 0: none")] = -1.0,
    fault_every: Annotated[float, typer.Option(help="seconds between fault starts; 0: once")] = 0.0,
    fault_for: Annotated[float, typer.Option(help="seconds each fault lasts")] = 10.0,
    fast: Annotated[bool, typer.Option("--fast", help="emit --duration seconds of telemetry at once (event "
                                       "times: the --duration seconds that end now)")] = False,
    flush_timeout: Annotated[float, typer.Option(help="seconds to wait at the end for the sidecar to have every "
                                                      "event on disk (else exit 1)")] = 30.0,
) -> None:
    """Emit synthetic telemetry (latency gauges, request counters, logs, events) at a rate."""

    if not (math.isfinite(rate) and rate > 0):
        raise typer.BadParameter("must be a number > 0", param_hint="--rate")
    if not (math.isfinite(duration) and duration >= 0):
        raise typer.BadParameter("must be a number of seconds >= 0 (0 = until SIGTERM/SIGINT)", param_hint="--duration")
    if not (math.isfinite(flush_timeout) and flush_timeout >= 0):
        raise typer.BadParameter("must be a number of seconds >= 0", param_hint="--flush-timeout")
    if math.isnan(fault_start):
        raise typer.BadParameter("must be a number of seconds (< 0: no fault)", param_hint="--fault-start")
    if not (math.isfinite(fault_every) and fault_every >= 0):
        raise typer.BadParameter("must be a number of seconds >= 0 (0: once)", param_hint="--fault-every")
    if not (math.isfinite(fault_for) and fault_for > 0):
        raise typer.BadParameter("must be a number of seconds > 0", param_hint="--fault-for")
    if fast and duration <= 0:
        raise typer.BadParameter("--fast needs a --duration > 0", param_hint="--duration")
    if fast and int(rate * duration) < 1:  # 0 events sent, "flushed": true, exit 0 (ADR 0033, round 15)
        raise typer.BadParameter(f"--rate {rate:g} x --duration {duration:g} s is {rate * duration:.3g} events: --fast "
                                 "would send none", param_hint="--duration")
    if duration > 0 and fault_start >= duration:  # the fault asked for was never injected, in silence (round 15)
        raise typer.BadParameter(f"{fault_start:g} s is not before --duration {duration:g} s: no fault would be "
                                 "injected (< 0: none)", param_hint="--fault-start")
    if fast and rate * duration > MAX_FAST_EVENTS:
        raise typer.BadParameter(f"--rate x --duration is {rate * duration:.3g} events; --fast emits at most "
                                 f"{MAX_FAST_EVENTS:,}", param_hint="--duration")
    sidecar = sidecar_listening(sidecar)
    stop = threading.Event()
    parent_gone = threading.Event()
    stopped_by: list[int] = []

    def on_signal(signum, _frame) -> None:
        if signum == PARENT_GONE:  # `ben demo` died: a stop, however often the kernel says so
            if not stop.is_set():
                os.write(2, b"ben synth: the process that started it exited; stopping\n")
            parent_gone.set()
            stop.set()
            return
        if stop.is_set():  # a second Ctrl-C: out now (a --fast run may wait for room at a sidecar that is gone)
            os.write(2, b"ben synth: second signal, exiting now; events not yet acknowledged may be lost\n")
            os._exit(130)
        os.write(2, b"ben synth: stopping; flushing what was emitted (Ctrl-C again exits at once)\n")
        stopped_by.append(signum)
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT, PARENT_GONE):
        signal.signal(sig, on_signal)
    what = f"{int(rate * duration):,} events at once" if fast else f"{rate:g} events/s"
    # --fast waits for room as long as it takes: a drop would be a gap in event time, not a slower send.
    client = sdk_client(subsystem, sidecar=sidecar, full_policy="block", block_timeout_ms=None if fast else 1000)
    typer.echo(f"ben synth: {what} to the sidecar at {sidecar} (Ctrl-C stops)", err=True)
    emitted = run_synth(client, rate, duration, stop, seed, fault_start, fault_every, fault_for, fast)
    # synth says what the sidecar did not take itself, in its last line: the SDK's shutdown warning said it first,
    # in other words ("no error seen" beside "no answer"); its warnings during the run are kept
    logging.getLogger("ben.sdk").setLevel(logging.ERROR)
    # Without the demo its sidecar stops too: a short flush, not the whole timeout at a closed socket.
    flushed = client.shutdown(timeout=min(flush_timeout, PARENT_GONE_FLUSH_S) if parent_gone.is_set() else flush_timeout)
    s = client.stats
    typer.echo(json.dumps({"emitted": emitted, "acked": s.acked, "dropped_full": s.dropped_full,
                           "rejected": s.rejected, "flushed": flushed}))
    if not flushed:  # not on the sidecar's disk: say so, and fail
        raise fail(f"{client.buffered} events not acknowledged by the sidecar at {sidecar} within {flush_timeout:g} s "
                   f"({client.last_error or 'no answer'})", code=1)
    # flushed and summed up: a Ctrl-C ends it as interrupted ("ben: interrupted", 130), as every command; a SIGTERM's
    # stop, done, is 0; events not acknowledged (above) outrank both (ADR 0033, round 14)
    interrupted_by(stopped_by[0] if stopped_by else None)
