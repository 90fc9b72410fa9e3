"""``ben.redact.changes``: a word diff's marks read in one pass (ADR 0030, revision 17 and 2026-12-08)."""

from __future__ import annotations

import random
import re

from ben.redact.changes import _marks, change_spans
from ben.redact.detectors import SECRET_RULES

#: What the marks were read with before: the same answers, but from every opening mark that never closes it scanned to
#: the end of the line again.
REFERENCE = re.compile(r"\[-(?P<old>.*?)-\]|\{[+ ](?P<new>.*?)[+ ]\}")


def reference(line: str) -> list[tuple[int, int, str, int, int]]:
    out = []
    for m in REFERENCE.finditer(line):
        side = "old" if m.group("old") is not None else "new"
        out.append((m.start(), m.end(), side, m.start(side), m.end(side)))
    return out


def test_the_marks_are_those_the_expression_finds_on_random_lines() -> None:
    rng = random.Random(30)
    pieces = ["[-", "-]", "{+", "+}", "{ ", " }", "[", "]", "{", "}", "-", "+", " ", "a", "=", "\r"]
    for _ in range(20_000):
        line = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 14)))
        assert list(_marks(line)) == reference(line), repr(line)


def test_opening_marks_that_never_close_are_read_once() -> None:
    """210 kB of ``[-a-]{+`` on one line: each ``{+`` never closes. The expression scanned to the line's end from each
    (22 s of CPU); one pass reads it. Counted, not timed: the closing marks searched for stay linear in the line."""
    line = "[-a-]{+" * 30_000
    assert len(list(_marks(line))) == 30_000
    searched = []

    class Counting:
        def __init__(self, pattern: re.Pattern) -> None:
            self.pattern = pattern

        def search(self, text: str, pos: int = 0):
            searched.append(pos)
            return self.pattern.search(text, pos)

    import ben.redact.changes as changes
    saved = changes._CLOSE
    changes._CLOSE = {side: Counting(p) for side, p in saved.items()}
    try:
        assert len(list(_marks(line))) == 30_000
    finally:
        changes._CLOSE = saved
    assert len(searched) <= 30_000 + 2  # one per closed change, one more per side that never closes


def test_a_password_changed_in_a_word_diff_is_still_found() -> None:
    text = "DB_PASSWORD=[-Wint3r-Is-Coming!-]{+Summ3r-Is-Here?+}"
    spans = sorted(set(change_spans(text, lambda: SECRET_RULES)))
    found = [text[a:b] for a, b in spans]
    assert any("Wint3r-Is-Coming!" in s for s in found) and any("Summ3r-Is-Here?" in s for s in found), found
