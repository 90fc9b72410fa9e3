"""Episode texts."""

from __future__ import annotations


def test_durations_read_as_people_say_them():
    from ben.detect.episode import duration_text

    assert [duration_text(s) for s in (1.0, 60.0, 119.0, 900.0, 7200.0, 5400.0 * 2, 2 * 86400.0, 7 * 86400.0)] == \
        ["1 s", "60 s", "119 s", "15 min", "2 h", "3 h", "48 h", "7 days"]


def test_a_unit_that_is_no_text_is_refused_not_written_into_the_numbers():
    """``summary(unit=5)`` read "rose from 1205 to 4805" (the 5 after each number), ``unit=None``
    "from 120None": a notebook's user reads made-up numbers (ADR 0033, round 7)."""
    import pytest

    from ben.detect.episode import Episode
    from ben.detect.errors import DetectorError

    e = Episode("p99 latency", "anomaly", "open", 1_700_000_000_000_000_000, None, 14, 0.86,
                1_700_000_000_000_000_000, 492.0, ("cusum", "ewma"), 120.0, 20.0, 480.0, 18.6, 6.2, 14)
    assert e.summary(unit=None) == e.summary() and "from 120 to 480 at" in e.summary()
    assert "from 120 ms to 480 ms" in e.summary(unit=" ms")
    for unit in (5, 1.5, b" ms", [" ms"]):
        with pytest.raises(DetectorError, match=r"summary\(unit=\.\.\.\): expected a str") as err:
            e.summary(unit=unit)
        assert err.value.problem == "bad_type"
