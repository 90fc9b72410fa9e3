"""Running a long-lived component: start, wait for SIGTERM/SIGINT, shut down within a timeout.

A second signal during shutdown exits at once (130 when Ctrl-C was either signal, else 1); everything acknowledged
is already on disk. ``serve`` returns the signal that stopped the service: the command exits 130 for SIGINT (an
interrupted command, ADR 0033 round 14) and 0 for SIGTERM (a service manager's stop, done cleanly). A repeat
within ``REPEAT_WINDOW_S`` of the first is the same stop, not a second one: ``timeout CMD`` sends SIGTERM
to its child and then to its whole process group, so the child gets two at once, and skipped its drain.
``PARENT_GONE`` (SIGUSR2) is what a component started by ``ben demo`` gets when the demo dies: a stop,
never the second signal, however many times the kernel sends it. With ``force_exit_after_s`` (the
``ben spine``/``ben sidecar`` commands pass their shutdown timeout + ``EXIT_GRACE_S``) the process is
gone that long after the first stop whatever hangs (a thread that never ends, a library's exit hook):
acknowledged data is in the WAL, as after kill -9.
SIGHUP calls the service's ``reload()`` if it has one (the sidecar and the spine reload their redaction manifest);
one received while the service starts is applied once it has started (never dropped).
The process's umask is 0o077 from the start on: every file it or its libraries create is private.
"""

from __future__ import annotations

import asyncio
import enum
import gc
import logging
import os
import signal
import sys
import threading
from typing import Protocol

from ben.core.files import private_umask
from ben.core.priority import BACKGROUND_NICE, CHDB_BACKGROUND, ROCKSDB_BACKGROUND, BackgroundPriority, set_realtime

log = logging.getLogger(__name__)

#: A stop signal this soon after the first is a copy of it (``timeout``, a supervisor signalling the
#: process and its group), not an operator's second signal.
REPEAT_WINDOW_S = 1.0


class Lifecycle(enum.Enum):
    """Where a long-running component is in its life: ``NEW`` -> ``RUNNING`` (``start``) ->
    ``STOPPING`` (``shutdown``) -> ``STOPPED``; a second ``shutdown`` is a no-op."""

    NEW = "new"
    RUNNING = "running"
    STOPPING = "stopping"
    STOPPED = "stopped"


class Service(Protocol):
    """What a long-running component offers the process runner: ``start`` and ``shutdown(timeout)``."""

    name: str

    async def start(self) -> None: ...
    async def shutdown(self, timeout: float) -> None: ...


#: How long a thread keeps the interpreter while another waits for it (Python's default: 5 ms).
#: ben's own processes run an event loop (acks) beside CPU-bound threads (store writer,
#: detection); at 5 ms every hand-over can add 5 ms to an alert's way, at 1 ms one.
SWITCH_INTERVAL_S = 0.001

#: The signal a component gets when the process that started it dies (``PR_SET_PDEATHSIG``, see
#: ``ben.cli.procs``). Not SIGTERM: the kernel may deliver it more than once (once per thread it
#: reparents), and a second SIGTERM means "exit at once, skip the drain".
PARENT_GONE = signal.SIGUSR2

#: Seconds past the shutdown timeout after which a stopping process exits by force: the spine's
#: shutdown gives its store writer the whole timeout, then detection and federation up to 5 s each.
EXIT_GRACE_S = 30.0


def exit_deadline(name: str, seconds: float) -> None:
    """Make sure this process is gone ``seconds`` from now, whatever hangs in its shutdown or in the
    interpreter's exit (joining a thread that never ends, a library's atexit hook). A daemon thread
    logs and ``os._exit(1)``s; should it not get the interpreter, SIGALRM (default action) ends the
    process 5 s later. Call once, when the stop begins."""

    def force() -> None:
        log.error("%s: still running %.0f s after the stop began; exiting now (what was acknowledged "
                  "is in the WAL)", name, seconds)
        logging.shutdown()
        os._exit(1)

    timer = threading.Timer(seconds, force)
    timer.daemon = True
    timer.start()
    signal.alarm(int(seconds) + 5)


def freeze_heap() -> None:
    """Exempt what the start made (modules, config, connections: kept for the process's life) from
    garbage collection: a full collection then scans only what came after. Measured under the lanes
    bench: full collections of 15-47 ms in the sidecar and the spine, each a stall on an alert's way.

    The young generations only are collected first: a full collection here found 0-47 unreachable objects at a
    spine's, a sidecar's or a store process's start, for 0.06-0.1 s of CPU each, and 0.4 s of a spine's wall
    time before "ready" while its detection warm-up held the interpreter (ADR 0048, fifth round)."""
    gc.collect(1)
    gc.freeze()


