"""``ben synth``'s emitting loop (``ben.cli.synth.run_synth``) with a rate out of the machine's reach."""

from __future__ import annotations

import threading
import time

from ben.cli.synth import run_synth


class Sink:
    """A client that takes every event and counts it (the loop's own pace is what is tested)."""

    def __init__(self) -> None:
        self.n = 0

    def _take(self, *args, **kwargs) -> int:
        self.n += 1
        return self.n

    gauge = counter = log = event = alert = _take


def test_a_rate_out_of_reach_keeps_to_the_duration_and_to_a_stop() -> None:
    """``ben synth --rate 1e12 --duration 0.5`` emitted a first tick of 1e10 events in one loop that neither
    the duration nor SIGTERM (``timeout 40``) reached: it ran for hours (ADR 0033, fourth round)."""
    started = time.monotonic()
    emitted = run_synth(Sink(), rate=1e12, duration=0.5, stop=threading.Event())
    assert emitted > 0 and time.monotonic() - started < 5, (emitted, time.monotonic() - started)

    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    started = time.monotonic()
    run_synth(Sink(), rate=1e12, duration=0, stop=stop)  # until stopped
    assert time.monotonic() - started < 5
