"""Refusals logged a line a minute per caller (and method), the rest counted (ADR 0045, round 15).

A refused call was a WARNING line each: the guards of a sidecar's plain loopback ``listen`` (which every local
account may reach for telemetry) and of the spine, and the spine's auth socket. A stranger looping refused calls
wrote as many lines as it made calls (on the code before, 300 refused calls of ``nobody``: 300 lines in the
sidecar's log), into the log an operator reads and the disk it fills. ``Sparse`` writes the first refusal of a
key and then at most one line per ``every_s``, saying how many were not written since; the guards' own counts are
unchanged.

Round 16 uses it for lines that are not refusals but that a peer causes at will: a subsystem registering its command
handlers on a sidecar, a sidecar's control stream attaching to the spine. Those take ``burst`` lines a window (an
honest start of several subsystems is written whole) at the level they had.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

#: Keys (clients) remembered at most; past it the oldest is forgotten (its next refusal is written again).
MAX_KEYS = 4096


class Sparse:
    """At most ``burst`` lines per key and ``every_s`` (a window opened by the first); the lines left out are
    counted in the next one written."""

    def __init__(self, log: logging.Logger, every_s: float = 60.0, clock: Callable[[], float] = time.monotonic,
                 burst: int = 1):
        self._log, self._every, self._clock, self._burst = log, every_s, clock, burst
        # key -> (when its window began, lines written in it, lines left out)
        self._keys: dict[str, tuple[float, int, int]] = {}

    def warning(self, key: str, message: str, *args) -> None:
        self.log(logging.WARNING, key, message, *args)

    def info(self, key: str, message: str, *args) -> None:
        self.log(logging.INFO, key, message, *args)

    def log(self, level: int, key: str, message: str, *args) -> None:
        now = self._clock()
        began, written, left_out = self._keys.get(key, (None, 0, 0))
        if began is not None and now - began < self._every:
            if written >= self._burst:
                self._keys[key] = (began, written, left_out + 1)
                return
            self._keys[key] = (began, written + 1, left_out)
            self._log.log(level, message, *args)
            return
        self._keys.pop(key, None)
        self._keys[key] = (now, 1, 0)
        if len(self._keys) > MAX_KEYS:
            del self._keys[next(iter(self._keys))]
        if left_out:
            message += " (and %d more like it from %s not logged in the last %.0f s)"
            args = (*args, left_out, key, now - began)
        self._log.log(level, message, *args)
