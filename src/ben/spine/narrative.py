"""Sentences a person reads in one breath, from an anomaly's numbers.

    checkout-api latency_ms{route=/pay} rose from 120 ms to 480 ms at 2026-12-07 12:03:05 UTC
    (18.0 sigma; CUSUM over 14 points); still open

A sentence never claims a change its numbers do not show (ADR 0029): the sigma it states is the
shift from the baseline to the observed value in the series' own scale, so "from" and "to" differ
by at least that many sigmas; a shift under ``MIN_CLAIM_SIGMA``, or one the shown figures cannot
tell apart, is told as a change of distribution around a value, with the detectors that fired.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping

from ben.detect.words import DETECTOR_NAMES, fmt_value, scaled, unit_of

#: Below this shift (in the series' sigmas) a sentence does not say "rose" or "fell".
MIN_CLAIM_SIGMA = 1.0

def fmt_amount(value: float, unit: str = "") -> str:
    """``fmt_value`` with bytes scaled: 1999371272, "bytes" -> '2.0 GB'."""
    return fmt_value(*scaled(value, unit))


def rate_unit(unit: str, per_ns: int) -> str:
    """The unit of a counter's bucketed sum: "per s", "bytes per 10 s" ("" and 0: a gauge, ``unit``)."""
    if per_ns <= 0:
        return unit
    per = "s" if per_ns == 10**9 else f"{per_ns / 1e6:g} ms" if per_ns < 10**9 else fmt_duration(per_ns)
    return f"{unit} per {per}".strip()


def fmt_sigma(sigma: float, floor: bool = False) -> str:
    """6.21 -> '6.2' (``floor``: never rounded up, see anomaly_sentence); a million and more as fmt_value
    writes it (not 300 digits)."""
    if not math.isfinite(sigma):
        return "n/a"
    if abs(sigma) >= 1e6:
        return fmt_value(sigma)
    return f"{math.floor(sigma * 10) / 10:.1f}" if floor else f"{sigma:.1f}"


def fmt_time(ts_ns: int, since_ns: int | None = None) -> str:
    """'11:16:40 UTC' when ``since_ns`` (a time already said with its date) is of the same UTC day; else with
    the date, '2026-12-07 11:16:40 UTC': an incident read days later, or one that spans midnight, is not
    read on the wrong day (ADR 0012, 2026-12-07 round 2). The same in a replay (event time only)."""
    when = dt.datetime.fromtimestamp(ts_ns / 1e9, tz=dt.timezone.utc)
    if since_ns is not None and dt.datetime.fromtimestamp(since_ns / 1e9, tz=dt.timezone.utc).date() == when.date():
        return when.strftime("%H:%M:%S UTC")
    return when.strftime("%Y-%m-%d %H:%M:%S UTC")