def raise_descriptor_limit() -> int:
    """Raise the soft RLIMIT_NOFILE to the hard one (often 1,024 against 524,288): a listener another
    local account floods with idle connections (ADR 0045, 2026-12-06) must take many more before the
    WAL, the store or the sidecars' connections find no descriptor. Returns the soft limit now."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError) as exc:
            log.info("cannot raise the open-files limit from %d to %d: %s", soft, hard, exc)
    return soft


async def serve(service: Service, shutdown_timeout_s: float, background_nice: int = BACKGROUND_NICE,
                realtime_priority: int = 0, force_exit_after_s: float | None = None) -> int:
    """Start the service, run until a stop signal, then shut it down; returns that signal. Background threads
    (compactions, merges) run at ``background_nice`` (ADR 0024); with ``realtime_priority`` the
    others run under SCHED_RR at that priority, set before the service starts any (ADR 0027):
    background threads inherit it until ``BackgroundPriority`` puts them back."""
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    # Before anything is opened: what RocksDB, chDB (its process inherits it) and the sockets create
    # is the owner's alone (ADR 0034).
    private_umask()
    raise_descriptor_limit()
    if realtime_priority:
        set_realtime(realtime_priority)
    background = BackgroundPriority(ROCKSDB_BACKGROUND + CHDB_BACKGROUND, background_nice)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()

    first_stop_at: list[float] = []
    first_signal: list[int] = []

    def on_signal(signum: int) -> None:
        if stop.is_set():
            if signum == PARENT_GONE:
                return
            if loop.time() - first_stop_at[0] < REPEAT_WINDOW_S:
                log.info("%s: %s again at once, the same stop", service.name, signal.Signals(signum).name)
                return
            log.warning("%s: second signal, exiting now", service.name)
            os._exit(130 if signal.SIGINT in (signum, first_signal[0]) else 1)  # Ctrl-C: interrupted, as every command
        why = ("the process that started it exited" if signum == PARENT_GONE
               else f"{signal.Signals(signum).name} received")
        log.info("%s: %s, shutting down (timeout %.1fs)", service.name, why, shutdown_timeout_s)
        first_stop_at.append(loop.time())
        first_signal.append(signum)
        stop.set()
        if force_exit_after_s is not None:
            exit_deadline(service.name, force_exit_after_s)

    for sig in (signal.SIGTERM, signal.SIGINT, PARENT_GONE):
        loop.add_signal_handler(sig, on_signal, sig)
    reload = getattr(service, "reload", None)
    service_started = asyncio.Event()
    reload_asked: list[bool] = []   # a SIGHUP during the start: the file may have changed after the start read it
    if reload is not None:
        def on_hup() -> None:
            if service_started.is_set():
                log.info("%s: SIGHUP received, reloading", service.name)
                reload()
            elif not reload_asked:
                log.info("%s: SIGHUP before the start finished; reloading once started", service.name)
                reload_asked.append(True)

        loop.add_signal_handler(signal.SIGHUP, on_hup)
    starting = asyncio.ensure_future(service.start())
    stopped = asyncio.ensure_future(stop.wait())
    await asyncio.wait({starting, stopped}, return_when=asyncio.FIRST_COMPLETED)
    if not starting.done():  # a stop signal while starting (the spine waiting for its store): give the start up
        log.info("%s: stop requested while starting; giving the start up", service.name)
        starting.cancel()
    stopped.cancel()
    try:
        await starting
    except asyncio.CancelledError:
        if not stop.is_set():
            raise
        await service.shutdown(min(shutdown_timeout_s, 5.0))  # what had started (a no-op if done already)
        log.info("%s: stopped before it was ready", service.name)
        _ignore_stop_signals(loop)
        return first_signal[0]
    except BaseException:
        # Threads already started (store writer, detection) must not be inside a native library
        # while the interpreter exits: stop what started, then report the error.
        try:
            await service.shutdown(min(shutdown_timeout_s, 5.0))
        except Exception:
            log.exception("%s: cleaning up after a failed start also failed", service.name)
        raise
    service_started.set()
    if reload_asked:
        log.info("%s: reloading, as a SIGHUP during the start asked", service.name)
        reload()
    freeze_heap()
    background.start()
    try:
        print(f"{service.name}: ready", flush=True)
    except (OSError, ValueError, AttributeError) as exc:  # stdout a pipe nobody reads any more, or closed
        log.warning("%s: ready (could not say so on stdout: %s); running on", service.name,
                    getattr(exc, "strerror", None) or exc)
    await stop.wait()
    background.shutdown()
    await service.shutdown(shutdown_timeout_s)
    log.info("%s: stopped", service.name)
    _ignore_stop_signals(loop)
    return first_signal[0]


def _ignore_stop_signals(loop: asyncio.AbstractEventLoop) -> None:
    """Stopped: the process only exits now. A copy of the stop signal (``timeout`` signals the process and
    then its group) must not kill it with -15 after a clean stop, as it would once the loop closes and puts
    the default handlers back (the loop only restores the handlers still registered with it)."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.remove_signal_handler(sig)
        signal.signal(sig, signal.SIG_IGN)
