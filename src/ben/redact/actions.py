"""What a rule does to a value: drop it, mask it, replace it by a keyed hash, or truncate it."""

from __future__ import annotations

import hashlib
import hmac

try:   # CPython's own SHA-256: copying its state is a memcpy, OpenSSL's allocates a context
    from _sha256 import sha256 as _sha256
except ImportError:   # a build without it
    _sha256 = hashlib.sha256

ELLIPSIS = "…"
_BLOCK = 64   # SHA-256's block size: HMAC pads (or first hashes) the key to it


def keyed_hash(key: bytes, text: str, hex_chars: int) -> str:
    """HMAC-SHA256 of text under key, as ``hmac:<hex prefix>``: equal inputs join, but a low-entropy
    value (a national ID, a phone number) cannot be brute-forced back without the key."""
    digest = hmac.digest(key, text.encode("utf-8", "surrogatepass"), "sha256").hex()   # one-shot, in C
    return "hmac:" + digest[:hex_chars]


class KeyedHasher:
    """``keyed_hash`` with the key's inner and outer SHA-256 states computed once (RFC 2104): each
    value then costs two state copies and two short hashes. ``hmac.digest`` derives the pads and
    looks the digest up in OpenSSL on every call (5-16 µs against 1.7 µs on the loaded bench
    machine); the result is the same HMAC (tests/redact/test_fast_path.py compares them)."""

    def __init__(self, key: bytes, hex_chars: int):
        if len(key) > _BLOCK:
            key = hashlib.sha256(key).digest()
        key = key.ljust(_BLOCK, b"\0")
        self._inner = _sha256(bytes(b ^ 0x36 for b in key))
        self._outer = _sha256(bytes(b ^ 0x5C for b in key))
        self.hex_chars = hex_chars

    def __call__(self, text: str) -> str:
        return self.many((text,))[0]

    def many(self, texts) -> list[str]:
        """The keyed hash of each text, with the state copies and methods looked up once for all of
        them: ~1.5 µs a value against ~1.9 µs one call at a time (a batch's new ids are hashed here)."""
        inner_copy, outer_copy, n = self._inner.copy, self._outer.copy, self.hex_chars
        out = []
        append = out.append
        for text in texts:
            inner = inner_copy()
            inner.update(text.encode("utf-8", "surrogatepass"))
            outer = outer_copy()
            outer.update(inner.digest())
            append("hmac:" + outer.hexdigest()[:n])
        return out


def truncate(text: str, max_chars: int) -> str:
    return text if len(text) <= max_chars else text[:max_chars] + ELLIPSIS
