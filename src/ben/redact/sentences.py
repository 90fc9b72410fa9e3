"""Secrets joined to their key by words, not a separator, and legacy Vault tokens (ADR 0030, revision 7).

``worded_spans``: a secret-like key (``password``, ``DB_PASSWORD``, ``token``, ``API_KEY``, ``secret``,
``client_secret``, ``credentials`` ...; bare or in backticks or quotes) and a joining word (``is``, ``was``,
``as``, ``[was] set/changed/reset/rotated/updated to``, ``is now``) or a word before the key (``using secret
v``, ``with token v``, ``set DB_PASSWORD to v``), then the value, bare or quoted (straight, typographic quotes, backticks). The value must
look like a credential (8+ characters, not only letters, no path): "the token is valid", "password is required",
"set timeout to 30", "token is <redacted>" stay.

``vault_legacy_spans``: Vault's service, batch and recovery tokens before 1.10 (``s.``, ``b.``, ``r.`` and 24
letters and digits, mixed case and digits), standing alone (not the tail of ``os.path`` or a host name).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ben.redact.finders import credential_like

_KEY = (r"(?:pass(?:word|wd|phrase)|pwd|pw|secret(?:[_\-. ]?key)?|client[_\-. ]?secret|token|api[_\-. ]?key|apikey"
        r"|access[_\-. ]?key|private[_\-. ]?key|auth[_\-. ]?key|credentials?)")
_VALUE = (r"""(?:["'`‘“„«](?P<q>[^"'`’”“»\r\n]{8,400})["'`’”“»]"""
          r"""|(?P<u>[^\s"'`’”“»<>\[\]{}(),;][^\s"'`’”“»<>]{7,399}))""")
#: key [in quotes] joined by a word; or "using/with [the] key v"
WORDED = re.compile(
    rf"(?i)(?<![A-Za-z])(?:[A-Za-z0-9]+[_.\-])*?{_KEY}(?![a-z])[`'\"’”]?"
    rf"\s{{1,3}}(?:(?:(?:is|was|has\s+been|got)\s+)?(?:set|changed|reset|rotated|updated)\s+to|is\s+now|is|was|as):?\s{{1,3}}{_VALUE}"
    rf"|(?<![A-Za-z])(?:(?P<verb>set|change[ds]?|reset|rotated?|update[ds]?)|using|with|via)\s{{1,3}}(?:the\s+|a\s+|an\s+)?"
    rf"[`'\"‘“]?(?:[A-Za-z0-9]+[_.\-])*?{_KEY}(?![a-z])[`'\"’”]?"
    rf"\s{{1,3}}(?(verb)to\s{{1,3}}){_VALUE.replace('?P<q>', '?P<q2>').replace('?P<u>', '?P<u2>')}")
#: what a text the hint accepts holds: a space and a letter of every key word's tail
WORDED_NEEDLES = ("ass", "ASS", "wd", "WD", "pw", "PW", "Pw", "ecret", "ECRET", "oken", "OKEN", "ey", "EY", "ential", "ENTIAL")
WORDED_REQUIRES = tuple(n + " " for n in WORDED_NEEDLES)


def worded_hint(text: str) -> bool:
    if " " not in text:
        return False
    for n in WORDED_NEEDLES:
        if n in text:
            return True
    return False


_TRAILING = ".,;:!?)"


def worded_spans(text: str) -> Iterator[tuple[int, int]]:
    """The value after a secret-like key and a joining word (module docstring)."""
    for m in WORDED.finditer(text):
        for g in ("q", "u", "q2", "u2"):
            v = m.group(g)
            if v is None:
                continue
            a, b = m.span(g)
            if g[0] == "u":
                while v and v[-1] in _TRAILING:
                    v, b = v[:-1], b - 1
            v = v.strip()
            if len(v) >= 8 and credential_like(v) and not v.isalpha() and "/" not in v and " " not in v:
                yield a, b
            break


VAULT_LEGACY = re.compile(r"(?<![A-Za-z0-9_.\-/])[sbr]\.(?P<s>[A-Za-z0-9]{24})(?![A-Za-z0-9_\-.])")


_VAULT_HINT = re.compile(r"[sbr]\.[A-Za-z0-9]{24}(?![A-Za-z0-9])").search


def vault_hint(text: str) -> bool:
    """Three substring tests, then one search for the shape; the boundaries and the mix are checked by the finder."""
    return ("s." in text or "b." in text or "r." in text) and _VAULT_HINT(text) is not None


def vault_legacy_spans(text: str) -> Iterator[tuple[int, int]]:
    """Legacy Vault tokens: ``s.`` / ``b.`` / ``r.`` and 24 random letters and digits (capitals, small letters
    and digits: a dotted name "s.ConfigurationManager" is none)."""
    for m in VAULT_LEGACY.finditer(text):
        body = m.group("s")
        if any(c.isupper() for c in body) and any(c.islower() for c in body) and sum(c.isdigit() for c in body) >= 2:
            yield m.span()
