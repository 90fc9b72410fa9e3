"""Random fakes for the second held-out-style corpus (``heldout_style2``): the drawing helpers and the
``Item`` a kind yields. Nothing here is a real secret: every value is drawn from a seed.
"""

from __future__ import annotations

import base64
import hashlib
import random
import string
from collections.abc import Callable
from dataclasses import dataclass

LOWER = string.ascii_lowercase
UPPER = string.ascii_uppercase
DIGITS = string.digits
ALNUM = LOWER + UPPER + DIGITS
HEX = "0123456789abcdef"
B64URL = ALNUM + "-_"
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


@dataclass(frozen=True)
class Item:
    """One drawn secret (or personal number).

    ``value`` is written into a carrier; ``parts`` are the pieces that must not survive (the random
    body, never a published prefix); ``keys`` are names a config would give it (empty: it is written
    without one); ``lines`` are ready-made texts holding it (commands, sentences) used instead of the
    carriers; ``self_id`` says the value is recognisable without a key.
    """

    family: str
    kind: str
    value: str
    parts: tuple[str, ...]
    keys: tuple[str, ...] = ()
    lines: tuple[str, ...] = ()
    self_id: bool = True


class Rand:
    """The seed's random source with the alphabets fakes are drawn from."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def s(self, alphabet: str, n: int) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def mixed(self, n: int, alphabet: str = ALNUM) -> str:
        """A run that holds a capital, a small letter and a digit when the alphabet has them."""
        while True:
            v = self.s(alphabet, n)
            if n < 8 or alphabet != ALNUM or (any(c.isupper() for c in v) and any(c.islower() for c in v)
                                               and any(c.isdigit() for c in v)):
                return v

    def digits(self, n: int) -> str:
        return self.s(DIGITS, n)

    def hex(self, n: int) -> str:
        return self.s(HEX, n)

    def b64(self, nbytes: int, *, url: bool = False, pad: bool = True) -> str:
        raw = bytes(self.rng.getrandbits(8) for _ in range(nbytes))
        v = (base64.urlsafe_b64encode if url else base64.b64encode)(raw).decode()
        return v if pad else v.rstrip("=")

    def pick(self, seq):
        return self.rng.choice(seq)

    def between(self, a: int, b: int) -> int:
        return self.rng.randint(a, b)

    def password(self) -> str:
        """A password as people and generators write them (8+ characters)."""
        style = self.rng.randrange(5)
        words = ["Maple", "Harbor", "Falcon", "Winter", "Orbit", "Candle", "Tiger", "Copper", "Velvet", "Summit",
                 "Rocket", "Lantern", "Mosaic", "Puzzle", "Quartz", "Ginger", "Nimbus", "Saffron"]
        if style == 0:
            return self.pick(words) + self.pick(words) + self.digits(2) + self.pick("!#$%&*?@")
        if style == 1:
            return self.s(ALNUM + "!#%&*+-=?@^_", self.between(12, 20))
        if style == 2:
            return "-".join(self.pick(words).lower() for _ in range(3)) + "-" + self.digits(2)
        if style == 3:
            return self.pick(words) + self.pick("!#$@") + self.digits(4) + self.s(LOWER, 2)
        return self.mixed(self.between(14, 24))


def b58check(payload: bytes) -> str:
    """Base58Check of ``payload`` (a WIF or an extended key)."""
    data = payload + hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    n = int.from_bytes(data, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = B58[r] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def b58(raw: bytes) -> str:
    n = int.from_bytes(raw, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = B58[r] + out
    return out


def luhn_digit(payload: str) -> str:
    total = 0
    for i, c in enumerate(reversed(payload)):
        d = int(c)
        if i % 2 == 0:
            d *= 2
            d -= 9 if d > 9 else 0
        total += d
    return str((10 - total % 10) % 10)


def luhn_ok(number: str) -> bool:
    return luhn_digit(number[:-1]) == number[-1]


def mod97_iban(country: str, bban: str) -> str:
    digits = "".join(str(int(c, 36)) for c in bban + country + "00")
    return f"{country}{98 - int(digits) % 97:02d}{bban}"


KINDS: dict[str, Callable[[Rand], Item]] = {}


def kind(family: str, name: str, *, weight: int = 1):
    """Registers a kind's drawing function (``weight``: how many times a seed draws it per round)."""
    def wrap(fn: Callable[[Rand], Item]) -> Callable[[Rand], Item]:
        KINDS[name] = fn
        WEIGHTS[name] = weight
        FAMILY[name] = family
        return fn
    return wrap


WEIGHTS: dict[str, int] = {}
FAMILY: dict[str, str] = {}
