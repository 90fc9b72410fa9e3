"""Who is calling: sidecars and operators authenticated at the spine's service boundary (ADR 0034).

A ``Guard`` (a gRPC server interceptor) wraps every method handler of the spine:

=================================  ============================================================
method                              who may call it
=================================  ============================================================
``Ingest.Stream``                   a sidecar: on TCP its client certificate's common name is its
                                    id and every request's ``sender_id`` must be that id
``Control.Attach``                  a sidecar: the hello's ``sidecar_id`` must be its certificate's
``Admin.Status``                    anyone who can connect: an operator gets the figures, last error and
                                    data directory; anyone else a bare liveness answer (the component)
every other method                  an operator: on a unix socket by the peer's user id (kernel
                                    ``SO_PEERCRED``, through the token handshake below), on TCP
                                    by the client certificate's common name; mapped to a name
=================================  ============================================================

On a unix socket the socket's mode and group decide who connects at all. gRPC does not expose a
unix peer's credentials, so an operator's client first connects to the spine's *auth socket*
(``<socket>.auth``): the spine reads the peer's uid with ``SO_PEERCRED``, maps it to an operator
and answers a random single-use token valid for ``TOKEN_TTL_S``, which the client sends as
``ben-operator-token`` metadata on its call. The token only ever travels over the two unix sockets.
With ``insecure = true`` on TCP nobody is authenticated: calls run as ``unauthenticated@<peer>``
and a sidecar's claim that it redacted a batch is not believed (the spine redacts it again). Plain TCP
listens on loopback only (``transport.check_listen``), where every account of the host can connect: the
kernel names each caller's uid (``ben.core.peer``), and only the spine's own uid, the operators' uids and
the members of ``socket_group`` (those the unix socket serves) are served (``PlainTcp``; ADR 0045, round 9).
The operator's name is put in a context variable (``CALLER``) that the audit log records.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import logging
import os
import pwd
import secrets
import socket
import struct
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import grpc

from ben.core.address import socket_path
from ben.core.errors import ConfigError, TransportError
from ben.core.sparse_log import Sparse

log = logging.getLogger(__name__)
_sparse = Sparse(log)  # refusals: a line a minute per caller (and method), the rest counted (round 15)

#: The operator (or ``sidecar:<id>``) a request of this task runs for; read by the audit log.
CALLER: contextvars.ContextVar[str] = contextvars.ContextVar("ben_caller", default="")
TOKEN_METADATA = "ben-operator-token"
TOKEN_TTL_S = 30.0
AUTH_SUFFIX = ".auth"

OPEN_METHODS = frozenset({"/ben.v1.Admin/Status"})
_PLAIN_REFUSED = ("{} may not call this spine over plain TCP (insecure = true): only the spine's own uid, "
                  "spine.operators' uids and spine.socket_group's members are served; use the unix socket or mutual TLS")
SIDECAR_METHODS = frozenset({"/ben.v1.Ingest/Stream", "/ben.v1.Control/Attach"})


@dataclass(frozen=True)
class Operator:
    """An operator: unix user ids, and the common name of a client certificate ("" = none)."""

    name: str
    uids: tuple[int, ...] = ()
    cert: str = ""


def operators_from_config(configured: Iterable, flag: str = "spine.operators") -> list[Operator]:
    """The configured operators, or the user the process runs as (by uid only) when none is."""
    ops = [Operator(o.name, tuple(o.uids), o.cert or o.name) for o in configured]
    for what, keys in (("name", [op.name for op in ops]), ("cert", [op.cert for op in ops]),
                       ("uid", [uid for op in ops for uid in op.uids])):
        dupes = sorted({str(k) for k in keys if keys.count(k) > 1})
        if dupes:
            raise ConfigError(f"{what} {', '.join(dupes)} belongs to more than one operator", field=flag)
    if not ops:
        uid = os.geteuid()
        try:
            name = pwd.getpwuid(uid).pw_name
        except KeyError:
            name = f"uid{uid}"
        ops = [Operator(name, (uid,), "")]
    return ops


@dataclass(frozen=True)
class Peer:
    """An authenticated peer: kind ``operator`` or ``sidecar`` (with its name), or not authenticated."""

    kind: str  # "operator" | "sidecar" | "local" (a unix peer, no token) | "insecure" (plain TCP) | "refused"
    name: str = ""


def peer_credentials(sock: socket.socket) -> tuple[int, int, int]:
    """(pid, uid, gid) of a unix socket's peer, from the kernel (Linux SO_PEERCRED)."""
    data = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return struct.unpack("3i", data)


