"""Who a sidecar's plain loopback TCP listener serves beyond telemetry (ADR 0045, round 10).

A sidecar's ``listen`` may be plain TCP on loopback (``insecure = true``), where every account of the host can
connect. Telemetry (``Ingest.Stream``) stays open to every local application there, as the loopback OTLP ports
are: it is redacted and bounded, and nothing is read back through it. The rest is not telemetry in:
``Control.Commands`` registers a subsystem's command handler (the first registered for a target gets its
commands, with their parameters, and answers for it: a receipt of ``ok`` for a command it never ran),
``Control.AuditEntries`` and ``VerifyAudit`` read the sidecar's audit log, ``Admin.Status`` its figures and last
error. Those are served only to the accounts the sidecar's unix socket would serve: the sidecar's own uid and the
members of ``sidecar.socket_group`` (``PlainTcp``, one netlink lookup per call). A unix socket (its mode and
group are the gate) and mutual TLS (the CA's certificates) are unchanged.
"""

from __future__ import annotations

import inspect
import logging

import grpc

from ben.core.peers import PlainTcp

log = logging.getLogger(__name__)

#: Open to every local account on a plain loopback listener: telemetry in.
TELEMETRY_METHODS = frozenset({"/ben.v1.Ingest/Stream"})
_REFUSED = ("{} may not call {} on this sidecar over plain TCP (insecure = true): command handlers, the audit log "
            "and the status are served only to the sidecar's own uid and sidecar.socket_group's members (telemetry "
            "stays open); use the unix socket")


class LocalAccounts(grpc.aio.ServerInterceptor):
    """On a plain loopback TCP listener: every method but telemetry only for ``plain.uids``."""

    def __init__(self, plain: PlainTcp):
        self._plain = plain
        self.denied = 0

    def _refusal(self, context, method: str) -> str | None:
        uid = self._plain.uid_of(context.peer() or "")
        if uid in self._plain.uids:
            return None
        self.denied += 1
        who = "an account the kernel does not name" if uid is None else f"uid {uid}"
        log.warning("refused %s from %s (%s): not the sidecar's own account nor sidecar.socket_group's",
                    method, context.peer(), who)
        return _REFUSED.format(who, method)

    async def intercept_service(self, continuation, details):
        handler = await continuation(details)
        method = details.method
        if handler is None or method in TELEMETRY_METHODS:
            return handler
        if not handler.request_streaming and not handler.response_streaming:
            inner = handler.unary_unary

            async def unary(request, context):
                why = self._refusal(context, method)
                if why is not None:
                    await context.abort(grpc.StatusCode.PERMISSION_DENIED, why)
                return await inner(request, context)

            return grpc.unary_unary_rpc_method_handler(unary, request_deserializer=handler.request_deserializer,
                                                       response_serializer=handler.response_serializer)
        stream = handler.stream_stream
        if handler.request_streaming and handler.response_streaming and inspect.isasyncgenfunction(stream):

            async def streaming(request_iterator, context):
                why = self._refusal(context, method)
                if why is not None:
                    await context.abort(grpc.StatusCode.PERMISSION_DENIED, why)
                async for reply in stream(request_iterator, context):
                    yield reply

            return grpc.stream_stream_rpc_method_handler(streaming, request_deserializer=handler.request_deserializer,
                                                         response_serializer=handler.response_serializer)
        return None  # another shape (none is served today): UNIMPLEMENTED, nothing unguarded gets through
