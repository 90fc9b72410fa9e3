"""Operator queries: one read-only statement at a time."""

from __future__ import annotations

from ben.core.errors import QueryError

READ_ONLY_STARTS = ("SELECT", "WITH", "SHOW", "DESCRIBE", "DESC", "EXPLAIN", "EXISTS")


def _strip_literals(sql: str) -> str:
    """The SQL with quoted strings and identifiers blanked, so ';' inside them is ignored."""
    out, quote, i = [], "", 0
    while i < len(sql):
        ch = sql[i]
        if quote:
            if ch == "\\":
                i += 2
                continue
            if ch == quote:
                quote = ""
            out.append(" ")
        elif ch in "'\"`":
            quote = ch
            out.append(" ")
        else:
            out.append(ch)
        i += 1
    if quote:
        raise QueryError(f"unterminated {quote} quote in query")
    return "".join(out)


def _strip_leading_comments(text: str) -> str:
    """The statement without the -- and /* */ comments before its first word."""
    while True:
        text = text.lstrip()
        if text.startswith("--"):
            text = text.partition("\n")[2]
        elif text.startswith("/*"):
            end = text.find("*/")
            if end < 0:
                raise QueryError("unterminated /* comment in query")
            text = text[end + 2:]
        else:
            return text


def check_read_only(sql: str) -> str:
    """Return the statement, stripped of leading comments and a trailing ';', or raise QueryError naming the problem."""
    text = _strip_leading_comments(sql).rstrip().rstrip(";").strip()
    if not text:
        raise QueryError("query is empty")
    if ";" in _strip_literals(text):
        raise QueryError("one statement per query (found ';' between statements)")
    first = text.split(None, 1)[0].upper()
    if first not in READ_ONLY_STARTS:
        raise QueryError(f"only read-only queries are allowed ({', '.join(READ_ONLY_STARTS)}); got {first}")
    return text
