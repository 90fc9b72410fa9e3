"""What a rule does to a value: drop it, mask it, replace it by a keyed hash, or truncate it."""

from __future__ import annotations

import hmac

ELLIPSIS = "…"


def keyed_hash(key: bytes, text: str, hex_chars: int) -> str:
    """HMAC-SHA256 of text under key, as ``hmac:<hex prefix>``: equal inputs join, but a low-entropy
    value (a national ID, a phone number) cannot be brute-forced back without the key."""
    digest = hmac.digest(key, text.encode("utf-8", "surrogatepass"), "sha256").hex()   # one-shot, in C
    return "hmac:" + digest[:hex_chars]


def truncate(text: str, max_chars: int) -> str:
    return text if len(text) <= max_chars else text[:max_chars] + ELLIPSIS