class TokenIssuer:
    """The auth socket: a peer's uid (SO_PEERCRED) in, a single-use operator token out."""

    def __init__(self, operators: list[Operator]):
        self._by_uid = {uid: op.name for op in operators for uid in op.uids}
        self._tokens: dict[str, tuple[str, float]] = {}
        self._server: asyncio.AbstractServer | None = None
        self.path: Path | None = None
        self.refused = 0

    async def start(self, grpc_address: str) -> None:
        """Serve ``<socket>.auth`` beside a unix gRPC address (nothing for TCP); the caller sets its mode."""
        path = socket_path(grpc_address)
        if path is None:
            return
        from ben.core.transport import prepare_listen

        auth = Path(str(path) + AUTH_SUFFIX)
        # only a stale socket is removed there, as at the listen path beside it: a file, a directory or a symlink
        # was removed (or a traceback), another account's socket in a sticky directory a traceback (round 12)
        prepare_listen(f"unix://{auth}", "spine.listen")
        self._server = await asyncio.start_unix_server(self._answer, path=str(auth))
        self.path = auth  # ours from now on: removed at shutdown

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            _pid, uid, _gid = peer_credentials(writer.get_extra_info("socket"))
            name = self._by_uid.get(uid)
            if name is None:
                self.refused += 1
                _sparse.warning(f"uid {uid}", "auth socket: uid %d is no operator (spine.operators)", uid)
                writer.write(f"refused uid {uid} is not an operator of this spine\n".encode())
            else:
                token = secrets.token_urlsafe(24)
                now = time.monotonic()
                self._tokens = {t: v for t, v in self._tokens.items() if v[1] > now}
                self._tokens[token] = (name, now + TOKEN_TTL_S)
                writer.write(f"ok {token}\n".encode())
            await writer.drain()
        except OSError as exc:
            log.debug("auth socket: %s", exc)
        finally:
            writer.close()

    def redeem(self, token: str) -> str | None:
        """The operator a token was issued to (once; None if unknown or expired)."""
        found = self._tokens.pop(token, None)
        if found is None or found[1] < time.monotonic():
            return None
        return found[0]

    async def shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        if self.path is not None:
            self.path.unlink(missing_ok=True)


def operator_metadata(address: str, timeout: float = 5.0, *, required: bool = True) -> list[tuple[str, str]]:
    """Client side: on a unix address with an auth socket, fetch a token for one call. ``required=False`` (``Status``,
    whose details only an operator gets): a user the spine refuses as an operator calls without one."""
    path = socket_path(address)
    if path is None:
        return []
    auth = Path(str(path) + AUTH_SUFFIX)
    if not auth.exists():
        return []  # a sidecar, or a spine without operator authentication
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(str(auth))
            answer = sock.makefile("rb").readline().decode().strip()
        except (ConnectionRefusedError, FileNotFoundError):
            raise TransportError(f"nothing answers at {address} (is it running?)") from None  # left by a kill -9
        except OSError as exc:
            raise TransportError(f"cannot authenticate at {auth}: {exc}") from None
    verdict, _, rest = answer.partition(" ")
    if verdict != "ok" and not required:
        return []
    if verdict != "ok":
        raise TransportError(f"the spine refused this user as an operator: {rest or answer}")
    return [(TOKEN_METADATA, rest)]


def common_name(context) -> str:
    auth = context.auth_context()
    if auth.get("transport_security_type") != [b"ssl"]:
        return ""
    names = auth.get("x509_common_name") or []
    return names[0].decode() if names else ""


