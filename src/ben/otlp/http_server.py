"""OTLP/HTTP: ``POST /v1/logs``, ``/v1/metrics``, ``/v1/traces`` (aiohttp, in the sidecar's loop).

Bodies are ``application/x-protobuf`` or ``application/json``, optionally compressed
(``Content-Encoding: gzip`` or ``deflate``). ben inflates the body itself, at most ``max_request_bytes``
of it (zlib's ``max_length``), so a small compressed bomb is refused, 413, without being inflated
(aiohttp's own inflation ran before its size check: a 2 MB bomb grew the process by 100+ MB). Another
encoding (zstd, snappy, br) is a 415 naming it, and a body that does not inflate a 400, before anything
is parsed. Answers are encoded like the request; errors carry a ``google.rpc.Status``; refusals carry
``Retry-After`` (whole seconds).
"""

from __future__ import annotations

import asyncio
import math
import zlib
from collections import Counter

from aiohttp import web

from google.rpc import code_pb2, status_pb2

from ben.otlp import auth, clients, jsonform
from ben.otlp.exporting import BUSY, DOWN, LOGS, METRICS, TRACES, Answer, Exporting
from ben.otlp.grpc_server import status_details

#: Slow clients (slowloris): a connection whose request headers are not complete within
#: HEADER_TIMEOUT_S (``[sidecar.otlp] slow_client_timeout_s``) is closed (aiohttp's keep-alive deadline,
#: armed when the connection opens and after each answer); a body not received within BODY_TIMEOUT_S is
#: answered 408.
HEADER_TIMEOUT_S, BODY_TIMEOUT_S = 10.0, 60.0
PROTOBUF, JSON = "application/x-protobuf", "application/json"
_HTTP = {BUSY: 429, DOWN: 503}
#: Content-Encodings accepted (what the OpenTelemetry exporters send: gzip, or none; deflate too), with
#: the zlib window bits that read them (deflate: a zlib or gzip header, detected).
ENCODINGS = {"": 0, "identity": 0, "gzip": 16 + zlib.MAX_WBITS, "deflate": 32 + zlib.MAX_WBITS}


def cap_connections(server: web.Server, limit: int, per_client: int | None = None) -> None:
    """At most ``limit`` connections held by ``server`` (a runner's ``web.Server``): past it, the oldest one
    with no request running is closed (else the newest). Without it, any local account could hold one of
    the sidecar's descriptors per idle connection (10 s each, the header deadline) until ``accept`` and
    the WAL's files failed with EMFILE. ``server.connections`` is in arrival order (a dict).

    ``per_client``: and at most this many of one client (the kernel-named uid, ``clients``; ADR 0045, round
    7), the same way among its own: connections with a request running (a body that never comes, up to the
    60 s body deadline) are not idle, so one account could otherwise hold every place. When every place is
    busy, the oldest connection of the account holding most is closed for a new one of an account holding
    fewer (round 8: several accounts, each within its share, held them all)."""
    made, lost = server.connection_made, server.connection_lost
    owners: dict = {}  # handler -> client ("" when the kernel does not name one)
    refused: set = set()  # handlers whose connection closes at the next turn (holding no place meanwhile)

    def connection_made(handler, transport) -> None:
        made(handler, transport)
        # The new connection is closed a turn later: closed here, before aiohttp's handler task first ran, that
        # task failed ("assert manager is not None") and asyncio logged a traceback per connection.
        def refuse() -> None:
            refused.add(handler)
            asyncio.get_running_loop().call_soon(transport.close)

        client = "" if per_client is None else (
            clients.of_certificate(transport.get_extra_info("peercert"))  # mutual TLS: its certificate (round 12)
            or clients.of_transport(transport))  # a unix socket's: the connecting process's uid (round 18)
        if client is None:  # closed by its client before it was accepted: no place, no eviction (round 9)
            refuse()
            return
        owners[handler] = client
        held = server._connections  # noqa: SLF001 - aiohttp keeps no public count of open transports
        live = [(h, t) for h, t in held.items()  # (closed ones leave on their own)
                if not t.is_closing() and h not in refused]
        if client:
            mine = [(h, t) for h, t in live if owners.get(h) == client]
            if len(mine) > per_client:
                victim = next((t for h, t in mine if h is not handler and not h._request_in_progress), None)  # noqa: SLF001
                if victim is not None:
                    victim.close()
                else:
                    refuse()
                return
        if len(held) <= limit or len(live) <= limit:
            return
        victim = next((t for h, t in live if h is not handler and not h._request_in_progress), None)  # noqa: SLF001
        if victim is None and per_client is not None:  # every place busy: the account holding most gives one up
            victim = _of_the_most(live, owners, handler, client)
        if victim is not None:
            victim.close()
        else:
            refuse()

    def connection_lost(handler, exc=None) -> None:
        owners.pop(handler, None)
        refused.discard(handler)
        lost(handler, exc)

    server.connection_made = connection_made  # type: ignore[method-assign]
    server.connection_lost = connection_lost  # type: ignore[method-assign]


