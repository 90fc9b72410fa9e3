"""Brackets inside an unquoted value (``ben.redact.finders.pair_spans``; ADR 0030, revision 7): an ADO.NET or
ODBC password may hold ``[`` and ``]`` (``Password=ab[cd]ef!;``), a list or a bracket around the pair may not."""

from __future__ import annotations

import re

#: After an unquoted value stopped at a bracket: the rest of the value when more of it follows the bracket.
bracketed_rest = re.compile(r"""[\[\]]+[^\s"'\\,;<>{}\[\]]+(?:[\[\]]+[^\s"'\\,;<>{}\[\]]+)*[\[\]]?""").match


def opened_before(text: str, at: int, seen: list[int] | None = None) -> bool:
    """Is a '[' left open on the line before ``at`` (``cfg[token=v]loaded``: the ']' closes it, not the value)?
    ``seen`` (a list the caller keeps per text, empty at first): what the last call counted, so that calls going right
    along a line count each character once (2026-12-08: counted from the line's start each time, a long line of values
    took time quadratic in its length)."""
    if seen and seen[1] <= at and text.find("\n", seen[1], at) < 0:
        lo, depth = seen[0], seen[2] + text.count("[", seen[1], at) - text.count("]", seen[1], at)
    else:
        lo = text.rfind("\n", 0, at) + 1
        depth = text.count("[", lo, at) - text.count("]", lo, at)
    if seen is not None:
        seen[:] = lo, at, depth
    return depth > 0
