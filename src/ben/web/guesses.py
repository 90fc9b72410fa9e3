"""Token guesses: each client has a small budget of wrong tokens (ADR 0045, round 7).

The access token is checked in constant time, but nothing bounded how often: a client could try tokens as
fast as the interface answers (a few thousand a second), which matters for a token a human chose. Each
client now has a bucket of ``BURST`` wrong tokens, refilled at ``PER_MINUTE``; a client whose bucket is
empty is answered 429 *before* its token is looked at (so a guess past the budget tells nothing), until
the bucket refills. A client is the kernel-named uid on loopback (``ben.core.peer``: another local account
cannot spend the operator's budget), else the address (IPv6: its /64, which one host usually holds whole).
A right token never costs anything. At most ``MAX_CLIENTS`` buckets are kept (least recently used go).
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import time
from collections import OrderedDict

from ben.core.peer import peer_uid

#: Wrong tokens a client may send at once, and how many more it may send a minute after that.
BURST, PER_MINUTE = 20, 2
MAX_CLIENTS = 4096


def client_key(client: tuple | None, server: tuple | None) -> str:
    """``uid N`` for a loopback client the kernel names, else its address (an IPv6 one's /64)."""
    if not client:
        return "?"
    host = str(client[0])
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if address.is_loopback and server:
        try:
            uid = peer_uid((host, int(client[1])), (str(server[0]), int(server[1])))
        except (OSError, ValueError):
            uid = None
        if uid is not None:
            return f"uid {uid}"
    if address.version == 6 and not address.is_loopback:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return host


class Guesses:
    """Per-client buckets of wrong tokens; ``allowed`` before a check, ``wrong`` after a failed one.

    The same wrong token again costs nothing (a browser polling with a cookie from before the token
    changed is not guessing; a guess is a token not tried yet): the last ``REMEMBERED`` wrong ones of each
    client are kept, as SHA-256 digests."""

    REMEMBERED = 8

    def __init__(self, burst: int = BURST, per_minute: float = PER_MINUTE, clock=time.monotonic):
        self.burst, self.rate, self.clock = burst, per_minute / 60.0, clock
        self._buckets: OrderedDict[str, tuple[float, float, tuple[bytes, ...]]] = OrderedDict()
        self.refused = 0

    def _level(self, key: str) -> float:
        tokens, at, _ = self._buckets.get(key, (float(self.burst), self.clock(), ()))
        return min(float(self.burst), tokens + (self.clock() - at) * self.rate)

    def allowed(self, key: str) -> bool:
        """False while ``key`` has no wrong token left (then the caller answers 429 without checking)."""
        if self._level(key) >= 1.0:
            return True
        self.refused += 1
        return False

    def retry_after_s(self, key: str) -> int:
        return max(1, math.ceil((1.0 - self._level(key)) / self.rate))

    def wrong(self, key: str, tokens: list[str]) -> None:
        """``tokens`` (what the request carried) did not match: one guess, unless all were tried before."""
        seen = self._buckets.get(key, (0.0, 0.0, ()))[2]
        digests = [hashlib.sha256(t.encode()).digest() for t in tokens]
        new = [d for d in digests if d not in seen]
        level = self._level(key) - (1.0 if new else 0.0)
        self._buckets[key] = (level, self.clock(), (*seen, *new)[-self.REMEMBERED:])
        self._buckets.move_to_end(key)
        while len(self._buckets) > MAX_CLIENTS:
            self._buckets.popitem(last=False)
