"""The rules' worst case on a long line (ADR 0030, 2026-12-08): what a check reads per match stays bounded, so a line of
a few hundred kB costs time linear in its length. Counted, never timed: the characters handed to ``str.find``,
``rfind`` and ``count`` (``Reads``), and those a long value's tail is read over; and each changed helper equal to what
it replaced on random inputs."""

from __future__ import annotations

import random
import re

import ben.redact.pairs as pairs
from ben.redact.brackets import opened_before
from ben.redact.detectors import SECRET_RULES
from ben.redact.emails import email_spans
from ben.redact.identifiers import keyless_spans
from ben.redact.lookalikes import ARN_MAX, in_arn
from ben.redact.pairs import _SEGMENT_ENDS, in_query
from ben.redact.positional import positional_spans


class Reads(str):
    """A text that adds up the characters its ``find``, ``rfind`` and ``count`` are asked to read."""
    read = 0

    def _count(self, start: int | None, end: int | None) -> None:
        lo, hi, _ = slice(start, end).indices(len(self))
        Reads.read += max(0, hi - lo)

    def find(self, sub, start=None, end=None):  # noqa: D102 - str's
        self._count(start, end)
        return str.find(self, sub, start, end)

    def rfind(self, sub, start=None, end=None):  # noqa: D102 - str's
        self._count(start, end)
        return str.rfind(self, sub, start, end)

    def count(self, sub, start=None, end=None):  # noqa: D102 - str's
        self._count(start, end)
        return str.count(self, sub, start, end)


def reads(run, text: str) -> tuple[int, list]:
    Reads.read = 0
    out = list(run(Reads(text)))
    return Reads.read, out


def rule(name: str):
    return SECRET_RULES[name]


# -- the old helpers, as they were before 2026-12-08 ----------------------------------------------------------------
def old_in_query(text: str, at: int) -> bool:
    lo = max(text.rfind(c, 0, at) for c in _SEGMENT_ENDS) + 1
    return text.find("?", lo, at) >= 0 or text.find("&", lo, at) >= 0 or text.find("#", lo, at) >= 0


def old_opened_before(text: str, at: int) -> bool:
    lo = text.rfind("\n", 0, at) + 1
    return text.count("[", lo, at) > text.count("]", lo, at)


def old_in_arn(text: str, key_at: int) -> bool:
    lo = max(text.rfind(" ", 0, key_at), text.rfind("\n", 0, key_at), text.rfind('"', 0, key_at)) + 1
    return text.startswith("arn:", lo, key_at) or text.find(":arn:", lo, key_at) >= 0 or text.find("=arn:", lo, key_at) >= 0


def test_the_remembering_helpers_answer_as_before_on_random_texts() -> None:
    """``in_query`` and ``opened_before`` called left to right with what they read kept: the old answers, every time."""
    rng = random.Random(8)
    for _ in range(3000):
        text = "".join(rng.choice("ab=?&#[] \t\n\"'") for _ in range(rng.randint(0, 40)))
        ats = sorted(rng.randint(0, len(text)) for _ in range(rng.randint(1, 8)))
        run: list = []
        seen: list = []
        for at in ats:
            assert in_query(text, at, run) == old_in_query(text, at), (text, at)
            assert opened_before(text, at, seen) == old_opened_before(text, at), (text, at)


def test_an_arn_within_its_length_is_found_as_before() -> None:
    rng = random.Random(12)
    for _ in range(3000):
        text = "".join(rng.choice(["arn:", ":arn:", "=arn:", "a", " ", '"', "\n", ":", "="]) for _ in range(rng.randint(0, 30)))
        for at in range(len(text) + 1):
            assert in_arn(text, at) == old_in_arn(text, at), (text, at)
    key = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db/" + "x" * 1500 + "/password"
    assert in_arn(key, key.index("password"))


def test_an_arn_check_reads_no_further_back_than_an_arn_is_long() -> None:
    text = "ab=cd," * 40_000   # 240 kB with no space: the old check read back to the start three times
    read, _ = reads(lambda t: [in_arn(t, len(t) - 3)], text)
    assert read <= 5 * ARN_MAX


def test_a_line_of_query_parameters_is_read_once() -> None:
    """200 kB of ``?password=ab1&x=`` on one line: each value is longer than the pattern reads, so its tail was read to
    the line's end from every key (5.7 s of CPU); and the query, the brackets and the word-diff marks back to its start."""
    text = "?password=ab1&x=" * 12_500
    tail_read = []
    saved, saved_arn = pairs._LONG_TAIL, pairs.in_arn

    def counted(match):
        def run(s, pos):
            m = match(s, pos)
            tail_read.append(m.end() - pos)
            return m
        return run

    pairs._LONG_TAIL = {g: counted(f) for g, f in saved.items()}
    pairs.in_arn = lambda t, at: saved_arn(str(t), at)   # counted on its own above
    try:
        read, spans = reads(rule("password").find, text)
    finally:
        pairs._LONG_TAIL, pairs.in_arn = saved, saved_arn
    assert len(spans) == 12_500 and spans[0] == (10, 13)
    assert sum(tail_read) <= 2 * len(text), sum(tail_read)
    assert read <= 20 * len(text), read


