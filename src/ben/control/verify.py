"""Checks every signed document against the trust store: signature, key, role, target, time.

Each failure raises ``SignatureError`` with the reason code receipts and audit entries carry:
``malformed``, ``unknown_key``, ``bad_signature``, ``wrong_role``, ``wrong_target``,
``expired``, ``not_yet_valid``, ``ttl_too_long``, ``approval_mismatch``.
"""

from __future__ import annotations

from collections.abc import Callable

from ben.control.documents import Approval, Envelope, KillSwitch, Signed
from ben.control.keys import verify
from ben.control.trust_store import Trusted, TrustStore
from ben.core.errors import SignatureError


class Verifier:
    """Checks a signed command: signature by a trusted key, role allows action and target, clock skew and time to
    live."""

    def __init__(self, trust: TrustStore, clock_skew_ms: int = 30_000, max_ttl_s: int = 86_400,
                 refresh: Callable[[], object] | None = None):
        """``refresh``: called before each check, to read the trust store again if its file changed: a key
        taken out of it (revoked) is refused from the next command on, without a restart (ADR 0045, round 6)."""
        self.trust = trust
        self.skew_ns = clock_skew_ms * 1_000_000
        self.max_ttl_ns = max_ttl_s * 1_000_000_000
        self.refresh = refresh

    def _fresh(self) -> None:
        if self.refresh is not None:
            self.refresh()

    def _signature(self, signed: Signed, trusted: Trusted) -> None:
        if not isinstance(signed.signature, (bytes, bytearray)) or len(signed.signature) != 64 or not verify(
                trusted.public, bytes(signed.signature), signed.body):
            raise SignatureError(f"the signature does not verify with key {trusted.name} ({trusted.id})",
                                 reason="bad_signature")

    def envelope(self, signed: Signed, now_ns: int) -> tuple[Envelope, Trusted]:
        """The envelope, if exactly these bytes are signed by a trusted key allowed to send it, now."""
        self._fresh()
        env = Envelope.parse(signed.body)
        trusted = self.trust.key(env.issuer)
        self._signature(signed, trusted)
        self.trust.authorize(env.issuer, env.action, env.target)
        if env.expires_at - env.issued_at > self.max_ttl_ns:
            raise SignatureError(f"valid for {(env.expires_at - env.issued_at) / 1e9:.0f} s; at most "
                                 f"{self.max_ttl_ns / 1e9:.0f} s allowed", reason="ttl_too_long")
        if now_ns > env.expires_at + self.skew_ns:
            raise SignatureError(f"expired {(now_ns - env.expires_at) / 1e9:.1f} s ago", reason="expired")
        if env.issued_at > now_ns + self.skew_ns:
            raise SignatureError(f"not valid yet: issued {(env.issued_at - now_ns) / 1e9:.1f} s in the future "
                                 f"(clock skew allowed: {self.skew_ns / 1e9:.0f} s)", reason="not_yet_valid")
        return env, trusted

    def approval(self, signed: Signed, envelope: Signed, command_id: str) -> tuple[Approval, Trusted]:
        """A human's decision, if signed by an approver and about exactly this envelope."""
        self._fresh()
        approval = Approval.parse(signed.body)
        trusted = self.trust.approver(approval.issuer)
        self._signature(signed, trusted)
        if approval.command_id != command_id or approval.envelope_hash != envelope.hash:
            raise SignatureError(f"the approval is about another command ({approval.command_id})",
                                 reason="approval_mismatch")
        return approval, trusted

    def kill_switch(self, signed: Signed, now_ns: int, *, fresh: bool = True) -> tuple[KillSwitch, Trusted]:
        """A kill-switch order signed by an approver; ``fresh``: issued within 5 min (+ skew) of now.

        The spine takes only fresh orders from operators; a sidecar takes any order newer than the
        one it holds (the spine hands the latest one to every sidecar that attaches, however old).
        """
        self._fresh()
        toggle = KillSwitch.parse(signed.body)
        trusted = self.trust.approver(toggle.issuer)
        self._signature(signed, trusted)
        if fresh and abs(now_ns - toggle.issued_at) > self.skew_ns + 300 * 10**9:
            raise SignatureError("the kill-switch order is stale or from the future (5 min + skew)", reason="expired")
        return toggle, trusted
