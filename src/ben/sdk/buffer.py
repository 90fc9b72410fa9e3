"""The SDK's bounded, thread-safe buffer: events wait here until the sidecar acknowledges them.

Capacity counts every event not yet acknowledged (being built, sealed, or in flight), so an
unreachable sidecar fills it. When full, the policy decides: ``drop`` (the default) refuses
the event at once and counts it; ``block`` makes the caller wait for room, up to a timeout.
"""

from __future__ import annotations

import enum
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ben.sdk.batch import BatchBuilder


class FullPolicy(str, enum.Enum):
    DROP = "drop"
    BLOCK = "block"


@dataclass
class BufferStats:
    emitted: int = 0            # accepted into the buffer (got a sequence number)
    acked: int = 0              # acknowledged durable by the sidecar
    rejected: int = 0           # refused by the sidecar (invalid batch); not retried
    dropped_full: int = 0       # refused because the buffer was full
    dropped_closed: int = 0     # emitted after shutdown
    invalid: int = 0            # bad arguments (counted, never raised on the hot path)


class Buffer:
    def __init__(self, max_events: int, max_batch_events: int, policy: FullPolicy,
                 block_timeout_s: float | None, on_seal: Callable[[], None]):
        self._max_events = max_events
        self._max_batch = max_batch_events
        self._policy = policy
        self._block_timeout = block_timeout_s
        self._on_seal = on_seal
        self._lock = threading.Lock()
        self._cv = threading.Condition(self._lock)  # waits for room and for acknowledgements
        self._builder: BatchBuilder | None = None
        self._sealed: deque[BatchBuilder] = deque()   # oldest first, none acknowledged yet
        self._next_seq = 1
        self._acked_seq = 0
        self._buffered = 0
        self.closed = False
        self.stats = BufferStats()

    # -- producers (any thread) ---------------------------------------------------------------
    def append(self, kind: int, name: str, value: float, body: str,
               attrs: Mapping[str, object] | None, ts: int) -> int | None:
        """Add one event; return its sequence number, or None if it was dropped or invalid."""
        with self._lock:
            if self._buffered >= self._max_events and not self._make_room():
                return None
            if self.closed:
                self.stats.dropped_closed += 1
                return None
            builder = self._builder
            if builder is None:
                builder = self._builder = BatchBuilder(self._next_seq)
            try:
                builder.add(kind, name, value, body, attrs, ts)
            except (TypeError, ValueError, AttributeError):
                self.stats.invalid += 1
                return None
            seq = self._next_seq
            self._next_seq = seq + 1
            self._buffered += 1
            self.stats.emitted += 1
            if builder.n < self._max_batch:
                return seq
            self._sealed.append(builder)
            self._builder = None
        self._on_seal()
        return seq

    def _make_room(self) -> bool:
        """Called full, with the lock held: wait for room (block) or count a drop."""
        if self._policy is FullPolicy.BLOCK and not self.closed:
            deadline = None if self._block_timeout is None else time.monotonic() + self._block_timeout
            while self._buffered >= self._max_events and not self.closed:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    break
                self._cv.wait(remaining)
            if self._buffered < self._max_events:
                return True
        if self.closed:
            self.stats.dropped_closed += 1
        else:
            self.stats.dropped_full += 1
        return False

    def _seal_locked(self) -> None:
        if self._builder is not None and self._builder.n:
            self._sealed.append(self._builder)
            self._builder = None

    def seal(self, older_than_s: float = 0.0) -> bool:
        """Seal the batch being built if it is older than older_than_s; True if one was sealed."""
        with self._cv:
            b = self._builder
            if b is None or not b.n or time.monotonic() - b.created < older_than_s:
                return False
            self._seal_locked()
        self._on_seal()
        return True

    # -- the exporter ---------------------------------------------------------------------------
    def unsent(self, after_seq: int, window: int) -> list[BatchBuilder]:
        """Sealed batches after after_seq, keeping at most `window` batches in flight."""
        with self._cv:
            in_flight = sum(1 for b in self._sealed if b.first_seq <= after_seq)
            room = window - in_flight
            if room <= 0:
                return []
            return [b for b in self._sealed if b.first_seq > after_seq][:room]

    def ack(self, durable_seq: int, error: str = "") -> None:
        """The sidecar made everything up to durable_seq durable (or refused it, with error)."""
        with self._cv:
            while self._sealed and self._sealed[0].last_seq <= durable_seq:
                b = self._sealed.popleft()
                n = b.n
                self._buffered -= n
                if error and b.last_seq == durable_seq:
                    self.stats.rejected += n
                else:
                    self.stats.acked += n
            if durable_seq > self._acked_seq:
                self._acked_seq = durable_seq
            self._cv.notify_all()

    # -- figures and waiting ------------------------------------------------------------------
    @property
    def acked_seq(self) -> int:
        return self._acked_seq

    @property
    def last_seq(self) -> int:
        return self._next_seq - 1

    @property
    def buffered(self) -> int:
        return self._buffered

    def wait_acked(self, seq: int, timeout: float | None) -> bool:
        with self._cv:
            return self._cv.wait_for(lambda: self._acked_seq >= seq, timeout)

    def close(self) -> None:
        with self._cv:
            self.closed = True
            self._cv.notify_all()
