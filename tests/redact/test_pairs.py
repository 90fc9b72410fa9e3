"""ben.redact.pairs: the password hint's cost on hostile text."""

from __future__ import annotations

from ben.redact import pairs


class _Counted(str):
    """A str that counts the characters read one at a time (``s[i]``)."""

    reads = 0

    def __getitem__(self, key):
        if isinstance(key, int):
            _Counted.reads += 1
        return str.__getitem__(self, key)


def test_the_password_hint_reads_each_character_a_bounded_number_of_times() -> None:
    """Since revision 12 a quote is a separator (``#define DB_PASSWORD "v"``), and from each one the hint walked
    back over every quote, backslash and space before it: a line of 40,000 quotes took 59 s. The walk now stops
    after ``MAX_GAP`` characters, so the reads grow with the line, not with its square."""
    n = 2_000
    text = _Counted('<Password a="' + "x" * 200 + '"' * n)
    _Counted.reads = 0
    assert pairs.password_hint(text) is False
    assert _Counted.reads < n * 80, _Counted.reads  # MAX_GAP (64) and a few more each; unbounded: ~n * n / 2
    assert pairs.password_hint('"DB_PASSWORD"' + " " * 40 + '= "v"')  # an aligned key is still one
