"""Finders and checks the detectors use (``ben.redact.detectors``): prefixed tokens looked up by
their head (``ben.redact.formats``), key = value pairs, IBAN (length and mod-97), phone numbers, US
SSNs, bare random keys. Each finder yields (start, end) spans; a lookbehind that would keep ``re``
from skipping ahead to a pattern's first character is checked here in Python instead.
"""

from __future__ import annotations

import base64
import re
import string
from collections.abc import Callable, Iterator

from ben.redact.formats import INDEX, PREFIXES_BY_HEAD, head

# -- prefixed tokens (ben.redact.formats) -----------------------------------------------------------
TOKEN = re.compile(r"(?<![A-Za-z0-9_\-])[A-Za-z0-9][A-Za-z0-9_\-.$~]{2,}")


def token_spans(text: str) -> Iterator[tuple[int, int]]:
    """Every token of a known format: candidates are runs of token characters; their first three
    characters pick the formats to try (a dictionary lookup), each anchored at the token's start."""
    index = INDEX
    for m in TOKEN.finditer(text):
        s = m.start()
        tok = m.group()
        starts = (s, *(s + i + 1 for i, c in enumerate(tok) if c in "._-"))
        for s in starts:   # a token may follow a dot, a dash or an underscore ("app.ghp_...", "worker-sk_live_...")
            forms = index.get(head(text, s))
            if forms is None:
                continue
            for _, rx in forms:
                f = rx.match(text, s)
                if f is not None:
                    yield s, f.end()
                    break
            else:
                continue
            break


_PARTS = re.compile(r"[^A-Za-z0-9]+").split
_KEYS = frozenset(INDEX)


def token_hint(text: str) -> bool:
    """Does some token (or a part after a dot) start with the first three characters of a format, and
    does the text hold that format's whole prefix? One findall and a set test, in C, then a substring
    test per head found ("api" in "/api/v1" is no "api_org_"); the formats' regexes run only then."""
    heads = _KEYS.intersection([p[:3] for p in _PARTS(text)])   # every candidate's head starts a part
    if not heads:
        return False
    for head in heads:
        for prefix in PREFIXES_BY_HEAD[head]:
            if prefix in text:
                return True
    return False


def after(rx: re.Pattern, chars: str) -> Callable[[str], Iterator[tuple[int, int]]]:
    """The matches of rx not preceded by one of chars: a lookbehind at the start of a pattern keeps
    ``re`` from skipping ahead to the pattern's first character, so it is checked here instead."""
    def find(text: str) -> Iterator[tuple[int, int]]:
        for m in rx.finditer(text):
            a = m.start()
            if a == 0 or text[a - 1] not in chars:
                yield a, m.end()

    return find


def validated(rx: re.Pattern, chars: str, validate: Callable[[str], bool]) -> Callable[[str], Iterator[tuple[int, int]]]:
    """``after``, and only the matches validate accepts."""
    unbounded = after(rx, chars)

    def find(text: str) -> Iterator[tuple[int, int]]:
        for a, b in unbounded(text):
            if validate(text[a:b]):
                yield a, b

    return find


WORD = string.ascii_letters + string.digits
DISCORD = re.compile(r"[MNO][A-Za-z0-9_\-]{23,27}\.[A-Za-z0-9_\-]{6,7}\.[A-Za-z0-9_\-]{27,40}(?![A-Za-z0-9_\-])")
OKTA = re.compile(r"00[A-Za-z0-9_\-]{40}(?![A-Za-z0-9_\-])")
RANDOM_KEY = re.compile(r"(?<![A-Za-z0-9+_\-])(?:[A-Za-z0-9+/]{86}==|[A-Za-z0-9+/]{40})(?![A-Za-z0-9+=_\-])")


# -- key = value pairs ----------------------------------------------------------------------------------
_TRIVIAL = frozenset({"null", "none", "nil", "true", "false", "undefined", "redacted", "empty", "required",
                      "changeme", "******", "xxxxxx"})


def not_placeholder(text: str) -> bool:
    """A value that is no secret: a placeholder, a template, something already masked."""
    return not (text.lower() in _TRIVIAL or text[0] in "[<{$*%" and text[-1:] in "]>}*%" or set(text) <= {"*", "x", "X"})


def credential_like(text: str) -> bool:
    """A token, not a word: holds a digit or punctuation, or letters in mixed case (not 'Validation')."""
    if not not_placeholder(text):
        return False
    if not text.isalpha():
        return True
    return not (text.islower() or text.isupper() or text.istitle())


PAIR_VALUE = (r"""(?:\\?["'])?\s{0,3}(?::=|=>|[:=])\s{0,3}"""
          r"""(?:\\?["'](?P<s>[^"'\\\r\n]{%(q)s})|(?P<s2>[^\s"'\\&,;<>(){}\[\]]{%(u)s}))""")
