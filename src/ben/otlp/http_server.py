"""OTLP/HTTP: ``POST /v1/logs``, ``/v1/metrics``, ``/v1/traces`` (aiohttp, in the sidecar's loop).

Bodies are ``application/x-protobuf`` or ``application/json``, optionally gzip-compressed
(``Content-Encoding: gzip``). ben inflates the body itself, at most ``max_request_bytes`` of it
(zlib's ``max_length``), so a small compressed bomb is refused, 413, without being inflated
(aiohttp's own inflation ran before its size check: a 2 MB bomb grew the process by 100+ MB).
Answers are encoded like the request; errors carry a ``google.rpc.Status``; refusals carry
``Retry-After`` (whole seconds).
"""

from __future__ import annotations

import asyncio
import math
import zlib

from aiohttp import web

from ben.otlp import jsonform
from ben.otlp.exporting import BUSY, DOWN, LOGS, METRICS, TRACES, Answer, Exporting
from ben.otlp.grpc_server import status_details

#: Slow clients (slowloris): a connection whose request headers are not complete within
#: HEADER_TIMEOUT_S is closed (aiohttp's keep-alive deadline, armed when the connection opens and
#: after each answer); a body not received within BODY_TIMEOUT_S is answered 408.
HEADER_TIMEOUT_S, BODY_TIMEOUT_S = 10.0, 60.0
PROTOBUF, JSON = "application/x-protobuf", "application/json"
_HTTP = {BUSY: 429, DOWN: 503}


def _encode(message, json_body: bool) -> tuple[bytes, str]:
    return (jsonform.dump(message), JSON) if json_body else (message.SerializeToString(), PROTOBUF)


def _inflate(body: bytes, limit: int) -> bytes | web.Response:
    """The gzip body inflated, or the answer refusing it: 413 past ``limit`` bytes, 400 if not gzip."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        return web.Response(status=400, text=f"the gzip body does not inflate: {exc}\n")
    if len(data) > limit:
        return web.Response(status=413, text=f"request body over {limit} bytes once inflated (max_request_bytes)\n")
    if not inflater.eof:
        return web.Response(status=400, text="the gzip body is cut short\n")
    return data


def app(exporting: Exporting, max_request_bytes: int) -> web.Application:
    application = web.Application(client_max_size=max_request_bytes)

    def route(signal: str):
        async def handle(request: web.Request) -> web.Response:
            ctype = request.content_type
            if ctype not in (PROTOBUF, JSON):
                return web.Response(status=415, text=f"Content-Type must be {PROTOBUF} or {JSON}, not {ctype!r}\n")
            json_body = ctype == JSON
            try:
                async with asyncio.timeout(BODY_TIMEOUT_S):
                    body = await request.read()
            except web.HTTPRequestEntityTooLarge:
                return web.Response(status=413, text=f"request body over {max_request_bytes} bytes "
                                                     "(max_request_bytes)\n")
            except TimeoutError:
                return web.Response(status=408, text=f"request body not received within {BODY_TIMEOUT_S:g} s\n",
                                    headers={"Connection": "close"})
            encoding = request.headers.get("Content-Encoding", "identity").strip().lower()
            if encoding == "gzip":
                body = _inflate(body, max_request_bytes)
                if isinstance(body, web.Response):
                    return body
            elif encoding not in ("identity", ""):
                return web.Response(status=415, text=f"Content-Encoding must be gzip or identity, not {encoding!r}\n")
            answer: Answer = await exporting.export(signal, "http", body, json_body)
            if answer.response is not None:
                data, content_type = _encode(answer.response, json_body)
                return web.Response(body=data, content_type=content_type)
            data, content_type = _encode(status_details(answer), json_body)
            headers = {}
            if answer.retry_after_ms:
                headers["Retry-After"] = str(max(1, math.ceil(answer.retry_after_ms / 1000)))
            return web.Response(status=_HTTP.get(answer.outcome, 400), body=data, content_type=content_type,
                                headers=headers)
        return handle

    for signal in (LOGS, METRICS, TRACES):
        application.router.add_post(f"/v1/{signal}", route(signal))
    return application
