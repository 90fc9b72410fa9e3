"""Which strings of a batch could a detector match at all? One vectorised test over many strings.

Most strings of a batch are new to the engine (request ids, trace ids, timestamps) and hold no
secret; scanning each one in Python (a plan, a dozen substring hints) cost a few µs per string.
Every detector declares what any text its hint accepts must hold (``SecretRule.requires``: all the
characters of one of a few strings, and a chain of ``min_digits`` ASCII digits, one space or dash
allowed between two of them, as in a card number). Here the strings are joined
with NUL separators and encoded once, and numpy computes for every string at once a 64-bit mask of
the characters (and digit counts) it holds; a string whose mask meets no requirement of the rules'
detectors cannot pass any of their hints, so the engine's scan would return it unchanged: it is
not scanned at all. The strings that pass go through the engine's exact scan (hints, regexes,
validators), which decides. The test is conservative by construction (a superset of the hints,
checked by tests/redact/test_fast_path.py), so it changes what is scanned, never what is found.

Non-ASCII characters count as no character (every requirement is ASCII): ``encode("ascii",
"replace")`` keeps one byte per character, so offsets stay character offsets. A string holding a
NUL is measured by its length instead of by the separators.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np

from ben.redact.detectors import DOTTED_4, SECRET_RULES, SecretRule

_SEP = "\x00"


#: Pseudo-characters a requirement may name: "any ASCII capital", "any ASCII small letter".
UPPER, LOWER = "\x01", "\x02"
#: Characters that may hide others behind an escape (``%41``, ``\\u0041``): a text holding one may decode
#: to anything, so its mask holds every bit (the engine scans its decoded form too, ``ben.redact.decode``).
ESCAPES = "%\\&"   # & : an XML/HTML entity (&quot;)


def _ranked(wanted: set[str], needs: list[str]) -> list[str]:
    """Which characters get a bit of their own, first to last: the escapes and classes, punctuation,
    small letters (words and key names), then capitals by how many requirements name them. A
    character without a bit is left out of every requirement (conservative: a weaker requirement)."""
    uses = {c: sum(c in need for need in needs) for c in wanted}

    def rank(c: str) -> tuple:
        if c in (UPPER, LOWER) or c in ESCAPES or c in "+ ":
            return 0, c
        if not c.isalnum():
            return 1, c
        if c.islower():
            return 2, c
        if c.isupper():
            return 3, -uses[c], c
        return 4, c

    return sorted(wanted, key=rank)


def _table() -> tuple[np.ndarray, dict[str, int], dict[int, int]]:
    """The static character -> bit table over every detector's requirements, and a bit per digit threshold."""
    needs = [need for d in SECRET_RULES.values() for need in d.needs]
    # ASCII only: a text is encoded one byte per character with non-ASCII as '?', so a non-ASCII
    # character of a requirement (the 'ł' of "hasło") gets no bit and is left out of it
    wanted = {c for need in needs for c in need if c < "\x80"} | {UPPER, LOWER, " ", "+"} | set(ESCAPES)
    thresholds = sorted({d.min_digits for d in SECRET_RULES.values() if d.min_digits})
    chars = _ranked(wanted, needs)[:64 - len(thresholds)]
    lut = np.zeros(256, dtype=np.uint64)
    char_bit = {}
    for i, c in enumerate(chars):
        char_bit[c] = 1 << i
    for b in range(128):   # a letter also sets its class's bit
        c = chr(b)
        bits = char_bit.get(c, 0)
        if "A" <= c <= "Z":
            bits |= char_bit[UPPER]
        elif "a" <= c <= "z":
            bits |= char_bit[LOWER]
        if bits:
            char_bit[c] = bits
            lut[b] = np.uint64(bits)
    digit_bit = {t: 1 << (len(chars) + j) for j, t in enumerate(thresholds)}
    return lut, char_bit, digit_bit


_LUT, _CHAR_BIT, _DIGIT_BIT = _table()
_ALL = (1 << 64) - 1
_ESCAPE_BITS = _CHAR_BIT["%"] | _CHAR_BIT["\\"] | _CHAR_BIT["&"]
_PLUS_BIT, _SPACE_BIT = _CHAR_BIT["+"], _CHAR_BIT[" "]
#: A chain of t digits, one space, dash or plus (a URL-encoded space) allowed between two of them (the card hint for t = 13);
#: From ``_DOTS_FROM`` digits (a card's), four digits, a dot and four digits count too: every card number
#: grouped by dots holds them (the card hint's test, ``detectors.DOTTED_4``), no IPv4 address does.
_DOTS_FROM = 13
_CHAIN = {t: re.compile(rf"[0-9](?:[ \-+]?[0-9]){{{t - 1}}}").search for t in _DIGIT_BIT}


def requirement(need: str, min_digits: int) -> int:
    """A requirement as a mask: the string's mask must hold all of its bits."""
    bits = 0
    for c in need:
        bits |= _CHAR_BIT.get(c, 0)
    if min_digits:
        bits |= _DIGIT_BIT[min_digits]
    return bits


