"""OTLP/gRPC calls in progress per client, counted from the call's start (ADR 0045, round 16).

Round 15 bounded the calls one OTLP/gRPC connection carries (32) and round 7 the connections one account holds on
the gate (``max_connections_per_client``, 128), not their product: one local account opened 128 connections of 32
calls, each holding its headers and 900 bytes of a message never finished, and a sidecar went from 103 MB to
173 MB (round 16's probe). ``ben.core.calls.CallBudget`` counts a unary call only once its handler runs, after its
whole message came; a call held in part never got there. ``OtlpCallBudget`` serves OTLP's unary ``Export`` as a
stream of requests so it runs at the call's start: past ``sidecar.otlp.max_calls_per_client`` a call is refused at
once with RESOURCE_EXHAUSTED and a ``RetryInfo`` (which OpenTelemetry exporters honour), its message never read.

A client is the certificate's name over mutual TLS, else the account the gate's kernel lookup named
(``Gate.client_of_peer``). Callers the listener cannot tell apart (the unix socket's, whose mode and group are its
gate; another host's without a client certificate) are one client, ``UNNAMED``, with one budget between them, as a
sidecar's unix socket is one client of its ``max_calls_per_client`` (round 15). Round 16 counted them in no budget:
``max_connections`` (256) times 32 calls each, 8,192 calls held in part, about 160 MB (round 17).
"""

from __future__ import annotations

from collections.abc import Callable

import grpc

from ben.core.calls import CallBudget
from ben.otlp import clients
from ben.otlp.exporting import BUSY, Answer
from ben.otlp.grpc_server import status_details

#: How long a refused exporter is asked to wait (RetryInfo).
RETRY_AFTER_MS = 1_000
#: The client of every caller the listener cannot tell apart (round 17).
UNNAMED = "unnamed (the unix socket, or a peer without a name)"


class OtlpCallBudget(CallBudget):
    """At most ``limit`` OTLP calls in progress per named client, counted before the request is read."""

    def __init__(self, limit: int, client_of_peer: Callable[[str], str]):
        super().__init__(limit, self._client, "sidecar.otlp.max_calls_per_client")
        self._of_peer = client_of_peer

    def _client(self, context) -> str:
        names = (context.auth_context() or {}).get("x509_common_name") or [b""]
        return clients.of_common_name(names[0]) or self._of_peer(context.peer() or "") or UNNAMED

    async def intercept_service(self, continuation, details):
        handler = await continuation(details)
        if handler is None or handler.request_streaming or handler.response_streaming:
            return handler
        inner = handler.unary_unary

        async def export(requests, context):
            client = self._take(context)
            if client is None:
                answer = Answer(BUSY, message=self._why(), retry_after_ms=RETRY_AFTER_MS)
                await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, answer.message, trailing_metadata=(
                    ("grpc-status-details-bin", status_details(answer).SerializeToString()),))
            try:
                request = None
                async for message in requests:
                    if request is not None:
                        await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "Export takes one message")
                    request = message
                if request is None:
                    await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "Export came without a message")
                return await inner(request, context)
            finally:
                self._give(client)

        return grpc.stream_unary_rpc_method_handler(export, request_deserializer=handler.request_deserializer,
                                                    response_serializer=handler.response_serializer)
