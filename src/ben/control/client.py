"""Talking to the spine's (or a sidecar's) Control service from the CLI and tests."""

from __future__ import annotations

import json

import grpc

from ben.control.documents import Signed
from ben.core.address import foreign_peer, tls_refused
from ben.core.errors import ControlError, TransportError
from ben.core.peers import operator_metadata
from ben.core.transport import certificate_refused
from ben.core.transport import channel as open_channel
from ben.v1 import control_pb2 as pb
from ben.v1 import control_pb2_grpc as pb_grpc


def _call(address: str, method: str, request, timeout: float):
    metadata = operator_metadata(address)  # the caller authenticates as an operator (ADR 0034)
    with open_channel(address) as channel:
        try:
            return getattr(pb_grpc.ControlStub(channel), method)(request, timeout=timeout, wait_for_ready=False,
                                                                 metadata=metadata)
        except grpc.RpcError as exc:
            code, details = exc.code(), exc.details() or ""
            if code in (grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.NOT_FOUND,
                        grpc.StatusCode.INVALID_ARGUMENT):
                reason, _, text = details.partition(": ")
                raise ControlError(text or details, reason=reason if text else "refused") from None
            if foreign := foreign_peer(address, details) or tls_refused(address, details):  # the OTLP ports, a name
                raise TransportError(foreign) from None
            if code == grpc.StatusCode.UNIMPLEMENTED:
                raise TransportError(f"{address} does not serve {method} (is it a spine?)") from None
            if code == grpc.StatusCode.UNAVAILABLE and "connect" in details.lower():
                raise TransportError(certificate_refused(address)  # a client certificate refused: "Socket closed"
                                     or f"nothing answers at {address} (is it running?)") from None
            raise TransportError(f"{address}: {code.name}: {details}") from None


def send(address: str, envelope: Signed, timeout: float = 30.0) -> pb.CommandReply:
    return _call(address, "Send", pb.SendRequest(envelope=envelope.to_proto(pb.Signed)), timeout)


def decide(address: str, approval: Signed, timeout: float = 30.0) -> pb.CommandReply:
    return _call(address, "Decide", pb.DecideRequest(approval=approval.to_proto(pb.Signed)), timeout)


def kill_switch(address: str, order: Signed, timeout: float = 30.0) -> pb.CommandReply:
    return _call(address, "SetKillSwitch", pb.KillSwitchRequest(order=order.to_proto(pb.Signed)), timeout)


#: A command's states (``ben.control.plane``; the last three are its receipt's status): what a listing may filter on.
COMMAND_STATES = ("awaiting_approval", "pending", "delivered", "refused", "accepted", "failed")


def list_commands(address: str, limit: int = 100, state: str = "", command_id: str = "",
                  timeout: float = 30.0) -> list[dict]:
    reply = _call(address, "List", pb.ListRequest(limit=limit, state=state, command_id=command_id), timeout)
    return json.loads(reply.records_json)


def get_command(address: str, command_id: str, timeout: float = 30.0) -> dict:
    found = list_commands(address, 1, "", command_id, timeout)
    if not found:
        shown = repr(command_id[:40]) + (f"... ({len(command_id)} characters)" if len(command_id) > 40 else "")
        raise ControlError(f"no command {shown} at the spine (ben command list shows them)", reason="unknown")
    return found[0]


def redeliver(address: str, command_id: str, timeout: float = 30.0) -> pb.CommandReply:
    return _call(address, "Redeliver", pb.RedeliverRequest(command_id=command_id), timeout)


def verify_audit(address: str, timeout: float = 120.0) -> pb.AuditReply:
    return _call(address, "VerifyAudit", pb.AuditRequest(), timeout)


def audit_entries(address: str, after: int = 0, timeout: float = 30.0, *, log: str = "") -> list[dict]:
    """Entries (rows) of the control plane's audit log, or with ``log="queries"`` the spine's query log."""
    return json.loads(_call(address, "AuditEntries", pb.AuditRequest(after=after, log=log), timeout).report_json)


def record(address: str, kind: str, subject: str, body: dict, timeout: float = 30.0) -> dict:
    """Append an operator's record (ADR 0039) to the spine's audit log; the entry (a row)."""
    reply = _call(address, "Record", pb.RecordRequest(kind=kind, subject=subject, body_json=json.dumps(body)), timeout)
    return json.loads(reply.report_json)
