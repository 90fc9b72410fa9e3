"""The sidecar's side of the SDK control streams: subsystems register their handlers here.

Each SDK client keeps one ``Control.Commands`` stream open and registers its subsystem (the
command target) and the actions it handles. ``run`` hands a verified command to the first
client registered for that target and action and waits for its result (bounded by the handler
timeout). A client that goes away fails what it was running.

A registration and a detach are logged a burst of ``LINES_A_MINUTE`` a minute, the rest counted in the next line
written (ADR 0045, round 16): a socket group member registering in a loop wrote a line a message. A registration
whose subsystem no command can target (``TARGET_RE``) or whose actions no command can name (``ACTION_RE``, at most
``MAX_ACTIONS``) is ignored: two subsystems of 9 MB names made the sidecar's announcement of its targets larger
than a message to the spine may be, and its control stream broke at every attach.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from ben.control.contract import ACTION_RE, TARGET_RE
from ben.control.documents import Envelope, clean_text
from ben.control.gate import Outcome
from ben.control.outbox import broke, relay
from ben.core.sparse_log import Sparse
from ben.v1 import control_pb2 as pb

log = logging.getLogger(__name__)
#: Registration (and detach, and broken stream) lines a minute; the rest are counted in the next one written.
LINES_A_MINUTE = 20
_sparse = Sparse(log, burst=LINES_A_MINUTE)
#: Actions one registration may name (an SDK registers one per handler).
MAX_ACTIONS = 256


@dataclass
class _Session:
    number: int
    subsystem: str = ""
    actions: set[str] = field(default_factory=set)
    outbox: asyncio.Queue = field(default_factory=asyncio.Queue)
    running: dict[str, asyncio.Future] = field(default_factory=dict)


class Hub:
    """The SDK sessions attached to a sidecar and the actions each handles: routes commands to the subsystem's
    handler, with a timeout."""

    def __init__(self, handler_timeout_s: float, on_change: Callable[[], None] = lambda: None):
        self._timeout = handler_timeout_s
        self._sessions: list[_Session] = []
        self._numbers = itertools.count(1)
        self.on_change = on_change

    def routes(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for s in self._sessions:
            if s.subsystem:
                out.setdefault(s.subsystem, set()).update(s.actions)
        return out

    def targets(self) -> list[str]:
        return sorted(self.routes())

    async def run(self, env: Envelope) -> Outcome:
        session = next((s for s in self._sessions if s.subsystem == env.target and env.action in s.actions), None)
        if session is None:
            return Outcome(False, {}, f"subsystem {env.target!r} went away before the command ran")
        done = asyncio.get_running_loop().create_future()
        session.running[env.id] = done
        session.outbox.put_nowait(pb.CommandToRun(
            command_id=env.id, action=env.action, target=env.target, params_json=json.dumps(env.params),
            reason=env.reason, incident_id=env.incident_id, issuer=env.issuer))
        try:
            return await asyncio.wait_for(done, self._timeout)
        except TimeoutError:
            return Outcome(False, {}, f"no answer from the handler within {self._timeout:.0f} s")
        finally:
            session.running.pop(env.id, None)

    # -- the servicer method (Control.Commands) ------------------------------------------------------
    async def Commands(self, request_iterator, context):
        session = _Session(next(self._numbers))
        self._sessions.append(session)
        reader = asyncio.ensure_future(self._read(request_iterator, session))
        try:
            async for message in relay(session.outbox, reader):
                yield message
            if broke(reader) is not None:
                _sparse.warning("broken command streams", "control: command stream of %s broke: %r",
                                session.subsystem or "a client", broke(reader))
        finally:
            reader.cancel()
            self._sessions.remove(session)
            for fut in session.running.values():
                if not fut.done():
                    fut.set_result(Outcome(False, {}, f"subsystem {session.subsystem!r} disconnected while running"))
            if session.subsystem:
                _sparse.info("subsystem detaches", "control: subsystem %s detached", session.subsystem)
                self.on_change()

    async def _read(self, request_iterator, session: _Session) -> None:
        async for msg in request_iterator:
            which = msg.WhichOneof("msg")
            if which == "register":
                why = _unreachable(msg.register)
                if why:
                    _sparse.warning("registrations ignored", "control: a registration ignored: %s", why)
                    continue
                session.subsystem = msg.register.subsystem
                session.actions = set(msg.register.actions)
                _sparse.info("subsystem registrations", "control: subsystem %s attached with actions %s",
                             session.subsystem, sorted(session.actions))
                self.on_change()
            elif which == "result":
                fut = session.running.get(msg.result.command_id)
                if fut is not None and not fut.done():
                    try:
                        result = json.loads(msg.result.result_json or "{}")
                    except ValueError:
                        result = {"text": msg.result.result_json[:2000]}
                    if not isinstance(result, dict):
                        result = {"value": result}
                    fut.set_result(Outcome(msg.result.ok, _integral(result), clean_text(msg.result.error[:2000])))


def _unreachable(register) -> str:
    """Why no command could reach this registration ("" if one can): its subsystem is no command target, or its
    actions are not names an action may have."""
    if not TARGET_RE.match(register.subsystem):
        return (f"subsystem {register.subsystem[:64]!r} ({len(register.subsystem)} characters) is no command "
                f"target ({TARGET_RE.pattern})")
    if len(register.actions) > MAX_ACTIONS:
        return f"subsystem {register.subsystem!r} names {len(register.actions)} actions, more than {MAX_ACTIONS}"
    bad = next((a for a in register.actions if not ACTION_RE.match(a)), None)
    if bad is not None:
        return f"subsystem {register.subsystem!r} names action {bad[:64]!r}, no action name ({ACTION_RE.pattern})"
    return ""


def _integral(value):
    """Handler results are signed: floats and integers beyond int64 become strings (canonical JSON
    has neither), lone surrogates become U+FFFD (no encoder on the way takes them)."""
    if isinstance(value, float) or (isinstance(value, int) and not isinstance(value, bool)
                                    and not -(1 << 63) <= value < (1 << 63)):
        return repr(value)
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8") if not value.isascii() else value
    if isinstance(value, dict):
        return {_integral(str(k)): _integral(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_integral(v) for v in value]
    return value