class PlainTcp:
    """Who a plain (``insecure = true``) loopback TCP listener serves: the accounts its unix socket would."""

    def __init__(self, address: str, operators: list[Operator], group: str = "",
                 gated: Callable[[str], str] | None = None):
        """``gated``: the listener is behind an accepting gate (a sidecar's ``listen``, ADR 0045, round 17), whose
        ``client_of_peer`` names a call's client ``u<uid>`` (the kernel's, read at accept) from its unix peer."""
        self.host = address.rpartition(":")[0].strip("[]")
        self.port = int(address.rpartition(":")[2])
        self.uids = frozenset({os.geteuid(), *(uid for op in operators for uid in op.uids), *_members(group)})
        self._gated = gated

    def uid_of(self, peer: str) -> int | None:
        """The uid the kernel names for the client of gRPC peer ``ipv4:127.0.0.1:5555`` / ``ipv6:[::1]:5555``
        (behind a gate: ``unix:<gate's directory>/u<uid>.<n>``; any other peer is no one)."""
        import ipaddress
        from urllib.parse import unquote

        from ben.core.peer import peer_uid

        if self._gated is not None:
            client = self._gated(unquote(peer))
            return int(client[1:]) if client else None
        family, _, rest = unquote(peer).partition(":")
        host, _, port = rest.rpartition(":")
        try:
            client = ipaddress.ip_address(host.strip("[]"))
            server = self.host if self.host != "localhost" else ("::1" if client.version == 6 else "127.0.0.1")
            return peer_uid((str(client), int(port)), (server, self.port)) if family in ("ipv4", "ipv6") else None
        except ValueError:
            return None


def _members(group: str) -> set[int]:
    """The uids of a group's members (named in it, or by their primary group); none for ""."""
    import grp

    if not group:
        return set()
    try:
        entry = grp.getgrnam(group)
    except KeyError:
        return set()
    named = set(entry.gr_mem)
    return {u.pw_uid for u in pwd.getpwall() if u.pw_name in named or u.pw_gid == entry.gr_gid}


