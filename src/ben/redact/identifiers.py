"""Finders of national identifiers named as such (``ben.redact.detectors``: ``id_number``) and of
passwords written with no key name (``keyless_password``). Each yields (start, end) spans.

A national identifier has no shape of its own that tells it from an order number (a US passport is
nine digits, a Californian driving licence a letter and seven), so it is found by the name it is
given: a key (``ssn``, ``passport_number``, ``taxId``, ``NINO``, ``DOCUMENTO``...) or the words of a
sentence (``NI number``, ``passport no.``, ``numéro de sécurité sociale``) followed by a value that
holds digits, as IDs of 16 countries are written (``AB 12 34 56 C``, ``123.456.789-09``,
``630722-0027``, ``MORGA753116SM9IJ``). A date, a time or a version after the word is no identifier.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

_S = r"[ _.\-]?"
_NUM = rf"(?:{_S}(?:number|num|nr|no|id|#))?"
#: Words naming an identifier. Short ones (``ssn``, ``sin``, ``pan``...) must stand alone or end a
#: camelCase/snake_case identifier (``_short_ok``); long ones may be glued (``PASSPORTNUMBER``).
ID_WORDS = re.compile(
    rf"(?i:ssn|social{_S}security{_NUM}|itin|f?ein|employer{_S}id(?:entification)?{_NUM}|tax{_S}(?:payer{_S})?id(?:entifier)?"
    rf"|taxpayer{_S}id|tax{_S}file{_NUM}|tfn|tin|utr|nino|ni{_S}number|national{_S}insurance{_NUM}|national{_S}id{_NUM}"
    rf"|cpf|cnpj|bsn|burgerservicenummer|pesel|personnummer|personal{_S}number|sin|social{_S}insurance{_NUM}|dni|nie"
    rf"|documento|nir|num(?:[eé]ro)?{_S}(?:de{_S})?s[eé]cu(?:rit[eé]{_S}sociale)?|pan{_S}(?:number|card|no)|pan"
    rf"|passport{_NUM}|reisepass(?:nummer)?|driver'?s?{_S}licen[cs]e{_NUM}|driving{_S}licen[cs]e{_NUM}"
    rf"|licen[cs]e{_S}(?:number|no)|dl{_S}(?:number|no)|dl#|id{_S}card{_NUM})" + _NUM + r"\.?")
_SHORT = 4   # words up to this long (before the suffix) must stand alone
# between the name and the value: quotes (escaped or not), ':', '=', '#', 'is', '=>'
_BETWEEN = re.compile(r"""(?:\\?["'])?\]?\s{0,3}(?:=>|:=|[:=#]|\bis\b)?\s{0,3}(?:\\?["'])?""")
_VALUE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|(?:%20|[ .\-/+])(?=[A-Za-z0-9])){5,30}")
_DATEISH = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}|(?<![0-9])[0-9]{1,2}[:/][0-9]{2}(?![0-9])|^v?[0-9]+\.[0-9]+\.[0-9]+$")
_TOKEN_OK = re.compile(r"[A-Z]{1,2}|[A-Za-z0-9.\-/]*[0-9][A-Za-z0-9.\-/]*")


def _short_ok(text: str, a: int, word: str) -> bool:
    """A short word stands alone: not after a letter, unless it starts a camelCase part (``customerSsn``)."""
    if a == 0:
        return True
    prev = text[a - 1]
    if not prev.isalpha():
        return True
    return prev.islower() and word[0].isupper()


def _value(text: str, at: int) -> tuple[int, int] | None:
    m = _VALUE.match(text, at)
    if m is None:
        return None
    # keep the tokens that look like pieces of an identifier: digits, or 1-2 capitals ("AB 12 34 56 C")
    end, pos = at, at
    for tok in re.split(r"(%20| |\+)", m.group()):
        if tok in ("%20", " ", "+"):
            pos += len(tok)
            continue
        if _TOKEN_OK.fullmatch(tok) is None:
            break
        pos += len(tok)
        end = pos
    value = text[at:end]
    if sum(c.isdigit() for c in value) < 4 or sum(c.isalnum() for c in value) < 6 or _DATEISH.search(value):
        return None
    return at, end


def id_number_spans(text: str) -> Iterator[tuple[int, int]]:
    pos, n = 0, len(text)
    while pos < n and (m := ID_WORDS.search(text, pos)) is not None:
        a, b = m.span()
        pos = b
        word = m.group()
        core = re.sub(r"(?i)[ _.\-]?(?:number|num|nr|no|id|#)?\.?$", "", word) or word
        if len(core) <= _SHORT and not _short_ok(text, a, word):
            continue
        if b < n and text[b].isalpha():
            continue   # inside a longer word (pancake, single, tinker)
        between = _BETWEEN.match(text, b)
        span = _value(text, between.end())
        if span is not None:
            yield span
            pos = span[1]


def hint(text: str) -> bool:
    return ID_WORDS.search(text) is not None
