"""Commands for this subsystem: handlers registered with ``Client.on_command``, run when the
sidecar has verified a signed command (signature, key, role, expiry, replay, policy).

A daemon thread keeps one ``Control.Commands`` stream to the sidecar, registers the subsystem
and its actions, and runs each command's handler in that thread, one at a time. A handler gets
a ``Command`` (built-in actions' parameters typed and validated: ``SetMode``, ``ThrottleJob``,
``QuarantineArtifact``) and returns a dict (its result, in the signed receipt) or None; if it
raises, the receipt says ``failed`` with the error. Reconnects with backoff after any break.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc

from ben.core import transport

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Command:
    """A verified command, as the handler sees it."""

    id: str
    action: str
    target: str
    params: Any          # the typed model for built-in actions, else a dict
    reason: str          # why, in a human's words
    incident_id: str     # the incident that prompted it, or ""
    issuer: str          # key id of who signed it


Handler = Callable[[Command], "dict | None"]


def handler_problem(handler: Callable) -> str:
    """Why ``handler`` cannot be a command handler ("" when it can): handlers run in a worker thread of ben's, so an
    ``async def`` would only make a coroutine nobody awaits; and one is called with the command alone."""
    if inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(getattr(handler, "__call__", None)):
        return ("an async def: ben runs handlers in a thread of its own, where its coroutine would never run; give a "
                "plain function (from an asyncio application: lambda cmd: "
                "asyncio.run_coroutine_threadsafe(handler(cmd), loop).result())")
    try:
        inspect.signature(handler).bind(None)
    except TypeError:
        return f"must take one argument, the command: {getattr(handler, '__name__', handler)!s:.60} does not"
    except ValueError:  # no signature to read (some built-ins): called as it is
        pass
    return ""


class CommandChannel:
    """Runs on the exporter's event loop (gRPC aio wants one loop per process); handlers run in
    that loop's worker threads, one command at a time."""

    def __init__(self, loop: asyncio.AbstractEventLoop, target: str, subsystem: str, instance: str,
                 backoff_ms: tuple[int, int]):
        self._loop = loop
        self._target = target
        self._subsystem = subsystem
        self._instance = instance
        self._backoff_ms = backoff_ms
        self.handlers: dict[str, Handler] = {}
        self._task: asyncio.Future | None = None
        self._changed: asyncio.Event | None = None
        self.connected = False
        self.ran = 0
        self.last_error = ""

    def add(self, action: str, handler: Handler) -> None:
        self.handlers[action] = handler
        if self._task is None:
            self._task = asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        else:
            self._loop.call_soon_threadsafe(self._changed.set)

    async def _start(self) -> asyncio.Task:
        self._changed = asyncio.Event()
        return asyncio.ensure_future(self._connect_loop())

    def stop(self, timeout: float) -> None:
        if self._task is None or self._loop.is_closed():
            return
        task = self._task

        async def cancel() -> None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

        try:
            asyncio.run_coroutine_threadsafe(cancel(), self._loop).result(timeout)
        except Exception:  # the loop is stopping anyway
            pass

    async def _connect_loop(self) -> None:
        await transport.keep_connected(self._session, self._backoff_ms, self._on_break, lambda: self.connected)

    def _on_break(self, exc: Exception | None) -> None:
        if isinstance(exc, grpc.aio.AioRpcError):
            self.last_error = f"{exc.code().name}: {exc.details()}"
        elif exc is not None:
            self.last_error = f"{type(exc).__name__}: {exc}"
        self.connected = False

    def _register(self):
        from ben.v1 import control_pb2 as pb

        return pb.SubsystemUp(register=pb.Register(subsystem=self._subsystem, actions=sorted(self.handlers),
                                                   instance=self._instance))

    async def _session(self) -> None:
        from ben.v1 import control_pb2 as pb
        from ben.v1 import control_pb2_grpc as pb_grpc

        async with grpc.aio.insecure_channel(self._target, options=transport.CHANNEL_OPTIONS) as channel:
            call = pb_grpc.ControlStub(channel).Commands(wait_for_ready=False)
            self._changed.clear()  # before building the registration: a handler added meanwhile re-registers
            await call.write(self._register())
            reregister = asyncio.ensure_future(self._reregister(call))
            try:
                await call.wait_for_connection()
                self.connected = True
                async for run in call:
                    result = await asyncio.to_thread(self._run_one, run)
                    await call.write(pb.SubsystemUp(result=result))
            finally:
                reregister.cancel()
            raise ConnectionError("the sidecar closed the command stream")

    async def _reregister(self, call) -> None:
        while True:
            await self._changed.wait()
            self._changed.clear()
            await call.write(self._register())

    def _run_one(self, run):
        from ben.control.actions import typed_params
        from ben.core.errors import PolicyError
        from ben.v1 import control_pb2 as pb

        handler = self.handlers.get(run.action)
        if handler is None:
            return pb.CommandResult(command_id=run.command_id, ok=False, error=f"no handler for {run.action!r}")
        try:
            params = typed_params(run.action, json.loads(run.params_json or "{}"))
        except PolicyError as exc:
            return pb.CommandResult(command_id=run.command_id, ok=False, error=str(exc))
        command = Command(run.command_id, run.action, run.target, params, run.reason, run.incident_id, run.issuer)
        try:
            result = handler(command)
        except Exception as exc:  # the handler's failure goes into the receipt, never up the stack
            log.exception("ben sdk: handler for %s failed", run.action)
            return pb.CommandResult(command_id=run.command_id, ok=False, error=f"{type(exc).__name__}: {exc}")
        if inspect.isawaitable(result):  # a handler that slipped past on_command's check: it did not run
            getattr(result, "close", lambda: None)()
            return pb.CommandResult(command_id=run.command_id, ok=False, error=handler_problem(handler) or
                                    "the handler returned an awaitable: it did not run; give a plain function")
        self.ran += 1
        if result is None:
            result = {}
        elif not isinstance(result, dict):
            result = {"value": result}
        try:
            text = json.dumps(result, default=str)
        except (TypeError, ValueError) as exc:
            return pb.CommandResult(command_id=run.command_id, ok=False, error=f"result is not JSON: {exc}")
        return pb.CommandResult(command_id=run.command_id, ok=True, result_json=text)
