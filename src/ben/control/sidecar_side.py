"""The sidecar's control plane: gate (enforcement), ledger, audit, SDK hub and the link to the spine."""

from __future__ import annotations

import json

import grpc
from pathlib import Path

from ben.control.audit import AuditLog
from ben.control.component import ControlBase
from ben.control.gate import Gate
from ben.control.hub import Hub
from ben.control.ledger import Ledger
from ben.control.link import SpineLink
from ben.core.config import ControlConfig
from ben.core.figures import Figure, counter, gauge
from ben.core.operator_pool import OperatorPool, PoolFull
from ben.v1 import control_pb2 as pb
from ben.v1 import control_pb2_grpc as pb_grpc


class SidecarControl(pb_grpc.ControlServicer):
    """The sidecar's control side: gate, ledger, audit, SDK hub and link to the spine, served as its ``Control``
    service."""

    def __init__(self, cfg: ControlConfig, data_dir: Path, sidecar_id: str, spine: str, backoff_ms: tuple[int, int]):
        self.sidecar_id = sidecar_id
        self.base = ControlBase(cfg, data_dir, "sidecar")
        self.audit = self.base.audit = AuditLog(self.base.db, self.base.audit_signer, f"sidecar:{sidecar_id}")
        self.hub = Hub(cfg.handler_timeout_ms / 1000)
        self.gate = Gate(self.base.verifier, self.base.policy, Ledger(self.base.db), self.audit, self.base.signer,
                         sidecar_id, self.hub.routes, self.hub.run)
        self.link = SpineLink(spine, sidecar_id, self.base.signer, self.gate, self.hub, backoff_ms)
        self.hub.on_change = self.link.targets_changed
        # the audit's readers (its own account, the socket group) on a thread of their own, not the default pool
        # the WAL appends share (ADR 0045, round 18): a flood of them waits here, refused past 64
        self.audit_pool = OperatorPool(1, 64, "audit", "the sidecar's audit calls")

    def start(self) -> None:
        self.link.start()

    async def shutdown(self) -> None:
        await self.link.shutdown()
        self.audit_pool.close()
        self.base.close()

    def figures(self) -> list[Figure]:
        out = [counter("commands_total", n, "commands decided, by reason code (ok = ran)", reason=code)
               for code, n in sorted(self.gate.decisions.items())]
        out += [gauge("control_connected", float(self.link.connected), "1 while the control stream to the spine is up"),
                gauge("subsystems_attached", len(self.hub.targets()), "subsystems with command handlers"),
                gauge("kill_switch", float(self.gate.kill["on"]), "1 while the spine's kill switch stops automation"),
                counter("audit_entries_total", self.audit.last_seq, "entries in the local audit log")]
        return out

    # -- Control service (the sidecar serves Commands and the audit) ------------------------------------
    async def Commands(self, request_iterator, context):
        async for message in self.hub.Commands(request_iterator, context):
            yield message

    async def _audit(self, context, fn, *args):
        try:
            return await self.audit_pool.run(fn, *args)
        except PoolFull as exc:
            await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, str(exc))

    async def VerifyAudit(self, request, context):
        verdict = await self._audit(context, self.base.verify_local)
        return pb.AuditReply(ok=verdict.ok, problems=verdict.problems, report_json=json.dumps(
            [{"copy": verdict.copy, "entries": verdict.entries, "head": verdict.head, "ok": verdict.ok}]))

    async def AuditEntries(self, request, context):
        return pb.AuditReply(ok=True, report_json=await self._audit(context, self.base.audit_entries_json,
                                                                      request.after))


    # -- the spine's methods, called here by mistake (a sidecar whose sidecar.spine names another sidecar, an
    # operator's --spine naming a sidecar): UNIMPLEMENTED saying what answered, not a traceback in this log
    # per call (grpc's "Unexpected [NotImplementedError]") and "Method not implemented!" at the caller.
    async def _not_a_spine(self, context, method: str):
        await context.abort(grpc.StatusCode.UNIMPLEMENTED,
                            f"this is sidecar {self.sidecar_id}, not a spine: {method} is the spine's (point "
                            "sidecar.spine, or --spine, at the spine's address)")

    async def Attach(self, request_iterator, context):
        await self._not_a_spine(context, "Attach (a sidecar's command link)")
        yield pb.Delivery()  # never reached: abort raises; this makes the method a stream

    async def Send(self, request, context):
        await self._not_a_spine(context, "Send")

    async def Decide(self, request, context):
        await self._not_a_spine(context, "Decide")

    async def SetKillSwitch(self, request, context):
        await self._not_a_spine(context, "SetKillSwitch")

    async def List(self, request, context):
        await self._not_a_spine(context, "List")

    async def Redeliver(self, request, context):
        await self._not_a_spine(context, "Redeliver")

    async def Record(self, request, context):
        await self._not_a_spine(context, "Record")
