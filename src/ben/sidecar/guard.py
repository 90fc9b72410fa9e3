"""Who a sidecar's TCP listener serves beyond telemetry (ADR 0045, rounds 10 and 11).

A sidecar's ``listen`` may be plain TCP on loopback (``insecure = true``), where every account of the host can
connect. Telemetry (``Ingest.Stream``) stays open to every local application there, as the loopback OTLP ports
are: it is redacted and bounded, and nothing is read back through it. The rest is not telemetry in:
``Control.Commands`` registers a subsystem's command handler (the first registered for a target gets its
commands, with their parameters, and answers for it: a receipt of ``ok`` for a command it never ran),
``Control.AuditEntries`` and ``VerifyAudit`` read the sidecar's audit log, ``Admin.Status`` its figures and last
error. Those are served only to the accounts the sidecar's unix socket would serve: the sidecar's own uid and the
members of ``sidecar.socket_group`` (``PlainTcp``, one netlink lookup per call). A unix socket (its mode and
group are the gate) is unchanged.

Over mutual TLS (round 11) every certificate the CA signed passes the handshake: other hosts' sidecars, the
spine, operators. Telemetry stays open to them all; the rest is served only to the certificate named by the
sidecar's own id (the sidecar's own certificate, ADR 0034) and to the names in ``sidecar.tls_clients``
(``NamedCertificates``): a certificate of another host's sidecar no longer registers as a subsystem's command
handler here, nor reads this sidecar's audit log or status.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Iterable

import grpc

from ben.core.peers import PlainTcp, common_name
from ben.core.sparse_log import Sparse

log = logging.getLogger(__name__)
_sparse = Sparse(log)  # a line a minute per caller and method, the rest counted (ADR 0045, round 15)

#: Open to every local account on a plain loopback listener: telemetry in.
TELEMETRY_METHODS = frozenset({"/ben.v1.Ingest/Stream"})
_REFUSED = ("{} may not call {} on this sidecar over plain TCP (insecure = true): command handlers, the audit log "
            "and the status are served only to the sidecar's own uid and sidecar.socket_group's members (telemetry "
            "stays open); use the unix socket")


_REFUSED_CERT = ("the certificate {!r} may not call {} on this sidecar: command handlers, the audit log and the "
                 "status are served only to the sidecar's own certificate ({!r}) and the names in "
                 "sidecar.tls_clients (telemetry stays open to every certificate of the CA)")


class BeyondTelemetry(grpc.aio.ServerInterceptor):
    """Every method but telemetry only for the callers ``_refusal`` lets through (None: served)."""

    denied = 0

    def _refusal(self, context, method: str) -> str | None:
        raise NotImplementedError

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


class LocalAccounts(BeyondTelemetry):
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
        _sparse.warning(f"{who} calling {method}", "refused %s from %s (%s): not the sidecar's own account nor "
                        "sidecar.socket_group's", method, context.peer(), who)
        return _REFUSED.format(who, method)


class NamedCertificates(BeyondTelemetry):
    """On a mutual-TLS listener: every method but telemetry only for the sidecar's own certificate name and
    ``sidecar.tls_clients``."""

    def __init__(self, own: str, clients: Iterable[str]):
        self._own = own
        self._names = frozenset({own, *clients})
        self.denied = 0

    def _refusal(self, context, method: str) -> str | None:
        name = common_name(context)
        if name and name in self._names:
            return None
        self.denied += 1
        _sparse.warning(f"certificate {name!r} calling {method}", "refused %s from %s (certificate %r): not the "
                        "sidecar's own certificate nor one named in sidecar.tls_clients", method, context.peer(), name)
        return _REFUSED_CERT.format(name, method, self._own)
