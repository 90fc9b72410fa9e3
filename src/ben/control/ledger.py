"""The sidecar's memory of every command it verified: seen ids, per-issuer sequences, receipts.

Persisted in the control RocksDB *before* a handler runs, in the same fsync'd batch as the
audit entry, so a restart (even kill -9) never reopens replay:

    b"i" + id                    -> {"state": "claimed"|"done", "hash", "action", "target", "at", "receipt"}
    b"s" + issuer + b"/" + seq   -> id        (this issuer's sequence number was used)
    b"h" + issuer                -> highest sequence seen (8 bytes)

Only envelopes whose signature verified against a trusted key are recorded: a forger cannot
squat ids or sequence numbers.
"""

from __future__ import annotations

import json

from ben.control.db import ControlDb
from ben.control.documents import Envelope, Signed
from ben.control.policy import Past

#: A sequence number this far below the issuer's highest is refused outright (commands
#: awaiting approval may arrive out of order, within this window).
SEQUENCE_WINDOW = 4096


def _id_key(command_id: str) -> bytes:
    return b"i" + command_id.encode()


def _seq_key(issuer: str, seq: int) -> bytes:
    return b"s" + issuer.encode() + b"/" + seq.to_bytes(8, "big")


def _hwm_key(issuer: str) -> bytes:
    return b"h" + issuer.encode()


class Ledger:
    """What the sidecar knows of each command id (run, refused, its receipt), so that a command runs at most once."""

    def __init__(self, db: ControlDb):
        self._db = db

    @property
    def db(self) -> ControlDb:
        return self._db

    def record(self, command_id: str) -> dict | None:
        raw = self._db.get(_id_key(command_id))
        return None if raw is None else json.loads(raw)

    def sequence_used(self, issuer: str, seq: int) -> str | None:
        """The id that used this sequence number, or "(too old)" below the window, or None."""
        used = self._db.get(_seq_key(issuer, seq))
        if used is not None:
            return used.decode()
        raw = self._db.get(_hwm_key(issuer))
        if raw is not None and seq <= int.from_bytes(raw, "big") - SEQUENCE_WINDOW:
            return "(older than the sequence window)"
        return None

    def claim(self, env: Envelope, signed: Signed, state: str, receipt: Signed | None = None,
              at: int | None = None) -> dict[bytes, bytes]:
        """The puts that record this command (to write with its audit entry). ``at``: when it was received,
        by this host's clock (what the policy's windows count; never the signer's ``issued_at``, which a
        signer may set up to a time to live in the past to leave every window, ADR 0045 round 6)."""
        puts = {_id_key(env.id): json.dumps({
            "state": state, "hash": signed.hash, "action": env.action, "target": env.target,
            "at": env.issued_at if at is None else at, "receipt": receipt.to_json() if receipt else None,
            "outcome": "" if receipt is None else json.loads(receipt.body)["status"],
            "code": "" if receipt is None else json.loads(receipt.body)["code"]}).encode()}
        if self._db.get(_seq_key(env.issuer, env.seq)) is None:
            puts[_seq_key(env.issuer, env.seq)] = env.id.encode()
        raw = self._db.get(_hwm_key(env.issuer))
        if raw is None or int.from_bytes(raw, "big") < env.seq:
            puts[_hwm_key(env.issuer)] = env.seq.to_bytes(8, "big")
        return puts

    def done(self, env: Envelope, signed: Signed, receipt: Signed, at: int | None = None) -> dict[bytes, bytes]:
        return self.claim(env, signed, "done", receipt, at)

    def history(self) -> list[tuple[str, Past]]:
        """(id, command) for what ran here, and what was refused for the target's sake (the
        breaker counts it), for the local re-check of rate, blast radius and breaker."""
        out = []
        for key, raw in self._db.scan(b"i"):
            rec = json.loads(raw)
            outcome = rec.get("outcome", "")
            if outcome in ("accepted", "failed") or rec["state"] == "claimed" or counts_for_breaker(
                    outcome, rec.get("code", "")):
                out.append((key[1:].decode(), Past(rec["action"], rec["target"], rec["at"], outcome)))
        return out


#: A sidecar's refusals that say the target cannot take the command (they count toward the breaker);
#: refusals by the bounds, signatures or replay do not.
TARGET_REFUSALS = ("unknown_target", "no_handler", "bad_params", "interrupted")


def counts_for_breaker(status: str, code: str) -> bool:
    return status == "failed" or (status == "refused" and code in TARGET_REFUSALS)
