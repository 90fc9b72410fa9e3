"""The SDK's bounded, thread-safe buffer: events wait here until the sidecar acknowledges them.

Capacity counts every event not yet acknowledged (being built, sealed, or in flight), so an
unreachable sidecar fills it. When full, the policy decides: ``drop`` (the default) refuses
the event at once and counts it; ``block`` makes the caller wait for room, up to a timeout.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ben.core.errors import InvalidEventError
from ben.core.lanes import ALERT, LANES, ROUTINE
from ben.sdk.batch import BatchBuilder
from ben.sdk.limits import Counts
from ben.v1.telemetry_pb2 import KIND_ALERT

log = logging.getLogger(__name__)


#: Events an SDK buffer holds for alerts beyond max_buffer_events.
ALERT_RESERVE_EVENTS = 1_000


class FullPolicy(str, enum.Enum):
    """What ``emit`` does when the buffer is full: ``drop`` the event (counted) or ``block`` the caller."""

    DROP = "drop"
    BLOCK = "block"


@dataclass
class BufferStats:
    """Counts of the SDK buffer: events emitted, acknowledged, refused, dropped, cut or repaired."""

    emitted: int = 0            # accepted into the buffer (got a sequence number)
    acked: int = 0              # acknowledged durable by the sidecar
    rejected: int = 0           # refused by the sidecar (invalid batch); not retried
    dropped_full: int = 0       # refused because the buffer was full
    dropped_closed: int = 0     # emitted after shutdown
    invalid: int = 0            # bad arguments (counted, never raised on the hot path unless strict)
    backpressure: int = 0       # times the sidecar said "not now" (its WAL quota was full)
    truncated: int = 0          # names, bodies, attributes cut to their limit (ben.sdk.limits)
    replaced_strings: int = 0   # strings made valid UTF-8 (lone surrogates replaced by U+FFFD)
    quarantined: int = 0        # events of a batch that could not be encoded: dropped, never sent
    invalid_by_field: Counter = field(default_factory=Counter)  # invalid events by argument (ts, attrs[...])
    last_invalid: str = ""      # why the latest invalid event was refused


class Buffer:
    """Per-lane batches being built and sealed, numbered with one event sequence."""

    def __init__(self, max_events: int, max_batch_events: int, policy: FullPolicy,
                 block_timeout_s: float | None, on_seal: Callable[[], None], strict: bool = False):
        self._max_events = max_events
        self._max_batch = max_batch_events
        self._policy = policy
        self._block_timeout = block_timeout_s
        self._on_seal = on_seal
        self._lock = threading.Lock()
        self._cv = threading.Condition(self._lock)  # waits for room and for acknowledgements
        self._builders: dict[int, BatchBuilder | None] = {lane: None for lane in LANES}
        self._sealed: dict[int, deque[BatchBuilder]] = {lane: deque() for lane in LANES}  # oldest first
        self._next_seq = 1
        self._acked_seq = 0
        self._buffered = 0
        self.closed = False
        self.forked_from = 0  # the parent's pid in a forked child, where this buffer's sender does not run
        self.stats = BufferStats()
        self._counts = Counts()
        self._strict = strict
        self._invalid_logged_at = 0.0

    # -- producers (any thread) ---------------------------------------------------------------
    def append(self, kind: int, name: str, value: float, body: str,
               attrs: Mapping[str, object] | None, ts: int) -> int | None:
        """Add one event; return its sequence number, or None if it was dropped or invalid."""
        lane = ALERT if kind == KIND_ALERT else ROUTINE
        with self._lock:
            # Alerts have room of their own on top of max_events: routine data cannot shed them.
            limit = self._max_events + (ALERT_RESERVE_EVENTS if lane == ALERT else 0)
            if self._buffered >= limit and not self._make_room(limit):
                return None
            if self.closed:
                self.stats.dropped_closed += 1
                if self.forked_from:
                    self._say_forked()
                elif self.stats.dropped_closed == 1:  # a developer's mistake: said once, counted always
                    log.warning("ben sdk: an event emitted after Client.shutdown() was dropped "
                                "(Client.stats.dropped_closed counts them)")
                return None
            seq = self._next_seq
            builder = self._builders[lane]
            if builder is None:
                builder = self._builders[lane] = BatchBuilder(seq, unprintable_names="refuse")
            counts = self._counts
            try:
                builder.add(kind, name, value, body, attrs, ts, seq, counts)
            except (InvalidEventError, TypeError, ValueError, AttributeError, OverflowError) as exc:
                if not builder.n:
                    self._builders[lane] = None
                self.invalid(exc)
                return None
            finally:
                self.stats.truncated, self.stats.replaced_strings = counts.truncated, counts.replaced_strings
            self._next_seq = seq + 1
            self._buffered += 1
            self.stats.emitted += 1
            if builder.n < self._max_batch and lane != ALERT:  # alerts leave at once
                return seq
            self._sealed[lane].append(builder)
            self._builders[lane] = None
        self._on_seal()
        return seq

    def invalid(self, exc: Exception) -> None:
        """Count a refused event (the argument it names); log now and then; raise if strict."""
        if not isinstance(exc, InvalidEventError):
            exc = InvalidEventError(f"{type(exc).__name__}: {exc}", field="event")
        self.stats.invalid += 1
        self.stats.invalid_by_field[exc.field.split("[")[0]] += 1
        self.stats.last_invalid = str(exc)
        if self._strict:
            raise exc
        now = time.monotonic()
        if now - self._invalid_logged_at > 10:
            self._invalid_logged_at = now
            log.warning("ben sdk: event refused (%d so far; Client.stats.invalid): %s", self.stats.invalid, exc)

    def discard(self, lane: int, builder: BatchBuilder, reason: str) -> None:
        """A sealed batch that cannot be encoded: drop it, count its events, never send it."""
        with self._lock:
            try:
                self._sealed[lane].remove(builder)
            except ValueError:
                return
            self._buffered -= builder.n
            self.stats.quarantined += builder.n
            self._set_acked_seq()
            self._cv.notify_all()
        log.error("ben sdk: a batch of %d events (%d..%d) could not be encoded and was dropped: %s",
                  builder.n, builder.first_seq, builder.last_seq, reason)

    def _make_room(self, limit: int) -> bool:
        """Called full, with the lock held: wait for room (block) or count a drop."""
        if self._policy is FullPolicy.BLOCK and not self.closed:
            deadline = None if self._block_timeout is None else time.monotonic() + self._block_timeout
            while self._buffered >= limit and not self.closed:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    break
                self._cv.wait(remaining)
            if self._buffered < limit:
                return True
        if self.closed:
            self.stats.dropped_closed += 1
        else:
            self.stats.dropped_full += 1
        return False

    def seal(self, older_than_s: float = 0.0) -> bool:
        """Seal every lane's batch that is older than older_than_s; True if one was sealed."""
        sealed = False
        now = time.monotonic()
        with self._lock:
            for lane, b in self._builders.items():
                if b is not None and b.n and now - b.created >= older_than_s:
                    self._sealed[lane].append(b)
                    self._builders[lane] = None
                    sealed = True
        if sealed:
            self._on_seal()
        return sealed

    # -- the exporter ---------------------------------------------------------------------------
    def unsent(self, lane: int, after_seq: int, max_batches: int) -> list[BatchBuilder]:
        """The first max_batches sealed batches of a lane after after_seq (the sender keeps the window)."""
        with self._lock:
            return [b for b in self._sealed[lane] if b.first_seq > after_seq][:max_batches]

    def ack(self, lane: int, durable_seq: int, error: str = "") -> None:
        """The sidecar made this lane durable up to durable_seq (or refused that batch, with error)."""
        with self._lock:
            sealed = self._sealed[lane]
            while sealed and sealed[0].last_seq <= durable_seq:
                b = sealed.popleft()
                self._buffered -= b.n
                if error and b.last_seq == durable_seq:
                    self.stats.rejected += b.n
                else:
                    self.stats.acked += b.n
            self._set_acked_seq()
            self._cv.notify_all()

    def _set_acked_seq(self) -> None:
        lows = [d[0].first_seq for d in self._sealed.values() if d]
        lows += [b.first_seq for b in self._builders.values() if b is not None and b.n]
        self._acked_seq = (min(lows) - 1) if lows else self._next_seq - 1

    # -- figures and waiting ------------------------------------------------------------------
    @property
    def acked_seq(self) -> int:
        """Every event numbered up to this one is acknowledged (or was refused as invalid)."""
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

    def disown(self, parent: int) -> None:
        """In a process forked from the one that made this buffer: nothing sends it here (the loop's thread
        stayed in the parent), so events are dropped and counted, said once, instead of buffered for ever.
        Fresh locks: another thread of the parent may have held them at the fork."""
        self._lock = threading.Lock()
        self._cv = threading.Condition(self._lock)
        self.closed, self.forked_from, self._fork_said = True, parent, False

    def _say_forked(self) -> None:
        if not self._fork_said:
            self._fork_said = True
            log.warning("ben sdk: an event emitted in a process forked (from pid %d) after its Client was made there "
                        "was dropped (Client.stats.dropped_closed counts them): a Client works in the process that "
                        "made it; make one in each process after forking, and none before it", self.forked_from)
