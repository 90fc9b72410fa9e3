"""Anomaly episodes: what a monitor reports to the spine.

An episode opens when noise control lets an anomaly through, and closes after enough normal
points. The monitor emits one :class:`Episode` when it opens (``state="open"``) and one when it
closes (``state="closed"``); muting a flapping series is reported the same way with
``kind="mute"``. Numbers, not prose: :meth:`Episode.summary` shows how to write the sentence.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import datetime, timezone

__all__ = ["Episode"]


@dataclass(frozen=True)
class Episode:
    """One anomaly episode (or mute) of one series.

    Attributes
    ----------
    series : int or str
        Series index in a bank, or the series' name for a :class:`~ben.detect.SeriesMonitor`.
    kind : str
        ``"anomaly"`` or ``"mute"`` (flap suppression).
    state : str
        ``"open"`` (ongoing) or ``"closed"``.
    start_ts, end_ts : int, int or None
        Nanoseconds; ``end_ts`` is None while open.
    points : int
        Anomalous points in the episode so far.
    peak_score, peak_ts, peak_value : float, int, float
        Highest combined score, when, and the value then.
    detectors : tuple of str
        Detectors that flagged at least one point of the episode.
    baseline, scale : float
        Baseline level and sigma when the episode opened (CUSUM's, else the first detector's).
    observed : float
        Mean of the anomalous values.
    peak_deviation_sigma : float
        ``(peak_value - baseline) / scale``.
    cusum_statistic, cusum_points : float, int
        CUSUM statistic (sigma units) and excursion length at the peak (0 without CUSUM).
    note : str
        Why it ended, when that is worth saying (e.g. the change became the new baseline).
    sustained_spreads, sustained_s : float, float
        When the residual's mean over hours opened it (detector ``"sustained"``): that mean at the onset
        in its own spreads (negative: below the expected), and its window (half-life, seconds); else 0.
    """

    series: int | str
    kind: str
    state: str
    start_ts: int
    end_ts: int | None
    points: int
    peak_score: float
    peak_ts: int
    peak_value: float
    detectors: tuple[str, ...]
    baseline: float
    scale: float
    observed: float
    peak_deviation_sigma: float
    cusum_statistic: float = 0.0
    cusum_points: int = 0
    note: str = ""
    sustained_spreads: float = 0.0
    sustained_s: float = 0.0

    def to_dict(self) -> dict:
        """Plain dict (JSON-friendly)."""
        out = asdict(self)
        out["detectors"] = list(self.detectors)
        return out

    def summary(self, name: str | None = None, unit: str | None = "") -> str:
        """A sentence a person reads in one breath.

        Examples
        --------
        >>> e = Episode("p99 latency", "anomaly", "open", 1_700_000_000_000_000_000, None, 14, 0.86,
        ...             1_700_000_000_000_000_000, 492.0, ("cusum", "ewma"), 120.0, 20.0, 480.0, 18.6, 6.2, 14)
        >>> e.summary(unit=" ms")
        'p99 latency rose from 120 ms to 480 ms at 22:13:20 (CUSUM 6.2 sigma over 14 points); still open'
        """
        if unit is None:
            unit = ""
        elif not isinstance(unit, str):  # unit=5 read "from 1195 to 4815", None "from 119None": numbers made up
            from ben.detect.errors import DetectorError

            raise DetectorError(f"summary(unit=...): expected a str written after each number (' ms', '%'), got "
                                f"{type(unit).__name__} {unit!r:.40}", problem="bad_type")
        who = name if name is not None else str(self.series)
        at = datetime.fromtimestamp(self.start_ts / 1e9, tz=timezone.utc).strftime("%H:%M:%S")
        if self.kind == "mute":
            tail = "" if self.state == "open" else f", unmuted after {_dur(self)}"
            return f"{who} muted at {at}: it flapped (too many episodes in a short window){tail}"
        verb = "rose" if self.observed >= self.baseline else "fell"
        pts = f"{self.cusum_points} point{'s' if self.cusum_points != 1 else ''}"
        why = (f"CUSUM {self.cusum_statistic:.1f} sigma over {pts}"
               if self.cusum_statistic > 0 and "cusum" in self.detectors
               else f"{self.peak_deviation_sigma:+.1f} sigma, {', '.join(self.detectors) or 'combined'}")
        if self.sustained_spreads and "sustained" in self.detectors:
            why = sustained_text(self.sustained_spreads, self.sustained_s)
        end = "still open" if self.state == "open" else f"lasted {_dur(self)}"
        if self.note:
            end += f"; {self.note}"
        return (f"{who} {verb} from {_num(self.baseline)}{unit} to {_num(self.observed)}{unit} at {at} "
                f"({why}); {end}")


def sustained_text(spreads: float, window_s: float) -> str:
    """'the last 3 h ran 2.4 spreads below the expected': the residual's mean over hours, in its spreads."""
    side = "below" if spreads < 0 else "above"
    return f"the last {duration_text(window_s)} ran {abs(spreads):.1f} spreads {side} the expected"


def _num(v: float) -> str:
    if not math.isfinite(v):
        return str(v)
    return f"{v:.0f}" if abs(v) >= 100 else f"{v:.3g}"


def _dur(e: Episode) -> str:
    return duration_text(((e.end_ts or e.start_ts) - e.start_ts) / 1e9)


def duration_text(secs: float) -> str:
    """A duration as people say it: "45 s", "12 min", "2 h", "1.5 h", "3 days"."""
    if secs < 120:
        return f"{secs:.0f} s"
    if secs < 7200:
        return f"{secs / 60:.0f} min"
    if secs < 3 * 86400:
        return f"{secs / 3600:.3g} h"
    return f"{secs / 86400:.3g} days"
