"""Incidents: anomalies grouped by subsystem and time, with a lifecycle and a narrative.

An anomaly joins the open incident of its subsystem if it starts within ``group_window_ns``
of that incident's latest activity; otherwise it opens a new incident. An incident resolves
itself once all its anomalies have ended and ``resolve_after_ns`` has passed quietly; an
operator may acknowledge it (or resolve it) earlier. Everything here is a pure function of the
anomalies fed in, in order, so replaying the same anomalies gives the same incidents.

Two refinements (ADR 0029): an anomaly whose series moved with a series already in the open
incident (mutual information at least ``comove.MIN_MI`` over their recent buckets) joins it even
after the group window, and names it ("moved with db.connections (MI 0.42)"); an anomaly whose
shift is below ``MIN_ATTACH_SIGMA`` of its own scale and that moved with nothing there is not
attached to an open incident (a tag-along): it is kept as an anomaly of its own, with no incident.
"""

from __future__ import annotations

import enum
import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field

from ben.detect.words import unit_of
from ben.spine.comove import MIN_MI
from ben.spine.narrative import anomaly_sentence, fmt_duration, fmt_mi, fmt_time, rate_unit

#: An anomaly that shifted its series by less than this many of its own sigmas does not join an open
#: incident unless it moved with one of its series (it would be a tag-along, not evidence).
MIN_ATTACH_SIGMA = 3.0


class State(str, enum.Enum):
    """An incident's state: ``open`` -> ``acknowledged`` -> ``resolved``."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


#: Grades of an anomaly for an incident's severity: calibrated evidence in nats, bank scores.
STRONG_EVIDENCE = (15.0, 30.0)
STRONG_SCORE = (0.9, 0.99)


@dataclass
class Anomaly:
    """One anomaly episode of one series, with its evidence in numbers."""

    series: str                 # e.g. "checkout-api latency_ms{route=/pay}"
    subsystem: str
    name: str                   # the series name, e.g. latency_ms (its suffix gives the unit)
    start_ns: int
    baseline: float             # what was normal before
    observed: float             # what was seen (peak excursion)
    score: float                # peak combined score in [0, 1]
    detectors: dict[str, dict[str, float]] = field(default_factory=dict)  # detector -> statistics
    end_ns: int | None = None   # None while ongoing
    scale: float = math.nan     # the series' sigma when the episode opened (NaN: unknown)
    index: int = -1             # the series' index in detection (-1: none)
    moved_with: list[tuple[str, float]] = field(default_factory=list)  # (series, MI in nats) it moved with
    note: str = ""              # why it ended, when worth saying (the change became the new baseline)
    per_ns: int = 0             # a counter's values are per this many ns (detection: 1 s); 0: a gauge
    peak: float = math.nan      # the episode's most extreme value (observed is its mean); NaN: unknown
    unit: str = ""              # the series' unit in words (OTLP's ``unit``); "": its name's suffix (latency_ms)

    @property
    def id(self) -> str:
        return "an-" + hashlib.sha1(f"{self.series}|{self.start_ns}".encode()).hexdigest()[:12]

    @property
    def strength(self) -> int:
        """0 (an anomaly), 1 (strong), 2 (very strong). A calibrated anomaly is graded by its evidence
        (``-ln p``, the same on every series: >= 15 nats strong, >= 30 very strong); a bank anomaly by
        its combined score (>= 0.9, >= 0.99), the scale its detectors share."""
        evidence = [st["evidence"] for st in self.detectors.values() if "evidence" in st]
        if evidence:
            top = max(evidence)
            return 2 if top >= STRONG_EVIDENCE[1] else 1 if top >= STRONG_EVIDENCE[0] else 0
        return 2 if self.score >= STRONG_SCORE[1] else 1 if self.score >= STRONG_SCORE[0] else 0

    @property
    def shift_sigma(self) -> float:
        """|observed - baseline| in the series' own sigmas (NaN when the scale is unknown)."""
        if not (math.isfinite(self.scale) and self.scale > 0):
            return math.nan
        return abs(self.observed - self.baseline) / self.scale

    @property
    def shown_unit(self) -> str:
        """The unit its baseline and observed values are in, as said: "ms", "bytes", "requests per s"."""
        return rate_unit(self.unit or unit_of(self.name), self.per_ns)

    def sentence(self) -> str:
        text = anomaly_sentence(self.series, self.name, self.baseline, self.observed, self.start_ns, self.detectors,
                                scale=self.scale, per_ns=self.per_ns, peak=self.peak, unit=self.unit)
        if self.note:
            text += f"; {self.note}"
        if self.moved_with:
            text += "; moved with " + ", ".join(f"{s} ({fmt_mi(mi)})" for s, mi in self.moved_with)
        return text


