"""The spine's Control service: operators send and decide, sidecars attach, the router delivers.

A sidecar attaches with ``Control.Attach``: the spine's first message is a random challenge, the
sidecar's hello signs it with its receipt key, and the spine takes the hello only if that key is
the one pinned for this sidecar id in the trust store (``[[sidecars]]``); anything else is refused,
audited, and the stream closed. Delivery is incremental, with back-pressure: each command is
pushed once to one attached sidecar with its target (``ControlPlane.claim``: from then on only that
sidecar's receipt counts), at most ``delivery_window`` unanswered per sidecar; a receipt frees a
slot. It is pushed again only when its receipt is missing: when that sidecar attaches again, or
after ``redeliver_after_s`` on the same stream. Operators' requests (``Send``, ``Decide``,
``SetKillSwitch``, ``List``, ``Redeliver``, the audit) run the ``ControlPlane`` in a worker thread
so RocksDB fsyncs never block ingest.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from dataclasses import dataclass, field

import grpc

from ben.control.documents import Signed, attach_proof
from ben.control.keys import public_from_text, verify
from ben.control.outbox import broke, relay
from ben.control.plane import ControlPlane
from ben.core.errors import BenError, ControlError
from ben.core.operator_pool import OperatorPool, PoolFull
from ben.core.peers import common_name
from ben.core.sparse_log import Sparse
from ben.v1 import control_pb2 as pb
from ben.v1 import control_pb2_grpc as pb_grpc

log = logging.getLogger(__name__)
#: A sidecar's attach, detach and ended-stream lines a minute (each); the rest are counted in the next one written:
#: a pinned sidecar attaching in a loop wrote two lines a stream (ADR 0045, round 16).
LINES_A_MINUTE = 5
_sparse = Sparse(log, burst=LINES_A_MINUTE)


@dataclass
class _Attached:
    sidecar_id: str
    challenge: bytes = b""
    caller: str = "local callers"  # whose refusals budget an attach's refusal counts in (round 15)
    targets: set[str] = field(default_factory=set)   # of those announced, the ones pinned to it (round 14)
    announced: set[str] = field(default_factory=set)
    outbox: asyncio.Queue = field(default_factory=asyncio.Queue)
    inflight: dict[str, float] = field(default_factory=dict)  # command id -> monotonic time pushed
    pump: asyncio.Lock = field(default_factory=asyncio.Lock)


def _reply(rec: dict) -> pb.CommandReply:
    reason = rec.get("refusal") or rec.get("reason", "")
    return pb.CommandReply(command_id=rec.get("id", ""), state=rec.get("state", ""), reason=reason,
                           record_json=json.dumps(rec))


def _peek_id(body: bytes) -> str:
    try:
        value = json.loads(body).get("command_id", "")
        return value if isinstance(value, str) else ""
    except Exception:
        return ""


def _delivery(rec: dict) -> pb.Delivery:
    return pb.Delivery(envelope=Signed.from_json(rec["envelope"]).to_proto(pb.Signed),
                       approvals=[Signed.from_json(a).to_proto(pb.Signed) for a in rec["approvals"]])


class Router(pb_grpc.ControlServicer):
    """The spine's ``Control`` service: sidecars attach, and commands for their targets are pushed in a window and
    redelivered until receipted."""

    def __init__(self, plane: ControlPlane, pool: OperatorPool | None = None):
        """``pool``: the operators' threads, which the audit's calls share with their queries (ADR 0045, round 18);
        a pool of its own when None."""
        self.plane = plane
        self.pool = pool or OperatorPool(2, 64, "operator-audit", "the operators' pool")
        self.window = plane.cfg.delivery_window
        self.redeliver_after_s = plane.cfg.redeliver_after_s
        self._attached: list[_Attached] = []

    # -- delivery -----------------------------------------------------------------------------------
    async def _pump(self, sidecar: _Attached) -> None:
        """Fill this sidecar's window with pending commands for its targets (each pushed once)."""
        async with sidecar.pump:
            while sidecar in self._attached:
                room = self.window - len(sidecar.inflight)
                if room <= 0:
                    return
                records = await asyncio.to_thread(self._claim, sidecar, room)
                if not records:
                    return
                now = time.monotonic()
                for rec in records:
                    sidecar.inflight[rec["id"]] = now
                    sidecar.outbox.put_nowait(_delivery(rec))

    def _claim(self, sidecar: _Attached, room: int) -> list[dict]:
        """(In a worker thread.) Pending commands for the announced targets pinned to it now: a trust store that
        changed its ``[[sidecars]] targets`` counts from the next claim (ADR 0045, round 14)."""
        sidecar.targets = self.plane.orders.pinned_targets(sidecar.sidecar_id, sidecar.announced)
        return self.plane.claim(sidecar.sidecar_id, set(sidecar.targets), room)

    async def _answered(self, sidecar: _Attached, signed: Signed) -> None:
        """Take a receipt and refill the slot it frees, in one hop to a worker thread."""
        async with sidecar.pump:
            command_id = _peek_id(signed.body)
            room = self.window - len(sidecar.inflight) + (command_id in sidecar.inflight)

            def answer() -> tuple[dict | None, list[dict]]:
                rec = self.plane.receipt(sidecar.sidecar_id, signed)
                more = self._claim(sidecar, room) if rec and room > 0 else []
                return rec, more

            rec, records = await asyncio.to_thread(answer)
            if rec is not None:
                sidecar.inflight.pop(rec["id"], None)
            now = time.monotonic()
            for more in records:
                sidecar.inflight[more["id"]] = now
                sidecar.outbox.put_nowait(_delivery(more))

    async def _pump_target(self, target: str) -> None:
        for sidecar in list(self._attached):
            if target in sidecar.targets:
                await self._pump(sidecar)

    async def _resend(self, sidecar: _Attached, records: list[dict]) -> None:
        now = time.monotonic()
        for rec in records:
            sidecar.inflight[rec["id"]] = now
            sidecar.outbox.put_nowait(_delivery(rec))
            await asyncio.to_thread(self.plane.resent, rec["id"])

    async def _watch(self, sidecar: _Attached) -> None:
        """Push again what stayed unanswered for ``redeliver_after_s`` on this stream."""
        while True:
            await asyncio.sleep(max(self.redeliver_after_s / 4, 0.5))
            late = time.monotonic() - self.redeliver_after_s
            ids = [i for i, at in sidecar.inflight.items() if at < late]
            if ids:
                records = [r for i in ids for r in await asyncio.to_thread(self.plane.list, 1, "", i)
                           if not r.get("receipt")]
                for i in ids:
                    if i not in {r["id"] for r in records}:
                        sidecar.inflight.pop(i, None)
                log.info("control: %d commands unanswered by sidecar %s for %d s: pushed again", len(records),
                         sidecar.sidecar_id, self.redeliver_after_s)
                await self._resend(sidecar, records)
                await self._pump(sidecar)

    async def Attach(self, request_iterator, context):
        name = common_name(context)
        sidecar = _Attached("", challenge=secrets.token_bytes(32),
                            caller=f"certificate {name}" if name else "local callers")
        reader = asyncio.ensure_future(self._read(request_iterator, sidecar))
        watch = asyncio.ensure_future(self._watch(sidecar))
        try:
            yield pb.Delivery(challenge=sidecar.challenge)  # the stream is up: prove your key
            async for message in relay(sidecar.outbox, reader):
                yield message
            if broke(reader) is not None:
                if isinstance(broke(reader), PermissionError):
                    await context.abort(grpc.StatusCode.PERMISSION_DENIED, str(broke(reader)))
                _sparse.info(f"{sidecar.sidecar_id} ended", "control: sidecar %s stream ended: %s", sidecar.sidecar_id,
                             broke(reader))
        finally:
            reader.cancel()
            watch.cancel()
            if sidecar in self._attached:
                self._attached.remove(sidecar)
                self.plane.orders.detached(sidecar.sidecar_id)
                _sparse.info(f"{sidecar.sidecar_id} detached", "control: sidecar %s detached", sidecar.sidecar_id)

    async def _hello(self, hello, sidecar: _Attached) -> None:
        pinned = await asyncio.to_thread(self.plane.sidecar_key, hello.sidecar_id)
        why, code = "", ""
        if pinned is None:
            why, code = (f"sidecar {hello.sidecar_id!r} is not pinned in the trust store (add it: ben keys trust "
                         "--sidecar ID PUBKEY)"), "unknown_sidecar"
        elif pinned != hello.public_key.strip():
            why, code = (f"sidecar {hello.sidecar_id!r} presents another key than the one pinned in the trust "
                         "store"), "sidecar_key_mismatch"
        else:
            try:
                good = verify(public_from_text(pinned), bytes(hello.proof), attach_proof(hello.sidecar_id,
                                                                                         sidecar.challenge))
            except (ValueError, BenError):
                good = False
            if not good:
                why, code = f"sidecar {hello.sidecar_id!r} did not prove it holds its pinned key", "bad_proof"
        if why:
            await asyncio.to_thread(self.plane.refuse_attach, sidecar.caller, code, why, hello.sidecar_id[:64])
            raise PermissionError(why)
        if any(s.sidecar_id == hello.sidecar_id for s in self._attached):
            _sparse.warning(f"{hello.sidecar_id} again", "control: sidecar %s attached again; the older stream stays "
                            "until it ends", hello.sidecar_id)
        sidecar.sidecar_id, sidecar.announced = hello.sidecar_id, set(hello.targets)
        sidecar.targets = await asyncio.to_thread(self.plane.orders.pinned_targets, sidecar.sidecar_id,
                                                  sidecar.announced)
        self._attached.append(sidecar)
        _sparse.info(f"{sidecar.sidecar_id} attached", "control: sidecar %s attached with targets %s",
                     sidecar.sidecar_id, sorted(sidecar.targets))
        if hello.HasField("kill_switch"):  # what it holds: the spine adopts a newer order
            await asyncio.to_thread(self.plane.orders.acknowledged, sidecar.sidecar_id, True, "", "",
                                    Signed.from_proto(hello.kill_switch))
        order = self.plane.kill_order()
        if order is not None:  # before any command: the sidecar enforces the kill switch too
            sidecar.outbox.put_nowait(pb.Delivery(kill_switch=order.to_proto(pb.Signed)))
        await self._resend(sidecar, await asyncio.to_thread(self.plane.unanswered, sidecar.sidecar_id))
        await self._pump(sidecar)

    async def _read(self, request_iterator, sidecar: _Attached) -> None:
        async for msg in request_iterator:
            which = msg.WhichOneof("msg")
            if which == "hello" and not sidecar.sidecar_id:
                await self._hello(msg.hello, sidecar)
            elif not sidecar.sidecar_id:
                continue  # nothing counts before an authenticated hello
            elif which == "targets":  # only those pinned to it ([[sidecars]] targets; ADR 0045, round 14)
                sidecar.announced = set(msg.targets.targets)
                sidecar.targets = await asyncio.to_thread(self.plane.orders.pinned_targets, sidecar.sidecar_id,
                                                          sidecar.announced)
                await self._pump(sidecar)
            elif which == "receipt":
                await self._answered(sidecar, Signed.from_proto(msg.receipt))
            elif which == "kill_ack":
                ack = msg.kill_ack
                await asyncio.to_thread(self.plane.orders.acknowledged, sidecar.sidecar_id, ack.taken, ack.code,
                                        ack.reason, Signed.from_proto(ack.held) if ack.HasField("held") else None)

    # -- operators ----------------------------------------------------------------------------------
    async def Send(self, request, context):
        rec = await asyncio.to_thread(self.plane.send, Signed.from_proto(request.envelope))
        if rec.get("state") == "pending":
            await self._pump_target(rec["target"])
        return _reply(rec)

    async def Decide(self, request, context):
        try:
            rec = await asyncio.to_thread(self.plane.decide, Signed.from_proto(request.approval))
        except ControlError as exc:
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, f"{exc.reason}: {exc}")
        if rec.get("state") == "pending":
            await self._pump_target(rec["target"])
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
        if rec["state"] in ("refused", "awaiting_approval", "pending") and not rec.get("receipt"):
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION,
                                f"command {rec['id']} is {rec['state']}: there is nothing to deliver again")
        sidecar = next((s for s in self._attached if s.sidecar_id == rec["sidecar_id"]), None)
        if sidecar is None:
            await context.abort(grpc.StatusCode.UNAVAILABLE,
                                f"sidecar {rec['sidecar_id']!r}, which the command was delivered to, is not attached")
        await self._resend(sidecar, [rec])
        return _reply(rec)

    async def _operators(self, context, fn, *args):
        """``fn(*args)`` on the operators' threads, in turn per operator (``ben.core.operator_pool``): a flood of
        audit calls on the default pool delayed the WAL appends that share it, as the queries did (round 18)."""
        try:
            return await self.pool.run(fn, *args)
        except PoolFull as exc:
            await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, str(exc))

    async def VerifyAudit(self, request, context):
        report = await self._operators(context, self.plane.verify_audit)
        problems = [p for copy in report for p in copy["problems"]]
        return pb.AuditReply(ok=not problems, problems=problems, report_json=json.dumps(report))

    async def AuditEntries(self, request, context):
        if request.log not in ("", "queries"):
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"log {request.log!r}: expected '' or 'queries'")
        return pb.AuditReply(ok=True, report_json=await self._operators(context, self.plane.audit_entries_json,
                                                                         request.after, request.log))

    async def Record(self, request, context):
        try:
            row = await asyncio.to_thread(self.plane.record, request.kind, request.subject, request.body_json)
        except ControlError as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"{exc.reason}: {exc}")
        return pb.AuditReply(ok=True, report_json=json.dumps(row))
