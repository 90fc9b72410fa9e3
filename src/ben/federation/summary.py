"""Signed incident summaries: the one wire form, its signature, and a peer's checks.

On the wire a summary is the canonical JSON (ben.control.canonical) of
``{"summary": {...}, "sig": "<base64 Ed25519 over canonical(summary)>"}``; ``summary`` holds
``v``, ``id`` (stable: the same incident change gives the same id, which is also the
``Nats-Msg-Id``), ``cluster``, ``key_id``, ``published`` (unix seconds) and ``body`` (the facts the
policy let leave). A peer accepts a summary only when its cluster is in the trust file, the
signature verifies with that cluster's key, the body holds only known facts of the right type, and
it is neither too old nor already stored from another stream message (a replay).
"""

from __future__ import annotations

import base64
import binascii
import re
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field

from ben.control import canonical
from ben.control._toml import load_model
from ben.control.keys import Signer, key_id, public_from_text, verify
from ben.core.errors import SignatureError
from ben.federation.policy import TREATMENTS

VERSION = 1
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_INT_FACTS = {"anomalies", "opened", "resolved"}
#: A summary published more than this far ahead of the receiver's clock is refused (ADR 0045, round 7): it
#: would stay the newest of its peer, and "fresh" for the replay check, for as long as its date says.
FUTURE_SKEW_S = 300


class Rejected(Exception):
    """A summary a peer refuses; ``reason`` is a short word for the counters."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


def seal(signer: Signer, *, summary_id: str, cluster: str, body: dict, published: int | None = None) -> bytes:
    doc = {"v": VERSION, "id": summary_id, "cluster": cluster, "key_id": signer.id,
           "published": int(published if published is not None else time.time()), "body": body}
    return canonical.encode({"summary": doc, "sig": base64.b64encode(signer.sign(canonical.encode(doc))).decode()})


class TrustedCluster(BaseModel):
    """A cluster whose signed summaries are accepted: its public key."""

    model_config = ConfigDict(extra="forbid")
    public_key: str


class TrustFile(BaseModel):
    """``[clusters.NAME] public_key = "<base64>"``: the clusters whose summaries this peer accepts."""

    model_config = ConfigDict(extra="forbid")
    clusters: dict[str, TrustedCluster] = Field(default_factory=dict)


def load_trust(path: Path | None) -> dict[str, Ed25519PublicKey]:
    if path is None:
        return {}
    from ben.core.files import check_trusted

    check_trusted(path, "federation.trust")  # another account able to write it could trust its own cluster key
    trust = load_model(path, TrustFile, "federation trust file")
    return {name: public_from_text(c.public_key, source=str(path), field=f"clusters.{name}.public_key")
            for name, c in trust.clusters.items()}


@dataclass(frozen=True)
class Verified:
    """A summary whose signature verified: its id, cluster, publication time and body."""

    summary_id: str
    cluster: str
    published: int
    body: dict


def open_summary(data: bytes, trust: dict[str, Ed25519PublicKey], *, max_age_s: int,
                 now: float | None = None) -> Verified:
    """Check one received summary; Rejected saying why."""
    try:
        outer = canonical.decode(data)
    except SignatureError as exc:
        raise Rejected("malformed", str(exc)) from None
    doc, sig = outer.get("summary"), outer.get("sig")
    if set(outer) != {"summary", "sig"} or not isinstance(doc, dict) or not isinstance(sig, str):
        raise Rejected("malformed", "not a summary envelope")
    if set(doc) != {"v", "id", "cluster", "key_id", "published", "body"} or doc["v"] != VERSION:
        raise Rejected("malformed", "unknown summary fields or version")
    cluster = doc["cluster"]
    public = trust.get(cluster) if isinstance(cluster, str) else None
    if public is None:
        raise Rejected("unknown_cluster", f"cluster {cluster!r} is not in the federation trust file")
    try:
        signature = base64.b64decode(sig, validate=True)
    except (binascii.Error, ValueError):
        raise Rejected("bad_signature", "signature is not base64") from None
    if doc["key_id"] != key_id(public.public_bytes_raw()) or not verify(public, signature, canonical.encode(doc)):
        raise Rejected("bad_signature", f"signature does not verify with cluster {cluster!r}'s key")
    body = doc["body"]
    if not isinstance(body, dict) or not isinstance(doc["id"], str) or not _ID.fullmatch(doc["id"]) \
            or type(doc["published"]) is not int:
        raise Rejected("malformed", "bad id, published or body")
    for fact, value in body.items():
        # a count is a non-negative integer: not a JSON true/false (Python's bool is an int, and one of them
        # failed the batch's insert, redelivered for ever: every peer's summaries stuck behind it)
        if fact in _INT_FACTS:
            ok = type(value) is int and value >= 0
        else:
            ok = isinstance(value, str) and len(value) <= 64
        if fact not in TREATMENTS or not ok:
            raise Rejected("malformed", f"body fact {fact!r} is unknown or not of its type")
    now = time.time() if now is None else now
    if doc["published"] > now + FUTURE_SKEW_S:
        raise Rejected("future", f"published {int(doc['published'] - now)}s ahead of this clock "
                                 f"(allowed: {FUTURE_SKEW_S}s)")
    if doc["published"] < now - max_age_s:
        raise Rejected("replayed", f"published {int(now - doc['published'])}s ago, older than the stream's max age")
    return Verified(summary_id=doc["id"], cluster=cluster, published=doc["published"], body=body)
