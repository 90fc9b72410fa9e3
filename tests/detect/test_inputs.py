"""A notebook user's bad points: refused naming the argument, before the monitor changes (ben.detect.inputs)."""

from __future__ import annotations

import math
from datetime import datetime, timezone
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ben.detect import DetectorError, SeriesMonitor, from_bytes, to_bytes
from ben.detect.checks import probe_series, single_of
from ben.detect.monitor import DETECTORS
from ben.detect.series import BankSeriesMonitor

MONITORS = [SeriesMonitor, BankSeriesMonitor]
TS, X = probe_series(600)
T = int(TS[200])

BAD_POINTS = [  # (ts_ns, value, words the message holds)
    (2 ** 70, 1.0, "ts_ns: 1180591620717411303424 is past int64"),
    (math.nan, 1.0, "ts_ns: nan is no time"),
    (math.inf, 1.0, "ts_ns: inf is no time"),
    (None, 1.0, "ts_ns: expected an int of nanoseconds"),
    ("1767225600000000000", 1.0, "ts_ns: expected an int of nanoseconds since the epoch, got str"),
    (True, 1.0, "ts_ns: True is a bool"),
    (np.datetime64("NaT"), 1.0, "ts_ns: NaT"),
    (datetime(2026, 1, 1), 1.0, "a naive datetime: give it a timezone"),
    (T, None, "value: expected a real number, got NoneType"),
    (T, "3.5", "value: expected a real number, got str '3.5'"),
    (T, 1j, "value: expected a real number, got complex"),
    (T, True, "value: True is a flag"),
    (T, np.bool_(False), "is a flag"),
    (T, np.array([1.0]), "value: expected a real number, got ndarray"),
    (T, 10 ** 400, "value: 1000"),
    (T, math.nan, "is not finite"),
    (T, -math.inf, "is not finite"),
    (int(TS[199]) - 1, 1.0, "is older than the previous point's"),
]


def _fed(cls, n: int = 200):
    mon = cls("lat")
    mon.update_many(TS[:n], X[:n])
    return mon


def _state_bytes(mon) -> bytes:
    return to_bytes(mon.state())


@pytest.mark.parametrize("cls", MONITORS, ids=lambda c: c.__name__)
def test_a_bad_point_names_its_argument_and_leaves_the_monitor_as_it_was(cls):
    reference = _fed(cls)
    rest = reference.update_many(TS[200:], X[200:])
    for ts, value, words in BAD_POINTS:
        mon = _fed(cls)
        before = _state_bytes(mon)
        with pytest.raises(DetectorError) as err:
            mon.update(ts, value)
        assert words in str(err.value), (ts, value, str(err.value))
        assert str(err.value).startswith("series 'lat': ")
        assert _state_bytes(mon) == before, f"{ts!r}, {value!r} changed the monitor"
        after = mon.update_many(TS[200:], X[200:])                      # a later normal stream: as if never given
        assert after.scores.tolist() == rest.scores.tolist(), (ts, value)
        assert list(map(repr, after.episodes)) == list(map(repr, rest.episodes))     # NaN fields: by repr


BAD_ARRAYS = [  # (ts_ns, values, words)
    ([T, T + 1], [1.0], "ts_ns and values must be of one length, got 2 and 1"),
    ([T + 5, T], [1.0, 2.0], "ts_ns[1] = %d is before ts_ns[0] = %d" % (T, T + 5)),
    ([int(TS[150])], [1.0], "ts_ns[0] = %d is older than the previous point's" % TS[150]),
    (T, 1.0, "ts_ns: expected a sequence (list or array), got one value: update() takes one point"),
    ((t for t in [T]), [1.0], "ts_ns: expected a sequence (list or array), got a generator"),
    ({T: 1.0}, [1.0], "ts_ns: expected a sequence (list or array), got dict"),
    ([[T]], [[1.0]], "ts_ns: expected 1-d, got shape (1, 1)"),
    (["a"], [1.0], "ts_ns[0]: expected an int of nanoseconds since the epoch, got str 'a'"),
    ([T, 2 ** 70], [1.0, 2.0], "ts_ns[1]: 1180591620717411303424 is past int64"),
    (np.array([T, T + 1.5e9, math.nan]), [1.0, 2.0, 3.0], "ts_ns[2]: nan is no time"),
    (np.array([T, "NaT"], dtype="datetime64[ns]"), [1.0, 2.0], "ts_ns[1]: NaT is no time"),
    ([T, T + 1], ["1", "2"], "values[0]: expected a real number, got str_"),
    ([T, T + 1], [1.0, None], "values[1]: expected a real number, got NoneType None"),
    ([T, T + 1], [True, False], "values: bools are flags"),
    ([T, T + 1], [1.0, 1j], "values[0]: expected a real number, got complex"),
    ([T, T + 1], np.array([1.0, np.inf]), "values[1] = inf at ts_ns=%d is not finite" % (T + 1)),
    ([T, T + 1], [1.0, 10 ** 400], "values[1]: 1000"),
    ([T, T + 1], np.array([1.0, np.finfo(np.longdouble).max], dtype=np.longdouble), "values[1]: "),
]


