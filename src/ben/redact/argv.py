"""A program's arguments recorded one by one (ADR 0030, revision 15). The telemetry that records processes
writes a command line as a list, so a flag and its value are two items: ``/proc/PID/cmdline`` (NUL-separated, or
``^@`` as ``cat -v`` shows it), a JSON or Python list (OpenTelemetry's ``process.command_args``, ``docker
inspect``'s ``Args``, Ansible's ``cmd``, a ``CalledProcessError``, Node's ``spawnargs``), a YAML list (a Pod's
``args``), auditd's ``EXECVE`` record (``a0="mysql" a1="-u" …``, an argument in hex when it holds a space or a
quote) and ``PROCTITLE`` (the hex of the NUL-joined argv), and the Kubernetes audit log of ``kubectl exec``
(``?command=mysql&command=-p…``, URL-encoded).

``argv_spans(text)`` joins each such list into one command line (items apart by a space, an item with a space in
double quotes) after the program's name when the list leaves it out and the record names it just before (``"Path":
"zip", "Args": [...]``, ``command: ["mysql"]`` then ``args:``, Node's ``spawn lftp``), runs the command-line and pair
detectors on it (``CHECKS``: ``--password v``, ``--password=v``, ``-u u -p v``, ``mysql -pX``, ``7z -pX``, ``openssl
-passin pass:X``, ``sqlcmd -P X``, a URL's password…) and maps what they find back to the characters that wrote it (two
hex digits a character, ``%xx`` one).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from ben.redact.identifiers import keyless_command_spans

MAX_ITEMS = 200          # items of one list, at most
MAX_LISTS = 16           # lists joined per text, at most

_QUOTED = re.compile(r"""\s{0,40}(?:"(?P<d>(?:[^"\\\r\n]|\\.){0,400})"|'(?P<s>(?:[^'\\\r\n]|\\.){0,400})')\s{0,40}(?P<e>[,\]])""")
_YAML_ITEM = re.compile(r"""(?m)^(?P<i>[ \t]{0,40})- (?:"(?P<d>(?:[^"\\\r\n]|\\.){0,400})"|'(?P<s>[^'\r\n]{0,400})'|(?P<u>[^\s"'#][^\r\n]{0,399}))[ \t]*\r?$""")
_EXECVE = re.compile(r"\ba(?P<n>[0-9]{1,3})=(?:\"(?P<q>[^\"\r\n]{0,400})\"|(?P<h>(?:[0-9A-F]{2}){1,400})(?![\w]))")
_PROCTITLE = re.compile(r"\bproctitle=(?P<h>(?:[0-9A-F]{2}){4,2048})(?![\w])")
_COMMAND = re.compile(r"[?&]command=(?P<v>[^&\s\"'\\]{0,400})")
_PCT = re.compile(r"%[0-9A-Fa-f]{2}")
_SMALL = re.compile("[a-z]").search
#: The program a list of arguments leaves out, named just before it: ``docker inspect``'s ``"Path"``, a container's
#: ``command``, Node's ``spawn X``.
_PROGRAM = re.compile(r"""(?:"Path"\s{0,3}:\s{0,3}"|\bcommand:\s{0,3}\[?\s{0,3}["']?|\bspawn\s+)(?:[^\s"',\]]{0,200}[/\\])?(?P<p>[\w.\-]{1,64})""")
_BEFORE = 400            # characters before a list where its program may be named
#: The detectors that read a joined command line (and ``identifiers.keyless_command_spans``: programs' password
#: arguments, not the rest of ``keyless_password``, whose credential lines and login sentences a joined line is not).
CHECKS = ("command_line", "password", "secret_pair", "url_userinfo")

#: What a text holding a recorded argv holds (the prefilter's requirements: each string's characters; "\x02" is any
#: small letter). NUL separates the prefilter's strings and has no bit: a NUL-separated list is required to hold a dash
#: (a flag) and a small letter (a program's name).
REQUIRES = ("-\x02", "^@", '",', "',", "- ", "a1=", "proctitle=", "command=")

Item = list[tuple[str, int, int]]   # (character, start, end in the original)


def hint(text: str) -> bool:
    """Could ``argv_spans`` find anything? (Substring tests.)"""
    return ("\x00" in text and "-" in text and _SMALL(text) is not None or "^@" in text or '", "' in text or "', '" in text or '",' in text or "\n" in text and "- " in text
            or " a1=" in text or "proctitle=" in text or "command=" in text)


def _plain(text: str, a: int, b: int) -> Item:
    return [(text[i], i, i + 1) for i in range(a, b)]


def _hex(text: str, a: int, b: int) -> list[Item]:
    """Hex of bytes from ``a`` to ``b``: its items apart at NULs (printable ASCII only; None if not text)."""
    items: list[Item] = [[]]
    for i in range(a, b - 1, 2):
        c = int(text[i:i + 2], 16)
        if c == 0:
            items.append([])
        elif 32 <= c < 127:
            items[-1].append((chr(c), i, i + 2))
        else:
            return []
    return [it for it in items if it]


