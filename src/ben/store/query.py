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


def check_read_only(sql: str) -> str:
    """Return the statement, stripped of a trailing ';', or raise QueryError naming the problem."""
    text = sql.strip().rstrip(";").strip()
    if not text:
        raise QueryError("query is empty")
    if ";" in _strip_literals(text):
        raise QueryError("one statement per query (found ';' between statements)")
    first = text.split(None, 1)[0].upper()
    if first not in READ_ONLY_STARTS:
        raise QueryError(f"only read-only queries are allowed ({', '.join(READ_ONLY_STARTS)}); got {first}")
    return text
