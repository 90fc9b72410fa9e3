"""A secret as a person pastes it into a chat, a ticket or an e-mail (ADR 0030, revision 18).

Three forms the pair and sentence rules do not read where people write them:

- **Rich text** (``message_spans``): an editor keeps a message as *runs* of text, each with its marks — Slack's
  ``blocks`` (``{"type": "text", "text": "password: "}, {"type": "text", "text": "v", "style": {"code": true}}``), the
  Atlassian document format (``"marks": [{"type": "code"}]``) — or as HTML with inline tags between a key and its
  value (``password: <code>v</code>``, ``<b>``, ``<strong>``, ``<span …>``) and block tags after it (``v</p>``). Each
  text is read again as a person reads it: consecutive runs joined, inline tags left out, a block's tag a line break; the pair, sentence and credential-line rules (``CHECKS``) run on
  that view and what they find is mapped back to the characters that wrote it.
- **Tables** (``table_spans``): a markdown table whose header names a secret (``| user | password |``) — the cells of
  that column in the rows under its ``|---|`` line, when they look like a credential.
- **A key id and its secret** (``key_pair_spans``): an AWS or Alibaba access key id (``AKIA…``, ``ASIA…``,
  ``LTAI…``) with, within ``PAIR_WINDOW`` characters after it, a run of 30-40 base64 characters of mixed case and
  digits: the id's secret, whatever the words between them (``access key AKIA…\\nsecret v``, ``ak: LTAI…, sk: v``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

#: The detectors that read a rich text's view.
CHECKS = ("password", "secret_pair", "worded_secret", "keyless_password", "command_line", "layout")
MAX_RUNS = 400            # text runs of a rich-text document read per text, at most
#: A text run's string in an editor's JSON (Slack's blocks, ADF): ``"text": "…"``.
_RUN = re.compile(r'"text"\s{0,3}:\s{0,3}"((?:[^"\\\r\n]|\\.){0,4000})"')
#: What may stand between two runs of one paragraph: JSON's punctuation, the run's type and its marks.
_BETWEEN = re.compile(r'(?:[\s,:{}\[\]]|"(?:type|text|style|marks|code|bold|italic|strike|underline|em|strong)"|true|false)*')
#: Inline tags (HTML, a mail's or a tracker's rendering) that stand between a key and its value.
_TAG = re.compile(r"</?(?:(?P<inline>code|b|strong|em|i|u|tt|kbd|samp|mark|span|font)"
                  r"|p|div|br|li|ul|ol|pre|blockquote|h[1-6]|tr|td|th|table)(?:\s[^<>\r\n]{0,200})?/?>", re.I)


def hint(text: str) -> bool:
    """Could ``message_spans`` find anything? (Substring tests.)"""
    return '"text"' in text or ">" in text and "</" in text


#: The prefilter's requirements: a run's key, or an inline tag's closing ``>`` (characters the table already has).
REQUIRES = ('"text', "/>")


def _runs_views(text: str) -> list[tuple[str, list[int]]]:
    """Each paragraph of an editor's JSON (two or more consecutive text runs) joined; each character's offset in
    ``text``. A run alone is read as it is by every rule already."""
    out: list[tuple[str, list[int]]] = []
    group: list[re.Match] = []
    for m in [*list(_RUN.finditer(text))[:MAX_RUNS], None]:
        if m is not None and group and _BETWEEN.fullmatch(text, group[-1].end(1) + 1, m.start(1) - 1) is not None:
            group.append(m)
            continue
        if len(group) > 1:
            where = [i for g in group for i in range(g.start(1), g.end(1))]
            out.append(("".join(g.group(1) for g in group), where))
        group = [m]
    return out


def _tags_view(text: str) -> tuple[str, list[int]] | None:
    """``text`` without its inline tags, a block's tag a line break; each character's offset in ``text``."""
    chars: list[str] = []
    where: list[int] = []
    pos = 0
    for m in _TAG.finditer(text):
        chars.append(text[pos:m.start()])
        where.extend(range(pos, m.start()))
        if m.group("inline") is None:   # a block's tag ends a line
            chars.append("\n")
            where.append(m.start())
        pos = m.end()
    if pos == 0:
        return None
    chars.append(text[pos:])
    where.extend(range(pos, len(text)))
    return "".join(chars), where


def message_spans(text: str, rules: Callable[[], dict]) -> Iterator[tuple[int, int]]:
    """Secrets in a rich text's runs or between its inline tags, as spans of ``text`` (``rules()``: the detectors)."""
    views = _runs_views(text) if '"text"' in text else []
    if "</" in text:
        views.append(_tags_view(text))
    found = None
    for view in views:
        if view is None:
            continue
        found = found or rules()
        v, where = view
        for name in CHECKS:
            det = found[name]
            if det.hint(v):
                for a, b in det.spans(v):
                    if b > a:
                        yield where[a], where[b - 1] + 1


