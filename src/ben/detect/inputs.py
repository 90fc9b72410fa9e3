"""What a single-series monitor takes as a point, checked before any state is touched.

``SeriesMonitor.update(ts_ns, value)`` and ``update_many(ts_ns, values)`` (and the bank's
``BankSeriesMonitor``) take:

============  ====================================================================================
``ts_ns``     an int of nanoseconds since the epoch within int64 (numpy integers too), a float that
              is a whole number (``time.time_ns()``-sized floats are), a ``numpy.datetime64`` (any
              unit, converted to nanoseconds) or a datetime with a time zone (a pandas ``Timestamp``:
              its ``value``). A bool, str, None, a naive datetime, a NaN or fractional float, NaT, or
              a value past int64 is refused naming ``ts_ns`` (``ts_ns[i]`` in an array).
              The first point of a fresh monitor that reads as seconds, milliseconds or microseconds
              of 2000-2100 (``1767225600``) is refused: ns is what the memories and the hour of day
              are computed from, and a stream in seconds ran as if it lasted under two seconds.
``value``     a real number (int, float, numpy numbers, ``Decimal``, ``Fraction``); NaN and ±inf
              are refused (``problem="not_finite"``); a bool, str, None, complex or an array is
              refused naming ``value`` (``values[i]``).
============  ====================================================================================

Every refusal is a :class:`~ben.detect.DetectorError` (``problem`` ``"bad_type"``,
``"not_finite"`` or ``"out_of_order"``) raised before the monitor changes, so the monitor goes
on as if the point had never been given. Valid points are passed on unchanged: scoring is not
touched here.
"""

from __future__ import annotations

import math
import numbers
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import numpy as np

from ben.detect.errors import DetectorError

__all__ = ["point", "points", "check_ts", "check_value", "check_arrays", "check_first_ts", "unit_hint",
           "as_arrays"]

_I64_MIN, _I64_MAX = -(2 ** 63), 2 ** 63 - 1
_Y2000_S, _Y2100_S = 946_684_800, 4_102_444_800
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_UNITS = (("seconds", 1), ("milliseconds", 10 ** 3), ("microseconds", 10 ** 6))


def _shown(v) -> str:
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."


def _kind(v) -> str:
    return type(v).__name__