@pytest.mark.parametrize("cls", MONITORS, ids=lambda c: c.__name__)
def test_bad_arrays_name_the_argument_and_the_index_and_change_nothing(cls):
    for ts, values, words in BAD_ARRAYS:
        mon = _fed(cls)
        before = _state_bytes(mon)
        with pytest.raises(DetectorError) as err:
            mon.update_many(ts, values)
        assert words in str(err.value), (words, str(err.value))
        assert _state_bytes(mon) == before, words


@pytest.mark.parametrize("cls", MONITORS, ids=lambda c: c.__name__)
def test_a_first_time_in_seconds_ms_or_us_is_refused_saying_so(cls):
    t_s = 1_767_225_600                                           # 2026-01-01 in seconds
    for ts, unit, factor in ((t_s, "seconds", "1_000_000_000"), (t_s * 1000, "milliseconds", "1_000_000"),
                             (t_s * 10 ** 6, "microseconds", "1_000"), (t_s + 0.25, "seconds", "1_000_000_000")):
        mon = cls("lat")
        with pytest.raises(DetectorError) as err:
            mon.update(ts, 1.0)
        assert f"it looks like {unit} since the epoch, 2026-01-01T00:00:00Z" in str(err.value)
        assert f"multiply by {factor}" in str(err.value)
        with pytest.raises(DetectorError, match=unit):
            cls("lat").update_many(np.arange(3) * 60 + ts, [1.0, 2.0, 3.0])
    mon = _fed(cls)                                               # after points in ns: out of order, with the hint
    with pytest.raises(DetectorError, match="older than the previous point's .* looks like seconds"):
        mon.update(t_s + 10 ** 6, 1.0)


