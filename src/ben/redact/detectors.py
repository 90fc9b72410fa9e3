"""Value detectors: find secrets and personal data inside any string.

Each detector is a regex compiled once, a cheap *hint* (substring tests that must pass before the
regex runs; most strings fail them in a few tens of nanoseconds) and an optional validator that
rejects look-alikes (Luhn and issuer prefixes for cards, ``ipaddress`` for IPs, check letters for
national IDs). A match's *secret* part is the named group ``s`` when the regex has one (e.g. the
token after ``Bearer``), else the whole match.

National ID detectors (``us_ssn``, ``uk_nino``, ``es_dni``) are opt-in: no default rule uses them.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import re
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property

from ben.redact.formats import INDEX, PREFIXES, PREFIXES_BY_HEAD, head


@dataclass(frozen=True, eq=False)   # identity: hashed in hot paths
class Detector:
    name: str
    regex: re.Pattern
    hint: Callable[[str], bool]
    validate: Callable[[str], bool] | None = None
    help: str = ""
    #: The shortest text a match can be found in: shorter strings skip this detector.
    min_len: int = 1
    #: Can a match lie in a text that is all letters and digits (``str.isalnum``)? Ids, hashes and
    #: words skip the detectors that need '@', '.', ':', '-', '=', '_' or a space.
    alnum: bool = False
    #: For a candidate that fails `validate`: (start, end) of valid parts inside it (e.g. a card
    #: number followed by another group of digits).
    refine: Callable[[str], Iterator[tuple[int, int]]] | None = None
    #: What every text the hint accepts holds, for the engine's batch prefilter (``ben.redact.prefilter``):
    #: all the characters of at least one of these strings ("" = no particular character) and at least
    #: `min_digits` ASCII digits. None: the hint's needles. Must never be stricter than the hint
    #: (tests/redact/test_fast_path.py checks it): a text the prefilter rejects is not scanned at all.
    requires: tuple[str, ...] | None = None
    min_digits: int = 0
    #: Finds the spans itself (the regex then only documents what it looks for): for detectors that
    #: look tokens up in a table (``formats``) or check a structure a regex cannot (IBAN lengths).
    find: Callable[[str], Iterator[tuple[int, int]]] | None = None

    @property
    def needles(self) -> tuple[str, ...] | None:
        """The hint as substrings (one must occur), when it is one: the engine tests them inline."""
        return getattr(self.hint, "needles", None)

    @cached_property
    def groups(self) -> tuple[str, ...]:
        """The regex's named groups (the secret part, when one matched)."""
        return tuple(self.regex.groupindex)

    @property
    def needs(self) -> tuple[str, ...]:
        """`requires`, or the hint's needles: one of them must be in a text, character by character."""
        if self.requires is not None:
            return self.requires
        if self.needles is None:
            raise TypeError(f"detector {self.name}: a hint that is not substrings needs `requires`")
        return self.needles

    def spans(self, text: str, hinted: bool = False) -> Iterator[tuple[int, int]]:
        """(start, end) of every secret part found in text."""
        if not hinted and not self.hint(text):
            return
        if self.find is not None:
            yield from self.find(text)
            return
        groups = self.groups
        search = self.regex.search
        pos = 0
        while (m := search(text, pos)) is not None:
            start, end = m.span()
            for g in groups:  # the secret part, if the detector marks one
                if m.group(g) is not None:
                    start, end = m.span(g)
                    break
            if end <= start:
                pos = m.end() if m.end() > m.start() else m.start() + 1
                continue
            if self.validate is None or self.validate(text[start:end]):
                yield start, end
                pos = m.end()
                continue
            if self.refine is not None:
                found = False
                for a, b in self.refine(text[start:end]):
                    found = True
                    yield start + a, start + b
                if found:
                    pos = m.end()
                    continue
            # not valid: a valid match may still start inside it (e.g. a card after other digits)
            pos = m.start() + 1


def _any(*needles: str) -> Callable[[str], bool]:
    def hint(s: str) -> bool:
        for n in needles:
            if n in s:
                return True
        return False

    hint.needles = needles
    return hint


