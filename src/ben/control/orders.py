"""The spine's forward-only control orders and its sidecar pins.

* **Kill switch**: an order is taken only if it verifies (an approver's, issued within 5 min +
  skew), its nonce was never used, and it is *newer* (``issued_at``) than the order held: a
  replayed or older order is refused and audited, so the switch only moves forward. Each
  sidecar acknowledges every order pushed to it with the order it then holds; a sidecar holding a
  newer verified order than the spine's hands it up and the spine adopts it (audited), so the
  spine's state follows what the sidecars hold; ``unacknowledged`` counts attached sidecars that
  do not hold the spine's order.
* **Nonces** of orders and approvals are kept (``n`` + nonce in the control RocksDB): an approval
  or order sent again is refused (``replayed_nonce``).
* **Sidecar pins**: a sidecar's receipt key comes from the trust store's ``[[sidecars]]`` table,
  never from first contact; the pins last seen are kept (``k`` + sidecar id) and every change
  (added, changed, removed) is an audit entry of kind ``pin``.
"""

from __future__ import annotations

import json
import logging

from ben.control.attach_refusals import AttachRefusals
from ben.control.documents import KillSwitch, Signed, now_ns
from ben.control.keys import key_id, public_from_text
from ben.core.errors import ControlError, SignatureError

log = logging.getLogger(__name__)

_KILL = b"mkill"


def _kid(public: str) -> str:
    return key_id(public_from_text(public).public_bytes_raw()) if public else ""


