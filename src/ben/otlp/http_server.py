"""OTLP/HTTP: ``POST /v1/logs``, ``/v1/metrics``, ``/v1/traces`` (aiohttp, in the sidecar's loop).

Bodies are ``application/x-protobuf`` or ``application/json``, optionally compressed
(``Content-Encoding: gzip`` or ``deflate``; aiohttp inflates them and counts the inflated size against
``max_request_bytes``, so a small compressed bomb is refused, 413). Another encoding (zstd, snappy, br)
is a 415 naming it, and a body that does not inflate a 400, before anything is parsed. Answers are
encoded like the request; errors carry a ``google.rpc.Status``; refusals carry ``Retry-After`` (whole
seconds).
"""

from __future__ import annotations

import math

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError

from google.rpc import code_pb2, status_pb2

from ben.otlp import auth, jsonform
from ben.otlp.exporting import BUSY, DOWN, LOGS, METRICS, TRACES, Answer, Exporting
from ben.otlp.grpc_server import status_details

PROTOBUF, JSON = "application/x-protobuf", "application/json"
_HTTP = {BUSY: 429, DOWN: 503}
#: Content-Encodings accepted (what the OpenTelemetry exporters send: gzip, or none; deflate too).
ENCODINGS = frozenset({"", "identity", "gzip", "deflate"})


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


def app(exporting: Exporting, max_request_bytes: int, token: bytes | None = None) -> web.Application:
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
                body = await request.read()
            except web.HTTPRequestEntityTooLarge:
                return _refusal(exporting.invalid(signal, f"the request body is over {max_request_bytes} bytes "
                                                          "(sidecar.otlp.max_request_bytes, after inflating): "
                                                          "send smaller batches"), json_body, status=413)
            except (RequestPayloadError, HttpProcessingError) as exc:   # a body that does not inflate
                cause = exc.__cause__ or exc
                return _refusal(exporting.invalid(signal, f"the body is not valid {encoding or 'data'}: "
                                                          f"{cause}".rstrip(": ")), json_body)
            answer: Answer = await exporting.export(signal, "http", body, json_body)
            if answer.response is not None:
                data, content_type = _encode(answer.response, json_body)
                return web.Response(body=data, content_type=content_type)
            return _refusal(answer, json_body)
        return handle

    for signal in (LOGS, METRICS, TRACES):
        application.router.add_post(f"/v1/{signal}", route(signal))
    return application
