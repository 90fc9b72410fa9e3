"""The store writer's INSERTs whose records are still in the WALs: which store engine took each, and when.

The writer truncates a lane's WAL only up to what a sync made durable (ADR 0031): an INSERT taken
by another store engine than the one that synced (a store process that died with its urgent
buffer) is repaired first, and on a store that does not make acknowledged INSERTs durable by
itself (``Store.durable_after_s``) an INSERT counts only once it returned that long ago.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class Taken:
    """One INSERT of a lane's records, up to ``seq``."""

    seq: int         # the last WAL record it stored
    generation: int  # the store's generation read before it: never newer than the engine that took it
    at: float        # monotonic time it returned


class Unsynced:
    """Per lane, the INSERTs not yet truncated from the WAL, oldest first (seqs ascending).

    Not locked: the store writer calls it under its sync lock.
    """

    def __init__(self, lanes):
        self._taken: dict[int, deque[Taken]] = {lane: deque() for lane in lanes}

    def note(self, lane: int, taken: Taken) -> None:
        self._taken[lane].append(taken)

    def durable_part(self, done: dict[int, int], wait_s: float, now: float) -> dict[int, int]:
        """Of each lane's records up to ``done``, those whose INSERT returned ``wait_s`` before ``now``."""
        if not wait_s:
            return done
        return {lane: max((t.seq for t in self._taken[lane] if t.seq <= upto and t.at <= now - wait_s), default=0)
                for lane, upto in done.items()}

    def replaced(self, done: dict[int, int], synced: int) -> list[int]:
        """The lanes with an INSERT up to ``done`` taken by another generation than ``synced``
        (read after the sync: never older than the engine that flushed)."""
        return [lane for lane, upto in done.items()
                if upto and any(t.generation != synced for t in self._taken[lane] if t.seq <= upto)]

    def drop(self, lane: int, upto: int) -> None:
        """The WAL was truncated up to ``upto``."""
        taken = self._taken[lane]
        while taken and taken[0].seq <= upto:
            taken.popleft()
