"""What a secret may hide behind: URL encoding (``%xx``, ``+``), JSON string escapes and the XML/HTML
entities of quotes, brackets and ``&`` (``&quot;``, ``&#x27;``: a value in a markup attribute); ``\\xHH``
escapes of ASCII (nginx's ``\\x22`` in a logged request body, a Python repr); a .properties file's ``\\=`` and ``\\:``
(``jdbc\\:…;password\\=v``); a quote doubled inside a quoted
CSV cell or SQL literal (``""password"": ""v""``, ``BY ''v''``: a doubled quote with another one after it on its
line);
and ANSI colour codes around a key or a value (``\\x1b[36mpassword\\x1b[0m=\\x1b[35mv``, raw or escaped),
which are removed (a decoded character then stands for nothing in the original).

``decoded(text)`` returns the text with those escapes undone, and for every character of the result
where it starts in the original, so that a secret found in the decoded form masks exactly the
original characters that spell it (``Bearer%20abc`` -> the ``abc`` of the original). Three rounds
undo a double or triple encoding (``%2520``, JSON in JSON in JSON); ``+`` is a space in the first round only (later it
was written ``%2B``). Percent-escapes of non-ASCII bytes are left as they are (secrets
and the words around them are ASCII); a character count is kept either way.
"""

from __future__ import annotations

import re

_ESC = re.compile(r"(?:\x1b|\\(?:u001[bB]|x1[bB]|033|e))\[[0-9;]{0,16}m"   # a colour code: removed
                  r"|(?:%[89A-Fa-f][0-9A-Fa-f])+|%[0-9A-Fa-f]{2}|\+|\\(?:u[0-9A-Fa-f]{4}|x[0-7][0-9A-Fa-f]|[\"\\/bfnrt=:])"
                  r"|&(?:quot|amp|lt|gt|apos|#[0-9]{2,3}|#x[0-9A-Fa-f]{2});"
                  r"|\"\"(?=[^\"\r\n]{1,400}\"\")|''(?=[^'\r\n]{1,400}'')")   # a doubled quote before another
_COLOURED = re.compile(r"(?:\x1b|\\(?:u001[bB]|x1[bB]|033|e))\[[0-9;]{0,16}m").search
_ENTITY = {"quot": '"', "amp": "&", "lt": "<", "gt": ">", "apos": "'"}
_JSON = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t",
         "=": "=", ":": ":"}   # and a Java .properties file's \= and \: (revision 17)
ROUNDS = 3


def _utf8(run: str) -> list[tuple[int, str]] | None:
    """The characters a run of %xx escapes of bytes >= 0x80 spells in UTF-8, each with its offset in the
    run; None if the bytes are not UTF-8."""
    raw = bytes.fromhex(run.replace("%", ""))
    out, i = [], 0
    while i < len(raw):
        b = raw[i]
        n = 2 if 0xC0 <= b < 0xE0 else 3 if 0xE0 <= b < 0xF0 else 4 if 0xF0 <= b < 0xF8 else 0
        if not n:
            return None
        try:
            out.append((3 * i, raw[i:i + n].decode("utf-8")))
        except UnicodeDecodeError:
            return None
        i += n
    return out


def _once(text: str, plus: bool) -> tuple[str, list[int]] | None:
    pieces: list[str] = []
    starts: list[int] = []
    pos = 0
    for m in _ESC.finditer(text):
        a, b = m.span()
        esc = m.group()
        if esc == "+":
            if not plus:
                continue
            ch = " "
        elif esc[-1] == "m" and "[" in esc:   # a colour code stands for nothing
            if a > pos:
                pieces.append(text[pos:a])
                starts.extend(range(pos, a))
            pos = b
            continue
        elif esc[0] in "'\"" and esc[-1] in "'\"":
            ch = esc[0]
        elif esc[0] == "%":
            if len(esc) > 3 or esc[1] in "89ABCDEFabcdef":   # UTF-8 bytes: a key such as contrase%C3%B1a
                chars = _utf8(esc)
                if chars is None:
                    continue   # not UTF-8: kept as written
                if a > pos:
                    pieces.append(text[pos:a])
                    starts.extend(range(pos, a))
                for at, ch in chars:
                    pieces.append(ch)
                    starts.append(a + at)
                pos = b
                continue
            ch = chr(int(esc[1:], 16))
        elif esc[0] == "&":
            name = esc[1:-1]
            ch = _ENTITY.get(name) or chr(int(name[2:], 16) if name[1] == "x" else int(name[1:]))
        elif esc[1] in "ux":
            ch = chr(int(esc[2:], 16))
        else:
            ch = _JSON[esc[1]]
        if a > pos:
            pieces.append(text[pos:a])
            starts.extend(range(pos, a))
        pieces.append(ch)
        starts.append(a)
        pos = b
    if not starts:
        return None
    pieces.append(text[pos:])
    starts.extend(range(pos, len(text) + 1))   # and one past the end
    return "".join(pieces), starts