def _of_the_most(live: list, owners: dict, handler, client: str):
    """The oldest connection of the client holding most, when ``client`` holds two fewer or more (ADR 0045,
    round 8: accounts each within their share together held every place with requests running); else None."""
    counts = Counter(owners.get(h, "") for h, _ in live if h is not handler)
    if not counts:
        return None
    most, count = counts.most_common(1)[0]
    if count - counts[client] < 2:
        return None
    return next(t for h, t in live if h is not handler and owners.get(h, "") == most)


def _encode(message, json_body: bool) -> tuple[bytes, str]:
    return (jsonform.dump(message), JSON) if json_body else (message.SerializeToString(), PROTOBUF)


def _refusal(answer: Answer, json_body: bool, status: int = 0) -> web.Response:
    """A ``google.rpc.Status`` in the request's encoding; ``Retry-After`` when the client should come back."""
    data, content_type = _encode(status_details(answer), json_body)
    headers = {}
    if answer.retry_after_ms:
        headers["Retry-After"] = str(max(1, math.ceil(answer.retry_after_ms / 1000)))
    return web.Response(status=status or _HTTP.get(answer.outcome, 400), body=data, content_type=content_type,
                        headers=headers)


def _too_large(limit: int) -> str:
    return (f"the request body is over {limit} bytes (sidecar.otlp.max_request_bytes, after inflating): "
            "send smaller batches")


def _inflate(body: bytes, encoding: str, limit: int) -> tuple[bytes, str, int]:
    """(the body inflated, "", 0), or (b"", why, status) refusing it: 413 past ``limit`` bytes, 400 if the
    body does not inflate."""
    inflater = zlib.decompressobj(ENCODINGS[encoding])
    try:
        data = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        return b"", f"the body is not valid {encoding}: {exc}", 400
    if len(data) > limit:
        return b"", _too_large(limit), 413
    if not inflater.eof:
        return b"", f"the body is not valid {encoding}: it is cut short", 400
    return data, "", 0


def app(exporting: Exporting, max_request_bytes: int,
        token: bytes | auth.ReloadedSecret[bytes] | None = None) -> web.Application:
    """``POST /v1/<signal>``; with ``token``, a request without ``Authorization: Bearer <token>`` is a 401
    (before its body is read)."""
    application = web.Application(client_max_size=max_request_bytes)

    def route(signal: str):
        async def handle(request: web.Request) -> web.Response:
            ctype = request.content_type
            if not auth.authorized(token, request.headers.get("Authorization")):
                exporting.unauthenticated(signal, "http")
                data, content_type = _encode(status_pb2.Status(code=code_pb2.UNAUTHENTICATED, message=auth.REFUSAL),
                                             ctype == JSON)
                return web.Response(status=401, body=data, content_type=content_type,
                                    headers={"WWW-Authenticate": "Bearer"})
            if ctype not in (PROTOBUF, JSON):
                return web.Response(status=415, text=f"Content-Type must be {PROTOBUF} or {JSON}, not {ctype!r}\n")
            json_body = ctype == JSON
            encoding = request.headers.get("Content-Encoding", "").strip().lower()
            if encoding not in ENCODINGS:
                answer = exporting.invalid(signal, f"Content-Encoding {encoding!r} is not supported: send gzip, "
                                                   "deflate or an uncompressed body")
                return _refusal(answer, json_body, status=415)
            try:
                async with asyncio.timeout(BODY_TIMEOUT_S):
                    body = await request.read()
            except web.HTTPRequestEntityTooLarge:
                return _refusal(exporting.invalid(signal, _too_large(max_request_bytes)), json_body, status=413)
            except TimeoutError:
                return web.Response(status=408, text=f"request body not received within {BODY_TIMEOUT_S:g} s\n",
                                    headers={"Connection": "close"})
            if ENCODINGS[encoding]:
                body, why, status = _inflate(body, encoding, max_request_bytes)
                if status:
                    return _refusal(exporting.invalid(signal, why), json_body, status=status)
            transport = request.transport
            client = "" if transport is None else (
                clients.of_certificate(transport.get_extra_info("peercert"))  # mutual TLS: its certificate
                or clients.of_transport(transport) or "")
            answer: Answer = await exporting.export(signal, "http", body, json_body, client=client)
            if answer.response is not None:
                data, content_type = _encode(answer.response, json_body)
                return web.Response(body=data, content_type=content_type)
            return _refusal(answer, json_body)
        return handle

    for signal in (LOGS, METRICS, TRACES):
        application.router.add_post(f"/v1/{signal}", route(signal))
    return application
