"""The spine's control plane: it takes signed commands, applies policy, proposes, records, audits.

``send`` verifies the envelope (as the sidecar will again) and decides, under the policy:

* refused (signature, key, role, time, replay, unknown incident, an action without a rule, the
  kill switch for automation, or a human's command outside the bounds) - with the reason;
* awaiting_approval - the action requires a human's approval (or a second person's), or an
  *automation* key's command is outside the bounds (target, rate, blast radius, circuit breaker):
  it becomes a proposal a human approves (``ben command approve ID``) or refuses;
* pending - queued for its target; the router hands it to one authenticated sidecar with that
  target (``claim``), then delivered (sticky: only that sidecar's receipt is taken), then the
  receipt's status (accepted, refused, failed).

Every decision, refusals included, is an audit entry written in the same fsync'd batch as the
record it changes; ``ben.commands`` and ``ben.audit`` are mirrored from the log in the background
(``mirror``). Control orders (kill switch, approvals) only move forward: each order's nonce is
kept, a kill-switch order must be newer than the one held, and what sidecars acknowledge is kept
per sidecar (``orders``). All methods are thread-safe and blocking.
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

from ben.control import canonical
from ben.control.attach_refusals import AttachRefusals
from ben.control.audit import QUERY_PREFIX, RECORD_KINDS, AuditLog, report, verify_copy
from ben.control.component import ControlBase
from ben.control.documents import Envelope, Receipt, Signed, now_ns
from ben.control.keys import key_id, public_from_text, verify
from ben.control.ledger import counts_for_breaker
from ben.control.mirror import Mirror
from ben.control.orders import Orders
from ben.control.policy import Releases
from ben.control.records import RecordKeys, record_key
from ben.core.config import ControlConfig
from ben.core.errors import BenError, ControlError, PolicyError, SignatureError
from ben.store.schema import AUDIT

log = logging.getLogger(__name__)

REFUSED, AWAITING, PENDING, DELIVERED = "refused", "awaiting_approval", "pending", "delivered"
LET_THROUGH = (PENDING, DELIVERED, "accepted", "failed")


def _cmd_key(command_id: str) -> bytes:
    return b"c" + command_id.encode()


class ControlPlane(ControlBase):
    """The spine's control plane: accepts signed commands, keeps their records and the audit log (mirrored to the
    store), and delivers them through the router."""

    def __init__(self, cfg: ControlConfig, data_dir: Path, store=None):
        super().__init__(cfg, data_dir, "spine")
        self.store = store
        self._lock = threading.RLock()
        self._record_lock = threading.Lock()
        self.mirror: Mirror | None = None
        self.audit = AuditLog(self.db, self.audit_signer, "spine", self._appended)
        if store is not None:
            self.mirror = Mirror(store, self.audit, self._record_copy, self._changed_since)
        from ben.control.queries import QueryAudit

        #: Operator queries: a chain of their own, not mirrored into the store (ADR 0045, 2026-12)
        self.queries = QueryAudit(AuditLog(self.db, self.audit_signer, "spine", prefix=QUERY_PREFIX),
                                  max_entries=cfg.query_log_max_entries, max_age_s=cfg.query_log_max_age_s)
        self.queries.start()
        #: the record keys that make a cortex line audited once, trimmed to a window (``ben.control.records``)
        self.record_keys = RecordKeys(self.db, self.audit, cfg.record_dedup_window_s)
        self.record_keys.retain()
        self.records: dict[str, dict] = {}
        self._seqs: dict[tuple[str, int], str] = {}
        self._queue: dict[str, dict[str, None]] = {}     # target -> pending ids (never delivered), in order
        self.releases = Releases()
        for _, raw in self.db.scan(b"c"):
            self._index(json.loads(raw))
        self.orders = Orders(self)
        self.refusals: dict[str, int] = {}
        self.attach_refusals = AttachRefusals(cfg.attach_refusals_audited, cfg.attach_refusals_window_s)
        if self.mirror is not None:
            self.mirror.start()
        self.orders.check_pins()

    @property
    def kill(self) -> dict:
        return self.orders.kill

    def _index(self, rec: dict) -> None:
        self.records[rec["id"]] = rec
        self._seqs[(rec["issuer"], rec["seq"])] = rec["id"]
        if rec["state"] == PENDING:
            self._queue.setdefault(rec["target"], {})[rec["id"]] = None
        if rec.get("released_at"):
            self.releases.add(rec["id"], rec["action"], rec["target"], rec["released_at"])
            self._ended(rec)

    def _ended(self, rec: dict) -> None:
        outcome = rec.get("outcome", "")
        if outcome in ("accepted", "failed") or counts_for_breaker(outcome, rec.get("code", "")):
            self.releases.ended(rec["id"], rec["action"], rec["released_at"], outcome)

    def _appended(self, _entries) -> None:
        if self.mirror is not None:
            self.mirror.changed()

    def _changed_since(self, ts: int) -> list[str]:
        with self._lock:
            return [r["id"] for r in self.records.values() if r.get("updated_ts", 0) > ts]

    def _record_copy(self, command_id: str) -> dict | None:
        with self._lock:
            rec = self.records.get(command_id)
            return dict(rec) if rec is not None else None

    def close(self, timeout: float = 5.0) -> None:
        try:
            self._collapsed(self.attach_refusals.ended(every=True) + self.orders.target_refusals.ended(every=True))
        except Exception:  # the stop goes on; the count is in the log line
            log.exception("control: could not write the counted attach refusals")
        self.queries.shutdown(timeout)
        if self.mirror is not None:
            self.mirror.shutdown(timeout)
        super().close()

    def force_flush(self, timeout: float = 30.0) -> bool:
        """Wait until ``ben.audit`` and ``ben.commands`` hold everything the log has."""
        return self.mirror.force_flush(timeout) if self.mirror is not None else True

    # -- recording --------------------------------------------------------------------------------------
    def _save(self, rec: dict, kind: str, body: dict, actor: str, extra: dict[bytes, bytes] | None = None, *,
              sync: bool = True) -> dict:
        rec["updated_ts"] = now_ns()
        self.audit.append(kind, rec["id"], {"reason": rec["reason"], "state": rec["state"],
                                            "incident_id": rec["incident_id"], **body}, actor,
                          puts={_cmd_key(rec["id"]): json.dumps(rec).encode(), **(extra or {})}, sync=sync)
        self.records[rec["id"]] = rec
        if self.mirror is not None:
            self.mirror.changed(rec["id"])
        return rec

    def refuse(self, subject: str, code: str, why: str, actor: str, **body) -> dict:
        """Audit a refusal of something that is not (or cannot be) recorded as a command."""
        self.refusals[code] = self.refusals.get(code, 0) + 1
        self.audit.append("refusal", subject, {"reason": why, "code": code, **body}, actor)
        log.warning("control: refused %s (%s): %s", subject, code, why)
        return {"id": subject, "state": REFUSED, "code": code, "reason": why}

    def refuse_attach(self, caller: str, code: str, why: str, sidecar_id: str) -> None:
        """A refused attach: an entry of its own within ``caller``'s budget, else counted in the entry that ends
        the window (``ben.control.attach_refusals``; ADR 0045, round 15)."""
        own, collapsed = self.attach_refusals.take(caller, code, sidecar_id)
        self._collapsed(collapsed)
        if own:
            self.refuse("", code, f"attach refused: {why}", f"sidecar:{sidecar_id}")
        else:
            self.refusals[code] = self.refusals.get(code, 0) + 1

    def _collapsed(self, entries: list[dict]) -> None:
        for body in entries:
            log.warning("control: %s", body["reason"])
            self.audit.append("refusal", "", body, f"peer:{body['caller']}")

    def _refuse_unrecorded(self, signed: Signed, exc: ControlError, actor: str) -> dict:
        return self.refuse(_peek(signed.body, "id") or "(unreadable)", exc.reason, str(exc), actor,
                           envelope_hash=signed.hash)

    # -- operator requests ------------------------------------------------------------------------------
    def send(self, signed: Signed) -> dict:
        with self._lock:
            now = now_ns()
            try:
                env, trusted = self.verifier.envelope(signed, now)
            except SignatureError as exc:
                return self._refuse_unrecorded(signed, exc, "unverified")
            known = self.records.get(env.id)
            if known is not None:
                if known["envelope_hash"] == signed.hash:  # the same command sent again: still one command
                    self.audit.append("command", env.id, {"reason": env.reason, "state": known["state"],
                                                          "repeat": True, "envelope_hash": signed.hash}, env.issuer)
                    return known
                return self._refuse_unrecorded(signed, SignatureError(
                    f"command id {env.id} was already used by another envelope", reason="replayed_id"), env.issuer)
            rec = {"id": env.id, "action": env.action, "target": env.target, "params": env.params,
                   "issuer": env.issuer, "issuer_name": trusted.name, "issuer_kind": trusted.role.kind,
                   "seq": env.seq, "reason": env.reason, "incident_id": env.incident_id,
                   "issued_at": env.issued_at, "expires_at": env.expires_at, "created_at": now,
                   "envelope": signed.to_json(), "envelope_hash": signed.hash, "approvals": [], "receipt": None,
                   "state": "", "code": "", "outcome": "", "released_at": 0, "deliveries": 0, "receipts_seen": 0,
                   "receipt_mismatch": 0, "sidecar_id": "", "receipt_at": 0}
            try:
                self._check(env, trusted.human, now)
            except ControlError as exc:
                proposable = ("wrong_target", "over_rate", "over_blast_radius", "breaker_open")
                if exc.reason in ("approval_required", "distinct_approver_required") or (
                        isinstance(exc, PolicyError) and not trusted.human and exc.reason in proposable):
                    rec.update(state=AWAITING, code=exc.reason)
                    self._seqs[(env.issuer, env.seq)] = env.id
                    return self._save(rec, "proposal", {"why_proposed": str(exc), "action": env.action,
                                                        "target": env.target, "params": env.params}, env.issuer)
                rec.update(state=REFUSED, code=exc.reason, refusal=str(exc))
                self.refusals[exc.reason] = self.refusals.get(exc.reason, 0) + 1
                if exc.reason != "replayed_sequence":
                    self._seqs[(env.issuer, env.seq)] = env.id
                log.warning("control: refused %s (%s on %s): %s", env.id, env.action, env.target, exc)
                return self._save(rec, "refusal", {"code": exc.reason, "refusal": str(exc)}, env.issuer)
            self._seqs[(env.issuer, env.seq)] = env.id
            return self._release(rec, "command", {"action": env.action, "target": env.target, "params": env.params,
                                                  "seq": env.seq, "envelope_hash": signed.hash}, env.issuer, now)

    def _release(self, rec: dict, kind: str, body: dict, actor: str, now: int,
                 extra: dict[bytes, bytes] | None = None, **changes) -> dict:
        rec.update(state=PENDING, released_at=now, **{"code": "ok", **changes})
        self._save(rec, kind, body, actor, extra)
        self.releases.add(rec["id"], rec["action"], rec["target"], now)
        self._queue.setdefault(rec["target"], {})[rec["id"]] = None
        return rec

    def _check(self, env: Envelope, human: bool, now: int) -> None:
        used_by = self._seqs.get((env.issuer, env.seq))
        if used_by is not None:
            raise SignatureError(f"sequence {env.seq} of key {env.issuer} was already used by {used_by}",
                                 reason="replayed_sequence")
        if env.incident_id and self.store is not None:
            try:
                found = json.loads(self.store.query_json(
                    f"SELECT count() AS n FROM ben.incidents WHERE id = '{env.incident_id}'"))["data"][0]["n"]
            except BenError:
                found = 1  # cannot check now: do not block a command on the store
            if not int(found):
                raise PolicyError(f"incident {env.incident_id!r} does not exist (ben incidents lists them)",
                                  reason="unknown_incident")
        policy = self.policy
        if policy is None:
            raise PolicyError("no policy is configured (spine.control.policy): every command is refused",
                              reason="action_not_allowed")
        rule = policy.rule(env.action)
        if not human and (policy.kill_switch or self.kill["on"]):
            by = f" by {self.kill['by']}: {self.kill['reason']}" if self.kill["on"] else f" in {policy.source}"
            raise PolicyError(f"the kill switch is on{by}; no automation runs", reason="kill_switch")
        policy.check(env.action, env.target, now, self.releases)
        if rule.require_distinct_approver:
            raise PolicyError(f"action {env.action!r} requires the approval of a second person (policy "
                              f"{policy.source})", reason="distinct_approver_required")
        if rule.require_approval:
            raise PolicyError(f"action {env.action!r} requires a human's approval (policy {policy.source})",
                              reason="approval_required")

    def decide(self, signed: Signed) -> dict:
        """A human approves or refuses a command awaiting approval (every refusal of it is audited)."""
        with self._lock:
            command_id = _peek(signed.body, "command_id")
            rec = self.records.get(command_id)
            if rec is None:
                self._refuse_decision(signed, command_id or "(unreadable)", ControlError(
                    f"no command {command_id!r} (ben command list shows them)", reason="unknown"))
            try:
                approval, trusted = self.verifier.approval(signed, Signed.from_json(rec["envelope"]), rec["id"])
            except SignatureError as exc:
                self._refuse_decision(signed, rec["id"], exc, "unverified")
            self.orders.check_nonce(approval.nonce, rec["id"], approval.issuer, self._refuse_decision, signed)
            if rec["state"] != AWAITING:
                self._refuse_decision(signed, rec["id"], ControlError(
                    f"command {rec['id']} is {rec['state']}, not awaiting approval", reason="state"), trusted.id)
            rule = self.policy.rule(rec["action"]) if self.policy is not None else None
            if (approval.decision == "approve" and rule is not None and rule.require_distinct_approver
                    and trusted.id == rec["issuer"]):
                self._refuse_decision(signed, rec["id"], PolicyError(
                    f"action {rec['action']!r} needs a second person: {trusted.name} signed the command and may not "
                    "approve it too", reason="same_approver"), trusted.id)
            body = {"decision": approval.decision, "by": trusted.name, "approver": trusted.id,
                    "approval": signed.to_json(), "why": approval.reason}
            nonce_put = self.orders.nonce_put(approval.nonce)
            if approval.decision == "approve":
                revoked = self._signer_revoked(rec)
                if revoked is not None:  # taken out of the trust store, or its role changed, while it waited
                    rec.update(state=REFUSED, code=revoked.reason, refusal=f"its signer no longer may: {revoked}")
                    self.refusals[revoked.reason] = self.refusals.get(revoked.reason, 0) + 1
                    log.warning("control: refused %s at its approval by %s: %s", rec["id"], trusted.name, revoked)
                    return self._save(rec, "refusal", {**body, "code": revoked.reason, "refusal": rec["refusal"]},
                                      trusted.id, nonce_put)
                if now_ns() > rec["expires_at"] + self.verifier.skew_ns:
                    self._refuse_decision(signed, rec["id"], ControlError(
                        f"command {rec['id']} expired before it was approved; send it again", reason="expired"),
                        trusted.id)
                return self._release(rec, "approval", body, trusted.id, now_ns(), nonce_put, code="approved",
                                     proposed_because=rec["code"], approvals=rec["approvals"] + [signed.to_json()],
                                     approved_by=trusted.name, approval_reason=approval.reason)
            rec.update(state=REFUSED, code="refused_by_human", refusal=f"refused by {trusted.name}: {approval.reason}")
            return self._save(rec, "refusal", {**body, "code": "refused_by_human"}, trusted.id, nonce_put)

    def _signer_revoked(self, rec: dict) -> SignatureError | None:
        """Why the command awaiting approval may no longer run as its signer sent it (its key taken out of the
        trust store, or its role no longer allowing the action or target; ADR 0045, round 9); None if it may.
        The approval released it whatever happened to its signer since it was proposed."""
        try:
            self.verifier.envelope(Signed.from_json(rec["envelope"]), now_ns())
        except SignatureError as exc:
            return None if exc.reason == "expired" else exc  # expiry: refused below, as before
        return None

    def _refuse_decision(self, signed: Signed, subject: str, exc: ControlError, actor: str = "unverified"):
        self.refuse(subject, exc.reason, f"approval refused: {exc}", actor, approval_hash=signed.hash)
        raise exc

    def set_kill_switch(self, signed: Signed) -> dict:
        with self._lock:
            return self.orders.take(signed)

    def kill_order(self) -> Signed | None:
        """The latest signed kill-switch order, for the sidecars (they enforce it too)."""
        with self._lock:
            return Signed.from_json(self.kill["order"]) if self.kill.get("order") else None

    # -- delivery and receipts (router) -----------------------------------------------------------------
    def claim(self, sidecar_id: str, targets: set[str], room: int) -> list[dict]:
        """Up to ``room`` pending commands for these targets, now delivered to this sidecar (audited in
        one batch): from here on only its receipt is taken."""
        with self._lock:
            out: list[dict] = []
            for target in sorted(targets):
                queue = self._queue.get(target)
                while queue and len(out) < room:
                    command_id = next(iter(queue))
                    del queue[command_id]
                    rec = self.records[command_id]
                    if rec["state"] == PENDING:
                        out.append(rec)
            if not out:
                return []
            now = now_ns()
            items = []
            for rec in out:
                rec.update(state=DELIVERED, sidecar_id=sidecar_id, deliveries=rec["deliveries"] + 1, updated_ts=now)
                items.append(("delivery", rec["id"], {"reason": rec["reason"], "state": DELIVERED,
                                                      "incident_id": rec["incident_id"], "sidecar_id": sidecar_id},
                              "spine", {_cmd_key(rec["id"]): json.dumps(rec).encode()}))
            # not fsync'd: lost in a crash, the command is pending again and delivered again (the
            # sidecar's ledger answers a command it saw with its stored receipt)
            self.audit.append_many(items, sync=False)
            if self.mirror is not None:
                for rec in out:
                    self.mirror.changed(rec["id"])
            return [dict(r) for r in out]

    def unanswered(self, sidecar_id: str) -> list[dict]:
        """Commands delivered to this sidecar that have no receipt yet (resent when it reattaches)."""
        with self._lock:
            return [dict(r) for r in self.records.values()
                    if r["state"] == DELIVERED and r["sidecar_id"] == sidecar_id and not r.get("receipt")]

    def resent(self, command_id: str) -> None:
        with self._lock:
            rec = self.records.get(command_id)
            if rec is not None:
                rec["deliveries"] += 1

    def sidecar_key(self, sidecar_id: str) -> str | None:
        return self.orders.sidecar_key(sidecar_id)

    def receipt(self, sidecar_id: str, signed: Signed) -> dict | None:
        """Take a receipt from the sidecar the command was delivered to (anything else is refused, audited)."""
        with self._lock:
            actor = f"sidecar:{sidecar_id}"
            subject = _peek(signed.body, "command_id") or "(unreadable)"
            try:
                receipt = Receipt.parse(signed.body)
                public = public_from_text(self.sidecar_key(sidecar_id) or "", source=f"sidecar {sidecar_id}")
                if key_id(public.public_bytes_raw()) != receipt.issuer or not verify(public, signed.signature,
                                                                                     signed.body):
                    raise SignatureError("receipt signature does not verify with the sidecar's pinned key",
                                         reason="bad_signature")
            except BenError as exc:
                self.refuse(subject, "bad_receipt", f"receipt from sidecar {sidecar_id} refused: {exc}", actor)
                return None
            rec = self.records.get(receipt.command_id)
            if rec is None or rec["envelope_hash"] != receipt.envelope_hash:
                # A refusal of something the spine never recorded (e.g. a forged envelope): audit it.
                self.audit.append("receipt", receipt.command_id, {"reason": receipt.reason, "status": receipt.status,
                                                                  "code": receipt.code, "receipt": signed.to_json()},
                                  actor)
                return None
            if rec["sidecar_id"] != sidecar_id or rec["state"] == PENDING:
                self.refuse(rec["id"], "wrong_sidecar", f"receipt from sidecar {sidecar_id} refused: command "
                            f"{rec['id']} was delivered to {rec['sidecar_id'] or 'no sidecar yet'}", actor,
                            status=receipt.status)
                return None
            rec["receipts_seen"] += 1
            if rec.get("receipt"):
                same = Signed.from_json(rec["receipt"]).body == signed.body
                if not same:
                    rec["receipt_mismatch"] += 1
                    log.error("control: sidecar %s answered command %s with a different receipt", sidecar_id, rec["id"])
                return self._save(rec, "receipt", {"repeat": True, "same_receipt": same, "receipt_hash": signed.hash,
                                                   "status": receipt.status, "code": receipt.code}, actor)
            rec.update(receipt=signed.to_json(), state=receipt.status, outcome=receipt.status, code=receipt.code,
                       result=receipt.result, receipt_at=now_ns(),
                       refusal=receipt.reason if receipt.status != "accepted" else "")
            if rec.get("released_at"):
                self._ended(rec)
            # not fsync'd: lost in a crash, the command is unanswered again, delivered again, and the
            # sidecar sends the same receipt from its ledger
            return self._save(rec, "receipt", {"status": receipt.status, "code": receipt.code,
                                               "receipt_reason": receipt.reason, "result": receipt.result,
                                               "receipt_hash": signed.hash}, actor, sync=False)

    def record(self, kind: str, subject: str, body_json: str) -> dict:
        """An operator's record (the cortex's recommendations, decisions, outcomes) as an audit entry."""
        if kind not in RECORD_KINDS:
            raise ControlError(f"kind {kind!r}: expected one of {', '.join(RECORD_KINDS)}", reason="bad_record")
        if not subject.replace("-", "").isalnum() or len(subject) > 64:
            raise ControlError(f"subject {subject[:64]!r}: expected an incident id", reason="bad_record")
        try:
            body = json.loads(body_json) if len(body_json) <= 65_536 else None
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("reason"), str):
            raise ControlError("body_json: expected a JSON object (at most 64 KiB) with a 'reason'",
                               reason="bad_record")
        try:
            canonical.encode(body)
        except ValueError as exc:
            raise ControlError(f"body_json: {exc}", reason="bad_record") from None
        body.pop("operator", None)   # who called is the authenticated caller (ADR 0034), never what the body says
        # The same line sent again (its answer lost to a kill, or its sender killed before it noted the answer)
        # is the entry it made, not a second one: a key of its content is written in the entry's batch.
        key = record_key(kind, subject, body)
        with self._record_lock:
            if self.record_keys.due():
                self.record_keys.retain()
            seq = self.record_keys.seq_of(key)
            if seq is None:
                if self.record_keys.past_window(body):
                    log.warning("control: a %s record for %s older than spine.control.record_dedup_window_s came; "
                                "it is audited, and is there twice if it was audited before its key was trimmed",
                                kind, subject)
                return self.audit.append(kind, subject, body, "cortex", puts=lambda n: {key: b"%d" % n}).row()
        log.info("control: %s record for %s sent again; it is audit entry %d", kind, subject, seq)
        found = self.audit.entries(after=seq - 1, limit=1)
        return found[0].row() if found and found[0].seq == seq else {"seq": seq, "kind": kind, "command_id": subject,
                                                                     "trimmed": True}

    # -- reading ----------------------------------------------------------------------------------------
    def list(self, limit: int = 100, state: str = "", command_id: str = "") -> list[dict]:
        with self._lock:
            if command_id:
                rec = self.records.get(command_id)
                return [dict(rec)] if rec is not None and (not state or rec["state"] == state) else []
            recs = sorted(self.records.values(), key=lambda r: r["created_at"], reverse=True)
            if state:
                recs = [r for r in recs if r["state"] == state]
            return [dict(r) for r in recs[:limit or 100]]

    def verify_audit(self) -> list[dict]:
        """Verify the local log and the ClickHouse copy, and compare them; a report per copy."""
        self.force_flush(30.0)
        with self._lock:
            keys = self.audit_keys()
            verdicts = [self.audit.verify(keys)]
            if self.store is not None:
                rows = json.loads(self.store.query_json(f"SELECT * FROM {AUDIT} ORDER BY seq"))["data"]
                verdicts.append(verify_copy(rows, keys, self.audit.entries(), AUDIT))
        self.queries.force_flush()
        verdicts.append(self.queries.log.verify(keys, "query log"))
        return report(verdicts)

    def audit_entries_json(self, after: int = 0, log_name: str = "") -> str:
        """Entries of the control plane's log, or (``queries``) of the query log, above ``after``."""
        if log_name == "queries":
            self.queries.force_flush()
            return json.dumps([e.row() for e in self.queries.log.entries(after)])
        return super().audit_entries_json(after)

    def figures(self) -> dict:
        with self._lock:
            states: dict[str, int] = {}
            for rec in self.records.values():
                states[rec["state"]] = states.get(rec["state"], 0) + 1
            return {"states": states, "refusals": dict(self.refusals), "kill_switch": self.kill["on"],
                    "kill_switch_unacknowledged": self.orders.unacknowledged(),
                    "audit_entries": self.audit.last_seq, "query_log_entries": self.queries.log.last_seq,
                    "audit_mirror_errors": self.mirror.errors if self.mirror is not None else 0,
                    "audit_mirror_behind": self.mirror.behind if self.mirror is not None else 0}


def _peek(body: bytes, name: str) -> str:
    try:
        value = json.loads(body).get(name, "")
        return value[:64] if isinstance(value, str) else ""
    except Exception:
        return ""
