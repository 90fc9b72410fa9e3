"""The client a subsystem imports: ``gauge``, ``counter``, ``event``, ``log``, ``alert``.

    from ben.sdk import Client

    ben = Client("checkout-api")
    ben.gauge("latency_ms", 12.5, {"route": "/pay"})
    ben.alert("payment_provider_down", "provider answers 503 to every call")
    ben.flush(timeout=5)     # True once the sidecar has every event on disk
    ben.shutdown(timeout=5)

Every emitting method returns the event's sequence number (or None when the event was
dropped: buffer full, client shut down, bad arguments), never raises (unless ``strict=True``:
bad arguments then raise ``InvalidEventError``, naming the argument), and never blocks unless
``full_policy="block"``. ``acked_seq`` tells how far the sidecar has acknowledged. What an event
may hold (types, ``ts`` range, sizes, UTF-8) is checked at the call: ``ben.sdk.limits``.
"""

from __future__ import annotations

import atexit
import logging
import math
import operator
import os
import socket
import threading
import time
import uuid
import weakref
from collections.abc import Mapping

from ben.core.address import check_address, default_sidecar_address
from ben.core.errors import ConfigError, InvalidEventError
from ben.core.service import Lifecycle
from ben.sdk import limits
from ben.sdk.buffer import Buffer, BufferStats, FullPolicy
from ben.sdk.commands import CommandChannel, Handler, handler_problem
from ben.sdk import exporter as _exporter
from ben.sdk.exporter import Exporter
from ben.v1 import telemetry_pb2 as pb

log = logging.getLogger(__name__)

Attrs = Mapping[str, object] | None

METRIC, COUNTER, EVENT, LOG, ALERT = (pb.KIND_METRIC, pb.KIND_COUNTER, pb.KIND_EVENT, pb.KIND_LOG,
                                      pb.KIND_ALERT)


def _positive(name: str, value: int | float) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 < value < math.inf:
        raise ConfigError(f"must be a positive number, got {value!r}", source="Client()", field=name)
    if name in ("max_batch_events", "max_buffer_events", "window_batches") and not isinstance(value, int):
        raise ConfigError(f"must be a whole number, got {value!r}", source="Client()", field=name)


def _timeout(method: str, value: float | None) -> float | None:
    """A timeout argument: None (wait as long as it takes) or seconds (<= 0: do not wait)."""
    if value is not None and (not isinstance(value, (int, float)) or isinstance(value, bool)
                              or (isinstance(value, float) and math.isnan(value))):
        raise ConfigError(f"must be None or a number of seconds, got {value!r:.60}",
                          source=f"Client.{method}()", field="timeout")
    if value is not None and abs(value) > threading.TIMEOUT_MAX:  # a lock's wait takes no more (was an
        return None if value > 0 else 0.0                          # OverflowError): no limit / no wait
    return None if value is None or value == math.inf else value


