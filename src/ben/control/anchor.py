"""Retention of a hash-chained log: trimming its oldest entries behind a signed anchor (ADR 0045, round 4).

A chain cannot simply lose its head: ``ben audit verify`` would report the first kept entry's link to a
removed one as a removal. So trimming writes an ``Anchor`` first, in the same RocksDB batch as the first
deletions: the sequence number and hash of the first entry kept, and the hash it links to, signed with
the log's audit key. Verification then starts at the anchor (the first kept entry must match it, the
chain must go on from it), says where it starts, and still finds any entry altered, removed or reordered
after it; an anchor altered (or put by someone without the key) fails its signature. Entries below the
anchor that a crash left undeleted are not verified and are deleted by the next trim.

The spine's query log (``[spine.control] query_log_max_entries``, ``query_log_max_age_s``) is trimmed
this way; the control plane's log is not (it is mirrored and compared entry by entry).
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import asdict, dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ben.control import canonical
from ben.control.keys import Signer, verify

#: An anchor is kept at ANCHOR + the chain's prefix (b"Aq": the query log's), apart from every chain.
ANCHOR = b"A"
#: Entries deleted per RocksDB batch while trimming (the anchor goes with the first batch).
DELETE_BATCH = 10_000


@dataclass(frozen=True)
class Anchor:
    """Where a trimmed chain starts: its first kept entry (``first_seq``, ``hash``) and the hash that entry
    links to (``prev_hash``), how many entries were trimmed in all, when, signed by ``key_id``."""

    first_seq: int
    hash: str
    prev_hash: str
    trimmed: int
    ts: int
    key_id: str
    signature: str = ""

    def signed_bytes(self) -> bytes:
        return canonical.encode({k: v for k, v in asdict(self).items() if k != "signature"})

    def to_bytes(self) -> bytes:
        return canonical.encode(asdict(self))

    @classmethod
    def from_bytes(cls, data: bytes) -> Anchor:
        return cls(**json.loads(data))

    @classmethod
    def make(cls, signer: Signer, *, first_seq: int, hash: str, prev_hash: str, trimmed: int) -> Anchor:
        draft = cls(first_seq, hash, prev_hash, trimmed, time.time_ns(), signer.id)
        return cls(**{**asdict(draft), "signature": base64.b64encode(signer.sign(draft.signed_bytes())).decode()})

    def problem(self, keys: dict[str, Ed25519PublicKey], copy: str) -> str:
        """Why this anchor cannot be trusted ("" if it can)."""
        public = keys.get(self.key_id)
        if public is None:
            return f"{copy}: its anchor (entries before {self.first_seq} trimmed) is signed by unknown key {self.key_id!r}"
        try:
            good = verify(public, base64.b64decode(self.signature), self.signed_bytes())
        except ValueError:
            good = False
        return "" if good else f"{copy}: its anchor (entries before {self.first_seq} trimmed) has a bad signature (altered)"


def read_anchor(db, prefix: bytes) -> tuple[Anchor | None, str]:
    """(the anchor of the chain at ``prefix`` or None, "" or why it is unreadable)."""
    raw = db.get(ANCHOR + prefix)
    if raw is None:
        return None, ""
    try:
        return Anchor.from_bytes(raw), ""
    except (ValueError, TypeError, KeyError):
        return None, "its anchor is unreadable (altered)"
