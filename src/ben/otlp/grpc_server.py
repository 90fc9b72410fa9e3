"""OTLP/gRPC: the logs, metrics and trace services' ``Export``, on a server of its own.

Requests arrive as bytes and are parsed by ``Exporting`` (a request gRPC itself failed to parse
would be answered INTERNAL; a malformed one must be INVALID_ARGUMENT). Refusals carry a
``google.rpc.RetryInfo`` in the status details, which OpenTelemetry exporters honour.
"""

from __future__ import annotations

from collections.abc import Callable

import grpc
from google.protobuf import duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2

from ben.otlp import auth, clients
from ben.otlp.exporting import BUSY, DOWN, INVALID, LOGS, METRICS, TRACES, Answer, Exporting

_SERVICES = {
    LOGS: "opentelemetry.proto.collector.logs.v1.LogsService",
    METRICS: "opentelemetry.proto.collector.metrics.v1.MetricsService",
    TRACES: "opentelemetry.proto.collector.trace.v1.TraceService",
}
_CODES = {BUSY: (grpc.StatusCode.RESOURCE_EXHAUSTED, code_pb2.RESOURCE_EXHAUSTED),
          DOWN: (grpc.StatusCode.UNAVAILABLE, code_pb2.UNAVAILABLE),
          INVALID: (grpc.StatusCode.INVALID_ARGUMENT, code_pb2.INVALID_ARGUMENT)}


def status_details(answer: Answer) -> status_pb2.Status:
    """The ``google.rpc.Status`` of a refusal, with RetryInfo when the client should come back."""
    status = status_pb2.Status(code=_CODES[answer.outcome][1], message=answer.message)
    if answer.retry_after_ms:
        info = error_details_pb2.RetryInfo(retry_delay=duration_pb2.Duration(
            seconds=answer.retry_after_ms // 1000, nanos=(answer.retry_after_ms % 1000) * 1_000_000))
        status.details.add().Pack(info)
    return status


def handlers(exporting: Exporting, token: bytes | auth.ReloadedSecret[bytes] | None = None,
             client_of: Callable[[str], str] = lambda peer: "") -> list[grpc.GenericRpcHandler]:
    """One generic handler per OTLP service, each with its ``Export`` method; with ``token``, a request
    without ``authorization: Bearer <token>`` metadata is UNAUTHENTICATED. ``client_of``: the client of a
    call from its gRPC peer (``Gate.client_of_peer``: the account the gate's kernel lookup named)."""
    out = []
    for signal, service in _SERVICES.items():
        async def export(body: bytes, context, signal=signal):
            if token is not None:
                metadata = dict(context.invocation_metadata() or ())
                if not auth.authorized(token, metadata.get("authorization")):
                    exporting.unauthenticated(signal, "grpc")
                    await context.abort(grpc.StatusCode.UNAUTHENTICATED, auth.REFUSAL)
            # mutual TLS: the client is its certificate (ADR 0045, round 12), else the account the gate named
            names = (context.auth_context() or {}).get("x509_common_name") or [b""]
            client = clients.of_common_name(names[0]) or client_of(context.peer())
            answer = await exporting.export(signal, "grpc", body, client=client)
            if answer.response is not None:
                return answer.response
            code = _CODES[answer.outcome][0]
            details = status_details(answer).SerializeToString()
            await context.abort(code, answer.message, trailing_metadata=(("grpc-status-details-bin", details),))

        method = grpc.unary_unary_rpc_method_handler(export, request_deserializer=None,
                                                     response_serializer=lambda m: m.SerializeToString())
        out.append(grpc.method_handlers_generic_handler(service, {"Export": method}))
    return out
