"""Passphrases in unquoted values (ADR 0030, revision 10): ``password=`` followed by words with spaces between
them, where the syntax around the pair says where the value ends (``ben.redact.finders.pair_spans``, for the
``password`` detector only; tokens and keys hold no spaces).

An unquoted value ends at a space, so ``password: copper copper harbor95`` kept two of its three words. The
words that follow are the value's when what stops them closes it:

    the end of the line or text    ``password: a b c`` (YAML, .env, INI, a log line's last field)
    the quote opened before the key ``"DB_PASSWORD=a b c"`` (an argv or environment list's element)
    a ';'                          ``;Password=a b c;`` (ADO.NET, JDBC, ODBC connection strings)
    a map's next entry or its end  ``{password=a b c, retries=3}`` (Java's Map.toString), ``... c}``
    a parenthetical                ``senha: a b c (usuário u)``

At most five words of up to 24 characters each, none holding ``=`` or ``:`` (``password=x user=bob`` is two
pairs) or a bracket or quote; a query string's value never continues (a space ends it there).
"""

from __future__ import annotations

import re

_WORD = re.compile(r" (?P<w>[^\s=:\"'`\[\](){}<>,;&|\\]{1,24})")
_MAX_WORDS = 5
_NEXT_ENTRY = re.compile(r", ?[\w.\-]{1,40}=")
_KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


def phrase_end(text: str, key_at: int, b: int) -> int:
    """Where an unquoted value that ended at ``b`` (a space) ends when its words continue it, else ``b``."""
    if text[b:b + 1] != " ":
        return b
    pos, n = b, 0
    while n < _MAX_WORDS and (m := _WORD.match(text, pos)) is not None:
        pos, n = m.end(), n + 1
    if n == 0:
        return b
    closer = text[pos:pos + 1]
    k = key_at
    while k > 0 and text[k - 1] in _KEY_CHARS:   # the whole key: KAFKA_SASL_PASSWORD, not its last word
        k -= 1
    before = text[k - 1:k]
    if closer in ("", "\r", "\n") or text.startswith(" (", pos) or closer == "}" and before in ("{", " "):
        return pos
    if closer in "\"'" and before == closer:
        return pos
    if closer == ";" and before in ("", ";", " ", "\n", "\t", '"', "'"):
        return pos
    if closer == "," and before in (" ", "{") and _NEXT_ENTRY.match(text, pos) is not None:
        return pos
    return b