class Client:
    """Thread-safe SDK client; one per process is typical."""

    def __init__(
        self,
        subsystem: str,
        *,
        sidecar: str | None = None,
        host: str | None = None,
        instance: str | None = None,
        max_batch_events: int = 1000,
        flush_interval_ms: int = 200,
        max_buffer_events: int = 100_000,
        full_policy: FullPolicy | str = FullPolicy.DROP,
        block_timeout_ms: int | None = None,
        window_batches: int = 32,
        reconnect_min_ms: int = 50,
        reconnect_max_ms: int = 2_000,
        strict: bool = False,
    ):
        if not isinstance(subsystem, str) or not subsystem:
            raise ConfigError("must be a non-empty string", source="Client()", field="subsystem")
        if _exporter.forked_from_running_sdk:  # its events would have been buffered and never sent
            raise ConfigError(f"this process was forked from pid {_exporter.forked_from_running_sdk} while a ben "
                              "Client ran there, and gRPC does not work after such a fork: make Clients only after "
                              "forking (gunicorn: without --preload; multiprocessing: the 'spawn' or 'forkserver' "
                              "start method)", source="Client()", field="(process)")
        if len(subsystem) > limits.MAX_NAME_CHARS or not subsystem.isprintable():  # it names every row and incident
            raise ConfigError(f"must be at most {limits.MAX_NAME_CHARS} printable characters (no newline or control "
                              f"character), got {subsystem!r:.60}", source="Client()", field="subsystem")
        for name, value in (("max_batch_events", max_batch_events), ("flush_interval_ms", flush_interval_ms),
                            ("max_buffer_events", max_buffer_events), ("window_batches", window_batches),
                            ("reconnect_min_ms", reconnect_min_ms), ("reconnect_max_ms", reconnect_max_ms)):
            _positive(name, value)
        if reconnect_min_ms > reconnect_max_ms:  # the waits then ran between the two in no order
            raise ConfigError(f"{reconnect_min_ms} is above reconnect_max_ms = {reconnect_max_ms}: the wait before a "
                              "reconnect starts at the first and doubles up to the second", source="Client()",
                              field="reconnect_min_ms")
        if block_timeout_ms is not None:
            _positive("block_timeout_ms", block_timeout_ms)
        try:
            policy = FullPolicy(full_policy)
        except ValueError:
            raise ConfigError(f"must be 'drop' or 'block', got {full_policy!r}", source="Client()",
                              field="full_policy") from None
        if sidecar is not None and not isinstance(sidecar, str):
            raise ConfigError(f"must be a str (unix:///path or host:port), got {sidecar!r:.60}", source="Client()",
                              field="sidecar")
        if not isinstance(strict, bool):
            raise ConfigError(f"must be True or False, got {strict!r:.60}", source="Client()", field="strict")
        try:
            target = check_address(sidecar or default_sidecar_address())
        except ValueError as exc:
            raise ConfigError(str(exc), source="Client()", field="sidecar") from None
        for name, value in (("subsystem", subsystem), ("host", host), ("instance", instance)):
            try:
                if value is not None:
                    value.encode("utf-8")
            except (AttributeError, UnicodeEncodeError):
                raise ConfigError(f"must be a str of valid UTF-8, got {value!r:.60}", source="Client()",
                                  field=name) from None
            if value and (len(value) > limits.MAX_NAME_CHARS or not value.isprintable()):  # stored on every row
                raise ConfigError(f"must be at most {limits.MAX_NAME_CHARS} printable characters (no newline or "
                                  f"control character), got {value!r:.60}", source="Client()", field=name)
        self.producer_id = uuid.uuid4().hex
        self.source = pb.Source(host=host or socket.gethostname(), subsystem=subsystem,
                                instance=instance or str(os.getpid()))
        self._buffer = Buffer(max_buffer_events, max_batch_events, policy,
                              None if block_timeout_ms is None else block_timeout_ms / 1000, self._wake,
                              strict=bool(strict))
        self._exporter = Exporter(self._buffer, target, self.source, self.producer_id, flush_interval_ms / 1000,
                                  window_batches, (reconnect_min_ms, reconnect_max_ms))
        self.state = Lifecycle.RUNNING
        self._flush_said = ""  # the reason a failed flush was last logged for (said again once it changes)
        _live.add(self)
        self._exporter.start()
        self._commands = CommandChannel(self._exporter.loop, target, subsystem, self.source.instance,
                                        (reconnect_min_ms, reconnect_max_ms))

    # -- commands ------------------------------------------------------------------------------------
    def on_command(self, action: str, handler: Handler) -> None:
        """Run ``handler(command)`` for each verified command ``action`` whose target is this subsystem.

        Built-in actions ``set_mode``, ``throttle_job`` and ``quarantine_artifact`` get typed
        parameters (``ben.control.actions``); any other lowercase name is a custom action. The
        handler returns a dict (the result in the signed receipt) or None; an exception makes
        the receipt say ``failed``.
        """
        from ben.control.contract import ACTION_RE

        if not isinstance(action, str) or not ACTION_RE.match(action):
            raise ConfigError(f"must match {ACTION_RE.pattern}, got {action!r}", source="Client.on_command()",
                              field="action")
        if not callable(handler):
            raise ConfigError("must be callable", source="Client.on_command()", field="handler")
        why = handler_problem(handler)
        if why:  # an async def's coroutine was never awaited and the signed receipt said the command ran
            raise ConfigError(why, source="Client.on_command()", field="handler")
        if self.state is not Lifecycle.RUNNING:  # was taken in silence: the handler would never run
            raise ConfigError(f"{action!r} registered after Client.shutdown(): it would never run; register "
                              "handlers before shutting the client down", source="Client.on_command()", field="action")
        self._commands.add(action, handler)

    @property
    def commands_connected(self) -> bool:
        """True while the command stream to the sidecar is up (handlers registered)."""
        return self._commands.connected

    def _wake(self) -> None:
        self._exporter.wake()

    # -- emitting (hot path: never raises) ----------------------------------------------------------
    def _emit(self, kind: int, name: str, value: float, body: str, attrs: Attrs, ts: int | None) -> int | None:
        if ts is None:
            ts = time.time_ns()
        elif type(ts) is not int or not limits.MIN_TS_NS <= ts < limits.MAX_TS_NS:
            try:
                ts = limits.check_ts(ts)
            except InvalidEventError as exc:
                self._buffer.invalid(exc)
                return None
        return self._buffer.append(kind, name, value, body, attrs, ts)

    def gauge(self, name: str, value: float, attrs: Attrs = None, *, ts: int | None = None) -> int | None:
        """A reading of something that goes up and down (latency, queue depth)."""
        return self._emit(METRIC, name, value, "", attrs, ts)

    def counter(self, name: str, increment: float = 1.0, attrs: Attrs = None, *, ts: int | None = None) -> int | None:
        """An increment of something that only counts up (requests, errors)."""
        if type(increment) is not float or not 0 <= increment < math.inf:
            try:
                increment = limits.check_increment(increment)
            except InvalidEventError as exc:
                self._buffer.invalid(exc)
                return None
        return self._emit(COUNTER, name, increment, "", attrs, ts)

    def event(self, name: str, attrs: Attrs = None, *, body: str = "", ts: int | None = None) -> int | None:
        """Something happened (deploy, restart, config change)."""
        return self._emit(EVENT, name, 1.0, body, attrs, ts)

    def log(self, message: str, *, level: str = "info", attrs: Attrs = None, ts: int | None = None) -> int | None:
        """A log line; its series name is the level, one of ``limits.LOG_LEVELS`` in any case (stored lower
        case); another is refused like any bad argument (counted, logged; raised with ``strict``)."""
        try:
            level = limits.check_level(level)
        except InvalidEventError as exc:
            self._buffer.invalid(exc)
            return None
        return self._emit(LOG, level, 1.0, message, attrs, ts)

    def alert(self, name: str, message: str = "", attrs: Attrs = None, *, severity: str = "critical",
              ts: int | None = None) -> int | None:
        """The subsystem itself says something is wrong. Alerts are never shed downstream."""
        merged = {"severity": severity, **(attrs or {})} if isinstance(attrs, Mapping) or attrs is None else attrs
        return self._emit(ALERT, name, 1.0, message, merged, ts)

    # -- acknowledgements ---------------------------------------------------------------------------------
    @property
    def acked_seq(self) -> int:
        """Every event with a sequence number up to this one is durable at the sidecar."""
        return self._buffer.acked_seq

    def is_acked(self, seq: int) -> bool:
        """Whether the event ``seq`` (what an emit returned) is durable at the sidecar. None, what an emit returns
        for an event it refused, was "TypeError: '<=' not supported between instances of 'NoneType' and 'int'"
        (ADR 0033, round 13): a wait for it would never end, so it is said."""
        if seq is None:
            why = self._buffer.stats.last_invalid
            raise InvalidEventError("None: that event was refused, never sent (the emit returned None; stats.last_invalid "
                                    f"says why: {why})" if why else "None is no sequence number (an emit returns None "
                                    "for an event it refused, and this client refused none)", field="seq")
        try:
            if isinstance(seq, bool):  # True was event 1
                raise TypeError
            seq = operator.index(seq)  # an int, numpy's too
        except TypeError:
            raise InvalidEventError(f"{seq!r:.60} is not a sequence number (the int an emit returned)",
                                    field="seq") from None
        if seq < 0:  # -1 was True, "durable", of an event no emit returned (ADR 0033, round 15); 0 is acked_seq's start
            raise InvalidEventError(f"{seq} is no sequence number (an emit returns 1, 2, ...)", field="seq")
        return seq <= self._buffer.acked_seq

    @property
    def stats(self) -> BufferStats:
        return self._buffer.stats

    @property
    def buffered(self) -> int:
        """Events not yet acknowledged."""
        return self._buffer.buffered

    @property
    def connected(self) -> bool:
        return self._exporter.connected

    @property
    def last_error(self) -> str:
        return self._exporter.last_error

    # -- lifecycle -----------------------------------------------------------------------------------------
    def force_flush(self, timeout: float | None = None) -> bool:
        """Send what is buffered; True once the sidecar acknowledged every event emitted so far."""
        timeout = _timeout("force_flush", timeout)
        if self._buffer.forked_from:  # nothing sends in a forked child: do not wait for what cannot come
            return self._buffer.acked_seq >= self._buffer.last_seq
        target = self._buffer.last_seq
        self._buffer.seal()
        done = self._buffer.wait_acked(target, timeout)
        if done:
            self._flush_said = ""
        elif timeout is not None and timeout > 0 and self.state is Lifecycle.RUNNING:  # a bare False: guess why
            why = self.last_error or "no error seen: the sidecar is slow to answer"
            if why != self._flush_said:
                self._flush_said = why
                log.warning("ben sdk: flush: %d events not acknowledged by the sidecar within %g s (%s); they wait "
                            "in this process and go when it answers (Client.last_error; is `ben sidecar` running?)",
                            self._buffer.buffered, timeout, why)
        return done

    flush = force_flush

    def shutdown(self, timeout: float | None = 5.0) -> bool:
        """Flush (up to timeout), then stop. A second call is a no-op; later events are dropped."""
        timeout = _timeout("shutdown", timeout)
        if self.state is not Lifecycle.RUNNING:
            return self._buffer.buffered == 0
        self.state = Lifecycle.STOPPING
        flushed = self.force_flush(timeout)
        if not flushed:
            log.warning("ben sdk: shutting down with %d events not acknowledged by the sidecar (%s)",
                        self._buffer.buffered, self.last_error or "no error seen")
        self._commands.stop(timeout=2.0)
        self._buffer.close()
        self._exporter.stop(timeout=2.0)
        self.state = Lifecycle.STOPPED
        return flushed

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()