_DIGIT = re.compile(r"[0-9]")
_DIGITS_13 = re.compile(r"[0-9](?:[ \-]?[0-9]){12}").search
_DIGITS_6 = re.compile(r"[0-9] ?[0-9] ?[0-9]").search
# a phone number holds 4 digits in a row (its last group; spaces or dashes may join groups), an SSN 9
_CHAIN_4 = re.compile(r"[0-9](?:[ \-]?[0-9]){3}").search
_CHAIN_9 = re.compile(r"[0-9](?:[ \-]?[0-9]){8}").search


_UPPER = re.compile(r"[A-Z]").search
_LOWER = re.compile(r"[a-z]").search


def _mixed_case(s: str) -> bool:
    """An ASCII capital and an ASCII small letter (the prefilter's classes "\\x01" and "\\x02")."""
    return _UPPER(s) is not None and _LOWER(s) is not None


def _has_digit(s: str) -> bool:
    return _DIGIT.search(s) is not None


def _card_hint(s: str) -> bool:
    return _DIGITS_13(s) is not None


def _digits_hint(s: str) -> bool:
    return _DIGITS_6(s) is not None


# -- payment cards ------------------------------------------------------------------------------
def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _card_issuer(d: str) -> bool:
    """A known issuer prefix and a length it issues (Visa, Mastercard, Amex, Discover, JCB, Diners,
    UnionPay, Maestro): random digit runs (nanosecond timestamps, ids) mostly fail here."""
    n = len(d)
    if d[0] == "4":
        return n in (13, 16, 19)
    p2, p4 = int(d[:2]), int(d[:4])
    if 51 <= p2 <= 55 or 2221 <= p4 <= 2720:
        return n == 16
    if p2 in (34, 37):
        return n == 15
    if d.startswith("6011") or p2 == 65 or 644 <= int(d[:3]) <= 649:
        return 16 <= n <= 19
    if 3528 <= p4 <= 3589:
        return 16 <= n <= 19
    if p2 in (36, 38, 39) or 300 <= int(d[:3]) <= 305 or d.startswith("3095"):
        return 14 <= n <= 19
    if p2 == 62:
        return 16 <= n <= 19
    if p2 in (50, 56, 57, 58, 63, 67):
        return 12 <= n <= 19
    return False


_SEP = re.compile(r"[ \-]")


def _card_layout(text: str) -> bool:
    """Written with separators, a card number is grouped as printed: 4-4-4-4(-1..3), 4-4-4-1..4, or
    4-6-5 / 4-6-4 (Amex, Diners), with one kind of separator. "order 4070888059 200" is not."""
    groups = _SEP.split(text)
    if len(groups) == 1:
        return True
    if ("-" in text) == (" " in text):
        return False
    sizes = [len(g) for g in groups]
    return sizes in ([4, 6, 5], [4, 6, 4]) or (all(n == 4 for n in sizes[:-1]) and 1 <= sizes[-1] <= 4)


def _card_ok(text: str) -> bool:
    digits = text.replace(" ", "").replace("-", "")
    return 13 <= len(digits) <= 19 and _card_issuer(digits) and _card_layout(text) and luhn_ok(digits)


_GROUP_START = re.compile(r"(?:^|(?<=[ \-]))[0-9]")
_GROUP_END = re.compile(r"[0-9](?=[ \-]|$)")


def _card_parts(candidate: str) -> Iterator[tuple[int, int]]:
    """The longest valid card number made of whole digit groups of a candidate, if any."""
    if " " not in candidate and "-" not in candidate:
        return   # one group: the only part is the candidate itself, which failed already
    starts = [m.start() for m in _GROUP_START.finditer(candidate)]
    ends = [m.end() for m in _GROUP_END.finditer(candidate)]
    best = None
    for a in starts:
        for b in ends:
            if b > a and (best is None or b - a > best[1] - best[0]) and _card_ok(candidate[a:b]):
                best = (a, b)
    if best is not None:
        yield best