def test_a_line_of_word_diff_and_bracket_values_is_read_once() -> None:
    for unit in ("password=ab+}", "a_password=ab[c]d;", "password=abcdefgh1;"):
        text = unit * (200_000 // len(unit))
        saved_arn = pairs.in_arn
        pairs.in_arn = lambda t, at: saved_arn(str(t), at)
        try:
            read, spans = reads(rule("password").find, text)
        finally:
            pairs.in_arn = saved_arn
        assert spans and read <= 20 * len(text), (unit, read)


def test_a_login_sentence_is_read_within_its_window() -> None:
    """Each login word's line was found by reading back to the line's start and on to its end (then cut to 120 and
    160 characters around the word)."""
    login = "failed login for bob / Xy7abcdefgh " * 6000
    read, spans = reads(keyless_spans, login)
    assert spans and read <= 400 * len(login), read


def test_a_cef_label_and_a_url_before_an_address_are_read_within_their_windows() -> None:
    cef = "cs1Label=password cs1=abcdefgh1 " * 6000
    read, spans = reads(lambda t: positional_spans(t, lambda k: k == "password", lambda v: True), cef)
    assert spans and read <= 4100 * 2 * 6000, read
    mail = "x://a@b.cc" * 20_000
    read, spans = reads(email_spans, mail)
    assert read <= 3 * 231 * 20_000, read


def old_tail_is_key(s: str, at: int) -> bool:
    q, stop = at, max(0, at - pairs.MAX_GAP)
    while q > stop and s[q - 1] in pairs._QUOTES:
        q -= 1
    tail = s[q - 3 if q > 3 else 0:q].lower()
    if tail in pairs.PASSWORD_TAILS or tail[-2:] in pairs.PASSWORD_TAILS_2:
        return True
    if tail == "lue" and s[q - 5:q].lower() == "value":
        return old_tail_is_key(s, q - 5)
    return False


def test_a_chain_of_value_words_before_a_separator_is_followed_without_recursion() -> None:
    """``"value" * 2000 + "=x"`` (10 kB): a call per ``value`` went past the interpreter's recursion limit, and the
    engine failed the whole batch closed. The loop answers as the calls did on random chains."""
    rng = random.Random(5)
    for _ in range(3000):
        s = "".join(rng.choice(["value", "VALUE", "password", "pwd", '"', "'", " ", "=", "a", "lue"]) for _ in range(rng.randint(0, 12)))
        for at in range(len(s) + 1):
            assert pairs._tail_is_key(s, at) == old_tail_is_key(s, at), (s, at)
    assert pairs.password_hint("value" * 5000 + "=x") is False
    assert pairs.password_hint("password" + '"value"' * 5000 + "=x") is True
    from ben.sdk.batch import BatchBuilder
    from ben.v1 import telemetry_pb2 as pb
    from tests.redact.test_coverage import shared_default
    b = BatchBuilder(1)
    b.add(pb.KIND_LOG, "log", 0.0, "value" * 2000 + "=x", {}, 1)
    b.add(pb.KIND_LOG, "log", 0.0, "password=Wint3r-Is-Coming!", {}, 1)
    engine = shared_default()
    failures = engine.failures
    out = engine.apply(b.build(pb.Source(host="h"), "p"))
    assert engine.failures == failures
    assert [out.strings[i] for i in out.bodies][0] == "value" * 2000 + "=x"
    assert "Wint3r" not in out.strings[out.bodies[1]]


#: What the rest of an unquoted value's line was read with before: the same answers, but failing (a space or a quote
#: before the line's end) it gave its run back a character at a time, from every pair of the line.
OLD_REST_OF_LINE = re.compile(r"(?:(?![,;][ \t]*[A-Za-z_][\w.\-]*[:=])[^\s\"'\\])+(?=\r?\n|$)").match


def test_the_rest_of_a_line_is_what_the_expression_read_on_random_lines() -> None:
    rng = random.Random(17)
    pieces = [",", ";", " ", "\t", "\r", "\n", "a", "_", "=", ":", "-", ".", "1", '"', "'", "\\", "k=", ",k:"]
    for _ in range(5000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 16)))
        memo: list = []
        for b in sorted(rng.randint(0, len(text)) for _ in range(rng.randint(1, 6))):
            old = OLD_REST_OF_LINE(text, b)
            want = b + len(old.group().rstrip(",;")) if old is not None else -1
            got = pairs._rest_of_line(text, b, memo)
            assert got == want, (text, b, got, want)


def test_a_line_of_pairs_cut_at_commas_is_read_once() -> None:
    """200 kB of ``-password=ab,1`` then a space: every value stops at its ',', and the rest of the line was read to the
    space and given back from each (76 s of CPU). Counted: the characters the run to the line's end is read over."""
    text = "-password=ab,1" * 14_000 + " x"
    read = []
    saved = pairs._RUN_TO_KEY

    def counted(s, pos):
        m = saved(s, pos)
        read.append(m.end() - pos)
        return m

    pairs._RUN_TO_KEY = counted
    try:
        spans = list(rule("password").find(text))
    finally:
        pairs._RUN_TO_KEY = saved
    assert len(spans) == 14_000 and spans[0] == (10, 12)
    assert sum(read) <= 2 * len(text), sum(read)
