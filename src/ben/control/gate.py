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
from ben.control.documents import ACCEPTED, FAILED, REFUSED, Envelope, Receipt, Signed, clean_text, now_ns
from ben.control.keys import Signer
from ben.control.ledger import Ledger, counts_for_breaker
from ben.control.policy import Policy, Releases
from ben.control.trust_store import Trusted
from ben.control.verify import Verifier
from ben.core.errors import ControlError, PolicyError, SignatureError, WalError

log = logging.getLogger(__name__)

KILL_KEY = b"mkill"  # the kill-switch order the sidecar holds (JSON), in the control RocksDB


@dataclass
class Outcome:
    """What the gate did with one command: ran it (``ok``, ``result``) or refused it (``error``)."""

    ok: bool
    result: dict
    error: str = ""


#: Runs a verified command in its subsystem: (envelope, typed params) -> outcome.
Runner = Callable[[Envelope], Awaitable[Outcome]]
#: Which targets are attached and which actions each handles.
Routes = Callable[[], dict[str, set[str]]]


class Gate:
    """The sidecar's gate: verifies a signed command, applies the policy and the ledger (each command once), runs
    it through the routes and signs the receipt; every step audited."""

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
        self._releases: Releases | None = None  # built from the ledger at the first policy check
        raw = ledger.db.get(KILL_KEY)
        self.kill: dict = json.loads(raw) if raw else {"on": False, "issued_at": 0, "by": "", "reason": ""}

    def _receipt(self, command_id: str, env_hash: str, target: str, status: str, code: str, reason: str,
                 received: int, result: dict | None = None, incident_id: str = "") -> Signed:
        return Receipt(command_id=command_id or "(unreadable)", envelope_hash=env_hash, sidecar_id=self.sidecar_id,
                       target=target, status=status, code=code, reason=clean_text(reason[:2000]), result=result or {},
                       received_at=received, finished_at=now_ns(), issuer=self.signer.id,
                       incident_id=incident_id).sign(self.signer)

    async def handle(self, envelope: Signed, approvals: list[Signed] = ()) -> Signed:
        async with self._lock:
            try:
                return await self._handle(envelope, list(approvals))
            except Exception as exc:  # never crash the sidecar on a command
                if isinstance(exc, WalError):  # the control database cannot be written (a full disk): nothing ran
                    why = f"not run: {exc}"
                    log.error("control: command %s %s", _peek_id(envelope.body), why)
                else:
                    why = f"internal error: {type(exc).__name__}"
                    log.exception("control: unexpected error handling a command")
                self.decisions["internal_error"] += 1
                receipt = self._receipt(_peek_id(envelope.body), envelope.hash, "", REFUSED, "internal_error", why,
                                        now_ns())
                try:
                    await asyncio.to_thread(self.audit.append, "refusal", _peek_id(envelope.body) or "(unreadable)",
                                            {"reason": why[:2000], "code": "internal_error",
                                             "envelope_hash": envelope.hash}, "sidecar")
                except WalError as again:
                    log.error("control: the refusal could not be audited either: %s", again)
                except Exception:
                    log.exception("control: the refusal could not be audited either")
                return receipt

    async def _handle(self, signed: Signed, approvals: list[Signed]) -> Signed:
        received = now_ns()
        # 1. Is it provably from someone allowed to send it, now?
        try:
            env, trusted = self.verifier.envelope(signed, received)
        except SignatureError as exc:
            return await self._refuse_unverified(signed, exc, received)
        # 2. Seen before? (Only verified envelopes reach the ledger.) One hop to a thread for the reads.
        record, used_by, history = await asyncio.to_thread(self._lookups, env)
        if record is not None:
            return await self._replayed(env, signed, record, received)
        if used_by is not None:
            return await self._refuse(env, signed, SignatureError(
                f"sequence {env.seq} of key {env.issuer} was already used by {used_by}", reason="replayed_sequence"),
                received)
        # 3. Within the limits a human set? Is there a subsystem to run it?
        try:
            approved_by = self._approval(env, signed, approvals, trusted)
            self._kill_switch(trusted, approved_by)
            self._policy(env, trusted, approved_by, history, received)
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
                                puts=self.ledger.claim(env, signed, "claimed", at=received))
        if self._releases is not None:  # counted at its arrival by this host's clock, not its signer's issued_at
            self._releases.add(env.id, env.action, env.target, received)
        outcome = await self.runner(env)
        status, code = (ACCEPTED, "ok") if outcome.ok else (FAILED, "handler_error")
        reason = env.reason if outcome.ok else f"the handler failed: {outcome.error}"
        receipt = self._receipt(env.id, signed.hash, env.target, status, code, reason, received, outcome.result,
                                env.incident_id)
        await self._store(env, signed, receipt, "receipt", received)
        self.decisions[code] += 1
        return receipt

    def _approval(self, env: Envelope, signed: Signed, approvals: list[Signed], trusted: Trusted) -> str:
        """The approver's key id if a valid human approval of exactly this envelope is attached, else ""
        (under the two-person rule, an approval by the command's own signer does not count)."""
        rule = self.policy.model.actions.get(env.action) if self.policy is not None else None
        problems = []
        for approval in approvals:
            try:
                decision, approver = self.verifier.approval(approval, signed, env.id)
            except ControlError as exc:
                problems.append(str(exc))
                continue
            if rule is not None and rule.require_distinct_approver and approver.id == env.issuer:
                problems.append(f"{approver.name} signed the command and may not approve it too (two-person rule)")
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
        if (rule.require_approval or rule.require_distinct_approver) and not approved_by:
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

    def held_order(self) -> Signed | None:
        """The kill-switch order this sidecar holds (the spine adopts it when it is newer than its own)."""
        return Signed.from_json(self.kill["order"]) if self.kill.get("order") else None

    async def set_kill_switch(self, order: Signed):
        """Take a kill-switch order pushed by the spine if it is an approver's, its nonce unused and it
        is newer than the one held; every refusal is audited. Returns the acknowledgement for the spine."""
        from ben.v1 import control_pb2 as pb

        async with self._lock:
            held = self.held_order()
            code, why = "", ""
            if held is not None and held.hash == order.hash:
                code = "same_order"  # the spine hands its order again on every attach: nothing to do
            else:
                try:
                    toggle, trusted = self.verifier.kill_switch(order, now_ns(), fresh=False)
                    if self.ledger.db.get(b"n" + toggle.nonce.encode()) is not None:
                        raise ControlError(f"nonce {toggle.nonce} was already used: a replayed order",
                                           reason="replayed_nonce")
                    if toggle.issued_at <= self.kill["issued_at"]:
                        state = "on" if self.kill["on"] else "off"
                        raise ControlError(f"the order is not newer than the one held ({state} by {self.kill['by']}): "
                                           "the kill switch only moves forward", reason="stale_order")
                except ControlError as exc:
                    code, why = exc.reason, str(exc)
                    await asyncio.to_thread(self.audit.append, "refusal", "", {
                        "reason": f"kill-switch order refused: {exc}", "code": exc.reason, "order_hash": order.hash},
                        "unverified" if exc.reason in ("malformed", "unknown_key", "bad_signature") else "spine")
                    self.decisions[exc.reason] += 1
                    log.warning("control: kill-switch order refused: %s", exc)
            if code:
                held = self.held_order()
                return pb.KillSwitchAck(order_hash=order.hash, taken=False, code=code, reason=why,
                                        held=held.to_proto(pb.Signed) if held is not None else None)
            kill = {"on": toggle.on, "issued_at": toggle.issued_at, "by": trusted.name, "reason": toggle.reason,
                    "order": order.to_json()}
            await asyncio.to_thread(self.audit.append, "kill_switch", "", {
                "reason": toggle.reason, "on": toggle.on, "by": trusted.name, "order": order.to_json()}, trusted.id,
                puts={KILL_KEY: json.dumps(kill).encode(), b"n" + toggle.nonce.encode(): b"1"})
            self.kill = kill
            log.warning("control: kill switch %s by %s: %s", "ON" if toggle.on else "off", trusted.name,
                        toggle.reason)
            return pb.KillSwitchAck(order_hash=order.hash, taken=True, code="ok", reason=toggle.reason,
                                    held=order.to_proto(pb.Signed))

    def _lookups(self, env: Envelope):
        """The ledger's record of this id, who used its sequence number, and the history (policy)."""
        record = self.ledger.record(env.id)
        if record is not None:
            return record, None, None
        return None, self.ledger.sequence_used(env.issuer, env.seq), (
            self._history() if self.policy is not None else None)

    def _history(self) -> Releases:
        """What ran here (and what was refused for the target's sake), read from the ledger once."""
        if self._releases is None:
            self._releases = Releases()
            for command_id, past in self.ledger.history():
                if past.outcome == REFUSED:  # toward the breaker only
                    self._releases.ended(command_id, past.action, past.at_ns, past.outcome)
                else:
                    self._releases.add(command_id, past.action, past.target, past.at_ns, past.outcome)
        return self._releases

    async def _store(self, env: Envelope, signed: Signed, receipt: Signed, kind: str, received: int) -> None:
        rec = Receipt.parse(receipt.body)
        if self._releases is not None and (rec.status != REFUSED or counts_for_breaker(rec.status, rec.code)):
            # a refusal for the target's sake counts toward the breaker only (not rate nor blast radius)
            self._releases.ended(env.id, env.action, received, rec.status)
        body = {"reason": rec.reason, "status": rec.status, "code": rec.code, "receipt": receipt.to_json(),
                "incident_id": env.incident_id}
        await asyncio.to_thread(self.audit.append, kind, env.id, body, self.signer.id,
                                puts=self.ledger.done(env, signed, receipt, at=received))

    async def _refuse(self, env: Envelope, signed: Signed, exc: ControlError, received: int) -> Signed:
        receipt = self._receipt(env.id, signed.hash, env.target, REFUSED, exc.reason, str(exc), received,
                                incident_id=env.incident_id)
        await self._store(env, signed, receipt, "refusal", received)
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
            await self._store(env, signed, receipt, "receipt", int(record.get("at") or received))
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