PASSWORD_KEYS = r"(?i:pass(?:word|wd|phrase)|pwd|secret)"
SECRET_KEYS = (r"(?i:token|api[_\-. ]?key|apikey|access[_\-. ]?key(?:[_\-. ]?id)?|secret[_\-. ]?key|private[_\-. ]?key"
                r"(?:[_\-. ]?id)?|auth[_\-. ]?key|app[_\-. ]?key|license[_\-. ]?key|credentials?|client[_\-. ]?secret|"
                r"signing[_\-. ]?key|encryption[_\-. ]?key|master[_\-. ]?key|dsn|cookie)")


def pairs(needles: tuple[str, ...]) -> Callable[[str], bool]:
    """A key word and a separator: one of the needles, and ':' or '='."""
    def hint(s: str) -> bool:
        if "=" not in s and ":" not in s:
            return False
        for n in needles:
            if n in s:
                return True
        return False

    return hint


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
IBAN = re.compile(r"[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,30}")
_WORD_CHARS = string.ascii_letters + string.digits + "_"


def iban_ok(compact: str) -> bool:
    """ISO 13616: the country's length and the mod-97 check (== 1)."""
    if _IBAN_LENGTHS.get(compact[:2]) != len(compact):
        return False
    n = int("".join(str(int(c, 36)) for c in compact[4:] + compact[:4]))
    return n % 97 == 1


def iban_spans(text: str) -> Iterator[tuple[int, int]]:
    pos = 0
    while (m := IBAN.search(text, pos)) is not None:
        pos = m.start() + 1
        if m.start() and text[m.start() - 1].isascii() and text[m.start() - 1].isalnum():
            continue   # inside a word
        cand = m.group()
        want = _IBAN_LENGTHS.get(cand[:2])
        if want is None:
            continue
        taken = end = 0
        for i, c in enumerate(cand):   # the shortest prefix holding `want` characters
            if c != " ":
                taken += 1
                if taken == want:
                    end = i + 1
                    break
        if not end or (end < len(cand) and cand[end] != " "):
            continue
        if iban_ok(cand[:end].replace(" ", "")):
            yield m.start(), m.start() + end
            pos = m.start() + end


# -- phone numbers --------------------------------------------------------------------------------------
PHONE = re.compile(
    r"(?:(?<![\w+])\+[1-9](?:[ .\-]?\(?[0-9]\)?){7,14}"                         # international (E.164, spaced)
    r"|(?<![\w+\-.:])\(?[0-9]{3}\)?[ .\-][0-9]{3}[ .\-][0-9]{4}"                    # North American
    r"|(?<![\w+\-.:])0[1-9][0-9]{0,4}(?:[ \-][0-9]{2,8}){1,4})(?![\w\-]|\.[0-9])")         # national, trunk prefix 0
# The same alternatives apart, each starting with a character (re then skips ahead to it) and its
# lookbehind checked in Python: a leading lookbehind made re try every position of a log line.
_PHONE_END = r"(?![\w\-]|\.[0-9])"
_PHONE_PARTS = (
    (re.compile(r"\+[1-9](?:[ .\-]?\(?[0-9]\)?){7,14}" + _PHONE_END), frozenset(_WORD_CHARS + "+")),
    (re.compile(r"\([0-9]{3}\)[ .\-][0-9]{3}[ .\-][0-9]{4}" + _PHONE_END), frozenset(_WORD_CHARS)),
    (re.compile(r"[0-9]{3}[ .\-][0-9]{3}[ .\-][0-9]{4}" + _PHONE_END), frozenset(_WORD_CHARS + "+-:")),
    (re.compile(r"0[1-9][0-9]{0,4}(?:[ \-][0-9]{2,8}){1,4}" + _PHONE_END), frozenset(_WORD_CHARS + "+-:")),
)


def phone_spans(text: str) -> Iterator[tuple[int, int]]:
    for rx, before in _PHONE_PARTS:
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
    if text[0] == "0":
        return 10 <= digits <= 12
    return digits == 10


# -- random base64 of a key's length -------------------------------------------------------------------
def random_b64(text: str) -> bool:
    """Upper, lower and digits, and not the base64 of text (an AWS secret key decodes to random bytes)."""
    core = text.rstrip("=")
    if core.isalnum() and (core.islower() or core.isupper() or core.isdigit()):
        return False
    if core.count("/") + core.count("+") > len(core) // 8 or any(
            len(part) >= 4 and part.isalpha() and part.islower() for part in core.split("/")):
        return False   # a path (api/v1/Users/...), not a key: random base64 has a '/' or '+' in 32 characters
    if not (any(c.isupper() for c in core) and any(c.islower() for c in core) and any(c.isdigit() for c in core)):
        return False
    try:
        raw = base64.b64decode(core + "=" * (-len(core) % 4))
    except ValueError:
        return True
    printable = sum(32 <= b < 127 or b in (9, 10, 13) for b in raw)
    return printable < 0.85 * len(raw)
