"""Calls in progress per client on a listener (ADR 0045, round 15).

Round 14 bounded the calls one connection carries (``transport.MAX_STREAMS_PER_CONNECTION``, 32) and rounds 5 and
12 the connections a listener holds (``max_connections``), not their product: one account that may connect to a
sidecar's plain loopback ``listen`` (every account) opened 500 connections of 32 ingest streams that never send,
and the sidecar went from 103 MB to 339 MB (about 15 kB a call); at the 4,096 connections the listener allows,
about 1.9 GB. ``CallBudget`` (a gRPC server interceptor) holds a client to ``limit`` calls at once: past it a new
call is refused with RESOURCE_EXHAUSTED naming the option (ben's senders retry it), before its handler runs. A
client is what ``client_of(context)`` names (``ben.core.senders.client_of_listener``: a uid, a certificate, the
spine's unix socket as one; a sidecar's names each account, round 18). Unary calls and the two-way streams (every
method ben serves) are counted; a handler of another shape passes uncounted.
"""

from __future__ import annotations

import inspect
import logging
from collections import Counter
from collections.abc import Callable

import grpc

from ben.core.sparse_log import Sparse

log = logging.getLogger(__name__)


class CallBudget(grpc.aio.ServerInterceptor):
    """At most ``limit`` calls in progress per client; ``field`` names the option in the refusal."""

    def __init__(self, limit: int, client_of: Callable[[object], str], field: str):
        self.limit, self._client_of, self.field = limit, client_of, field
        self.running: Counter = Counter()
        self.refused = 0
        self._said = Sparse(log)  # a refusal: a line a minute per client, the rest counted

    def _take(self, context) -> str | None:
        """The call's client if it may run (counted), else None (refused, logged once a minute per client)."""
        client = self._client_of(context)
        if self.running[client] < self.limit:
            self.running[client] += 1
            return client
        self.refused += 1
        self._said.warning(client, "refused a call of %s: %d calls in progress already, the most %s allows (%d "
                           "refused so far)", client, self.running[client], self.field, self.refused)
        return None

    def _give(self, client: str) -> None:
        self.running[client] -= 1
        if not self.running[client]:
            del self.running[client]

    def _why(self) -> str:
        return (f"this client has {self.limit} calls in progress on this listener already, the most {self.field} "
                "allows: retry when one ends")

    async def intercept_service(self, continuation, details):
        handler = await continuation(details)
        if handler is None:
            return None
        if not handler.request_streaming and not handler.response_streaming:
            inner = handler.unary_unary

            async def unary(request, context):
                client = self._take(context)
                if client is None:
                    await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, self._why())
                try:
                    return await inner(request, context)
                finally:
                    self._give(client)

            return grpc.unary_unary_rpc_method_handler(unary, request_deserializer=handler.request_deserializer,
                                                       response_serializer=handler.response_serializer)
        stream = handler.stream_stream
        if handler.request_streaming and handler.response_streaming and inspect.isasyncgenfunction(stream):

            async def streaming(request_iterator, context):
                client = self._take(context)
                if client is None:
                    await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, self._why())
                try:
                    async for reply in stream(request_iterator, context):
                        yield reply
                finally:
                    self._give(client)

            return grpc.stream_stream_rpc_method_handler(streaming, request_deserializer=handler.request_deserializer,
                                                         response_serializer=handler.response_serializer)
        return handler