#: Every Client of this process: in a forked child they are disowned (their sender stayed in the parent).
_live: weakref.WeakSet[Client] = weakref.WeakSet()


def _disown_after_fork() -> None:
    for client in list(_live):
        client.state = Lifecycle.STOPPED
        client._buffer.disown(os.getppid())
    _live.clear()


os.register_at_fork(after_in_child=_disown_after_fork)

#: How long the interpreter's exit waits for the sidecar to take what a Client that was never shut down holds.
EXIT_FLUSH_S = 5.0


def _shutdown_at_exit() -> None:
    """At the interpreter's exit, each Client never shut down sends what the sidecar has not acknowledged (up to
    ``EXIT_FLUSH_S``) and says what it could not: a script that emitted and ended without ``shutdown()`` lost every
    event in silence, the sender's daemon thread gone with the interpreter (ADR 0033, round 10). A Client with
    nothing left to send costs nothing here. ``atexit`` runs this before the daemon threads stop, and after the
    application's own exit handlers registered later (their last events go too)."""
    deadline = time.monotonic() + EXIT_FLUSH_S  # for them all: an exit waits that long at most
    for client in list(_live):
        if client.state is Lifecycle.RUNNING and client._buffer.buffered and not client._buffer.forked_from:
            # warns with the count and the reason when some are not taken
            client.shutdown(timeout=max(0.0, deadline - time.monotonic()))


atexit.register(_shutdown_at_exit)
