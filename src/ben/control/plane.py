"""The spine's control plane: it takes signed commands, applies policy, proposes, records, audits.

``send`` verifies the envelope (as the sidecar will again) and decides, under the policy:

* refused (signature, key, role, time, replay, unknown incident, an action without a rule, the
  kill switch for automation, or a human's command outside the bounds) - with the reason;
* awaiting_approval - the action requires a human's approval, or an *automation* key's command
  is outside the bounds (target, rate, blast radius, circuit breaker): it becomes a proposal a
  human approves (``ben command approve ID``) or refuses;
* pending - the router delivers it to the sidecar that has the target attached, then
  delivered, then the receipt's status (accepted, refused, failed).

Every record is kept in the control RocksDB (written in the same fsync'd batch as its audit
entry) and mirrored as a new version into ``ben.commands``; the audit log is mirrored into
``ben.audit``. All methods are thread-safe and blocking (the router calls them in a thread).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path

import pyarrow as pa

from ben.control.audit import AuditLog, Entry, report, verify_copy
from ben.control.component import ControlBase
from ben.control.documents import Envelope, Receipt, Signed, now_ns
from ben.control.keys import key_id, public_from_text, verify
from ben.control.policy import Past
from ben.core.config import ControlConfig
from ben.core.errors import BenError, ControlError, PolicyError, SignatureError
from ben.store.schema import AUDIT, COMMANDS

log = logging.getLogger(__name__)

REFUSED, AWAITING, PENDING, DELIVERED = "refused", "awaiting_approval", "pending", "delivered"
LET_THROUGH = (PENDING, DELIVERED, "accepted", "failed")
_KILL = b"mkill"


def _cmd_key(command_id: str) -> bytes:
    return b"c" + command_id.encode()


class ControlPlane(ControlBase):
    def __init__(self, cfg: ControlConfig, data_dir: Path, store=None):
        super().__init__(cfg, data_dir, "spine")
        self.store = store
        self._lock = threading.RLock()
        self.audit = AuditLog(self.db, self.signer, "spine", self._mirror_audit if store is not None else None)
        self.records: dict[str, dict] = {}
        for _, raw in self.db.scan(b"c"):
            rec = json.loads(raw)
            self.records[rec["id"]] = rec
        raw = self.db.get(_KILL)
        self.kill = json.loads(raw) if raw else {"on": False, "by": "", "reason": ""}
        self.refusals: dict[str, int] = {}
        if store is not None:
            self._backfill_audit()

    # -- mirrors into ClickHouse ------------------------------------------------------------------------
    def _mirror_audit(self, entries: list[Entry]) -> None:
        rows = [e.row() for e in entries]
        self.store.insert_rows(AUDIT, pa.table({
            "seq": pa.array([r["seq"] for r in rows], pa.uint64()),
            "ts": pa.array([r["ts"] for r in rows], pa.int64()),
            **{name: pa.array([r[name] for r in rows], pa.string())
               for name in ("kind", "command_id", "actor", "body", "prev_hash", "hash", "key_id", "signature")}}))

    def _backfill_audit(self) -> None:
        """Mirror what the local log has and ClickHouse lacks (a crash between the two writes)."""
        try:
            have = json.loads(self.store.query_json(f"SELECT max(seq) AS m, count() AS n FROM {AUDIT}"))["data"][0]
            missing = self.audit.entries(after=int(have["m"]) if int(have["n"]) else 0)
            if missing:
                self._mirror_audit(missing)
                log.info("control: mirrored %d audit entries into %s", len(missing), AUDIT)
        except BenError as exc:
            log.warning("control: cannot mirror the audit log into %s: %s", AUDIT, exc)

    def _mirror_record(self, rec: dict) -> None:
        if self.store is None:
            return
        try:
            self.store.insert_rows(COMMANDS, pa.table({
                **{name: pa.array([str(rec.get(name, ""))], pa.string())
                   for name in ("id", "action", "target", "issuer", "state", "reason", "incident_id")},
                "envelope": pa.array([json.dumps(rec["envelope"])], pa.string()),
                "receipt": pa.array([json.dumps(rec["receipt"]) if rec.get("receipt") else ""], pa.string()),
                "updated_ts": pa.array([rec["updated_ts"]], pa.int64()),
                "version": pa.array([time.time_ns()], pa.int64())}))
        except BenError as exc:
            log.warning("control: cannot mirror command %s into %s: %s", rec["id"], COMMANDS, exc)

    # -- recording --------------------------------------------------------------------------------------
    def _save(self, rec: dict, kind: str, body: dict, actor: str) -> dict:
        rec["updated_ts"] = now_ns()
        self.audit.append(kind, rec["id"], {"reason": rec["reason"], "state": rec["state"],
                                            "incident_id": rec["incident_id"], **body}, actor,
                          puts={_cmd_key(rec["id"]): json.dumps(rec).encode()})
        self.records[rec["id"]] = rec
        self._mirror_record(rec)
        return rec

    def _refuse_unrecorded(self, signed: Signed, exc: ControlError, actor: str) -> dict:
        """A refusal of something that cannot be recorded under its id (unverified, or a replayed id)."""
        command_id = _peek(signed.body, "id") or "(unreadable)"
        self.refusals[exc.reason] = self.refusals.get(exc.reason, 0) + 1
        self.audit.append("refusal", command_id, {"reason": str(exc), "code": exc.reason,
                                                   "envelope_hash": signed.hash}, actor)
        log.warning("control: refused %s: %s", command_id, exc)
        return {"id": command_id, "state": REFUSED, "code": exc.reason, "reason": str(exc)}

    def _history(self) -> list[Past]:
        out = []
        for rec in self.records.values():
            if rec["state"] in LET_THROUGH and rec.get("released_at"):
                out.append(Past(rec["action"], rec["target"], rec["released_at"], rec.get("outcome", "")))
        return out

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
                   "receipt_mismatch": 0, "sidecar_id": ""}
            try:
                self._check(env, trusted.human, now)
            except ControlError as exc:
                if isinstance(exc, PolicyError) and not trusted.human and exc.reason in (
                        "wrong_target", "over_rate", "over_blast_radius", "breaker_open", "approval_required"):
                    rec.update(state=AWAITING, code=exc.reason)
                    return self._save(rec, "proposal", {"why_proposed": str(exc), "action": env.action,
                                                        "target": env.target, "params": env.params}, env.issuer)
                if exc.reason == "approval_required":
                    rec.update(state=AWAITING, code=exc.reason)
                    return self._save(rec, "proposal", {"why_proposed": str(exc), "action": env.action,
                                                        "target": env.target, "params": env.params}, env.issuer)
                rec.update(state=REFUSED, code=exc.reason, refusal=str(exc))
                self.refusals[exc.reason] = self.refusals.get(exc.reason, 0) + 1
                log.warning("control: refused %s (%s on %s): %s", env.id, env.action, env.target, exc)
                return self._save(rec, "refusal", {"code": exc.reason, "refusal": str(exc)}, env.issuer)
            rec.update(state=PENDING, code="ok", released_at=now)
            return self._save(rec, "command", {"action": env.action, "target": env.target, "params": env.params,
                                               "seq": env.seq, "envelope_hash": signed.hash}, env.issuer)

    def _check(self, env: Envelope, human: bool, now: int) -> None:
        for rec in self.records.values():
            if rec["issuer"] == env.issuer and rec["seq"] == env.seq:
                raise SignatureError(f"sequence {env.seq} of key {env.issuer} was already used by {rec['id']}",
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
        policy.check(env.action, env.target, now, self._history())
        if rule.require_approval:
            raise PolicyError(f"action {env.action!r} requires a human's approval (policy {policy.source})",
                              reason="approval_required")

    def decide(self, signed: Signed) -> dict:
        """A human approves or refuses a command awaiting approval."""
        with self._lock:
            command_id = _peek(signed.body, "command_id")
            rec = self.records.get(command_id)
            if rec is None:
                raise ControlError(f"no command {command_id!r} (ben command list shows them)", reason="unknown")
            try:
                approval, trusted = self.verifier.approval(signed, Signed.from_json(rec["envelope"]), rec["id"])
            except SignatureError as exc:
                self._refuse_unrecorded(signed, exc, "unverified")
                raise
            if rec["state"] != AWAITING:
                raise ControlError(f"command {rec['id']} is {rec['state']}, not awaiting approval", reason="state")
            body = {"decision": approval.decision, "by": trusted.name, "approver": trusted.id,
                    "approval": signed.to_json(), "why": approval.reason}
            if approval.decision == "approve":
                if now_ns() > rec["expires_at"] + self.verifier.skew_ns:
                    raise ControlError(f"command {rec['id']} expired before it was approved; send it again",
                                       reason="expired")
                rec.update(state=PENDING, code="approved", proposed_because=rec["code"], released_at=now_ns(),
                           approvals=rec["approvals"] + [signed.to_json()],
                           approved_by=trusted.name, approval_reason=approval.reason)
                return self._save(rec, "approval", body, trusted.id)
            rec.update(state=REFUSED, code="refused_by_human", refusal=f"refused by {trusted.name}: {approval.reason}")
            return self._save(rec, "refusal", {**body, "code": "refused_by_human"}, trusted.id)

    def set_kill_switch(self, signed: Signed) -> dict:
        with self._lock:
            order, trusted = self.verifier.kill_switch(signed, now_ns())
            self.kill = {"on": order.on, "by": trusted.name, "reason": order.reason, "order": signed.to_json()}
            self.audit.append("kill_switch", "", {"reason": order.reason, "on": order.on, "by": trusted.name,
                                                  "order": signed.to_json()}, trusted.id,
                              puts={_KILL: json.dumps(self.kill).encode()})
            log.warning("control: kill switch %s by %s: %s", "ON" if order.on else "off", trusted.name, order.reason)
            return {"id": "", "state": "kill_switch_on" if order.on else "kill_switch_off", "reason": order.reason}

    def kill_order(self) -> Signed | None:
        """The latest signed kill-switch order, for the sidecars (they enforce it too)."""
        with self._lock:
            return Signed.from_json(self.kill["order"]) if self.kill.get("order") else None

    # -- delivery and receipts (router) -----------------------------------------------------------------
    def deliverable(self, targets: set[str]) -> list[dict]:
        with self._lock:
            return [r for r in self.records.values()
                    if r["state"] in (PENDING, DELIVERED) and not r.get("receipt") and r["target"] in targets]

    def delivered(self, command_id: str, sidecar_id: str) -> None:
        with self._lock:
            rec = self.records[command_id]
            rec["deliveries"] += 1
            if rec["state"] == PENDING:
                rec.update(state=DELIVERED, sidecar_id=sidecar_id)
                self._save(rec, "delivery", {"sidecar_id": sidecar_id}, "spine")

    def pin_sidecar_key(self, sidecar_id: str, public_text: str) -> str:
        """Trust on first use: a sidecar's receipt key is pinned the first time it attaches."""
        with self._lock:
            key = b"k" + sidecar_id.encode()
            pinned = self.db.get(key)
            if pinned is None:
                public_from_text(public_text, source=f"sidecar {sidecar_id}", field="public_key")
                self.db.write({key: public_text.encode()})
                return public_text
            if public_text and pinned.decode() != public_text:
                log.error("control: sidecar %s presents another receipt key than the one pinned at its first "
                          "attach; its receipts are refused until an operator removes the pin", sidecar_id)
            return pinned.decode()

    def receipt(self, sidecar_id: str, signed: Signed) -> dict | None:
        with self._lock:
            raw = self.db.get(b"k" + sidecar_id.encode())
            pinned = raw.decode() if raw is not None else None
            try:
                receipt = Receipt.parse(signed.body)
                public = public_from_text(pinned or "", source=f"sidecar {sidecar_id}")
                if key_id(public.public_bytes_raw()) != receipt.issuer or not verify(public, signed.signature,
                                                                                     signed.body):
                    raise SignatureError("receipt signature does not verify with the sidecar's pinned key",
                                         reason="bad_signature")
            except BenError as exc:
                self.audit.append("refusal", _peek(signed.body, "command_id") or "(unreadable)",
                                  {"reason": f"receipt from sidecar {sidecar_id} refused: {exc}", "code": "bad_receipt"},
                                  f"sidecar:{sidecar_id}")
                return None
            rec = self.records.get(receipt.command_id)
            if rec is None or rec["envelope_hash"] != receipt.envelope_hash:
                # A refusal of something the spine never recorded (e.g. a forged envelope): audit it.
                self.audit.append("receipt", receipt.command_id, {"reason": receipt.reason, "status": receipt.status,
                                                                  "code": receipt.code, "receipt": signed.to_json()},
                                  f"sidecar:{sidecar_id}")
                return None
            rec["receipts_seen"] += 1
            if rec.get("receipt"):
                same = Signed.from_json(rec["receipt"]).body == signed.body
                if not same:
                    rec["receipt_mismatch"] += 1
                    log.error("control: sidecar %s answered command %s with a different receipt", sidecar_id, rec["id"])
                return self._save(rec, "receipt", {"repeat": True, "same_receipt": same, "receipt_hash": signed.hash,
                                                   "status": receipt.status, "code": receipt.code},
                                  f"sidecar:{sidecar_id}")
            rec.update(receipt=signed.to_json(), state=receipt.status, outcome=receipt.status, code=receipt.code,
                       result=receipt.result, sidecar_id=sidecar_id,
                       refusal=receipt.reason if receipt.status != "accepted" else "")
            return self._save(rec, "receipt", {"status": receipt.status, "code": receipt.code,
                                               "receipt_reason": receipt.reason, "result": receipt.result,
                                               "receipt_hash": signed.hash}, f"sidecar:{sidecar_id}")

    # -- reading ----------------------------------------------------------------------------------------
    def list(self, limit: int = 100, state: str = "", command_id: str = "") -> list[dict]:
        with self._lock:
            recs = sorted(self.records.values(), key=lambda r: r["created_at"], reverse=True)
            if command_id:
                recs = [r for r in recs if r["id"] == command_id]
            if state:
                recs = [r for r in recs if r["state"] == state]
            return [dict(r) for r in recs[:limit or 100]]

    def verify_audit(self) -> list[dict]:
        """Verify the local log and the ClickHouse copy, and compare them; a report per copy."""
        with self._lock:
            keys = self.audit_keys()
            verdicts = [self.audit.verify(keys)]
            if self.store is not None:
                rows = json.loads(self.store.query_json(f"SELECT * FROM {AUDIT} ORDER BY seq"))["data"]
                verdicts.append(verify_copy(rows, keys, self.audit.entries(), AUDIT))
            return report(verdicts)

    def figures(self) -> dict:
        with self._lock:
            states: dict[str, int] = {}
            for rec in self.records.values():
                states[rec["state"]] = states.get(rec["state"], 0) + 1
            return {"states": states, "refusals": dict(self.refusals), "kill_switch": self.kill["on"],
                    "audit_entries": self.audit.last_seq, "audit_mirror_errors": self.audit.mirror_errors}


def _peek(body: bytes, name: str) -> str:
    try:
        value = json.loads(body).get(name, "")
        return value[:64] if isinstance(value, str) else ""
    except Exception:
        return ""