def mask_of(text: str) -> int:
    """The mask of one string, computed the plain way (the reference the vectorised masks must equal)."""
    bits = 0
    for c in set(text):
        bits |= _CHAR_BIT.get(c, 0)
    for t, bit in _DIGIT_BIT.items():
        if _CHAIN[t](text) or (t >= _DOTS_FROM and DOTTED_4(text)):
            bits |= bit
    return _widen(bits)


def _widen(bits: int) -> int:
    """What a text's decoded form may hold too: anything behind an escape, a space for a '+'."""
    if bits & _ESCAPE_BITS:
        return _ALL
    if bits & _PLUS_BIT:
        bits |= _SPACE_BIT
    return bits


class Prefilter:
    """The requirements of a rule set's detectors. ``everything``: a rule runs a custom regex (it
    scans every string: nothing can be ruled out)."""

    def __init__(self, detectors: Iterable[SecretRule], everything: bool = False):
        detectors = list(detectors)
        reqs = {requirement(need, d.min_digits) for d in detectors for need in d.needs}
        self.thresholds = tuple(sorted({d.min_digits for d in detectors if d.min_digits}))
        self.reqs = weakest(reqs)
        self.everything = everything
        self._verdicts: dict[int, bool] = {}
        self._reqs = np.asarray(self.reqs, dtype=np.uint64)

    def accepts(self, mask: int) -> bool:
        verdict = self._verdicts.get(mask)
        if verdict is None:
            verdict = any(mask & r == r for r in self.reqs)
            if len(self._verdicts) < 65_536:
                self._verdicts[mask] = verdict
        return verdict

    def candidates(self, texts: list[str], joined: tuple[np.ndarray, np.ndarray] | None = None
                   ) -> tuple[np.ndarray, np.ndarray | None]:
        """(a bool per text: True if some detector's hint could accept it (then scan it), False if none
        can; the texts' masks, None when not computed). ``joined``: ``layout(texts)`` if the caller has it."""
        n = len(texts)
        if self.everything:
            return np.ones(n, dtype=bool), None
        if not self.reqs or not n:
            return np.zeros(n, dtype=bool), None
        masks = masks_of(texts, joined, self.thresholds)
        uniq = distinct(masks)
        get = self._verdicts.get
        known = [get(m) for m in uniq.tolist()]
        if None in known:   # the new masks against every requirement at once (a few hundred of each)
            new = np.flatnonzero([v is None for v in known])
            fresh = ((uniq[new, None] & self._reqs[None, :]) == self._reqs[None, :]).any(axis=1).tolist()
            for i, v in zip(new.tolist(), fresh):
                known[i] = v
                if len(self._verdicts) < 65_536:
                    self._verdicts[int(uniq[i])] = v
        verdicts = np.asarray(known, dtype=bool)
        if not verdicts.any():   # the common case for a batch of ids: nothing to scan
            return np.zeros(n, dtype=bool), masks
        return verdicts.take(np.searchsorted(uniq, masks)), masks


def distinct(a: np.ndarray) -> np.ndarray:
    """``np.unique(a)`` of a 1-d integer array (sorted distinct values), without its general steps (axis,
    NaN, inverse): a third of its time on the ~1,000 masks of a batch."""
    s = np.sort(a)
    if len(s) < 2:
        return s
    keep = np.empty(len(s), dtype=bool)
    keep[0] = True
    np.not_equal(s[1:], s[:-1], out=keep[1:])
    return s.compress(keep)


def possible(detector: SecretRule, mask: int) -> bool:
    """Could the detector's hint accept a text of this mask?"""
    return any(mask & r == r for r in _requirements(detector))


_REQS: dict[SecretRule, tuple[int, ...]] = {}


def _requirements(detector: SecretRule) -> tuple[int, ...]:
    reqs = _REQS.get(detector)
    if reqs is None:
        # the weakest only: fewer tests per plan
        reqs = _REQS[detector] = weakest({requirement(need, detector.min_digits) for need in detector.needs})
    return reqs


def weakest(reqs: set[int]) -> tuple[int, ...]:
    """The requirements no other one implies, ascending: one that holds all the bits of another is implied by it.
    Taken fewest bits first, a requirement is implied by another exactly when it holds the bits of one kept
    before it: one pass against the kept few (~90 of the default manifest's 853), not against all of them
    (14 ms of every engine's start; ADR 0048, fifth round)."""
    kept: list[int] = []
    for r in sorted(reqs, key=lambda r: (r.bit_count(), r)):
        if not any(k & r == k for k in kept):
            kept.append(r)
    return tuple(sorted(kept))


