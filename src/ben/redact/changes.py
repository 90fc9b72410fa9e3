"""A changed line as ``git diff --word-diff`` writes it (ADR 0030, revision 17): the words taken out between ``[-`` and
``-]``, the words put in between ``{+`` and ``+}``, on the line of the words that stay —
``DB_PASSWORD=[-old-]{+new+}``, ``"apiKey": [-"old",-]{+"new",+}``. Neither value follows its key as the pair rules
read it (the marks stand between them). ``change_spans(text)`` reads each such line twice, as it was (the removed
words without their marks, the added ones left out) and as it is (the other way round), runs the pair and token
detectors on each (``CHECKS``) and maps what they find back to the characters of the line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

#: The detectors that read a line as it was and as it is.
CHECKS = ("password", "secret_pair", "url_userinfo", "token", "layout")
#: What a text holding a word diff holds (the prefilter's requirements: each string's characters). Only characters
#: other detectors already name: a new one would take one of the prefilter's 64 bits from a capital letter that
#: sharpens theirs (``ben.redact.prefilter._ranked``: '}' and '<' took those of 'A' and 'E').
REQUIRES = ("[-]", "{+")
MAX_LINES = 64           # changed lines read per text, at most
#: The marks of a changed word (``{ `` and `` }`` too: the engine's URL-decoded pass reads a ``+`` as a space): where
#: each side's words open, and where they close. ``_marks`` reads them as ``\[-(?P<old>.*?)-\]|\{[+ ](?P<new>.*?)[+ ]\}``
#: would, in one pass: that expression, run by ``finditer``, scanned from every opening mark that never closes to the end
#: of its line again (``"[-a-]{+" * 30000``, 210 kB on one line, took 22 s of CPU).
_OPEN = {"old": re.compile(r"\[-"), "new": re.compile(r"\{[+ ]")}
_CLOSE = {"old": re.compile(r"-\]"), "new": re.compile(r"[+ ]\}")}


def hint(text: str) -> bool:
    """Could ``change_spans`` find anything? (Substring tests.)"""
    return "[-" in text and "-]" in text or "{+" in text and "+}" in text


def _marks(line: str) -> Iterator[tuple[int, int, str, int, int]]:
    """The changed words of ``line``, left to right, as ``(start, end, side, words_start, words_end)`` (``side``:
    ``old`` or ``new``): each opening mark with the first closing mark of its side after it, the earliest opening first.
    Linear: an opening mark with no closing one after it means no later one of its side closes either."""
    ahead = {side: _OPEN[side].search(line) for side in _OPEN}
    pos = 0
    while True:
        for side, m in ahead.items():
            if m is not None and m.start() < pos:
                ahead[side] = _OPEN[side].search(line, pos)
        opened = [(m.start(), side) for side, m in ahead.items() if m is not None]
        if not opened:
            return
        start, side = min(opened)
        close = _CLOSE[side].search(line, start + 2)
        if close is None:
            ahead[side] = None
            continue
        yield start, close.end(), side, start + 2, close.start()
        pos = close.end()


def _side(line: str, at: int, keep: str) -> tuple[str, list[int]]:
    """``line`` (starting at ``at`` in the text) as one side of its change: the words of ``keep`` (``old`` or ``new``)
    without their marks, the other side's left out; and each character's offset in the text."""
    chars: list[str] = []
    where: list[int] = []
    pos = 0
    for start, end, kind, a, b in _marks(line):
        chars.append(line[pos:start])
        where.extend(range(at + pos, at + start))
        if kind == keep:
            chars.append(line[a:b])
            where.extend(range(at + a, at + b))
        pos = end
    chars.append(line[pos:])
    where.extend(range(at + pos, at + len(line)))
    return "".join(chars), where


def change_spans(text: str, rules: Callable[[], dict]) -> Iterator[tuple[int, int]]:
    """Secrets on the changed lines of a word diff, as spans of ``text`` (``rules()``: the detectors by name)."""
    found = None
    start, n = 0, 0
    while start < len(text) and n < MAX_LINES:
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        line = text[start:end]
        if ("[-" in line and "-]" in line or "{+" in line and "+}" in line) and next(_marks(line), None) is not None:
            n += 1
            found = found or rules()
            for keep in ("old", "new"):
                view, where = _side(line, start, keep)
                for name in CHECKS:
                    for a, b in found[name].spans(view):
                        if b > a:
                            yield where[a], where[b - 1] + 1
        start = end + 1


# -- a private key's lines in a diff, without its BEGIN and END lines -----------------------------------------------
#: Three or more lines of a diff (``<``/``>`` of ``diff``'s normal output, ``+``/``-`` of a unified one), each one
#: line of a PEM body (64 base64 characters; the last one may be shorter): a key rotated in place shows only its
#: changed lines, not its armour.
_KEY_LINES = re.compile(r"(?m)(?:^[<>+\-][ \t]{0,24}[A-Za-z0-9+/]{64}\r?\n){2,}"
                        r"(?:^[<>+\-][ \t]{0,24}(?:[A-Za-z0-9+/]{64}\r?\n)|^[<>+\-][ \t]{0,24}(?P<last>[A-Za-z0-9+/]{8,64}={0,2})\r?$)")
_LINE = re.compile(r"[A-Za-z0-9+/]{64}")
_ASCII_RUNS = re.compile(rb"[\x20-\x7e]{12,}").finditer
#: The names an OpenSSH private key holds (its magic, key types, ciphers): text that does not make it a certificate.
_SSH_NAMES = re.compile(rb"openssh-key-v1|ecdsa-sha2-nistp[0-9]+|sk-ssh-ed25519@openssh\.com|ssh-ed25519|ssh-rsa"
                        rb"|aes[0-9]+-[a-z]+(?:@openssh\.com)?|chacha20-poly1305@openssh\.com|rsa-sha2-[0-9]+|bcrypt")
#: What a text holding such lines holds (the prefilter's requirements): a line break (``<`` would take a bit, as above).
KEY_LINES_REQUIRES = ("\n",)


def key_lines_hint(text: str) -> bool:
    """Could ``key_lines_spans`` find anything? (Substring tests.)"""
    return "\n<" in text or "\n>" in text or "\n+" in text or "\n-" in text


def key_lines_spans(text: str) -> Iterator[tuple[int, int]]:
    """The base64 of each line of such a run, unless the run decodes to something that holds text (a certificate
    names its subject, its issuer, the URLs of its revocation lists: a run of 12 printable characters; a private key
    is random bytes and, for OpenSSH's, the names of its format, ``_SSH_NAMES``) or is all one case (no base64 of
    random bytes)."""
    import base64
    import binascii

    from ben.redact.finders import _public_blocks

    public = _public_blocks(text) if "-----BEGIN " in text else ()
    for m in _KEY_LINES.finditer(text):
        if any(lo <= m.start() < hi for lo, hi in public):
            continue   # the lines of a certificate or a public key added whole: its BEGIN line says what it is
        lines = [x for x in _LINE.finditer(text, m.start(), m.start("last") if m.group("last") else m.end())]
        joined = "".join(x.group() for x in lines)
        if joined.islower() or joined.isupper():
            continue
        try:
            raw = base64.b64decode(joined, validate=True)
        except (binascii.Error, ValueError):
            continue
        if any(len(_SSH_NAMES.sub(b"", r.group())) >= 12 for r in _ASCII_RUNS(raw)):
            continue
        for x in lines:
            yield x.span()
        if m.group("last"):
            yield m.span("last")   # the body's last line, shorter
