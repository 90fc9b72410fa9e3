"""Payment card numbers (``ben.redact.detectors``' ``card``): issuer prefixes and lengths, the printed
layouts of their groups, the Luhn check, and the finder that looks for them only inside runs of digits.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ben.redact import lookalikes

_DIGITS_13 = re.compile(r"[0-9](?:[ \-]?[0-9]){12}").search
_DIGITS_13_DOTTED = re.compile(r"[0-9](?:[ \-.]?[0-9]){12}").search
#: Every card number grouped by dots holds four digits, a dot and four digits (an IPv4 address never
#: does): the batch prefilter tests this one for dotted cards (``prefilter.DOTTED``).
DOTTED_4 = re.compile(r"[0-9]{4}\.[0-9]{4}").search


def _card_hint(s: str) -> bool:
    return _DIGITS_13(s) is not None or ("." in s and DOTTED_4(s) is not None and _DIGITS_13_DOTTED(s) is not None)



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


_SEP = re.compile(r"[ \-.]")
_CARD = re.compile(r"(?<![0-9A-Za-z])[0-9](?:[ \-.]?[0-9]){12,18}(?![0-9A-Za-z]|\.[0-9])")


def _card_layout(text: str) -> bool:
    """Written with separators, a card number is grouped as printed: 4-4-4-4(-1..3), 4-4-4-1..4, or
    4-6-5 / 4-6-4 (Amex, Diners), with one kind of separator (a space, a dash or a dot: "4111.1111.1111.1111").
    "order 4070888059 200" is not, nor a decimal number ("4111111111111.111")."""
    groups = _SEP.split(text)
    if len(groups) == 1:
        return True
    if ("-" in text) + (" " in text) + ("." in text) != 1:
        return False
    sizes = [len(g) for g in groups]
    return sizes in ([4, 6, 5], [4, 6, 4]) or (all(n == 4 for n in sizes[:-1]) and 1 <= sizes[-1] <= 4)


def _card_ok(text: str) -> bool:
    if text[0] not in "23456":   # every issuer prefix starts with 2 to 6: timestamps and ids stop here
        return False
    digits = text.replace(" ", "").replace("-", "").replace(".", "")
    return 13 <= len(digits) <= 19 and _card_issuer(digits) and _card_layout(text) and luhn_ok(digits)


_GROUPS = re.compile(r"[0-9]+")


def _card_parts(candidate: str) -> Iterator[tuple[int, int]]:
    """The longest valid card number made of whole digit groups of a candidate, if any. Only runs of
    groups holding 13 to 19 digits are tried ("order 4070888059 200" has none but itself)."""
    if " " not in candidate and "-" not in candidate and "." not in candidate:
        return   # one group: the only part is the candidate itself, which failed already
    groups = [m.span() for m in _GROUPS.finditer(candidate)]
    best = None
    n = len(groups)
    for i in range(n):
        digits = 0
        for j in range(i, n):
            digits += groups[j][1] - groups[j][0]
            if digits > 19:
                break
            if digits < 13 or (i == 0 and j == n - 1):
                continue
            a, b = groups[i][0], groups[j][1]
            if (best is None or b - a > best[1] - best[0]) and _card_ok(candidate[a:b]):
                best = (a, b)
    if best is not None:
        yield best


#: Where a card can be: a run of 13+ digits, spaces, dots and dashes starting with a digit. One
#: character class repeated: ``re`` finds these runs in ~0.2 µs on a log line, where the card regex
#: (a leading lookbehind: every position tried) takes ~2.4 µs; the card regex runs inside them only.
_CARD_RUN = re.compile(r"[0-9][0-9 .\-]{12,}")


#: 13-16 digits after an id's key are the id too (a Pub/Sub ``"messageId": "568450375033421"``; revision 13), unless the
#: key speaks of a card or an account (``card_id``, ``pan_id``, ``payment_method_id``: a tokenised card may be digits).
_CARD_WORD = re.compile(r"(?i)card|pan|cc|payment|account|acct").search


def card_spans(text: str) -> Iterator[tuple[int, int]]:
    """Card numbers: what ``SecretRule.spans`` finds with the card regex, `_card_ok` and `_card_parts`,
    without its generic steps (the card is the costliest detector on log lines full of digits)."""
    search, size = _CARD.search, len(text)
    for run in _CARD_RUN.finditer(text):   # a card lies in a run of digits, spaces, dots and dashes
        pos, end = run.start(), min(size, run.end() + 2)   # two characters more: the card regex's lookahead
        while (m := search(text, pos, end)) is not None:
            start, stop = m.span()
            cand = m.group()
            if not cand.isdigit() and all(len(g) != 4 and len(g) < 13 for g in _SEP.split(cand)):
                pos = start + 1   # no group of 4 to start a layout, none of 13+ digits alone: no card in it
                continue
            if _card_ok(cand) and not (cand.isdigit() and lookalikes.after_id_key(text, start)
                                       and (len(cand) > 16 or _CARD_WORD(text, max(0, start - 40), start) is None)):
                yield start, stop
                pos = stop
                continue
            part = next(_card_parts(cand), None)
            if part is not None:
                yield start + part[0], start + part[1]
                pos = stop
            else:
                pos = start + 1
