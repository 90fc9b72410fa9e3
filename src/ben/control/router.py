"""The spine's Control service: operators send and decide, sidecars attach, the router delivers.

Sidecars attach with ``Control.Attach`` and say which subsystems (targets) they have. A command
that is ``pending`` goes to a sidecar that has its target (the first attached); whatever has
no receipt yet is pushed again whenever a sidecar with its target (re)attaches. Operators'
requests (``Send``, ``Decide``, ``SetKillSwitch``, ``List``, ``Redeliver``, the audit) run the
``ControlPlane`` in a worker thread so RocksDB fsyncs and chDB inserts never block ingest.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field

import grpc

from ben.control.documents import Signed
from ben.control.outbox import broke, relay
from ben.control.plane import ControlPlane
from ben.core.errors import ControlError
from ben.v1 import control_pb2 as pb
from ben.v1 import control_pb2_grpc as pb_grpc

log = logging.getLogger(__name__)


@dataclass
class _Attached:
    sidecar_id: str
    targets: set[str] = field(default_factory=set)
    outbox: asyncio.Queue = field(default_factory=asyncio.Queue)


def _reply(rec: dict) -> pb.CommandReply:
    reason = rec.get("refusal") or rec.get("reason", "")
    return pb.CommandReply(command_id=rec.get("id", ""), state=rec.get("state", ""), reason=reason,
                           record_json=json.dumps(rec))


class Router(pb_grpc.ControlServicer):
    def __init__(self, plane: ControlPlane):
        self.plane = plane
        self._attached: list[_Attached] = []

    # -- delivery -----------------------------------------------------------------------------------
    def _push(self, sidecar: _Attached, records: list[dict]) -> None:
        for rec in records:
            sidecar.outbox.put_nowait(pb.Delivery(
                envelope=Signed.from_json(rec["envelope"]).to_proto(pb.Signed),
                approvals=[Signed.from_json(a).to_proto(pb.Signed) for a in rec["approvals"]]))

    async def _deliver_pending(self, only: _Attached | None = None) -> None:
        for sidecar in [only] if only else list(self._attached):
            records = await asyncio.to_thread(self.plane.deliverable, sidecar.targets)
            records = [r for r in records if self._owner(r["target"]) is sidecar]
            self._push(sidecar, records)
            for rec in records:
                await asyncio.to_thread(self.plane.delivered, rec["id"], sidecar.sidecar_id)

    def _owner(self, target: str) -> _Attached | None:
        return next((s for s in self._attached if target in s.targets), None)

    async def Attach(self, request_iterator, context):
        sidecar = _Attached("")
        reader = asyncio.ensure_future(self._read(request_iterator, sidecar))
        try:
            yield pb.Delivery()  # tells the sidecar the stream is up
            async for message in relay(sidecar.outbox, reader):
                yield message
            if broke(reader) is not None:
                log.info("control: sidecar %s stream ended: %s", sidecar.sidecar_id, broke(reader))
        finally:
            reader.cancel()
            if sidecar in self._attached:
                self._attached.remove(sidecar)
                log.info("control: sidecar %s detached", sidecar.sidecar_id)

    async def _read(self, request_iterator, sidecar: _Attached) -> None:
        async for msg in request_iterator:
            which = msg.WhichOneof("msg")
            if which == "hello":
                sidecar.sidecar_id = msg.hello.sidecar_id
                await asyncio.to_thread(self.plane.pin_sidecar_key, sidecar.sidecar_id, msg.hello.public_key)
                sidecar.targets = set(msg.hello.targets)
                self._attached.append(sidecar)
                log.info("control: sidecar %s attached with targets %s", sidecar.sidecar_id, sorted(sidecar.targets))
                order = self.plane.kill_order()
                if order is not None:  # before any command: the sidecar enforces the kill switch too
                    sidecar.outbox.put_nowait(pb.Delivery(kill_switch=order.to_proto(pb.Signed)))
                await self._deliver_pending(sidecar)
            elif which == "targets":
                sidecar.targets = set(msg.targets.targets)
                await self._deliver_pending(sidecar)
            elif which == "receipt" and sidecar.sidecar_id:
                await asyncio.to_thread(self.plane.receipt, sidecar.sidecar_id, Signed.from_proto(msg.receipt))

    # -- operators ----------------------------------------------------------------------------------
    async def Send(self, request, context):
        rec = await asyncio.to_thread(self.plane.send, Signed.from_proto(request.envelope))
        if rec.get("state") == "pending":
            await self._deliver_pending()
        return _reply(rec)

    async def Decide(self, request, context):
        try:
            rec = await asyncio.to_thread(self.plane.decide, Signed.from_proto(request.approval))
        except ControlError as exc:
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, f"{exc.reason}: {exc}")
        if rec.get("state") == "pending":
            await self._deliver_pending()
        return _reply(rec)

    async def SetKillSwitch(self, request, context):
        try:
            rec = await asyncio.to_thread(self.plane.set_kill_switch, Signed.from_proto(request.order))
        except ControlError as exc:
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, f"{exc.reason}: {exc}")
        for sidecar in self._attached:
            sidecar.outbox.put_nowait(pb.Delivery(kill_switch=request.order))
        return _reply(rec)

    async def List(self, request, context):
        recs = await asyncio.to_thread(self.plane.list, request.limit, request.state, request.command_id)
        return pb.ListReply(records_json=json.dumps(recs))

    async def Redeliver(self, request, context):
        """Push a command to its sidecar again (even with a receipt): the sidecar must answer the same."""
        found = await asyncio.to_thread(self.plane.list, 1, "", request.command_id)
        if not found:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"no command {request.command_id!r}")
        rec = found[0]
        sidecar = self._owner(rec["target"])
        if rec["state"] in ("refused", "awaiting_approval") and not rec.get("receipt"):
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION,
                                f"command {rec['id']} is {rec['state']}: there is nothing to deliver")
        if sidecar is None:
            await context.abort(grpc.StatusCode.UNAVAILABLE, f"no sidecar with target {rec['target']!r} is attached")
        self._push(sidecar, [rec])
        return _reply(rec)

    async def VerifyAudit(self, request, context):
        report = await asyncio.to_thread(self.plane.verify_audit)
        problems = [p for copy in report for p in copy["problems"]]
        return pb.AuditReply(ok=not problems, problems=problems, report_json=json.dumps(report))

    async def AuditEntries(self, request, context):
        return pb.AuditReply(ok=True, report_json=await asyncio.to_thread(self.plane.audit_entries_json,
                                                                            request.after))