def layout(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The texts joined (each followed by a NUL) as one byte per character, and where each starts."""
    joined = (_SEP.join(texts) + _SEP).encode("ascii", "replace")
    a = np.frombuffer(joined, dtype=np.uint8)
    seps = np.flatnonzero(a == 0)
    if len(seps) == len(texts):
        starts = np.empty(len(texts), dtype=np.int64)
        starts[0] = 0
        starts[1:] = seps[:-1] + 1
    else:   # some text holds a NUL itself: measure by lengths
        lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
        starts = np.cumsum(lengths + 1) - (lengths + 1)
    return a, starts


def masks_of(texts: list[str], joined: tuple[np.ndarray, np.ndarray] | None = None,
             thresholds: tuple[int, ...] | None = None) -> np.ndarray:
    """The mask of every text (uint64), vectorised: equal to ``mask_of`` text by text for the digit
    thresholds asked for (None: all; a bit not asked for stays 0)."""
    a, starts = joined if joined is not None else layout(texts)
    masks = np.bitwise_or.reduceat(_LUT.take(a), starts)   # each segment holds at least its NUL: never empty
    thresholds = tuple(_DIGIT_BIT) if thresholds is None else thresholds
    small = [t for t in thresholds if t < _FIND_FROM]
    if small:   # short chains are in most texts: all of them at once, with numpy
        _chains(a, a - 48 < 10, starts, masks, small)
    for t in thresholds:
        if t >= _FIND_FROM:
            _digit_chains(texts, a, starts, masks, t)
    escaped = (masks & np.uint64(_ESCAPE_BITS)) != 0
    if escaped.any():
        masks[escaped] = np.uint64(_ALL)
    plus = (masks & np.uint64(_PLUS_BIT)) != 0
    if plus.any():
        masks[plus] |= np.uint64(_SPACE_BIT)
    return masks


_BRIDGE = np.zeros(256, dtype=bool)   # the one character allowed between two digits of a chain
_BRIDGE[[ord(" "), ord("-"), ord("+")]] = True


_RUN_CLASS = bytes(0x31 if chr(b) in "0123456789 -+" else 0x30 for b in range(256))   # "1": may be in a chain
_DOT_CLASS = bytes(0x31 if chr(b) in "0123456789" else 0x2E if chr(b) == "." else 0x30 for b in range(256))
DOTTED = b"1111.1111"   # DOTTED_4 in the _DOT_CLASS translation


def _digit_chains(texts: list[str], a: np.ndarray, starts: np.ndarray, masks: np.ndarray, t: int) -> None:
    """Set the bit of threshold t where a text holds a chain of t digits. A chain lies in a run of
    at least t characters of [0-9 -]: those runs are found with one translate and ``bytes.find``
    (in C), and the few texts that hold one are checked with the chain's regex; when many do (log
    bodies with timestamps), the chains of all texts are found at once with numpy."""
    if t >= _DOTS_FROM:
        _dotted(a, starts, masks, t)
    runs = a.tobytes().translate(_RUN_CLASS)
    needle = b"1" * t
    pos = runs.find(needle)
    if pos < 0:
        return
    found = []   # where the runs start
    while pos >= 0:
        found.append(pos)
        if len(found) * 8 > len(texts):
            _chains(a, a - 48 < 10, starts, masks, [t])
            return
        pos = runs.find(needle, runs.find(b"0", pos))   # past this run (every text ends with a NUL: "0")
    flagged = (np.searchsorted(starts, found, side="right") - 1).tolist()   # the texts they lie in
    chain, bit = _CHAIN[t], np.uint64(_DIGIT_BIT[t])
    hits = [j for j in dict.fromkeys(flagged) if chain(texts[j])]
    if hits:
        masks[hits] |= bit


def _dotted(a: np.ndarray, starts: np.ndarray, masks: np.ndarray, t: int) -> None:
    """Set the bit of threshold t where a text holds four digits, a dot and four digits (a dotted card)."""
    runs = a.tobytes().translate(_DOT_CLASS)
    found = []
    pos = runs.find(DOTTED)
    while pos >= 0:
        found.append(pos)
        pos = runs.find(DOTTED, pos + 1)
    if found:
        masks[np.unique(np.searchsorted(starts, found, side="right") - 1)] |= np.uint64(_DIGIT_BIT[t])


_FIND_FROM = 9   # thresholds from here: the texts with a run that long are found with bytes.find first


def _chains(a: np.ndarray, isd: np.ndarray, starts: np.ndarray, masks: np.ndarray, ts: list[int],
            bridge: np.ndarray = _BRIDGE) -> None:
    """The chains of every text at once: runs of digits, merged where exactly one space, dash or plus
    lies between two runs, counted; a chain never crosses a NUL, so it lies in one text. Sets the bit
    of each threshold in ts."""
    step = np.zeros(len(a) + 1, dtype=np.int8)
    step[1:] = isd
    edges = np.flatnonzero(step[1:] != step[:-1])   # the joined text ends with a NUL: runs come in pairs
    if not len(edges):
        return
    run_start, run_end = edges[0::2], edges[1::2]
    first = np.ones(len(run_start), dtype=bool)   # does this run start a chain?
    first[1:] = (run_start[1:] - run_end[:-1] != 1) | ~bridge[a[run_end[:-1]]]
    heads = np.flatnonzero(first)
    digits = np.add.reduceat(run_end - run_start, heads)
    for t in ts:
        hit = run_start[heads[digits >= t]]
        if len(hit):
            masks[np.searchsorted(starts, hit, side="right") - 1] |= np.uint64(_DIGIT_BIT[t])
