"""The signed documents of the control plane: command envelope, approval, receipt, kill switch.

Each is a frozen dataclass with a ``kind``; ``body()`` gives its canonical bytes (see
``canonical``) and ``parse(body)`` reads them back with every field checked (type, pattern,
bounds), raising ``SignatureError(reason="malformed")`` naming the field. A ``Signed`` pairs
the exact body bytes with the Ed25519 signature over them; whoever verifies parses those bytes,
never a re-serialisation.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ben.control import canonical
from ben.control.contract import (ACTION_RE, HASH_RE, ID_RE, KEY_ID_RE, MAX_PARAM_CHARS,  # noqa: F401
                                  MAX_PARAMS, MAX_REASON, NONCE_RE, PARAM_RE, TARGET_RE)
from ben.control.keys import Signer
from ben.core.errors import SignatureError

Params = dict[str, "str | int | bool"]


def now_ns() -> int:
    return time.time_ns()


def _bad(field_name: str, message: str) -> SignatureError:
    return SignatureError(f"field {field_name!r}: {message}", reason="malformed")


def text_problem(value: str) -> str:
    """Why a signed text is not acceptable ("" when it is): valid Unicode (no lone surrogate) and no
    control character (C0, DEL, C1), so it survives every encoder on its way (protobuf, Arrow, logs)."""
    for ch in value:
        code = ord(ch)
        if 0xD800 <= code <= 0xDFFF:
            return f"not valid Unicode (a lone surrogate U+{code:04X})"
        if code < 0x20 or 0x7F <= code <= 0x9F:
            return f"contains the control character U+{code:04X}"
    return ""


def clean_text(value: str) -> str:
    """``value`` with every character ``text_problem`` objects to replaced by U+FFFD (for texts a
    component writes itself into a signed document, such as a handler's error)."""
    return "".join("\ufffd" if text_problem(ch) else ch for ch in value)


def _str(doc: dict, name: str, pattern: re.Pattern | None = None, *, empty: bool = False,
         max_chars: int = MAX_REASON) -> str:
    value = doc.get(name)
    if not isinstance(value, str):
        raise _bad(name, "must be a string")
    if not value and not empty:
        raise _bad(name, "must not be empty")
    if len(value) > max_chars:
        raise _bad(name, f"longer than {max_chars} characters")
    problem = text_problem(value)
    if problem:
        raise _bad(name, problem)
    if value and pattern is not None and not pattern.fullmatch(value):
        raise _bad(name, f"{value[:80]!r} does not match {pattern.pattern}")
    return value


def _int(doc: dict, name: str, low: int = 0) -> int:
    value = doc.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise _bad(name, f"must be an integer >= {low}")
    return value


def check_params(params: Any, name: str = "params") -> Params:
    if not isinstance(params, dict):
        raise _bad(name, "must be an object")
    if len(params) > MAX_PARAMS:
        raise _bad(name, f"more than {MAX_PARAMS} entries")
    for key, value in params.items():
        if not isinstance(key, str) or not PARAM_RE.fullmatch(key):
            raise _bad(f"{name}.{str(key)[:64]!r}", "parameter names are letters, digits and '_'")
        if isinstance(value, str):
            if len(value) > MAX_PARAM_CHARS:
                raise _bad(f"{name}.{key}", f"longer than {MAX_PARAM_CHARS} characters")
            problem = text_problem(value)
            if problem:
                raise _bad(f"{name}.{key}", problem)
        elif not isinstance(value, (int, bool)):
            raise _bad(f"{name}.{key}", "must be a string, an integer or a boolean")
    return params


class _Doc:
    kind: ClassVar[str]
    _fields: ClassVar[tuple[str, ...]]

    def to_dict(self) -> dict:
        return {"kind": self.kind, **dataclasses.asdict(self)}

    def body(self) -> bytes:
        try:
            return canonical.encode(self.to_dict())
        except ValueError as exc:
            raise SignatureError(f"{self.kind}: {exc}", reason="malformed") from None

    def sign(self, signer: Signer) -> Signed:
        body = self.body()
        return Signed(body, signer.sign(body))

    @classmethod
    def parse(cls, body: bytes):
        doc = canonical.decode(body)
        if doc.get("kind") != cls.kind:
            raise _bad("kind", f"expected {cls.kind!r}, got {str(doc.get('kind'))[:40]!r}")
        names = {f.name for f in dataclasses.fields(cls)}
        extra = set(doc) - names - {"kind"}
        if extra:
            raise _bad(sorted(extra)[0], f"unknown field in a {cls.kind}")
        missing = names - set(doc)
        if missing:
            raise _bad(sorted(missing)[0], f"missing from the {cls.kind}")
        return cls._from(doc)


@dataclass(frozen=True)
class Envelope(_Doc):
    """A command: what to do, to what, who says so, until when, and why."""

    kind: ClassVar[str] = "command"
    id: str
    action: str
    target: str
    params: Params
    issuer: str          # key id of the signer
    issued_at: int       # unix ns
    expires_at: int      # unix ns
    nonce: str           # 128 random bits, hex
    seq: int             # per-issuer sequence number (>= 1)
    reason: str          # why, for a human
    incident_id: str = ""  # the incident that prompted it, if any

    @classmethod
    def _from(cls, doc: dict) -> Envelope:
        env = cls(id=_str(doc, "id", ID_RE), action=_str(doc, "action", ACTION_RE),
                  target=_str(doc, "target", TARGET_RE), params=check_params(doc.get("params")),
                  issuer=_str(doc, "issuer", KEY_ID_RE), issued_at=_int(doc, "issued_at"),
                  expires_at=_int(doc, "expires_at"), nonce=_str(doc, "nonce", NONCE_RE), seq=_int(doc, "seq", 1),
                  reason=_str(doc, "reason"),
                  incident_id=_str(doc, "incident_id", ID_RE, empty=True))
        if not env.reason.strip():
            raise _bad("reason", "must say why (not blank)")
        if env.expires_at <= env.issued_at:
            raise _bad("expires_at", "must be after issued_at")
        return env


@dataclass(frozen=True)
class Approval(_Doc):
    """A human's decision on a command awaiting approval: approve or refuse, and why."""

    kind: ClassVar[str] = "approval"
    command_id: str
    envelope_hash: str   # sha256 of the envelope's signed bytes: approves exactly those
    decision: str        # "approve" | "refuse"
    issuer: str
    issued_at: int
    nonce: str
    reason: str

    @classmethod
    def _from(cls, doc: dict) -> Approval:
        approval = cls(command_id=_str(doc, "command_id", ID_RE), envelope_hash=_str(doc, "envelope_hash", HASH_RE),
                       decision=_str(doc, "decision"), issuer=_str(doc, "issuer", KEY_ID_RE),
                       issued_at=_int(doc, "issued_at"), nonce=_str(doc, "nonce", NONCE_RE),
                       reason=_str(doc, "reason"))
        if approval.decision not in ("approve", "refuse"):
            raise _bad("decision", "must be 'approve' or 'refuse'")
        return approval


@dataclass(frozen=True)
class KillSwitch(_Doc):
    """A human stops (on=True) or resumes (on=False) all automation at once."""

    kind: ClassVar[str] = "kill_switch"
    on: bool
    issuer: str
    issued_at: int
    nonce: str
    reason: str

    @classmethod
    def _from(cls, doc: dict) -> KillSwitch:
        if not isinstance(doc.get("on"), bool):
            raise _bad("on", "must be true or false")
        return cls(on=doc["on"], issuer=_str(doc, "issuer", KEY_ID_RE), issued_at=_int(doc, "issued_at"),
                   nonce=_str(doc, "nonce", NONCE_RE), reason=_str(doc, "reason"))


ACCEPTED, REFUSED, FAILED = "accepted", "refused", "failed"


@dataclass(frozen=True)
class Receipt(_Doc):
    """What a sidecar did with a command, signed by the sidecar's key."""

    kind: ClassVar[str] = "receipt"
    command_id: str
    envelope_hash: str
    sidecar_id: str
    target: str
    status: str          # accepted (ran) | refused (did not run) | failed (ran, handler raised)
    code: str            # machine-readable reason: "ok", "expired", "replayed_id", ...
    reason: str          # for a human: why it ran or why not (the command's own reason when it ran)
    result: dict         # what the handler returned
    received_at: int
    finished_at: int
    issuer: str          # key id of the sidecar
    incident_id: str = ""

    @classmethod
    def _from(cls, doc: dict) -> Receipt:
        result = doc.get("result")
        if not isinstance(result, dict):
            raise _bad("result", "must be an object")
        receipt = cls(command_id=_str(doc, "command_id"), envelope_hash=_str(doc, "envelope_hash", empty=True),
                      sidecar_id=_str(doc, "sidecar_id"), target=_str(doc, "target", empty=True),
                      status=_str(doc, "status"), code=_str(doc, "code"), reason=_str(doc, "reason", empty=True),
                      result=result, received_at=_int(doc, "received_at"), finished_at=_int(doc, "finished_at"),
                      issuer=_str(doc, "issuer", KEY_ID_RE), incident_id=_str(doc, "incident_id", empty=True))
        if receipt.status not in (ACCEPTED, REFUSED, FAILED):
            raise _bad("status", "must be accepted, refused or failed")
        return receipt


@dataclass(frozen=True)
class Signed:
    """Exactly the signed bytes and the signature over them."""

    body: bytes
    signature: bytes = field(repr=False)

    @property
    def hash(self) -> str:
        return hashlib.sha256(self.body).hexdigest()

    def to_json(self) -> dict:
        return {"body": self.body.decode("ascii", "replace"),
                "signature": base64.b64encode(self.signature).decode()}

    @classmethod
    def from_json(cls, doc: dict) -> Signed:
        return cls(doc["body"].encode("ascii"), base64.b64decode(doc["signature"]))

    def to_proto(self, message_cls):
        return message_cls(body=self.body, signature=self.signature)

    @classmethod
    def from_proto(cls, message) -> Signed:
        return cls(bytes(message.body), bytes(message.signature))


def new_nonce() -> str:
    return secrets.token_hex(16)


def new_command_id() -> str:
    return "cmd-" + secrets.token_hex(8)


def make_envelope(signer: Signer, action: str, target: str, params: Params, reason: str, *, ttl_s: int = 600,
                  incident_id: str = "", seq: int | None = None, issued_at: int | None = None,
                  command_id: str | None = None) -> tuple[Envelope, Signed]:
    """Build, check and sign a command envelope; the sequence comes from the key's counter."""
    issued = now_ns() if issued_at is None else issued_at
    env = Envelope(id=command_id or new_command_id(), action=action, target=target, params=dict(params),
                   issuer=signer.id, issued_at=issued, expires_at=issued + int(ttl_s * 1e9), nonce=new_nonce(),
                   seq=signer.next_sequence() if seq is None else seq, reason=reason, incident_id=incident_id)
    signed = env.sign(signer)
    Envelope.parse(signed.body)  # refuse to sign what a verifier would refuse to read
    return env, signed


def attach_proof(sidecar_id: str, challenge: bytes) -> bytes:
    """What a sidecar signs to attach: the spine's fresh challenge and its own id (proof of its key)."""
    return canonical.encode({"kind": "attach", "challenge": challenge.hex(), "sidecar_id": sidecar_id})
