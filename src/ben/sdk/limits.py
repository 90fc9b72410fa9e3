"""What one event may hold, checked at ``emit`` (ADR 0033): no single event can poison a stream.

Policy, per argument:

==============  =====================================================================================
``ts``          an int of nanoseconds since the epoch in [``MIN_TS_NS``, ``MAX_TS_NS``) (2000-01-01 to
                2100-01-01 UTC), or None for now. A float, a bool, a negative or absurd value: refused.
``value``       a real number (int, float; NaN and +/-inf are kept for gauges). A counter's increment
                must be finite and >= 0. A str, bytes, None...: refused.
``name``        a non-empty str; cut to ``MAX_NAME_CHARS`` (counted in ``truncated``).
``body``        a str; cut to ``MAX_BODY_CHARS`` (counted).
``attrs``       a mapping of str keys to str, int, float or bool values (ints, floats and bools are sent
                as their ``str``). Any other value type (bytes, dict, None, list, objects) is refused,
                never sent as its ``repr``. At most ``MAX_ATTRS`` attributes (the rest cut, counted);
                keys cut to ``MAX_ATTR_KEY_CHARS``, values to ``MAX_ATTR_VALUE_CHARS`` (counted).
every str       made valid UTF-8: a lone surrogate (what ``surrogateescape`` decoding or a broken
                UTF-16 source leaves behind) becomes U+FFFD, counted in ``replaced_strings``.
==============  =====================================================================================

"Refused" means the call returns None and counts the event in ``stats.invalid`` (by argument in
``stats.invalid_by_field``), logging a rate-limited warning that names the argument; a ``Client``
made with ``strict=True`` raises ``InvalidEventError`` (a ``BenError`` and a ``ValueError``) instead.
Sizes are counted in characters (code points), cheap to check on the hot path.
"""

from __future__ import annotations

import math
import operator

from ben.core.errors import InvalidEventError
from ben.core.timerange import MAX_TS_NS, MIN_TS_NS  # 2000-01-01 and 2100-01-01 UTC (receivers count the rest)

MAX_NAME_CHARS = 256
MAX_BODY_CHARS = 65_536
MAX_ATTRS = 64
MAX_ATTR_KEY_CHARS = 128
MAX_ATTR_VALUE_CHARS = 4_096

_ATTR_SCALARS = (int, float)  # bool is an int


class Counts:
    """What cleaning changed (the builder adds to these; the buffer copies them into its stats)."""

    __slots__ = ("truncated", "replaced_strings")

    def __init__(self) -> None:
        self.truncated = 0
        self.replaced_strings = 0


def check_ts(ts: object) -> int:
    """``ts`` as an int in range, or InvalidEventError naming ``ts``."""
    if type(ts) is not int:
        if isinstance(ts, bool) or not hasattr(type(ts), "__index__"):  # numpy ints pass, floats do not
            raise InvalidEventError(f"must be an int of nanoseconds since the epoch, got {type(ts).__name__} "
                                    f"{ts!r:.40}", field="ts")
        ts = operator.index(ts)
    if not MIN_TS_NS <= ts < MAX_TS_NS:
        raise InvalidEventError(f"{ts} is outside [{MIN_TS_NS}, {MAX_TS_NS}) ns (2000-01-01 to 2100-01-01 UTC)"
                                f"{_unit_hint(ts)}", field="ts")
    return ts


def _unit_hint(ts: int) -> str:
    """What a time of 2000-2100 in seconds, ms or µs (``int(time.time())``, a JavaScript ``Date.now()``) is
    multiplied by to be the nanoseconds ``ts`` takes, as ``SeriesMonitor`` says it; "" for any other number."""
    for unit, per_s in (("seconds", 1), ("milliseconds", 1_000), ("microseconds", 1_000_000)):
        if MIN_TS_NS // 10**9 * per_s <= ts < MAX_TS_NS // 10**9 * per_s:
            return f": it looks like {unit} since the epoch; ts is nanoseconds (multiply by {10**9 // per_s:_})"
    return ""


def check_value(value: object, field: str = "value") -> float:
    """``value`` as a float; InvalidEventError naming ``field`` (the argument: ``value``, a counter's
    ``increment``) when it is no real number."""
    if type(value) is float:
        return value
    if isinstance(value, (str, bytes, bytearray)) or value is None or type(value).__name__ in ("bool", "bool_"):
        # (True was 1.0: a flag passed where its count belongs; numpy's bool_ likewise)
        raise InvalidEventError(f"must be a number, got {type(value).__name__}", field=field)
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError) as exc:
        raise InvalidEventError(f"must be a number, got {type(value).__name__}: {exc}", field=field) from None


def check_increment(increment: object) -> float:
    value = check_value(increment, "increment")  # counter("x", "1") named 'value', an argument it does not have
    if not (value >= 0 and math.isfinite(value)):
        raise InvalidEventError(f"a counter's increment must be finite and >= 0, got {value!r}", field="increment")
    return value


#: Log levels ``Client.log`` takes (any case; stored lower case): OTLP's severity names as the OTLP receiver
#: stores them, and Python logging's ``warning`` / ``critical``. A level is the log's series name, so a typo
#: would have become a series of its own.
LOG_LEVELS = ("trace", "debug", "info", "warn", "warning", "error", "critical", "fatal")


def check_level(level: object) -> str:
    """A log level, lower case, or InvalidEventError naming ``level`` and the accepted values."""
    name = level.strip().lower() if isinstance(level, str) else None
    if name not in LOG_LEVELS:
        raise InvalidEventError(f"unknown log level {level!r}; expected one of {', '.join(LOG_LEVELS)} (any case)",
                                field="level")
    return name


def clean(s: object, limit: int, field: str, counts: Counts) -> str:
    """A str cut to `limit` characters and made valid UTF-8 (lone surrogates -> U+FFFD), counted."""
    if type(s) is not str:
        if not isinstance(s, str):
            raise InvalidEventError(f"must be a str, got {type(s).__name__}", field=field)
        s = str.__str__(s)
    if len(s) > limit:
        s = s[:limit]
        counts.truncated += 1
    if not s.isascii():
        try:
            s.encode("utf-8")
        except UnicodeEncodeError:
            # Pairs of surrogates become the character they encode; a lone one becomes U+FFFD.
            s = s.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
            counts.replaced_strings += 1
    return s


def attr_value_text(key: str, value: object) -> str:
    """An attribute value as the str sent: str as is, int/float/bool as str(); anything else refused."""
    if isinstance(value, _ATTR_SCALARS):
        return str(value)
    raise InvalidEventError(f"has a value of type {type(value).__name__}; attribute values must be str, int, "
                            "float or bool (convert it yourself, e.g. with str() or json.dumps())",
                            field=f"attrs[{key!r:.60}]")
