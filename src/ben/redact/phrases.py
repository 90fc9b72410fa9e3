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

The value and each word must have a passphrase word's shape (letters, then at most four digits and two symbols):
a flag (``--password=v --verbose``), a path (``./deploy.sh``), a pair (``user=bob``), a random password followed by
a sentence (``pw: cMp*w+3U7g deployed to prod``) stop it. At most five words more; a query string's value never
continues (a space ends it there).
"""

from __future__ import annotations

import re

#: A passphrase's word: letters (any script), then at most four digits and two symbols (``summit74``, ``Kaffee!``).
#: A flag (``--verbose``), a path (``./deploy.sh``), a random string (``x9Kq2Lm``) is none.
_SHAPE = r"[^\W\d_]{2,20}[0-9]{0,4}[!@#$%^&*?.~+_\-]{0,2}"
_FIRST = re.compile(_SHAPE).fullmatch
_WORD = re.compile(r" (?P<w>" + _SHAPE + r")(?=[\s\"';,)}]|$)")
_MAX_WORDS = 5
_NEXT_ENTRY = re.compile(r", ?[\w.\-]{1,40}=")
_KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


def phrase_end(text: str, key_at: int, a: int, b: int) -> int:
    """Where an unquoted value ``text[a:b]`` followed by a space ends when its words continue it, else ``b``."""
    if text[b:b + 1] != " " or _FIRST(text[a:b]) is None:
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