def _percent(text: str, a: int, b: int) -> Item:
    out, i = [], a
    while i < b:
        if text[i] == "%" and _PCT.match(text, i) and i + 3 <= b:
            out.append((chr(int(text[i + 1:i + 3], 16)), i, i + 3))
            i += 3
        else:
            out.append((text[i], i, i + 1))
            i += 1
    return out


def _json_lists(text: str) -> Iterator[list[Item]]:
    at = text.find("[")
    while at >= 0:
        items, pos = [], at + 1
        while len(items) < MAX_ITEMS:
            m = _QUOTED.match(text, pos)
            if m is None:
                break
            g = "d" if m.group("d") is not None else "s"
            items.append(_plain(text, *m.span(g)))
            pos = m.end()
            if m.group("e") == "]":
                break
        if len(items) >= 2:
            yield _program(text, at) + items
        at = text.find("[", max(pos, at + 1))


def _yaml_lists(text: str) -> Iterator[list[Item]]:
    items: list[Item] = []
    indent, end, first = None, -1, 0
    for m in _YAML_ITEM.finditer(text):
        if indent is not None and (m.group("i") != indent or text[end:m.start()].strip()):
            if len(items) >= 2:
                yield _program(text, first) + items
            items = []
        if not items:
            first = m.start()
        indent, end = m.group("i"), m.end()
        g = next(k for k in "dsu" if m.group(k) is not None)
        items.append(_plain(text, *m.span(g)))
    if len(items) >= 2:
        yield _program(text, first) + items


def _program(text: str, at: int) -> list[Item]:
    """The program named just before a list at ``at`` (as an item), or none."""
    last = None
    for m in _PROGRAM.finditer(text, max(0, at - _BEFORE), at):
        last = m
    return [] if last is None else [_plain(text, *last.span("p"))]


def _separated(text: str, sep: str) -> Iterator[list[Item]]:
    for line_start, line in _lines(text):
        if sep not in line:
            continue
        items, pos = [], 0
        for part in line.split(sep):
            if part:
                items.append(_plain(text, line_start + pos, line_start + pos + len(part)))
            pos += len(part) + len(sep)
        if len(items) >= 2:
            yield items[:MAX_ITEMS]


def _lines(text: str) -> Iterator[tuple[int, str]]:
    pos = 0
    for line in text.split("\n"):
        yield pos, line
        pos += len(line) + 1


def _execve(text: str) -> Iterator[list[Item]]:
    items, last = [], -1
    for m in _EXECVE.finditer(text):
        n = int(m.group("n"))
        if n != last + 1:
            if len(items) >= 2:
                yield items
            items = []
            if n != 0:
                last = -1
                continue
        last = n
        if m.group("q") is not None:
            items.append(_plain(text, *m.span("q")))
        else:
            decoded = _hex(text, *m.span("h"))
            items.append([c for it in decoded for c in it])
    if len(items) >= 2:
        yield items


def _lists(text: str) -> Iterator[list[Item]]:
    if "[" in text and ("\"," in text or "'," in text):
        yield from _json_lists(text)
    if "- " in text and "\n" in text:
        yield from _yaml_lists(text)
    if "\x00" in text and "-" in text:
        yield from _separated(text, "\x00")
    if "^@" in text:
        yield from _separated(text, "^@")
    if " a1=" in text:
        yield from _execve(text)
    if "proctitle=" in text:
        for m in _PROCTITLE.finditer(text):
            items = _hex(text, *m.span("h"))
            if len(items) >= 2:
                yield items
    if "command=" in text:
        ms = list(_COMMAND.finditer(text))
        if len(ms) >= 2:
            yield [_percent(text, *m.span("v")) for m in ms[:MAX_ITEMS]]


def _joined(items: list[Item]) -> tuple[str, list[tuple[int, int]]]:
    chars: list[str] = []
    where: list[tuple[int, int]] = []
    for it in items:
        if not it:
            continue
        if chars:
            chars.append(" ")
            where.append((it[0][1], it[0][1]))
        quote = '"' if any(c in " \t" for c, _, _ in it) and not any(c == '"' for c, _, _ in it) else ""
        if quote:
            chars.append(quote)
            where.append((it[0][1], it[0][1]))
        for c, a, b in it:
            chars.append(c)
            where.append((a, b))
        if quote:
            chars.append(quote)
            where.append((it[-1][2], it[-1][2]))
    return "".join(chars), where


def argv_spans(text: str, rules: Callable[[], dict]) -> Iterator[tuple[int, int]]:
    """Secrets on a command line recorded as a list of its arguments, as spans of ``text`` (``rules()``: the
    detectors by name)."""
    found = None
    for n, items in enumerate(_lists(text)):
        if n >= MAX_LISTS:
            return
        found = found or rules()
        line, where = _joined(items)
        for a, b in (*(s for name in CHECKS for s in found[name].spans(line)), *keyless_command_spans(line)):
            if b > a:
                yield where[a][0], where[b - 1][1]