class Orders:
    """Standing orders of the control plane (the kill switch) and which attached sidecar holds which order."""

    def __init__(self, plane):
        self.plane = plane
        raw = plane.db.get(_KILL)
        self.kill: dict = json.loads(raw) if raw else {"on": False, "by": "", "reason": ""}
        if "issued_at" not in self.kill:  # kept by an older version: read it from the order
            self.kill["issued_at"] = KillSwitch.parse(Signed.from_json(self.kill["order"]).body).issued_at \
                if self.kill.get("order") else 0
        self.acks: dict[str, str] = {}  # attached sidecar id -> hash of the order it holds ("" none)
        self.unpinned: dict[str, tuple[str, ...]] = {}  # sidecar id -> the unpinned targets last audited
        # announcements of unpinned targets audited a budget a window per sidecar, the rest counted (round 16)
        self.target_refusals = AttachRefusals(plane.cfg.attach_refusals_audited, plane.cfg.attach_refusals_window_s,
                                              what="announcements of unpinned targets",
                                              code="target_announcements_collapsed", named="targets")

    # -- nonces -------------------------------------------------------------------------------------
    def nonce_put(self, nonce: str) -> dict[bytes, bytes]:
        return {b"n" + nonce.encode(): b"1"}

    def check_nonce(self, nonce: str, subject: str, issuer: str, refuse, signed: Signed) -> None:
        if self.plane.db.get(b"n" + nonce.encode()) is not None:
            refuse(signed, subject, ControlError(f"nonce {nonce} was already used: a replayed order or approval",
                                                 reason="replayed_nonce"), issuer)

    # -- kill switch --------------------------------------------------------------------------------
    def _refuse(self, signed: Signed, subject: str, exc: ControlError, actor: str = "unverified"):
        self.plane.refuse(subject, exc.reason, f"kill-switch order refused: {exc}", actor, order_hash=signed.hash)
        raise exc

    def take(self, signed: Signed) -> dict:
        try:
            order, trusted = self.plane.verifier.kill_switch(signed, now_ns())
        except SignatureError as exc:
            self._refuse(signed, "", exc)
        self.check_nonce(order.nonce, "", trusted.id, self._refuse, signed)
        if order.issued_at <= self.kill["issued_at"]:
            self._refuse(signed, "", ControlError(
                f"the order is not newer than the one held ({'on' if self.kill['on'] else 'off'} by "
                f"{self.kill['by']}): the kill switch only moves forward", reason="stale_order"), trusted.id)
        self._hold(order, trusted.name, trusted.id, signed, {})
        return {"id": "", "state": "kill_switch_on" if order.on else "kill_switch_off", "reason": order.reason}

    def _hold(self, order: KillSwitch, by: str, actor: str, signed: Signed, extra: dict) -> None:
        self.kill = {"on": order.on, "by": by, "reason": order.reason, "order": signed.to_json(),
                     "issued_at": order.issued_at}
        self.plane.audit.append("kill_switch", "", {"reason": order.reason, "on": order.on, "by": by,
                                                    "order": signed.to_json(), **extra}, actor,
                                puts={_KILL: json.dumps(self.kill).encode(), **self.nonce_put(order.nonce)})
        log.warning("control: kill switch %s by %s: %s", "ON" if order.on else "off", by, order.reason)

    def acknowledged(self, sidecar_id: str, taken: bool, code: str, reason: str, held: Signed | None) -> None:
        """A sidecar answered a kill-switch order: what it holds now (it may hold a newer one)."""
        with self.plane._lock:
            self.acks[sidecar_id] = held.hash if held is not None else ""
            if not taken and code not in ("", "same_order"):
                self.plane.refuse("", code, f"sidecar {sidecar_id} refused a kill-switch order: {reason}",
                                  f"sidecar:{sidecar_id}", by_sidecar=sidecar_id)
            if held is None:
                return
            try:
                order, trusted = self.plane.verifier.kill_switch(held, now_ns(), fresh=False)
            except ControlError as exc:
                self.plane.refuse("", exc.reason, f"sidecar {sidecar_id} holds a kill-switch order the spine "
                                  f"does not take: {exc}", f"sidecar:{sidecar_id}", order_hash=held.hash)
                return
            if order.issued_at > self.kill["issued_at"]:
                self._hold(order, trusted.name, trusted.id, held, {"adopted_from": sidecar_id})

    def detached(self, sidecar_id: str) -> None:
        with self.plane._lock:
            self.acks.pop(sidecar_id, None)

    def unacknowledged(self) -> int:
        held = Signed.from_json(self.kill["order"]).hash if self.kill.get("order") else ""
        return sum(1 for h in self.acks.values() if h != held)

    # -- sidecar pins -------------------------------------------------------------------------------
    def sidecar_key(self, sidecar_id: str) -> str | None:
        """The pinned receipt key of this sidecar (the trust store read again if it changed)."""
        with self.plane._lock:
            self.plane.reload_trust()  # (a command's verification may have read it first: compare anyway)
            self.check_pins()
            return self.plane.trust.sidecars.get(sidecar_id)

    def pinned_targets(self, sidecar_id: str, announced: set[str]) -> set[str]:
        """The announced targets this sidecar may take commands for (the trust store's ``[[sidecars]] targets``,
        read again if it changed); any other is left out, audited and logged when they change (a sidecar sending
        the same announcement again writes no entry) (ADR 0045, round 14); a changing one has a budget of entries a
        window per sidecar, the rest counted (``target_refusals``; round 16)."""
        with self.plane._lock:
            self.plane.reload_trust()
            kept, others = self.plane.trust.pinned_targets(sidecar_id, set(announced))
            if not others:
                self.unpinned.pop(sidecar_id, None)
            elif self.unpinned.get(sidecar_id) != tuple(others):  # once per change: no audit flood
                self.unpinned[sidecar_id] = tuple(others)
                more = f" and {len(others) - 10} more" if len(others) > 10 else ""
                own, collapsed = self.target_refusals.take(f"sidecar {sidecar_id[:64]}", "target_not_pinned",
                                                           others[0][:128])
                self.plane._collapsed(collapsed)  # a window of the budget ended (ADR 0045, round 16)
                if not own:
                    self.plane.refusals["target_not_pinned"] = self.plane.refusals.get("target_not_pinned", 0) + 1
                    return kept
                self.plane.refuse(others[0][:128], "target_not_pinned",
                                  f"sidecar {sidecar_id!r} announced targets its [[sidecars]] entry does not list: "
                                  f"{', '.join(repr(t[:128]) for t in others[:10])}{more}; it takes no command for "
                                  "them", f"sidecar:{sidecar_id[:64]}")
        return kept

    def check_pins(self) -> None:
        """Audit every difference between the trust store's pins and the pins last seen."""
        with self.plane._lock:
            seen = {k[1:].decode(): v.decode() for k, v in self.plane.db.scan(b"k")}
            pins = self.plane.trust.sidecars
            for sidecar_id in sorted(set(seen) | set(pins)):
                old, new = seen.get(sidecar_id, ""), pins.get(sidecar_id, "")
                if old == new:
                    continue
                what = "added" if not old else "removed" if not new else "changed"
                key = b"k" + sidecar_id.encode()
                self.plane.audit.append("pin", "", {
                    "reason": f"sidecar {sidecar_id}: receipt key pin {what} in {self.plane.trust.source}",
                    "sidecar_id": sidecar_id, "change": what, "old_key_id": _kid(old), "new_key_id": _kid(new)},
                    "spine", puts={key: new.encode()} if new else None)
                if not new:
                    self.plane.db.write({}, (key,))
                log.warning("control: sidecar %s pin %s (%s -> %s)", sidecar_id, what, _kid(old) or "-",
                            _kid(new) or "-")