@pytest.mark.parametrize("cls", MONITORS, ids=lambda c: c.__name__)
def test_odd_but_valid_points_are_taken_as_their_number(cls):
    """numpy numbers, datetime64 of any unit, whole floats, Decimal and Fraction give what ints and floats give."""
    ts, x = TS[:300], X[:300]
    plain = [cls("lat").update(int(t), float(v)).score for t, v in zip(ts[:1], x[:1])]
    mon = cls("lat")
    scores = [mon.update(np.int64(ts[0]), np.float32(x[0])).score]
    assert scores[0] == plain[0] or math.isclose(scores[0], plain[0])
    ref = cls("lat")
    ref.update_many(ts, x)
    for make in (lambda t, v: (np.uint64(t), Decimal(repr(float(v)))),
                 lambda t, v: (np.datetime64(int(t), "ns"), Fraction(float(v))),
                 lambda t, v: (np.longlong(t), np.float64(v))):
        mon = cls("lat")
        got = [mon.update(*make(t, v)).score for t, v in zip(ts, x)]
        assert got == cls("lat").update_many(ts, x).scores.tolist()
    seconds = (ts // 10 ** 9).astype("datetime64[s]")             # datetime64 in seconds is converted, not read as ns
    a, b = cls("lat").update_many(seconds, x), cls("lat").update_many(seconds.astype("datetime64[ns]"), x)
    assert a.scores.tolist() == b.scores.tolist()
    as_float = cls("lat").update_many(ts.astype(np.float64), x)   # whole floats of ns: taken
    assert len(as_float.scores) == len(x)
    us = ts // 1000 * 1000                                        # datetimes with a zone (pandas' tz-aware index)
    aware = [datetime.fromtimestamp(int(t) // 1000 / 1e6, tz=timezone.utc) for t in us]
    assert cls("lat").update_many(aware, x).scores.tolist() == cls("lat").update_many(us, x).scores.tolist()
    index = pd.DatetimeIndex(ts).tz_localize("UTC").tz_convert("Europe/Paris")
    assert cls("lat").update_many(index, x).scores.tolist() == cls("lat").update_many(ts, x).scores.tolist()
    mon = cls("lat")
    assert [mon.update(t, v).score for t, v in zip(index[:50], x[:50])] == \
        cls("lat").update_many(ts[:50], x[:50]).scores.tolist()


def test_duplicate_timestamps_and_refused_points_leave_a_working_monitor():
    """Points sharing a time are valid: the state stays finite and a later shift is still found."""
    mon = SeriesMonitor("lat")
    mon.update_many(np.repeat(TS[:300], 2), np.repeat(X[:300], 2))
    for _ in range(50):
        mon.update(int(TS[299]), float(X[299]))
    assert np.isfinite(mon.state()["state"]).all()
    later = 40 + X[300:] + np.r_[np.zeros(150), np.full(len(X) - 450, 60.0)]
    res = mon.update_many(TS[300:], later)
    assert np.isfinite(res.scores).all()
    assert any(e.state == "open" and e.start_ts >= TS[450] for e in res.episodes)
    restored = SeriesMonitor.from_state(from_bytes(to_bytes(mon.state())), name="lat")
    assert restored.points == mon.points


def test_a_counter_flag_that_is_no_bool_is_refused():
    for cls in MONITORS:
        with pytest.raises(DetectorError, match="counter must be True or False, not str 'no'"):
            cls("lat", counter="no")
    assert SeriesMonitor("lat", counter=np.bool_(True)).clone() is not None


def test_the_readme_s_notebook_lines_run(capsys):
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    block = readme.split("<!-- recipe: detect-a-series -->", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    exec(compile(block, "README.md", "exec"), {})
    assert "checkout p99 rose from 1" in capsys.readouterr().out


def test_the_banks_name_an_argument_numpy_cannot_read():
    """Banks report bad points per point; an argument numpy could not convert was its own ValueError or
    OverflowError ("Python int too large to convert to C long"), and ``CalibratedBank("3")`` a TypeError."""
    from ben.detect import CalibratedBank, EWMABank, MonitorBank

    for bank, rows in ((MonitorBank(2), "series_index"), (CalibratedBank(2), "rows"), (EWMABank(2), "series_index")):
        for args, name in ((([0], [2 ** 70], [1.0]), "ts_ns: cannot be read as int64"),
                           ((["a"], [T], [1.0]), f"{rows}: cannot be read as int64"),
                           (([0], [T], ["x"]), "values: cannot be read as float64")):
            with pytest.raises(DetectorError, match=name):
                bank.update(*args)
        assert not bank.update([0, 1], [T, T], [1.0, 2.0]).status.any()     # and it goes on
    for bad in ("3", 1.5, True):
        with pytest.raises(DetectorError, match="n_series"):
            CalibratedBank(bad)


def test_a_state_or_checkpoint_of_the_wrong_shape_is_refused_naming_what_it_should_be():
    """``from_bytes(None)``: AttributeError; ``from_state(None)`` / ``({})``: TypeError / KeyError; a state whose
    ``last_ts`` is past int64 was taken, and the monitor then refused every point as older than it."""
    mon = _fed(SeriesMonitor)
    for blob in ("abc", None, 5):
        with pytest.raises(DetectorError, match="a checkpoint is bytes"):
            from_bytes(blob)
    for cls in MONITORS:
        for state in (None, [1, 2], "state"):
            with pytest.raises(DetectorError, match="a state is the dict state\\(\\) returned|not a BankSeriesMonitor"):
                cls.from_state(state, name="lat")
        with pytest.raises(DetectorError, match="not a BankSeriesMonitor state"):
            cls.from_state({}, name="lat")
    with pytest.raises(DetectorError, match="last_ts 1180591620717411303424 is past int64"):
        SeriesMonitor.from_state({**mon.state(), "last_ts": 2 ** 70}, name="lat")
    again = SeriesMonitor.from_state(from_bytes(bytearray(to_bytes(mon.state()))), name="lat")
    assert again.update_many(TS[200:], X[200:]).scores.tolist() == mon.update_many(TS[200:], X[200:]).scores.tolist()


@pytest.mark.parametrize("name", sorted(DETECTORS))
def test_each_single_series_detector_checks_a_point_before_it_changes(name):
    """``EWMA().update(2**70, v)``: OverflowError; ``update(t, "3")`` and ``update(t, True)`` were scored."""
    cls = single_of(DETECTORS[name])
    ref = cls(name="lat")
    ref.update_many(TS[:200], X[:200])
    for ts, value, words in BAD_POINTS:
        det = cls(name="lat")
        det.update_many(TS[:200], X[:200])
        with pytest.raises(DetectorError) as err:
            det.update(ts, value)
        assert words in str(err.value), (ts, value, str(err.value))
        assert to_bytes(det.state()) == to_bytes(ref.state())
    for ts, values, words in BAD_ARRAYS:
        det = cls(name="lat")
        det.update_many(TS[:200], X[:200])
        with pytest.raises(DetectorError) as err:
            det.update_many(ts, values)
        assert words in str(err.value), (words, str(err.value))
    assert cls(name="lat").update_many(np.arange(3) * 10 ** 9, [1.0, 2.0, 3.0]).scores.shape == (3,)  # no unit check