def fmt_duration(ns: int) -> str:
    s = max(0, round(ns / 1e9))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s" if s % 60 else f"{s // 60} min"
    return f"{s // 3600} h {(s % 3600) // 60} min"


def direction(baseline: float, observed: float) -> str:
    if observed > baseline:
        return "rose"
    if observed < baseline:
        return "fell"
    return "changed shape"


def evidence_clause(detectors: Mapping[str, Mapping[str, float]]) -> str:
    """'(CUSUM 6.2 sigma over 14 points; flagged by EWMA, median/MAD)' from the detectors that fired."""
    parts = []
    cusum = detectors.get("cusum") or {}
    if "sigma" in cusum:
        points = int(cusum.get("points", 0))
        parts.append(f"CUSUM {fmt_sigma(cusum['sigma'])} sigma" + (f" over {points} point{'s' if points != 1 else ''}"
                                                           if points else ""))
    others = [name for name in detectors if name != "cusum" or "sigma" not in cusum]
    sigmas = [detectors[name]["sigma"] for name in others if "sigma" in detectors[name]]
    if not parts and sigmas:
        parts.append(f"{fmt_sigma(max(sigmas))} sigma from the baseline")
    if others:
        parts.append("flagged by " + ", ".join(DETECTOR_NAMES.get(name, name) for name in others))
    return f" ({'; '.join(parts)})" if parts else ""


def fmt_mi(mi: float) -> str:
    """Mutual information as shown: 'MI 0.42'."""
    return f"MI {mi:.2f}"


def _with_unit(text: str, unit: str) -> str:
    return text if not unit else f"{text}{unit}" if unit == "%" else f"{text} {unit}"


def _same(a: str, b: str) -> bool:
    """Whether two shown values read as one number ("1 GB" and "1.0 GB" do)."""
    try:
        def number(text: str) -> float:
            return float(text.split(" ")[0].rstrip("%").replace(",", ""))

        return number(a) == number(b)
    except ValueError:
        return a == b


def _shown(value: float, unit: str, other: float) -> tuple[str, str]:
    """Both values with enough digits to tell them apart (up to 6 significant)."""
    (va, ua), (vb, ub) = scaled(value, unit), scaled(other, unit)
    a, b = fmt_value(va, ua), fmt_value(vb, ub)
    digits = 3
    while _same(a, b) and digits <= 6 and all(math.isfinite(v) and 1e-3 <= abs(v) < 1e15 for v in (va, vb)):
        a, b = _with_unit(f"{va:,.{digits}g}", ua), _with_unit(f"{vb:,.{digits}g}", ub)
        digits += 1
    return a, b


def _peak(baseline: float, observed: float, peak: float, unit: str, to: str) -> str:
    """' (peak 912 ms)' when the episode's extreme point went further than its mean and reads otherwise."""
    if not (math.isfinite(peak) and math.isfinite(observed)) or (peak - baseline) * (observed - baseline) <= 0 \
            or abs(peak - baseline) <= abs(observed - baseline):
        return ""
    shown = fmt_amount(peak, unit)
    return f" (peak {shown})" if shown != to else ""


def anomaly_sentence(series: str, name: str, baseline: float, observed: float, start_ns: int,
                     detectors: Mapping[str, Mapping[str, float]], scale: float = math.nan, per_ns: int = 0,
                     peak: float = math.nan, unit: str = "") -> str:
    """``per_ns``: a counter's values are per this long ("per s"); ``peak``: the episode's most extreme point
    (``observed`` is its mean), said when it went further; ``unit``: the series' unit in words (OTLP's, see
    ``ben.detect.words.ucum_words``; "": the one its name's suffix carries, ``latency_ms``)."""
    unit = rate_unit(unit or unit_of(name), per_ns)
    if set(detectors) == {"flat"}:  # the flat-line feature alone: the value stopped changing (no "rose", no shape)
        return _flat(series, baseline, observed, unit, start_ns, detectors)
    verb = direction(baseline, observed)
    known = math.isfinite(scale) and scale > 0
    shift = abs(observed - baseline) / scale if known else math.nan
    if known:
        frm, to = _shown(baseline, unit, observed)
        if verb == "changed shape" or shift < MIN_CLAIM_SIGMA or frm == to:
            what = f"{series} changed its distribution around {fmt_amount(observed, unit)}"
            evidence = _flagged(detectors)
        else:
            what = f"{series} {verb} from {frm} to {to}{_peak(baseline, observed, peak, unit, to)}"
            # never round up: from and to differ by at least this
            evidence = _flagged(detectors, f"{fmt_sigma(shift, floor=True)} sigma")
        return f"{what} at {fmt_time(start_ns)}{evidence}"
    if verb == "changed shape":
        what = f"{series} changed its distribution around {fmt_amount(observed, unit)}"
    else:
        to = fmt_amount(observed, unit)
        what = f"{series} {verb} from {fmt_amount(baseline, unit)} to {to}{_peak(baseline, observed, peak, unit, to)}"
    return f"{what} at {fmt_time(start_ns)}{evidence_clause(detectors)}"


def _flat(series: str, baseline: float, observed: float, unit: str, start_ns: int,
          detectors: Mapping[str, Mapping[str, float]]) -> str:
    """'x stopped varying at 30 per s from 11:15:09 UTC (before: 19.3 per s; flagged by flat line)'."""
    frm, to = _shown(baseline, unit, observed) if math.isfinite(baseline) else ("", fmt_amount(observed, unit))
    before = f"before: {frm}" if frm and not _same(frm, to) else ""
    return f"{series} stopped varying at {to} from {fmt_time(start_ns)}{_flagged(detectors, before)}"


def _flagged(detectors: Mapping[str, Mapping[str, float]], lead: str = "") -> str:
    """'(4.2 sigma; CUSUM over 14 points; flagged by EWMA, median/MAD)': sigma stated once, by the caller."""
    parts = [lead] if lead else []
    cusum = detectors.get("cusum") or {}
    points = int(cusum.get("points", 0))
    if points:
        parts.append(f"CUSUM over {points} point{'s' if points != 1 else ''}")
    others = [name for name in detectors if name != "cusum" or not points]
    if others:
        parts.append("flagged by " + ", ".join(DETECTOR_NAMES.get(name, name) for name in others))
    return f" ({'; '.join(parts)})" if parts else ""
