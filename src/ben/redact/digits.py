"""Finders of numbers that identify a person (``ben.redact.detectors``): IBAN (length and mod-97),
phone numbers, US SSNs, and the digit shape that lets a text without the right digits skip their
regexes. Each finder yields (start, end) spans.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator


# -- the shape of a text's digits ---------------------------------------------------------------------
#: A byte per character: 'd' a digit, 's' a space, dot or dash, 'A' an ASCII capital, 'x' anything else
#: (a non-ASCII character: one 'x' per UTF-8 byte). The digit detectors test a substring of it (in C,
#: ~0.3 µs a log line with the translation) before running a regex that costs ~2 µs on a line full of
#: ids: ``ddd-dd-dddd`` must be in it for an SSN, ``dddsdddsdddd`` for a North American number, ``AAdd``
#: for an IBAN. Each test is implied by the regex it guards (never stricter).
_SHAPE = bytes(ord("d") if 48 <= b <= 57 else ord("s") if b in b" .-" else ord("A") if 65 <= b <= 90 else ord("x")
               for b in range(256))


SSN_SHAPE, NANP_SHAPE, IBAN_SHAPE = b"dddsddsdddd", b"dddsdddsdddd", b"AAdd"


def shape(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass").translate(_SHAPE)


# -- IBAN ---------------------------------------------------------------------------------------------
_IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29, "BY": 28,
    "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18,
    "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22,
    "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20,
    "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15,
    "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SC": 31, "SE": 24, "SI": 19,
    "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}
IBAN = re.compile(r"[A-Z]{2}[0-9]{2}(?:[ \-]?[A-Z0-9]){11,30}")
#: An IBAN written in small letters (``gb33haja66535496964086``), compact or grouped, not inside a word.
IBAN_LOWER = re.compile(r"[a-z]{2}[0-9]{2}(?:[ \-]?[a-z0-9]){11,30}")
IBAN_LOWER_SHAPE = b"xxdd"   # two small letters (or other non-capitals) and two digits
#: An IBAN in small letters is looked for only in a text holding one of these too (not in a string that is all
#: small letters and digits: a hex id; the batch prefilter rules those out by these characters).
IBAN_LOWER_CONTEXT = (" ", "=", ":", '"', "'", ",", "(", "\n", "\t", "/")
_WORD_CHARS = string.ascii_letters + string.digits + "_"


def iban_ok(compact: str) -> bool:
    """ISO 13616: the country's length and the mod-97 check (== 1)."""
    if _IBAN_LENGTHS.get(compact[:2]) != len(compact):
        return False
    n = int("".join(str(int(c, 36)) for c in compact[4:] + compact[:4]))
    return n % 97 == 1


def iban_spans(text: str) -> Iterator[tuple[int, int]]:
    """IBANs in capitals (compact, or grouped by spaces or dashes: ``FR41-9734-...``), and in small letters."""
    sh = shape(text)
    if IBAN_SHAPE in sh:   # two capitals and two digits start every IBAN in capitals
        yield from _iban_scan(text, IBAN)
    if IBAN_LOWER_SHAPE in sh and any(c in text for c in IBAN_LOWER_CONTEXT):
        yield from _iban_scan(text, IBAN_LOWER, sh if text.isascii() else None)


def _iban_scan(text: str, rx: re.Pattern, sh: bytes | None = None) -> Iterator[tuple[int, int]]:
    """IBANs rx finds. Given the shape of an ASCII text (one byte a character), rx is tried only where the shape
    holds ``xxdd`` (a search of IBAN_LOWER tries every small letter of a log line: ~3x slower)."""
    pos = 0
    while True:
        if sh is None:
            m = rx.search(text, pos)
        else:
            at = sh.find(IBAN_LOWER_SHAPE, pos)
            while at >= 0 and ((at and text[at - 1] in _WORD_CHARS) or text[at:at + 2].upper() not in _IBAN_LENGTHS
                               or (m := rx.match(text, at)) is None):   # a country's code, not inside a word
                at = sh.find(IBAN_LOWER_SHAPE, at + 1)
            if at < 0:
                m = None
        if m is None:
            return
        pos = m.start() + 1
        if m.start() and text[m.start() - 1].isascii() and text[m.start() - 1].isalnum():
            continue   # inside a word
        cand = m.group()
        want = _IBAN_LENGTHS.get(cand[:2].upper())
        if want is None:
            continue
        taken = end = 0
        for i, c in enumerate(cand):   # the shortest prefix holding `want` characters
            if c not in " -":
                taken += 1
                if taken == want:
                    end = i + 1
                    break
        if not end or (end < len(cand) and cand[end] not in " -"):
            continue
        written = cand[:end]
        if ("-" in written and " " in written) or iban_ok(written.replace(" ", "").replace("-", "").upper()) is False:
            continue
        yield m.start(), m.start() + end
        pos = m.start() + end