@dataclass
class Incident:
    """Anomalies of one subsystem grouped in time, with their state and who acknowledged them."""

    subsystem: str
    opened_ns: int
    anomalies: list[Anomaly] = field(default_factory=list)
    state: State = State.OPEN
    updated_ns: int = 0
    resolved_ns: int | None = None
    acknowledged_by: str = ""

    @property
    def id(self) -> str:
        return "inc-" + hashlib.sha1(f"{self.subsystem}|{self.opened_ns}".encode()).hexdigest()[:10]

    @property
    def severity(self) -> str:
        """critical / high / medium / low, from the strongest anomaly and how many series moved."""
        peak = max((a.strength for a in self.anomalies), default=0)
        series = len({a.series for a in self.anomalies})
        if peak >= 2 and series >= 2:
            return "critical"
        if peak >= 2 or series >= 3:
            return "high"
        if peak >= 1:
            return "medium"
        return "low"

    @property
    def ongoing(self) -> bool:
        return any(a.end_ns is None for a in self.anomalies)

    def narrative(self, now_ns: int | None = None) -> str:
        """One breath: the leading anomaly, how many more, and where the incident stands."""
        if not self.anomalies:
            return f"{self.subsystem}: no anomalies"
        lead = max(self.anomalies, key=lambda a: (a.score, -a.start_ns))
        text = lead.sentence()
        if lead.moved_with:
            text = text[:text.rindex("; moved with ")]
        if lead.note:  # said once, in words, where the incident's state is (the KL figure is explain's)
            text = text.replace(f"; {lead.note}", "", 1)
        moved: dict[str, float] = {}  # series that moved with the lead's series, best MI either way
        for a in self.anomalies:
            pairs = a.moved_with if a.series == lead.series else [(a.series, mi) for s, mi in a.moved_with
                                                                  if s == lead.series]
            for s, mi in pairs:
                moved[s] = max(mi, moved.get(s, 0.0))
        if moved:
            text += "; moved with " + ", ".join(f"{s} ({fmt_mi(mi)})" for s, mi in
                                                sorted(moved.items(), key=lambda p: (-p[1], p[0])))
        others = [a for a in self.anomalies if a.series != lead.series and a.series not in moved]
        if others:
            names = sorted({a.series for a in others})
            shown = ", ".join(names[:2]) + (f" and {len(names) - 2} more" if len(names) > 2 else "")
            text += f"; also {shown}"
        resolved = self.state is State.RESOLVED and self.resolved_ns is not None
        if resolved:
            after = (f"at {fmt_time(self.resolved_ns, since_ns=lead.start_ns)} "  # the date if not the lead's
                     f"after {fmt_duration(self.resolved_ns - self.opened_ns)}")
            # closed because the lead's change was accepted as the new normal, not because it went back
            text += f"; closed {after} as ben took the new level as normal (not a sign it recovered)" \
                if lead.note else f"; resolved {after}"
            return text
        if lead.note:
            text += "; ben took its new level as normal"
        if self.state is State.ACKNOWLEDGED:
            text += f"; acknowledged{f' by {self.acknowledged_by}' if self.acknowledged_by else ''}, still open"
        else:
            text += "; still open"
        return text


