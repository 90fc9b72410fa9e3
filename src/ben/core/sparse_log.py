"""Refusals logged a line a minute per caller (and method), the rest counted (ADR 0045, round 15).

A refused call was a WARNING line each: the guards of a sidecar's plain loopback ``listen`` (which every local
account may reach for telemetry) and of the spine, and the spine's auth socket. A stranger looping refused calls
wrote as many lines as it made calls (on the code before, 300 refused calls of ``nobody``: 300 lines in the
sidecar's log), into the log an operator reads and the disk it fills. ``Sparse`` writes the first refusal of a
key and then at most one line per ``every_s``, saying how many were not written since; the guards' own counts are
unchanged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

#: Keys (clients) remembered at most; past it the oldest is forgotten (its next refusal is written again).
MAX_KEYS = 4096


class Sparse:
    """At most one line per key and ``every_s``; the lines left out are counted in the next one."""

    def __init__(self, log: logging.Logger, every_s: float = 60.0, clock: Callable[[], float] = time.monotonic):
        self._log, self._every, self._clock = log, every_s, clock
        self._keys: dict[str, tuple[float, int]] = {}  # key -> (when its last line was written, lines left out)

    def warning(self, key: str, message: str, *args) -> None:
        now = self._clock()
        last, left_out = self._keys.get(key, (None, 0))
        if last is not None and now - last < self._every:
            self._keys[key] = (last, left_out + 1)
            return
        self._keys.pop(key, None)
        self._keys[key] = (now, 0)
        if len(self._keys) > MAX_KEYS:
            del self._keys[next(iter(self._keys))]
        if left_out:
            message += " (and %d more like it from %s not logged in the last %.0f s)"
            args = (*args, left_out, key, now - last)
        self._log.warning(message, *args)
