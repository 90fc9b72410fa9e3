"""Detection results in words, for the spine's narratives, ``ben explain`` and the web's incident page:
the series' unit, numbers a person reads, each detector's name and its stored evidence as phrases.

The spine stores each detector's numbers under short keys (``level_z``, ``kl``, ``band``...: the calibrated
detection's features, ADR 0040; ``sigma`` and ``points`` of the bank's detectors). A newcomer reads them here
as phrases, in the series' unit where the number is a value of the series::

    level: 442 sigma from normal at its peak; surprise 642 nats; expected 123 ms, normal band ± 2.41 ms; ...

A key this module does not know (a newer spine's) is shown as ``key = value``; a number that is none
(NaN, an infinity, a string the store answered for one) is "n/a". Nothing here changes what is stored.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

#: Series-name suffixes that carry a unit.
UNITS = {"_ms": "ms", "_us": "µs", "_s": "s", "_seconds": "s", "_bytes": "bytes", "_pct": "%", "_percent": "%"}

DETECTOR_NAMES = {"ewma": "EWMA", "cusum": "CUSUM", "robust": "median/MAD", "drift": "drift (KL)",
                  # the calibrated detection's features (ADR 0040)
                  "level": "level", "distribution": "distribution (KL)", "level_drift": "level drift",
                  "flat": "flat line", "sustained": "mean over hours"}


def unit_of(name: str) -> str:
    """The unit a series name carries in its suffix (``latency_ms`` -> ``ms``), or ""."""
    for suffix, unit in UNITS.items():
        if name.endswith(suffix):
            return unit
    return ""


#: UCUM units (OpenTelemetry's ``unit``) as a person reads them; the rest as given ("{requests}" -> "requests").
UCUM_WORDS = {"1": "", "By": "bytes", "bit": "bits", "us": "µs", "Cel": "°C", "kBy": "kB", "MBy": "MB", "GBy": "GB",
              "TBy": "TB", "KiBy": "KiB", "MiBy": "MiB", "GiBy": "GiB", "TiBy": "TiB"}
#: The longest unit taken from a metric's body (a longer body is no unit).
MAX_UNIT_CHARS = 40


def ucum_words(unit: str) -> str:
    """A metric's unit as stored (OTLP's UCUM ``unit``: "s", "By", "1", "%", "{requests}", "By/s") as a person
    reads it: "s", "bytes", "", "%", "requests", "bytes per s"; "" for a text that is no unit (longer than
    ``MAX_UNIT_CHARS``, with spaces, quotes or control characters: a body that is something else)."""
    unit = unit.strip() if isinstance(unit, str) else ""
    if not unit or len(unit) > MAX_UNIT_CHARS or not unit.isprintable() or any(c in unit for c in " \t\"'`<>"):
        return ""
    if unit.startswith("{") and unit.endswith("}") and unit.count("{") == 1:
        return unit[1:-1]  # an annotation alone: a count of things
    if "/" in unit:
        num, _, den = unit.partition("/")
        num, den = ucum_words(num), ucum_words(den)
        return f"{num} per {den}".strip() if den else num
    if "{" in unit and unit.endswith("}"):  # a unit with an annotation: "By{compressed}" is bytes
        unit = unit[:unit.index("{")] or "1"
    return UCUM_WORDS.get(unit, unit)


#: Byte amounts in powers of 1000: "2.0 GB", not "1,999,371,272 bytes" (read at 3 a.m.).
BYTE_UNITS = ("bytes", "kB", "MB", "GB", "TB", "PB")


def scaled(value: float, unit: str) -> tuple[float, str]:
    """(value, unit) for a person: bytes (and "bytes per s") in kB, MB, GB...; other units as they are."""
    if not unit.startswith("bytes") or not math.isfinite(value):
        return value, unit
    rest, k = unit[len("bytes"):], 0
    while abs(value) >= 1000 and k < len(BYTE_UNITS) - 1:
        value, k = value / 1000, k + 1
    return value, BYTE_UNITS[k] + rest


def fmt_value(value: float, unit: str = "") -> str:
    """12.0 -> '12', 0.1234 -> '0.123', 48211.5 -> '48,212', 1e300 -> '1 × 10^300'; with its unit."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    a = abs(value)
    if a >= 1e15 or 0 < a < 1e-3:  # neither 301 digits nor "1e-300": a power of ten a person reads
        mantissa, exponent = f"{value:.2e}".split("e")
        text = f"{float(mantissa):g} × 10^{int(exponent)}"
    elif a >= 1000:
        text = f"{value:,.0f}"
    elif a >= 100 or value == int(value):
        text = f"{value:.0f}"
    elif a >= 1:
        text = f"{value:.1f}"
    else:
        text = f"{value:.3g}"
    if not unit:
        return text
    return f"{text}{unit}" if unit == "%" else f"{text} {unit}"


#: What "sigma" means, said once wherever a sentence or the evidence gives one (``ben explain``, the incident page and
#: the incident feed of the web interface).
SIGMA_SAID = ("sigma: the move in multiples of the series' usual spread (its normal noise); 3 is unusual, 10 or more "
              "far out of line")


def says_sigma(*texts: object) -> bool:
    """True when any of ``texts`` gives a figure in sigma (then ``SIGMA_SAID`` is said once beside them)."""
    return any(" sigma" in str(t) for t in texts)


#: key -> phrase; ``{n}`` a plain number, ``{v}`` a value in the series' unit.
PHRASES = {
    "sigma": "{n} sigma from normal at its peak",
    "points": "over {n} points",
    "evidence": "surprise {n} nats",
    "level_z": "last point {n} bands from the expected value",
    "kl": "distribution change {n} (KL divergence)",
    "drift_z": "fast level {n} bands from the slow one",
    "flat_intervals": "value unchanged for {n} intervals",
    "sustained_z": "mean over hours {n} spreads from the expected value",
    "expected": "expected {v}",
    "band": "normal band ± {v}",
    "rebaselined": "became the new normal",
}
#: Keys said only when they are not 0 (a flat line of 0 intervals is no evidence).
QUIET_WHEN_ZERO = ("flat_intervals", "rebaselined", "points")


def number(value: object) -> float | None:
    """A finite float of a stored number, else None (NaN, ±inf, "nan" from the store, None, text)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        value = float(value)
    except OverflowError:
        return None
    return value if math.isfinite(value) else None


def fmt_number(value: object, unit: str = "") -> str:
    """A stored number for a person: ``fmt_value``'s rounding and unit; "n/a" for one that is none."""
    n = number(value)
    return "n/a" if n is None else fmt_value(n, unit)


def detector_phrase(detector: str, stats: object, unit: str = "") -> str:
    """'level: 442 sigma from normal at its peak; surprise 642 nats; ...' of one detector's stored numbers."""
    name = DETECTOR_NAMES.get(detector, detector)
    if not isinstance(stats, Mapping) or not stats:
        return name
    parts = []
    order = list(PHRASES) + sorted(k for k in stats if k not in PHRASES)
    for key in (k for k in order if k in stats):
        value = stats[key]
        template = PHRASES.get(key)
        n = number(value)
        if template is None:
            parts.append(f"{key} = {fmt_number(value)}")
        elif key in QUIET_WHEN_ZERO and n == 0:
            continue
        elif n is None:
            parts.append(template.replace("{n}", "n/a").replace("{v}", "n/a"))
        else:
            parts.append(template.format(n=fmt_value(n), v=fmt_value(*scaled(n, unit))))
    return f"{name}: " + "; ".join(parts) if parts else name
