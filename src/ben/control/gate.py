"""The sidecar's enforcement point: verify, de-duplicate, re-check policy, run once, sign a receipt.

``Gate.handle(envelope, approvals)`` never raises for anything in the envelope: every outcome is
a signed ``Receipt`` (accepted, refused with its reason code, or failed) and an audit entry.
Order of checks: canonical bytes and fields, trusted key, signature, role for this action and
target, time (expiry, not-yet-valid with bounded skew, ttl), then the ledger (a command id seen
before: the stored receipt is returned again and the replay audited; a sequence number used
before: refused), then the local policy if one is configured (action rule, allowed targets,
rate / blast radius / circuit breaker at this sidecar unless a
human approved, required approval present and valid; the kill switch - the policy file's, or the
latest signed order the spine pushed - refuses every automation command a human did not approve),
then routing (a subsystem attached under
that target with a handler for that action) and typed parameters. The command is recorded as
claimed, with its audit entry, in one fsync'd batch *before* the handler runs; the receipt is
stored under the command id once it returns. A command claimed but without a receipt (the
sidecar died while it ran) is never run again: redelivery gets a receipt saying so.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ben.control import actions
from ben.control.audit import AuditLog
from ben.control.documents import ACCEPTED, FAILED, REFUSED, Envelope, Receipt, Signed, now_ns
from ben.control.keys import Signer
from ben.control.ledger import Ledger
from ben.control.policy import Policy
from ben.control.trust_store import Trusted
from ben.control.verify import Verifier
from ben.core.errors import ControlError, PolicyError, SignatureError

log = logging.getLogger(__name__)

KILL_KEY = b"mkill"  # the kill-switch order the sidecar holds (JSON), in the control RocksDB


@dataclass
class Outcome:
    ok: bool
    result: dict
    error: str = ""


#: Runs a verified command in its subsystem: (envelope, typed params) -> outcome.
Runner = Callable[[Envelope], Awaitable[Outcome]]
#: Which targets are attached and which actions each handles.
Routes = Callable[[], dict[str, set[str]]]


class Gate:
    def __init__(self, verifier: Verifier, policy: Policy | None, ledger: Ledger, audit: AuditLog, signer: Signer,
                 sidecar_id: str, routes: Routes, runner: Runner):
        self.verifier = verifier
        self.policy = policy
        self.ledger = ledger
        self.audit = audit
        self.signer = signer
        self.sidecar_id = sidecar_id
        self.routes = routes
        self.runner = runner
        self.decisions: Counter = Counter()  # by reason code ("ok" for accepted)
        self._lock = asyncio.Lock()  # one command at a time: checks and claim are atomic
        raw = ledger.db.get(KILL_KEY)
        self.kill: dict = json.loads(raw) if raw else {"on": False, "issued_at": 0, "by": "", "reason": ""}

    def _receipt(self, command_id: str, env_hash: str, target: str, status: str, code: str, reason: str,
                 received: int, result: dict | None = None, incident_id: str = "") -> Signed:
        return Receipt(command_id=command_id or "(unreadable)", envelope_hash=env_hash, sidecar_id=self.sidecar_id,
                       target=target, status=status, code=code, reason=reason[:2000], result=result or {},
                       received_at=received, finished_at=now_ns(), issuer=self.signer.id,
                       incident_id=incident_id).sign(self.signer)

    async def handle(self, envelope: Signed, approvals: list[Signed] = ()) -> Signed:
        async with self._lock:
            try:
                return await self._handle(envelope, list(approvals))
            except Exception as exc:  # never crash the sidecar on a command
                log.exception("control: unexpected error handling a command")
                self.decisions["internal_error"] += 1
                return self._receipt(_peek_id(envelope.body), envelope.hash, "", REFUSED, "internal_error",
                                     f"internal error: {type(exc).__name__}", now_ns())

    async def _handle(self, signed: Signed, approvals: list[Signed]) -> Signed:
        received = now_ns()
        # 1. Is it provably from someone allowed to send it, now?
        try:
            env, trusted = self.verifier.envelope(signed, received)
        except SignatureError as exc:
            return await self._refuse_unverified(signed, exc, received)
        # 2. Seen before? (Only verified envelopes reach the ledger.)
        record = await asyncio.to_thread(self.ledger.record, env.id)
        if record is not None:
            return await self._replayed(env, signed, record, received)
        used_by = await asyncio.to_thread(self.ledger.sequence_used, env.issuer, env.seq)
        if used_by is not None:
            return await self._refuse(env, signed, SignatureError(
                f"sequence {env.seq} of key {env.issuer} was already used by {used_by}", reason="replayed_sequence"),
                received)
        # 3. Within the limits a human set? Is there a subsystem to run it?
        try:
            approved_by = self._approval(env, signed, approvals, trusted)
            self._kill_switch(trusted, approved_by)
            self._policy(env, trusted, approved_by, await asyncio.to_thread(self.ledger.history), received)
            routes = self.routes()
            if env.target not in routes:
                raise PolicyError(f"no subsystem named {env.target!r} is attached to sidecar {self.sidecar_id}",
                                  reason="unknown_target")
            if env.action not in routes[env.target]:
                raise PolicyError(f"subsystem {env.target!r} has no handler for action {env.action!r}",
                                  reason="no_handler")
            actions.typed_params(env.action, env.params)
        except ControlError as exc:
            return await self._refuse(env, signed, exc, received)
        # 4. Claim it durably, then run it once.
        body = {"reason": env.reason, "action": env.action, "target": env.target, "issuer": env.issuer,
                "incident_id": env.incident_id, "envelope_hash": signed.hash, "approved_by": approved_by}
        await asyncio.to_thread(self.audit.append, "execution", env.id, body, env.issuer,
                                puts=self.ledger.claim(env, signed, "claimed"))
        outcome = await self.runner(env)
        status, code = (ACCEPTED, "ok") if outcome.ok else (FAILED, "handler_error")
        reason = env.reason if outcome.ok else f"the handler failed: {outcome.error}"
        receipt = self._receipt(env.id, signed.hash, env.target, status, code, reason, received, outcome.result,
                                env.incident_id)
        await self._store(env, signed, receipt, "receipt")
        self.decisions[code] += 1
        return receipt

    def _approval(self, env: Envelope, signed: Signed, approvals: list[Signed], trusted: Trusted) -> str:
        """The approver's key id if a valid human approval of exactly this envelope is attached, else ""."""
        problems = []
        for approval in approvals:
            try:
                decision, approver = self.verifier.approval(approval, signed, env.id)
            except ControlError as exc:
                problems.append(str(exc))
                continue
            if decision.decision == "approve":
                return approver.id
        if problems:
            log.warning("control: %s: approvals attached but none valid: %s", env.id, "; ".join(problems))
        return ""

    def _policy(self, env: Envelope, trusted: Trusted, approved_by: str, history, now: int) -> None:
        policy = self.policy
        if policy is None:
            return
        rule = policy.rule(env.action)
        if rule.require_approval and not approved_by:
            raise PolicyError(f"action {env.action!r} requires a human's approval and none valid is attached "
                              f"(policy {policy.source})", reason="approval_required")
        if approved_by:
            return  # a human decided: bounds do not apply to this one
        policy.check(env.action, env.target, now, history)

    def _kill_switch(self, trusted: Trusted, approved_by: str) -> None:
        if trusted.human or approved_by:
            return
        if self.kill["on"]:
            raise PolicyError(f"the kill switch is on (by {self.kill['by']}: {self.kill['reason']}): no automation "
                              "runs", reason="kill_switch")
        if self.policy is not None and self.policy.kill_switch:
            raise PolicyError(f"the kill switch is on (policy {self.policy.source}): no automation runs",
                              reason="kill_switch")

    async def set_kill_switch(self, order: Signed) -> bool:
        """Take a kill-switch order pushed by the spine if it is an approver's and newer than the one held."""
        async with self._lock:
            try:
                toggle, trusted = self.verifier.kill_switch(order, now_ns(), fresh=False)
            except ControlError as exc:
                await asyncio.to_thread(self.audit.append, "refusal", "", {
                    "reason": f"kill-switch order refused: {exc}", "code": exc.reason}, "unverified")
                log.warning("control: kill-switch order refused: %s", exc)
                return False
            if toggle.issued_at <= self.kill["issued_at"]:
                return False  # not newer than what is held (a replay, or the same order again)
            kill = {"on": toggle.on, "issued_at": toggle.issued_at, "by": trusted.name, "reason": toggle.reason}
            await asyncio.to_thread(self.audit.append, "kill_switch", "", {
                "reason": toggle.reason, "on": toggle.on, "by": trusted.name, "order": order.to_json()}, trusted.id,
                puts={KILL_KEY: json.dumps(kill).encode()})
            self.kill = kill
            log.warning("control: kill switch %s by %s: %s", "ON" if toggle.on else "off", trusted.name,
                        toggle.reason)
            return True

    async def _store(self, env: Envelope, signed: Signed, receipt: Signed, kind: str) -> None:
        rec = Receipt.parse(receipt.body)
        body = {"reason": rec.reason, "status": rec.status, "code": rec.code, "receipt": receipt.to_json(),
                "incident_id": env.incident_id}
        await asyncio.to_thread(self.audit.append, kind, env.id, body, self.signer.id,
                                puts=self.ledger.done(env, signed, receipt))

    async def _refuse(self, env: Envelope, signed: Signed, exc: ControlError, received: int) -> Signed:
        receipt = self._receipt(env.id, signed.hash, env.target, REFUSED, exc.reason, str(exc), received,
                                incident_id=env.incident_id)
        await self._store(env, signed, receipt, "refusal")
        self.decisions[exc.reason] += 1
        log.warning("control: refused %s (%s on %s): %s", env.id, env.action, env.target, exc)
        return receipt

    async def _refuse_unverified(self, signed: Signed, exc: SignatureError, received: int) -> Signed:
        """Not verified: audited, answered, but not recorded in the ledger (no id squatting)."""
        command_id = _peek_id(signed.body)
        receipt = self._receipt(command_id, signed.hash, "", REFUSED, exc.reason, str(exc), received)
        body = {"reason": str(exc), "code": exc.reason, "envelope_hash": signed.hash,
                "receipt": receipt.to_json()}
        await asyncio.to_thread(self.audit.append, "refusal", command_id or "(unreadable)", body, "unverified")
        self.decisions[exc.reason] += 1
        log.warning("control: refused an unverified command %r: %s", command_id, exc)
        return receipt

    async def _replayed(self, env: Envelope, signed: Signed, record: dict, received: int) -> Signed:
        same = record["hash"] == signed.hash
        if same and record.get("receipt"):
            receipt = Signed.from_json(record["receipt"])
            note = "delivered again: not run again; its receipt is returned again"
        elif same:  # claimed, never finished: the sidecar stopped while the handler ran
            receipt = self._receipt(env.id, signed.hash, env.target, REFUSED, "interrupted",
                                    "the sidecar stopped while the handler ran; at most once: it is not run again "
                                    "(check the subsystem for its effect)", received, incident_id=env.incident_id)
            await self._store(env, signed, receipt, "receipt")
            note = "delivered again after an interrupted run: not run again"
        else:
            receipt = self._receipt(env.id, signed.hash, env.target, REFUSED, "replayed_id",
                                    f"command id {env.id} was already used by another envelope", received,
                                    incident_id=env.incident_id)
            note = "another envelope with a command id already used: refused"
        body = {"reason": note, "code": "replayed_id", "envelope_hash": signed.hash,
                "receipt_hash": receipt.hash}
        await asyncio.to_thread(self.audit.append, "refusal", env.id, body, env.issuer)
        self.decisions["replayed_id"] += 1
        return receipt


def _peek_id(body: bytes) -> str:
    """The command id of an unverifiable envelope, for the record (best effort, never raises)."""
    try:
        value = json.loads(body).get("id", "")
        return value[:64] if isinstance(value, str) else ""
    except Exception:
        return ""