# -- phone numbers --------------------------------------------------------------------------------------
PHONE = re.compile(
    r"(?:(?<![\w+])\+[1-9](?:[ .\-]?\(?[0-9]\)?){7,14}"                         # international (E.164, spaced)
    r"|(?<![\w+\-.:])(?:\([0-9]{3}\)[ .\-]?|[0-9]{3}[ .\-])[0-9]{3}[ .\-][0-9]{4}"        # North American
    r"|(?<![\w+\-.:])0[1-9][0-9]{0,4}(?:[ \-][0-9]{2,8}){1,4}"                          # national, trunk prefix 0
    r"|(?<![\w+\-.])00[1-9][0-9]{0,3}(?:[ \-][0-9]{2,8}){2,4})(?![\w\-]|\.[0-9])")     # international, 00 for +
# The same alternatives apart, each starting with a character (re then skips ahead to it) and its
# lookbehind checked in Python: a leading lookbehind made re try every position of a log line.
_PHONE_END = r"(?![\w\-]|\.[0-9])"
_PHONE_PARTS = (
    (re.compile(r"\+[1-9](?:[ .\-]?\(?[0-9]\)?){7,14}" + _PHONE_END), frozenset(_WORD_CHARS + "+")),
    (re.compile(r"\([0-9]{3}\)[ .\-]?[0-9]{3}[ .\-][0-9]{4}" + _PHONE_END), frozenset(_WORD_CHARS)),   # (415)555-2671
    (_NANP := re.compile(r"[0-9]{3}[ .\-][0-9]{3}[ .\-][0-9]{4}" + _PHONE_END), frozenset(_WORD_CHARS + "+-:")),
    (re.compile(r"0[1-9][0-9]{0,4}(?:[ \-][0-9]{2,8}){1,4}" + _PHONE_END), frozenset(_WORD_CHARS + "+-:")),
    (re.compile(r"00[1-9][0-9]{0,3}(?:[ \-][0-9]{2,8}){2,4}" + _PHONE_END), frozenset(_WORD_CHARS + "+-")),   # Msisdn:0044 ...
)


def phone_spans(text: str) -> Iterator[tuple[int, int]]:
    parts = _PHONE_PARTS
    if "+" not in text:   # the international form starts with '+', the bracketed one with '(': skip a search each
        parts = parts[1:] if "(" in text else parts[2:]
    elif "(" not in text:
        parts = (parts[0],) + parts[2:]
    if NANP_SHAPE not in shape(text):   # no North American number (bracketed or not) can be in it
        parts = tuple(p for p in parts if p[0] is not _NANP)
    if "00" not in text:   # the last form starts with 00
        parts = parts[:-1]
    for rx, before in parts:
        pos = 0
        while (m := rx.search(text, pos)) is not None:
            a = m.start()
            if (a == 0 or text[a - 1] not in before) and phone_ok(m.group()):
                yield a, m.end()
                pos = m.end()
            else:
                pos = a + 1


_SSN = re.compile(r"[0-9]{3}([\- ])[0-9]{2}\1[0-9]{4}(?![0-9\-])")


def ssn_spans(text: str) -> Iterator[tuple[int, int]]:
    """Dashed or spaced, not after a digit or a dash; no 000/666 area, 00 group or 0000 serial."""
    if SSN_SHAPE not in shape(text):
        return
    pos = 0
    while (m := _SSN.search(text, pos)) is not None:
        a, g = m.start(), m.group()
        if (a == 0 or text[a - 1] not in "0123456789-") and g[:3] not in ("000", "666") and g[4:6] != "00" \
                and g[7:] != "0000":
            yield a, m.end()
            pos = m.end()
        else:
            pos = a + 1


def phone_ok(text: str) -> bool:
    digits = sum(c.isdigit() for c in text)
    if text[0] == "+":
        return 8 <= digits <= 15
    if text[:2] == "00":   # 00 in place of '+': the country code and an E.164 number (up to 15 digits)
        return 10 <= digits <= 17
    if text[0] == "0":
        return 10 <= digits <= 12
    return digits == 10