class Guard(grpc.aio.ServerInterceptor):
    """Authenticates every call before the servicer sees it (see the module docstring)."""

    def __init__(self, operators: list[Operator], tokens: TokenIssuer | None, plain: PlainTcp | None = None):
        self._by_cert = {op.cert: op.name for op in operators if op.cert}
        self._tokens = tokens
        self._plain = plain
        self.denied = 0

    def identify(self, context) -> Peer:
        peer = context.peer() or ""
        if peer.startswith("unix:"):
            token = dict(context.invocation_metadata() or ()).get(TOKEN_METADATA, "")
            name = self._tokens.redeem(token) if (token and self._tokens is not None) else None
            return Peer("operator", name) if name else Peer("local")
        cn = common_name(context)
        if not cn:
            if self._plain is not None:
                uid = self._plain.uid_of(peer)
                if uid not in self._plain.uids:
                    return Peer("refused", "an account the kernel does not name" if uid is None else f"uid {uid}")
            return Peer("insecure", f"unauthenticated@{peer}")
        if cn in self._by_cert:
            return Peer("operator", self._by_cert[cn])
        return Peer("sidecar", cn)

    async def _deny(self, context, method: str, peer: Peer, why: str) -> None:
        self.denied += 1
        _sparse.warning(f"{peer.kind} {peer.name} calling {method}", "refused %s from %s (%s): %s", method,
                        context.peer(), peer.kind, why)
        await context.abort(grpc.StatusCode.PERMISSION_DENIED, why)

    async def intercept_service(self, continuation, details):
        handler = await continuation(details)
        method = details.method
        if handler is None:
            return handler
        if method in OPEN_METHODS:  # liveness for every caller served; its details for operators only
            return self._open_handler(handler, method)
        if method in SIDECAR_METHODS:
            return self._sidecar_handler(handler, method)
        return self._operator_handler(handler, method)

    def _open_handler(self, handler, method: str):
        """``Status``, open to every caller the listener serves (on plain TCP, every account the kernel names as one
        of the spine's own: ``PlainTcp``). Its figures, last error and data directory's path are an operator's: a
        sidecar's certificate, a socket group's member without a token get the bare answer, the component alone
        (least privilege; ADR 0045, round 10)."""
        inner = handler.unary_unary

        async def guarded(request, context):
            peer = self.identify(context)
            if peer.kind == "refused":
                await self._deny(context, method, peer, _PLAIN_REFUSED.format(peer.name))
            reply = await inner(request, context)
            if peer.kind in ("operator", "insecure"):  # insecure: a plain loopback account served as an operator
                return reply
            return type(reply)(component=reply.component)

        return grpc.unary_unary_rpc_method_handler(guarded, request_deserializer=handler.request_deserializer,
                                                   response_serializer=handler.response_serializer)

    # -- operators ----------------------------------------------------------------------------------
    def _operator_handler(self, handler, method: str):
        if handler.request_streaming or handler.response_streaming:
            return self._operator_stream(handler, method)
        inner = handler.unary_unary

        async def guarded(request, context):
            peer = self.identify(context)
            if peer.kind == "operator" or peer.kind == "insecure":
                name = peer.name
            else:
                why = (_PLAIN_REFUSED.format(peer.name) if peer.kind == "refused" else
                       "an operator's client certificate is needed (spine.operators[].cert)" if peer.kind == "sidecar"
                       else "not authenticated as an operator: the caller's uid must be in spine.operators "
                            "(the client fetches a token from the spine's auth socket)")
                await self._deny(context, method, peer, why)
                return None
            reset = CALLER.set(name)
            try:
                return await inner(request, context)
            finally:
                CALLER.reset(reset)

        return grpc.unary_unary_rpc_method_handler(guarded, request_deserializer=handler.request_deserializer,
                                                   response_serializer=handler.response_serializer)

    def _operator_stream(self, handler, method: str):
        """No operator method streams today; one added later is guarded the same, any other shape refused."""
        inner = handler.stream_stream
        if inner is None or not inspect.isasyncgenfunction(inner):
            return None  # UNIMPLEMENTED: nothing unguarded gets through

        async def guarded(request_iterator, context):
            peer = self.identify(context)
            if peer.kind not in ("operator", "insecure"):
                await self._deny(context, method, peer, _PLAIN_REFUSED.format(peer.name) if peer.kind == "refused"
                                 else "not authenticated as an operator")
            CALLER.set(peer.name)  # the call's own task: its context ends with it
            async for reply in inner(request_iterator, context):
                yield reply

        return grpc.stream_stream_rpc_method_handler(guarded, request_deserializer=handler.request_deserializer,
                                                     response_serializer=handler.response_serializer)

    # -- sidecars -----------------------------------------------------------------------------------
    def _sidecar_handler(self, handler, method: str):
        inner = handler.stream_stream
        if inner is None or not inspect.isasyncgenfunction(inner):
            return handler
        ingest = method.endswith("/Stream")

        async def guarded(request_iterator, context):
            peer = self.identify(context)
            if peer.kind == "operator":
                await self._deny(context, method, peer, "an operator's certificate cannot act as a sidecar")
            if peer.kind == "refused":
                await self._deny(context, method, peer, _PLAIN_REFUSED.format(peer.name))
            if peer.kind == "local":  # the socket's mode and group are the gate; nothing to check
                async for reply in inner(request_iterator, context):
                    yield reply
                return
            denied: list[str] = []
            async for reply in inner(self._checked(request_iterator, peer, ingest, denied), context):
                yield reply
            if denied:
                await self._deny(context, method, peer, denied[0])

        return grpc.stream_stream_rpc_method_handler(guarded, request_deserializer=handler.request_deserializer,
                                                     response_serializer=handler.response_serializer)

    @staticmethod
    async def _checked(requests: AsyncIterator, peer: Peer, ingest: bool, denied: list[str]) -> AsyncIterator:
        """The requests of a TCP peer, checked; the first that claims another identity ends the stream."""
        async for msg in requests:
            if ingest:
                if peer.kind == "insecure":
                    # Nobody vouches for the batch: its claim to be redacted is not believed.
                    msg.batch.ClearField("redacted_by")
                elif msg.sender_id != peer.name:
                    denied.append(f"sender_id {msg.sender_id!r} is not this peer's certificate name {peer.name!r}")
                    return
            elif peer.kind == "sidecar" and msg.WhichOneof("msg") == "hello" and msg.hello.sidecar_id != peer.name:
                denied.append(f"sidecar_id {msg.hello.sidecar_id!r} is not this peer's certificate name {peer.name!r}")
                return
            yield msg
