"""Cumulative OTLP sums and histograms as the increments ben's counters hold.

An OTLP cumulative point carries the total since ``start_time_unix_nano``; ben's counters (and the
detectors watching them as rates) want what was added since the previous point. Each stream (its
resource, metric name and attributes) keeps its last start time and totals here:

- same start, totals not lower: the increment is the difference;
- a new start time, or a total that went down (the producer restarted): a reset, the increment is
  the new total (what was counted since the reset);
- the first point of a stream: its total when the stream started after this receiver did (the
  increment since the producer started), else 0 (the receiver restarted: what was counted before
  was reported to an earlier life of it, or never; counting it again would be a false spike).

The table is bounded (``max_streams``, least recently used streams forgotten first); a forgotten
stream starts again as a first point.

A point whose request the WAL refuses (quota, WAL error) is sent again by its client; had its totals
stayed here, the resend would count nothing and that interval's increment would be lost. Each
``increment`` can note what it changed in a ``journal``; :meth:`undo` puts back what a refused part
changed, unless a later point of the stream has moved it on since.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np


class Cumulative:
    """Last totals per stream, turning cumulative points into increments."""

    def __init__(self, started_ns: int, max_streams: int = 200_000):
        self.started_ns = int(started_ns)
        self.max_streams = int(max_streams)
        self._last: OrderedDict[tuple, tuple[int, np.ndarray]] = OrderedDict()
        self.resets = 0

    def __len__(self) -> int:
        return len(self._last)

    def increment(self, key: tuple, start_ns: int, totals, journal: list | None = None) -> np.ndarray:
        """The increments of ``totals`` (one or several counts of a stream) since its last point; with
        ``journal``, what changed is appended to it (for :meth:`undo`)."""
        now = np.asarray(totals, dtype=np.float64)
        last = self._last.pop(key, None)
        if last is None:
            out = now.copy() if start_ns >= self.started_ns else np.zeros_like(now)
        elif last[0] != start_ns or last[1].shape != now.shape or bool(np.any(now < last[1])):
            self.resets += 1
            out = now.copy()
        else:
            out = now - last[1]
        entry = self._last[key] = (int(start_ns), now)
        if journal is not None:
            journal.append((key, last, entry))
        if len(self._last) > self.max_streams:
            self._last.popitem(last=False)
        return out

    def undo(self, journal: list) -> None:
        """Put back what the increments noted in ``journal`` changed (their points were not stored), for
        each stream still where that point left it."""
        for key, before, entry in reversed(journal):
            if self._last.get(key) is not entry:
                continue   # a later point moved the stream on (or it was forgotten): leave it
            if before is None:
                del self._last[key]
            else:
                self._last[key] = before