def may_decode(text: str) -> bool:
    """Could ``decoded(text)`` differ from text? (Substring tests: a superset of the escapes.)"""
    return ("%" in text or "+" in text or "\\" in text or "&" in text or "\x1b" in text or '""' in text
            or "''" in text or "=\n" in text or "=\r\n" in text or "rintable" in text)


# -- quoted-printable (RFC 2045: a mail's body part) ------------------------------------------------------------
#: ``=XX`` (a byte) or a soft line break (``=`` ending a line: the line goes on).
_QP = re.compile(r"(?:=[0-9A-F]{2})+|=\r?\n")
#: A text is read as quoted-printable when it says so (a part's ``Content-Transfer-Encoding``), or has a soft line
#: break and holds an escape an encoder writes: ``=3D`` (an ``=``), ``=20``/``=09`` (a space before a line's end),
#: ``=C3=B1`` (UTF-8).
_QP_ESCAPE = re.compile(r"=(?:3D|20|09|[C-F][0-9A-F]=[89AB][0-9A-F])").search


def _quoted_printable(text: str) -> tuple[str, list[int]] | None:
    """``text`` with its quoted-printable escapes and soft line breaks undone, when it is quoted-printable: (the
    decoded text, the start in ``text`` of each character, then ``len(text)``); else None."""
    said = "rintable" in text and "quoted-printable" in text.lower()
    if not said and ("=\n" not in text and "=\r\n" not in text or _QP_ESCAPE(text) is None):
        return None
    pieces: list[str] = []
    starts: list[int] = []
    pos = 0
    for m in _QP.finditer(text):
        a, b = m.span()
        if a > pos:
            pieces.append(text[pos:a])
            starts.extend(range(pos, a))
        pos = b
        esc = m.group()
        if esc[1] in "\r\n":
            continue   # a soft line break stands for nothing
        raw = bytes.fromhex(esc.replace("=", ""))
        try:
            chars, utf8 = raw.decode("utf-8"), True
        except UnicodeDecodeError:
            chars, utf8 = raw.decode("latin-1"), False
        at = a
        for ch in chars:   # each character starts at its first byte's escape (3 characters a byte)
            pieces.append(ch)
            starts.append(at)
            at += 3 * (len(ch.encode("utf-8")) if utf8 else 1)
    pieces.append(text[pos:])
    starts.extend(range(pos, len(text) + 1))
    return "".join(pieces), starts


def decoded(text: str) -> tuple[str, list[int]] | None:
    """(the decoded text, the start in ``text`` of each of its characters, then ``len(text)``), or None
    when there is nothing to decode."""
    qp = _quoted_printable(text)
    if qp is not None:   # a mail's part: its escapes first, then the others with no '+' as a space
        result, starts = qp
        more = _once(result, False)
        if more is not None:
            result, inner = more
            starts = [starts[i] for i in inner]
        return result, starts
    out = _once(text, "+" in text and _COLOURED(text) is None)   # a terminal's colours: no URL encoding
    if out is None:
        return None
    result, starts = out
    for _ in range(ROUNDS - 1):
        more = _once(result, False)   # a '+' now is one that was written %2B
        if more is None:
            break
        result, inner = more
        starts = [starts[i] for i in inner]
    return result, starts