class Correlator:
    """Groups anomalies into incidents; deterministic in the order anomalies arrive."""

    def __init__(self, group_window_ns: int = 300 * 10**9, resolve_after_ns: int = 120 * 10**9):
        self.group_window_ns = group_window_ns
        self.resolve_after_ns = resolve_after_ns
        self.incidents: dict[str, Incident] = {}
        self._open_by_subsystem: dict[str, str] = {}
        self.detached: dict[str, Anomaly] = {}  # tag-alongs: anomalies attached to no incident, by id

    def pending(self) -> bool:
        """Whether any incident is open (so that ``tick`` may resolve one)."""
        return bool(self._open_by_subsystem)

    def add(self, anomaly: Anomaly, related: Callable[[int, int], float] | None = None) -> Incident | None:
        """Attach a new (or updated) anomaly; return the incident it belongs to (None: a tag-along).

        ``related(a, b)`` gives the mutual information between the series of indices a and b.
        """
        if anomaly.id in self.detached:  # an update of a tag-along: it stays one
            self.detached[anomaly.id] = anomaly
            return None
        inc_id = self._open_by_subsystem.get(anomaly.subsystem)
        inc = self.incidents.get(inc_id) if inc_id else None
        if inc is not None:
            for i, known in enumerate(inc.anomalies):
                if known.id == anomaly.id:  # an update of an episode already attached (more of it seen now)
                    anomaly.moved_with = self._moved_with(anomaly, inc, related) or known.moved_with
                    inc.anomalies[i] = anomaly
                    inc.updated_ns = max(inc.updated_ns, anomaly.end_ns or anomaly.start_ns)
                    return inc
            moved = self._moved_with(anomaly, inc, related)
            within = anomaly.start_ns - inc.updated_ns <= self.group_window_ns
            if within or moved:
                if not moved and anomaly.shift_sigma < MIN_ATTACH_SIGMA:
                    self.detached[anomaly.id] = anomaly  # a tag-along: below the incident's threshold,
                    return None                           # moving with none of it
                anomaly.moved_with = moved
                inc.anomalies.append(anomaly)
                inc.updated_ns = max(inc.updated_ns, anomaly.end_ns or anomaly.start_ns)
                return inc
            self._resolve(inc, inc.updated_ns)
        inc = Incident(anomaly.subsystem, anomaly.start_ns, [anomaly], updated_ns=anomaly.end_ns or anomaly.start_ns)
        self.incidents[inc.id] = inc
        self._open_by_subsystem[anomaly.subsystem] = inc.id
        return inc

    @staticmethod
    def _moved_with(anomaly: Anomaly, inc: Incident, related) -> list[tuple[str, float]]:
        """The incident's series this anomaly's series moved with (MI >= MIN_MI), strongest first."""
        if related is None or anomaly.index < 0:
            return []
        found = {}
        for other in inc.anomalies:
            if other.index >= 0 and other.series != anomaly.series and other.series not in found:
                mi = related(anomaly.index, other.index)
                if mi >= MIN_MI:
                    found[other.series] = round(mi, 2)
        return sorted(found.items(), key=lambda p: (-p[1], p[0]))

    def tick(self, now_ns: int) -> list[Incident]:
        """Resolve incidents whose anomalies all ended resolve_after_ns ago; return them."""
        done = []
        for inc_id in list(self._open_by_subsystem.values()):
            inc = self.incidents[inc_id]
            if not inc.ongoing and now_ns - inc.updated_ns >= self.resolve_after_ns:
                self._resolve(inc, now_ns)
                done.append(inc)
        return done

    def acknowledge(self, incident_id: str, by: str = "") -> Incident:
        inc = self.incidents[incident_id]
        if inc.state is State.OPEN:
            inc.state, inc.acknowledged_by = State.ACKNOWLEDGED, by
        return inc

    def _resolve(self, inc: Incident, at_ns: int) -> None:
        inc.state, inc.resolved_ns = State.RESOLVED, at_ns
        if self._open_by_subsystem.get(inc.subsystem) == inc.id:
            del self._open_by_subsystem[inc.subsystem]
