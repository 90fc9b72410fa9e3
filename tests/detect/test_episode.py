"""Episode texts."""

from __future__ import annotations


def test_durations_read_as_people_say_them():
    from ben.detect.episode import duration_text

    assert [duration_text(s) for s in (1.0, 60.0, 119.0, 900.0, 7200.0, 5400.0 * 2, 2 * 86400.0, 7 * 86400.0)] == \
        ["1 s", "60 s", "119 s", "15 min", "2 h", "3 h", "48 h", "7 days"]
