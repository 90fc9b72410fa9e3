"""Brackets inside an unquoted value (``ben.redact.finders.pair_spans``; ADR 0030, revision 7): an ADO.NET or
ODBC password may hold ``[`` and ``]`` (``Password=ab[cd]ef!;``), a list or a bracket around the pair may not."""

from __future__ import annotations

import re

#: After an unquoted value stopped at a bracket: the rest of the value when more of it follows the bracket.
bracketed_rest = re.compile(r"""[\[\]]+[^\s"'\\,;<>{}\[\]]+(?:[\[\]]+[^\s"'\\,;<>{}\[\]]+)*[\[\]]?""").match


def opened_before(text: str, at: int) -> bool:
    """Is a '[' left open on the line before ``at`` (``cfg[token=v]loaded``: the ']' closes it, not the value)?"""
    lo = text.rfind("\n", 0, at) + 1
    return text.count("[", lo, at) > text.count("]", lo, at)