# -- JWT, national IDs ----------------------------------------------------------------------------
def _jwt_ok(text: str) -> bool:
    head = text.split(".", 1)[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    except (ValueError, UnicodeDecodeError):
        return False
    return isinstance(header, dict) and ("alg" in header or "typ" in header)


def _ip_ok(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def _dni_ok(text: str) -> bool:
    digits, letter = text[:8], text[-1]
    return _DNI_LETTERS[int(digits) % 23] == letter


# -- prefixed tokens (ben.redact.formats) -----------------------------------------------------------
_TOKEN = re.compile(r"(?<![A-Za-z0-9_\-])[A-Za-z0-9][A-Za-z0-9_\-.$~]{5,}")


def _token_spans(text: str) -> Iterator[tuple[int, int]]:
    """Every token of a known format: candidates are runs of token characters; their first three
    characters pick the formats to try (a dictionary lookup), each anchored at the token's start."""
    index = INDEX
    for m in _TOKEN.finditer(text):
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


def _token_hint(text: str) -> bool:
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


def _after(rx: re.Pattern, chars: str) -> Callable[[str], Iterator[tuple[int, int]]]:
    """The matches of rx not preceded by one of chars: a lookbehind at the start of a pattern keeps
    ``re`` from skipping ahead to the pattern's first character, so it is checked here instead."""
    def find(text: str) -> Iterator[tuple[int, int]]:
        for m in rx.finditer(text):
            a = m.start()
            if a == 0 or text[a - 1] not in chars:
                yield a, m.end()

    return find


def _validated(rx: re.Pattern, chars: str, validate: Callable[[str], bool]) -> Callable[[str], Iterator[tuple[int, int]]]:
    """``_after``, and only the matches validate accepts."""
    after = _after(rx, chars)

    def find(text: str) -> Iterator[tuple[int, int]]:
        for a, b in after(text):
            if validate(text[a:b]):
                yield a, b

    return find


_WORD = string.ascii_letters + string.digits
_DISCORD = re.compile(r"[MNO][A-Za-z0-9_\-]{23,27}\.[A-Za-z0-9_\-]{6,7}\.[A-Za-z0-9_\-]{27,40}(?![A-Za-z0-9_\-])")
_OKTA = re.compile(r"00[A-Za-z0-9_\-]{40}(?![A-Za-z0-9_\-])")
_RANDOM_KEY = re.compile(r"(?<![A-Za-z0-9+_\-])(?:[A-Za-z0-9+/]{86}==|[A-Za-z0-9+/]{40})(?![A-Za-z0-9+=_\-])")


# -- key = value pairs ----------------------------------------------------------------------------------
_TRIVIAL = frozenset({"null", "none", "nil", "true", "false", "undefined", "redacted", "empty", "required",
                      "changeme", "******", "xxxxxx"})


def _not_placeholder(text: str) -> bool:
    """A value that is no secret: a placeholder, a template, something already masked."""
    return not (text.lower() in _TRIVIAL or text[0] in "[<{$*%" and text[-1:] in "]>}*%" or set(text) <= {"*", "x", "X"})


def _credential_like(text: str) -> bool:
    """A token, not a word: holds a digit or punctuation, or letters in mixed case (not 'Validation')."""
    if not _not_placeholder(text):
        return False
    if not text.isalpha():
        return True
    return not (text.islower() or text.isupper() or text.istitle())


_VALUE = (r"""(?:\\?["'])?\s{0,3}(?::=|=>|[:=])\s{0,3}"""
          r"""(?:\\?["'](?P<s>[^"'\\\r\n]{%(q)s})|(?P<s2>[^\s"'\\&,;<>(){}\[\]]{%(u)s}))""")
_PASSWORD_KEYS = r"(?i:pass(?:word|wd|phrase)|pwd|secret)"
_SECRET_KEYS = (r"(?i:token|api[_\-.]?key|apikey|access[_\-.]?key(?:[_\-.]?id)?|secret[_\-.]?key|private[_\-.]?key"
                r"(?:[_\-.]?id)?|auth[_\-.]?key|app[_\-.]?key|license[_\-.]?key|credentials?|client[_\-.]?secret|"
                r"signing[_\-.]?key|encryption[_\-.]?key|master[_\-.]?key|dsn|cookie)")


def _pairs(needles: tuple[str, ...]) -> Callable[[str], bool]:
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
_IBAN = re.compile(r"[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,30}")
_WORD_CHARS = string.ascii_letters + string.digits + "_"


def iban_ok(compact: str) -> bool:
    """ISO 13616: the country's length and the mod-97 check (== 1)."""
    if _IBAN_LENGTHS.get(compact[:2]) != len(compact):
        return False
    n = int("".join(str(int(c, 36)) for c in compact[4:] + compact[:4]))
    return n % 97 == 1


def _iban_spans(text: str) -> Iterator[tuple[int, int]]:
    pos = 0
    while (m := _IBAN.search(text, pos)) is not None:
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
_PHONE = re.compile(
    r"(?:(?<![\w+])\+[1-9](?:[ .\-]?\(?[0-9]\)?){7,14}"                         # international (E.164, spaced)
    r"|(?<![\w+\-.:])\(?[0-9]{3}\)?[ .\-][0-9]{3}[ .\-][0-9]{4}"                    # North American
    r"|(?<![\w+\-.:])0[1-9][0-9]{0,4}(?:[ \-][0-9]{2,8}){1,4})(?![\w\-]|\.[0-9])")         # national, trunk prefix 0
# The same alternatives apart, each starting with a character (re then skips ahead to it) and its
# lookbehind checked in Python: a leading lookbehind made re try every position of a log line.
_PHONE_END = r"(?![\w\-]|\.[0-9])"
_PHONE_PARTS = (
    (re.compile(r"\+[1-9](?:[ .\-]?\(?[0-9]\)?){7,14}" + _PHONE_END), frozenset(_WORD_CHARS + "+")),
    (re.compile(r"\([0-9]{3}\)[ .\-][0-9]{3}[ .\-][0-9]{4}" + _PHONE_END), frozenset(_WORD_CHARS)),
    (re.compile(r"[0-9]{3}[ .\-][0-9]{3}[ .\-][0-9]{4}" + _PHONE_END), frozenset(_WORD_CHARS + "+-.:")),
    (re.compile(r"0[1-9][0-9]{0,4}(?:[ \-][0-9]{2,8}){1,4}" + _PHONE_END), frozenset(_WORD_CHARS + "+-.:")),
)


def _phone_spans(text: str) -> Iterator[tuple[int, int]]:
    for rx, before in _PHONE_PARTS:
        pos = 0
        while (m := rx.search(text, pos)) is not None:
            a = m.start()
            if (a == 0 or text[a - 1] not in before) and _phone_ok(m.group()):
                yield a, m.end()
                pos = m.end()
            else:
                pos = a + 1


_SSN = re.compile(r"[0-9]{3}([\- ])[0-9]{2}\1[0-9]{4}(?![0-9\-])")


def _ssn_spans(text: str) -> Iterator[tuple[int, int]]:
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


def _phone_ok(text: str) -> bool:
    digits = sum(c.isdigit() for c in text)
    if text[0] == "+":
        return 8 <= digits <= 15
    if text[0] == "0":
        return 10 <= digits <= 12
    return digits == 10


# -- random base64 of a key's length -------------------------------------------------------------------
def _random_b64(text: str) -> bool:
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


_B = r"(?<![A-Za-z0-9])"   # not preceded by a letter or digit
_E = r"(?![A-Za-z0-9])"    # not followed by one

DETECTORS: dict[str, Detector] = {d.name: d for d in (
    Detector("email", re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"),
             _any("@"), help="e-mail addresses", min_len=6),
    Detector("card", re.compile(r"(?<![0-9A-Za-z])[0-9](?:[ \-]?[0-9]){12,18}(?![0-9A-Za-z])"), _card_hint, _card_ok,
             help="payment card numbers (issuer prefix and length, Luhn-checked)", refine=_card_parts, min_len=13, alnum=True,
             requires=("",), min_digits=13),
    Detector("ipv4", re.compile(r"(?<![0-9.])(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?![0-9]|\.[0-9])"), _any("."), _ip_ok,
             help="IPv4 addresses", min_len=7),
    Detector("ipv6", re.compile(r"(?<![0-9A-Za-z_:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|"
                                r"(?:[0-9]{1,3}\.){3}[0-9]{1,3})?(?![0-9A-Za-z_:])"), _any(":"), _ip_ok,
             help="IPv6 addresses", min_len=2),
    Detector("jwt", re.compile(r"eyJ[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]*"), _any("eyJ"), _jwt_ok,
             help="JSON Web Tokens", min_len=13),
    Detector("bearer", re.compile(r"(?i)\b(?:bearer|token|basic)\s+(?P<s>[A-Za-z0-9\-._~+/]{8,}=*)"),
             _any("earer", "EARER", "oken", "OKEN", "asic", "ASIC"), _credential_like,
             help="credentials after 'Bearer', 'Token' or 'Basic' (authorization headers); a word is not one "
                  "('token validation succeeded')", min_len=14),
    Detector("aws_key", re.compile(
        _B + r"(?:(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA)[A-Z0-9]{16}" + _E +
        r"|(?i:aws_?secret_?access_?key|aws_?secret)[\"']?\s*[:=]\s*[\"']?(?P<s>[A-Za-z0-9/+=]{40}))"),
        lambda t: ("A" in t and any(n in t for n in ("AKIA", "ASIA", "AGPA", "AIDA", "AROA", "AIPA", "ANPA",
                                                      "ANVA"))) or "ecret" in t or "ECRET" in t,
        help="AWS access key ids and secret access keys", min_len=20, alnum=True,
        requires=("AKIA", "ASIA", "AGPA", "AIDA", "AROA", "AIPA", "ANPA", "ANVA", "ecret", "ECRET")),
    Detector("gcp_key", re.compile(_B + r"AIza[0-9A-Za-z\-_]{35}" + _E + r"|ya29\.[0-9A-Za-z\-_]{20,}"
                                   r"|(?<![A-Za-z0-9])1//0[0-9A-Za-z\-_]{30,}"),
             _any("AIza", "ya29.", "1//0"), help="Google API keys and OAuth access tokens", min_len=25, alnum=True),
    Detector("azure_key", re.compile(
        r"(?i:AccountKey|SharedAccessKey)=(?P<s>[A-Za-z0-9+/]{40,}={0,2})"
        r"|[?&]sig=(?P<s2>[A-Za-z0-9%+/=]{20,})"
        r"|" + _B + r"[A-Za-z0-9_~.]{3}[0-9]Q~[A-Za-z0-9_~.\-]{31,34}" + _E),
        lambda t: ("=" in t and ("ccountKey" in t or "ccessKey" in t or "sig=" in t)) or "Q~" in t, help="Azure storage/service-bus keys, SAS signatures, "
                                                       "client secrets", min_len=25,
             requires=("=ccountKey", "=ccessKey", "sig=", "Q~")),
    Detector("github_token", re.compile(_B + r"(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})"),
             _any("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"), help="GitHub tokens", min_len=33),
    Detector("slack_token", re.compile(r"(?:xox[abposre]|xapp)-[A-Za-z0-9\-]{10,}|hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/+]+"),
             _any("xox", "xapp-", "hooks.slack.com"), help="Slack tokens and webhook URLs", min_len=15),
    Detector("private_key", re.compile(
        r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----(?:.*?-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|.*)",
        re.DOTALL), _any("PRIVATE KEY"), help="PEM private key blocks (to the end of the text if unterminated)", min_len=27),
    Detector("token", _TOKEN, _token_hint, help="tokens of the formats of a maintained secret scanner "
             "(ben.redact.formats: GitHub, GitLab, Stripe, Slack, npm, PyPI, OpenAI, Anthropic, ...)",
             min_len=16, alnum=True, requires=PREFIXES, find=_token_spans),
    Detector("password", re.compile(_PASSWORD_KEYS + _VALUE % {"q": "1,400", "u": "1,400"}),
             _pairs(("ass", "ASS", "wd", "WD", "ecret", "ECRET")), _not_placeholder,
             help="values of password=, passwd:, \"secret\": ... pairs (text, JSON, query strings, logs)", min_len=5,
             requires=("ass=", "ass:", "ASS=", "ASS:", "wd=", "wd:", "WD=", "WD:", "ecret=", "ecret:", "ECRET=",
                       "ECRET:")),
    Detector("secret_pair", re.compile(_SECRET_KEYS + _VALUE % {"q": "8,400", "u": "8,400"}),
             _pairs(("oken", "OKEN", "ey", "EY", "redential", "REDENTIAL", "ecret", "ECRET", "sn", "SN", "ookie", "OOKIE")),
             _credential_like, help="values of token=, api_key:, access_key, client_secret, ... pairs", min_len=11,
             requires=("oken=", "oken:", "OKEN=", "OKEN:", "ey=", "ey:", "EY=", "EY:", "redential", "REDENTIAL",
                       "ecret", "ECRET", "sn=", "sn:", "SN=", "SN:", "ookie", "OOKIE")),
    Detector("url_userinfo", re.compile(
        r"(?i)(?<![a-z0-9+.\-])[a-z][a-z0-9+.\-]{1,20}://(?:[^\s/@:?#]*:(?P<s>[^\s/?#]{1,200})"
        r"|(?P<s2>[a-z0-9_\-.]{20,200}))@"), _any("://"), _not_placeholder,
        help="passwords in URLs (scheme://user:password@host, any scheme) and keys as a URL's user (Sentry DSNs)",
        min_len=8),
    Detector("telegram_token", re.compile(r"(?<![0-9])[0-9]{8,10}:A[A-Za-z0-9_\-]{32,36}(?![A-Za-z0-9_\-])"),
             _any(":A"), help="Telegram bot tokens", min_len=43),
    Detector("discord_token", _DISCORD,
             lambda t: "." in t and ("M" in t or "N" in t or "O" in t), help="Discord bot tokens", min_len=58,
             requires=("M.", "N.", "O."), find=_after(_DISCORD, _WORD + "_-")),
    Detector("webhook_url", re.compile(r"(?:discord(?:app)?\.com/api/webhooks|\.webhook\.office\.com/webhookb2)/\S+"),
             _any("/api/webhooks", "webhookb2"), help="Discord and Microsoft Teams webhook URLs", min_len=30),
    Detector("newrelic_license", re.compile(r"(?<![A-Za-z0-9])[0-9a-fA-F]{36}NRAL(?![A-Za-z0-9])"), _any("NRAL"),
             help="New Relic license keys", min_len=40, alnum=True),
    Detector("mailchimp_key", re.compile(r"(?<![A-Za-z0-9])[0-9a-f]{32}-us[0-9]{1,2}(?![A-Za-z0-9])"), _any("-us"),
             help="Mailchimp API keys", min_len=35),
    Detector("okta_token", _OKTA, lambda t: "00" in t and _mixed_case(t),
             _random_b64, help="Okta API tokens (00 and 40 characters, mixed case)", min_len=42, alnum=True,
             requires=("\x01\x02",), find=_validated(_OKTA, _WORD + "_-", _random_b64)),
    Detector("random_key", _RANDOM_KEY, _mixed_case, _random_b64, help="bare random keys of 40 (AWS secret access key) or 88 (Azure storage "
             "key) base64 characters: mixed case and digits, decoding to random bytes, not to text", min_len=40,
             alnum=True, requires=("\x01\x02",), ),
    Detector("iban", _IBAN, lambda t: _UPPER(t) is not None and _digits_hint(t),
             help="IBANs (country length and mod-97 checked)", min_len=15, alnum=True,
             requires=("\x01",), min_digits=3, find=_iban_spans),
    Detector("phone", _PHONE, lambda t: _CHAIN_4(t) is not None and ("+" in t or "-" in t or " " in t or "." in t
                                                                    or "(" in t),
             _phone_ok,
             help="phone numbers: international (+CC ...) and common national forms, separated", min_len=10,
             requires=("+", "-", " ", ".", "("), min_digits=4, find=_phone_spans),
    Detector("us_ssn", re.compile(r"(?<![0-9\-])(?!000|666)[0-9]{3}([\- ])(?!00)[0-9]{2}\1(?!0000)[0-9]{4}"
                                  r"(?![0-9\-])"), lambda t: ("-" in t or " " in t) and _CHAIN_9(t) is not None,
             help="US social security numbers (dashed or spaced; ITINs too)", min_len=11,
             requires=("-", " "), min_digits=9, find=_ssn_spans),
    Detector("uk_nino", re.compile(_B + r"(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]"
                                   r" ?[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[A-D]" + _E), _digits_hint,
             help="UK national insurance numbers, opt-in", min_len=9, alnum=True, requires=("",), min_digits=3),
    Detector("es_dni", re.compile(_B + r"[0-9]{8}-?[TRWAGMYFPDXBNJZSQVHLCKE]" + _E), _digits_hint,
             lambda t: _dni_ok(t.replace("-", "")), help="Spanish DNI numbers (check letter verified), opt-in", min_len=9, alnum=True,
             requires=("",), min_digits=3),
)}

#: Detectors a default manifest turns on (ben.redact.defaults); the rest are opt-in.
OPT_IN = frozenset({"ipv4", "ipv6", "uk_nino", "es_dni"})