# -- markdown tables ---------------------------------------------------------------------------------------------
_ROW = re.compile(r"(?m)^(?P<lead>[^|\r\n]{0,400})(?P<row>\|[^\r\n]*\|)[^|\r\n]{0,400}\r?$")
_RULE_ROW = re.compile(r"\|(?:[ \t]*:?-{3,}:?[ \t]*\|)+")


def table_hint(text: str) -> bool:
    """Could ``table_spans`` find anything? A markdown table's rule row, under a line."""
    return "\n" in text and ("|---" in text or "| ---" in text or "|:--" in text)


TABLE_REQUIRES = ("-\n",)


def _cells(row: str, at: int) -> list[tuple[int, int]]:
    """Each cell of ``row`` (starting at ``at`` in the text) as its stripped span."""
    out, pos = [], 1
    while True:
        end = row.find("|", pos)
        if end < 0:
            return out
        a, b = pos, end
        while a < b and row[a] in " \t":
            a += 1
        while b > a and row[b - 1] in " \t":
            b -= 1
        out.append((at + a, at + b))
        pos = end + 1


def table_spans(text: str) -> Iterator[tuple[int, int]]:
    """The cells of a markdown table's columns whose header names a secret."""
    from ben.redact.layouts import _value_ok, is_secret_key

    rows = list(_ROW.finditer(text))
    for i in range(len(rows) - 1):
        if _RULE_ROW.fullmatch(rows[i + 1].group("row")) is None:
            continue
        head = _cells(rows[i].group("row"), rows[i].start("row"))
        secret = [k for k, (a, b) in enumerate(head) if is_secret_key(text[a:b])]
        if not secret:
            continue
        for m in rows[i + 2:]:
            if _RULE_ROW.fullmatch(m.group("row")) is not None:
                break
            cells = _cells(m.group("row"), m.start("row"))
            if len(cells) != len(head):
                break
            for k in secret:
                a, b = cells[k]
                v = text[a:b]
                if " " not in v and _value_ok(v):
                    yield a, b


# -- an access key id and its secret -------------------------------------------------------------------------------
PAIR_WINDOW = 160
_KEY_ID = re.compile(r"(?<![A-Za-z0-9])(?:AKIA|ASIA|LTAI)[A-Za-z0-9]{12,26}(?![A-Za-z0-9])")
_SECRET = re.compile(r"(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{30,40}(?![A-Za-z0-9+/=])")
KEY_PAIR_NEEDLES = ("AKIA", "ASIA", "LTAI")


def key_pair_hint(text: str) -> bool:
    return "AKIA" in text or "ASIA" in text or "LTAI" in text


def _random(v: str) -> bool:
    """Capitals, small letters and a digit, not a path (``a/b/c``)."""
    return (any(c.isupper() for c in v) and any(c.islower() for c in v) and any(c.isdigit() for c in v)
            and v.count("/") < 3)


def key_pair_spans(text: str) -> Iterator[tuple[int, int]]:
    """The secret after an access key id: the first random run of 30-40 base64 characters within the window."""
    for m in _KEY_ID.finditer(text):
        for s in _SECRET.finditer(text, m.end(), min(len(text), m.end() + PAIR_WINDOW)):
            if _random(s.group()):
                yield s.span()
                break