def unit_hint(ts: int) -> str:
    """``" (looks like seconds since the epoch: ...)"`` when ``ts`` reads as s/ms/µs of 2000-2100, else ``""``."""
    for unit, per_s in _UNITS:
        if _Y2000_S * per_s <= ts < _Y2100_S * per_s:
            when = datetime.fromtimestamp(ts / per_s, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            return (f" (it looks like {unit} since the epoch, {when}; ts_ns is nanoseconds: multiply by "
                    f"{10 ** 9 // per_s:_})")
    return ""


def check_ts(ts, *, series, field: str = "ts_ns") -> int:
    """``ts`` as an int of nanoseconds, or a ``DetectorError`` naming ``field``."""
    if isinstance(ts, (bool, np.bool_)):
        raise DetectorError(f"{field}: {ts!r} is a bool, not a time (an int of nanoseconds since the epoch)",
                            series=series, problem="bad_type")
    if isinstance(ts, np.datetime64):
        if np.isnat(ts):
            raise DetectorError(f"{field}: NaT is no time", series=series, problem="bad_type")
        try:
            return int(ts.astype("datetime64[ns]").astype(np.int64))
        except (OverflowError, ValueError) as exc:
            raise DetectorError(f"{field}: {ts!r} is outside int64 nanoseconds", series=series,
                                problem="bad_type") from exc
    if isinstance(ts, numbers.Integral):
        out = int(ts)
    elif isinstance(ts, numbers.Real):
        f = float(ts)
        if not math.isfinite(f):
            raise DetectorError(f"{field}: {f!r} is no time", series=series, problem="bad_type")
        if not f.is_integer():
            raise DetectorError(f"{field}: {f!r} is not a whole number of nanoseconds{unit_hint(int(f))}",
                                series=series, problem="bad_type")
        out = int(f)
    elif isinstance(ts, datetime) and ts.utcoffset() is not None:  # aware: a pandas Timestamp keeps its ns
        value = getattr(ts, "value", None)
        out = value if type(value) is int else (ts - _EPOCH) // timedelta(microseconds=1) * 1000
    else:
        hint = (" (a naive datetime: give it a timezone, e.g. .replace(tzinfo=timezone.utc) or pandas' "
                ".tz_localize('UTC'))") if isinstance(ts, datetime) else ""
        raise DetectorError(f"{field}: expected an int of nanoseconds since the epoch, got {_kind(ts)} "
                            f"{_shown(ts)}{hint}", series=series, problem="bad_type")
    if not _I64_MIN <= out <= _I64_MAX:
        raise DetectorError(f"{field}: {out} is past int64 nanoseconds (year 2262)", series=series,
                            problem="bad_type")
    return out


def check_value(v, *, series, field: str = "value") -> float:
    """``v`` as a float (finite or not: the caller says what a non-finite one is), or a ``DetectorError``."""
    if isinstance(v, (bool, np.bool_)):
        raise DetectorError(f"{field}: {v!r} is a flag, not a number (float(v) watches it as 0/1)",
                            series=series, problem="bad_type")
    if isinstance(v, np.ndarray) and v.ndim == 0:
        return check_value(v.item(), series=series, field=field)
    if not isinstance(v, (numbers.Real, Decimal)):
        raise DetectorError(f"{field}: expected a real number, got {_kind(v)} {_shown(v)}", series=series,
                            problem="bad_type")
    try:
        return float(v)
    except OverflowError as exc:
        raise DetectorError(f"{field}: {_shown(v)} is past the largest float", series=series,
                            problem="not_finite") from exc


def check_first_ts(ts: int, *, series) -> None:
    """Refuse the first point of a fresh monitor whose time reads as seconds, ms or µs."""
    hint = unit_hint(ts)
    if hint:
        raise DetectorError(f"ts_ns: {ts}{hint}", series=series, problem="bad_type")


def _as_1d(a, field: str, *, series):
    if isinstance(a, (str, bytes, dict, set, frozenset)) or a is None:
        raise DetectorError(f"{field}: expected a sequence (list or array), got {_kind(a)}", series=series,
                            problem="bad_type")
    arr = np.asarray(a)
    if arr.ndim == 0:
        what = "a generator or iterator: pass a list or an array" if arr.dtype == object and not isinstance(
            arr.item(), (numbers.Number, np.datetime64)) else "one value: update() takes one point"
        raise DetectorError(f"{field}: expected a sequence (list or array), got {what}", series=series,
                            problem="bad_type")
    if arr.ndim != 1:
        raise DetectorError(f"{field}: expected 1-d, got shape {arr.shape}", series=series, problem="bad_type")
    return arr


def check_arrays(ts_ns, values, *, series) -> tuple[np.ndarray, np.ndarray]:
    """``(ts int64, values float64)`` of one length, each element as :func:`check_ts` / :func:`check_value`
    take it; non-finite values are left for the caller (``problem="not_finite"``)."""
    ts = _as_1d(ts_ns, "ts_ns", series=series)
    x = _as_1d(values, "values", series=series)
    if len(ts) != len(x):
        raise DetectorError(f"ts_ns and values must be of one length, got {len(ts)} and {len(x)}", series=series,
                            problem="bad_type")
    k = ts.dtype.kind
    if k in "iu":
        if k == "u" and len(ts) and int(ts.max()) > _I64_MAX:
            i = int(np.argmax(ts > _I64_MAX))
            check_ts(int(ts[i]), series=series, field=f"ts_ns[{i}]")
        ts_out = ts.astype(np.int64, copy=False)
    elif k == "M":
        nat = np.flatnonzero(np.isnat(ts))
        if len(nat):
            raise DetectorError(f"ts_ns[{nat[0]}]: NaT is no time", series=series, problem="bad_type")
        ts_out = ts.astype("datetime64[ns]").astype(np.int64)
    elif k == "f":
        bad = np.flatnonzero(~np.isfinite(ts) | (ts != np.floor(ts)) | (ts < -2.0 ** 63) | (ts >= 2.0 ** 63))
        if len(bad):
            check_ts(float(ts[bad[0]]), series=series, field=f"ts_ns[{bad[0]}]")
        ts_out = ts.astype(np.int64)
    else:
        ts_out = np.array([check_ts(t, series=series, field=f"ts_ns[{i}]") for i, t in enumerate(ts.tolist())],
                          dtype=np.int64)
    k = x.dtype.kind
    if k in "iuf":
        wider = k == "f" and x.dtype.itemsize > 8  # a long double past float64's range becomes inf
        with np.errstate(over="ignore"):
            x_out = x.astype(np.float64, copy=False)
        big = np.flatnonzero(np.isfinite(x) & ~np.isfinite(x_out)) if wider else []
        if len(big):
            raise DetectorError(f"values[{big[0]}]: {_shown(x[big[0]])} is past the largest float", series=series,
                                problem="not_finite")
    elif k == "b" and len(x):
        raise DetectorError("values: bools are flags, not numbers (values.astype(float) watches them as 0/1)",
                            series=series, problem="bad_type")
    elif k == "b":
        x_out = np.zeros(0)
    else:
        items = x.tolist() if k == "O" else list(x)
        x_out = np.array([check_value(v, series=series, field=f"values[{i}]") for i, v in enumerate(items)],
                         dtype=np.float64)
    return ts_out, x_out


def as_arrays(**named) -> tuple[np.ndarray, ...]:
    """The banks' arrays (``name=(data, dtype)``), as ``numpy.asarray`` converts them (the spine's hot path:
    no copy of an array of the right dtype); a conversion that fails names the argument instead of numpy's
    "could not convert string to float" / "Python int too large to convert to C long"."""
    out = []
    for name, (data, dtype) in named.items():
        try:
            out.append(np.asarray(data, dtype=dtype))
        except (TypeError, ValueError, OverflowError) as exc:
            raise DetectorError(f"{name}: cannot be read as {np.dtype(dtype).name} ({exc})",
                                problem="bad_type") from None
    return tuple(out)


def point(name, ts_ns, value, *, fresh: bool) -> tuple[int, float]:
    """One point checked before a monitor changes (``fresh``: its first point, whose unit is checked too)."""
    ts = ts_ns if type(ts_ns) is int and _I64_MIN <= ts_ns <= _I64_MAX else check_ts(ts_ns, series=name)
    x = value if type(value) is float else check_value(value, series=name)   # the common case, fast
    if not math.isfinite(x):
        raise DetectorError(f"value {x!r} at ts_ns={ts} is not finite", series=name, problem="not_finite")
    if fresh:
        check_first_ts(ts, series=name)
    return ts, x


def points(name, ts_ns, values, *, last: int, fresh: bool) -> tuple[np.ndarray, np.ndarray]:
    """Many points checked before a monitor changes: types, finite values, time order (after ``last``)."""
    ts, x = check_arrays(ts_ns, values, series=name)
    bad = np.flatnonzero(~np.isfinite(x))
    if len(bad):
        raise DetectorError(f"values[{bad[0]}] = {float(x[bad[0]])!r} at ts_ns={int(ts[bad[0]])} is not finite",
                            series=name, problem="not_finite")
    if not len(ts):
        return ts, x
    if fresh:
        check_first_ts(int(ts[0]), series=name)
    if ts[0] < last:
        raise DetectorError(f"ts_ns[0] = {int(ts[0])} is older than the previous point's {last}"
                            f"{unit_hint(int(ts[0]))}", series=name, problem="out_of_order")
    back = np.flatnonzero(ts[1:] < ts[:-1])
    if len(back):
        i = int(back[0]) + 1
        raise DetectorError(f"timestamps go back in time: ts_ns[{i}] = {int(ts[i])} is before ts_ns[{i - 1}] = "
                            f"{int(ts[i - 1])} (sort the points by time)", series=name, problem="out_of_order")
    return ts, x
