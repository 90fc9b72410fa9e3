"""An incident as named numbers (the bandit's context), and their hashing into a fixed vector.

Features are named so that ``explain`` can say which drove a recommendation: ``bias``,
``subsystem=<s>``, ``severity=<s>``, ``detector=<d>``, ``stat:<d>.<k>`` (a detector's statistic,
squashed), ``direction=up|down``, ``magnitude`` (log of the relative change), ``series=<name>``,
``score``, ``comoving`` (how many series moved together: the incident groups series whose
buckets co-moved, ADR 0029), ``hour_sin`` / ``hour_cos`` (time of day, UTC, of the onset),
``cross=<subsystem>|<direction or detector>``, and the recent changes of the subsystem from its
logs (``changes``: log and event rows in the window before onset whose text says deploy, config,
rollout, restart, version, release, upgrade or rollback): ``changes`` (how many, squashed),
``change_recency`` (1 at onset, 0 at the window's start, for the newest), ``change=<word>`` and
``cross=<subsystem>|change``. Names map to one of ``dim`` slots by a
stable hash (blake2b), so the vector is the same on every machine and across restarts.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass

import numpy as np

DEFAULT_DIM = 64
#: What a log line announcing a change says (the store is searched for it: ``CHANGE_SQL``).
CHANGE_WORDS = ("deploy", "config", "rollout", "restart", "version", "release", "upgrade", "rollback")
CHANGE_RE = re.compile("|".join(CHANGE_WORDS), re.IGNORECASE)
DEFAULT_CHANGE_WINDOW_S = 3600.0


@dataclass(frozen=True)
class Context:
    """The features of one incident: names -> values (small, JSON-able), and the incident's subsystem."""

    subsystem: str
    values: dict[str, float]

    @property
    def key(self) -> str:
        """The kind of context whose outcomes are watched for a change: subsystem and direction."""
        up = self.values.get("direction=up", 0.0) > 0
        down = self.values.get("direction=down", 0.0) > 0
        return f"{self.subsystem}|{'up' if up else 'down' if down else '-'}"

    def to_json(self) -> dict:
        return {"subsystem": self.subsystem, "values": dict(self.values)}

    @classmethod
    def from_json(cls, doc: dict) -> Context:
        return cls(subsystem=str(doc["subsystem"]), values={str(k): float(v) for k, v in doc["values"].items()})


def _squash(v: float) -> float:
    """Any statistic into (-1.1, 1.1), monotone: sign * log1p(|v|) / 4, clipped."""
    if not math.isfinite(v):
        return 0.0
    return max(-1.1, min(1.1, math.copysign(math.log1p(abs(v)), v) / 4.0))


def onset(incident: dict, anomalies: list[dict]) -> int:
    """When the incident began: its first anomaly's start, else its opening (unix ns)."""
    starts = [int(a["start_ts"]) for a in anomalies if int(a.get("start_ts") or 0) > 0]
    return min(starts) if starts else int(incident.get("opened_ts") or 0)


def change_sql(incident: dict, anomalies: list[dict], window_s: float = DEFAULT_CHANGE_WINDOW_S) -> str:
    """The query for the subsystem's change announcements (logs, events) in the window before onset."""
    from ben.store.query import quote
    from ben.store.schema import EVENTS

    t = onset(incident, anomalies)
    words = "|".join(CHANGE_WORDS)
    return (f"SELECT ts, name, body FROM {EVENTS} WHERE subsystem = {quote(str(incident.get('subsystem', '')))} "
            f"AND kind IN ('log', 'event') AND ts >= {t - int(window_s * 1e9)} AND ts <= {t} "
            f"AND match(lower(concat(name, ' ', body)), '{words}') ORDER BY ts DESC LIMIT 100")


def _changes(f: dict[str, float], subsystem: str, t0: int, changes: list[dict], window_s: float) -> None:
    window = int(window_s * 1e9)
    seen = [c for c in changes if t0 - window <= int(c.get("ts") or 0) <= t0
            and CHANGE_RE.search(f"{c.get('name', '')} {c.get('body', '')}")]
    if not seen:
        return
    newest = max(int(c["ts"]) for c in seen)
    f["changes"] = _squash(len(seen) * 4.0)
    f["change_recency"] = round(1.0 - (t0 - newest) / window, 6)
    f[f"cross={subsystem}|change"] = 1.0
    for c in seen:
        for word in {m.group(0).lower() for m in CHANGE_RE.finditer(f"{c.get('name', '')} {c.get('body', '')}")}:
            f[f"change={word}"] = 1.0


def from_incident(incident: dict, anomalies: list[dict], changes: list[dict] = (),
                  change_window_s: float = DEFAULT_CHANGE_WINDOW_S) -> Context:
    """The context of an incident row (``ben.incidents``), its anomaly rows (``ben.anomalies``) and
    the rows of ``change_sql`` (``ts``, ``name``, ``body``)."""
    subsystem = str(incident.get("subsystem", ""))
    f: dict[str, float] = {"bias": 1.0, f"subsystem={subsystem}": 1.0,
                           f"severity={incident.get('severity', '')}": 1.0}
    _changes(f, subsystem, onset(incident, anomalies), list(changes), change_window_s)
    opened = int(incident.get("opened_ts") or 0)
    hour = (opened / 1e9 / 3600.0) % 24.0
    f["hour_sin"] = round(math.sin(2 * math.pi * hour / 24.0), 6)
    f["hour_cos"] = round(math.cos(2 * math.pi * hour / 24.0), 6)
    series = {str(a.get("series", "")) for a in anomalies}
    f["comoving"] = _squash(max(0, len(series) - 1) * 4.0)
    if anomalies:
        top = max(anomalies, key=lambda a: float(a.get("score") or 0.0))
        base, obs = float(top.get("baseline") or 0.0), float(top.get("observed") or 0.0)
        f["direction=up" if obs >= base else "direction=down"] = 1.0
        f["magnitude"] = _squash(abs(obs - base) / (abs(base) + 1e-9) * 4.0)
        f["score"] = _squash(float(top.get("score") or 0.0) * 4.0)
        # Crosses: a linear model per response cannot learn "throttle when batch goes up" otherwise.
        f[f"cross={subsystem}|{'up' if obs >= base else 'down'}"] = 1.0
        for det in top.get("detectors") or []:
            f[f"cross={subsystem}|{det}"] = 1.0
    for a in anomalies:
        f[f"series={a.get('name', '')}"] = 1.0
        for det in a.get("detectors") or []:
            f[f"detector={det}"] = 1.0
        evidence = a.get("evidence") or "{}"
        try:
            evidence = json.loads(evidence) if isinstance(evidence, str) else evidence
        except json.JSONDecodeError:
            evidence = {}
        for det, stats in (evidence or {}).items():
            f[f"detector={det}"] = 1.0
            for k, v in (stats or {}).items() if isinstance(stats, dict) else ():
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    name = f"stat:{det}.{k}"
                    f[name] = max(f.get(name, -2.0), _squash(float(v)))
    return Context(subsystem=subsystem, values={k: round(v, 6) for k, v in sorted(f.items())})


def slot(name: str, dim: int) -> int:
    """The vector slot of a feature name: stable across processes and machines."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "little") % dim


class FeatureIndex:
    """Feature names -> vector slots without collisions while there is room: each name the model
    learns from takes the next free slot; once all ``dim`` are taken, a new name shares the slot its
    hash gives (``slot``). The index grows only when the model learns, in history order, so a
    rebuild gives the same index; a name not learned yet gets a provisional free slot (its weight
    is 0 there and its uncertainty the prior's). 64 hashed slots put ~40 names in ~8 collisions
    (a context's identity sharing a slot with the hour or a detector): the model could not tell
    those contexts apart."""

    def __init__(self, dim: int = DEFAULT_DIM, names: list[str] = ()):
        self.dim = dim
        self.slots: dict[str, int] = {}
        for name in names:
            self._add(name)

    def _add(self, name: str) -> int:
        n = len(self.slots)
        self.slots[name] = n if n < self.dim else slot(name, self.dim)
        return self.slots[name]

    def lookup(self, names, *, learn: bool = False) -> dict[str, int]:
        """The slot of each name (sorted order); ``learn``: new names are added for good."""
        out, fresh = {}, len(self.slots)
        for name in sorted(names):
            if name in self.slots:
                out[name] = self.slots[name]
            elif learn:
                out[name] = self._add(name)
            else:
                out[name] = fresh if fresh < self.dim else slot(name, self.dim)
                fresh += 1
        return out

    def vector(self, ctx: Context, *, learn: bool = False) -> np.ndarray:
        x = np.zeros(self.dim)
        for name, i in self.lookup(ctx.values, learn=learn).items():
            x[i] += ctx.values[name]
        return x

    def to_json(self) -> list[str]:
        return list(self.slots)


def vector(ctx: Context, dim: int = DEFAULT_DIM) -> np.ndarray:
    """The hashed vector of a context (no index: every name at its hash slot)."""
    x = np.zeros(dim)
    for name, v in ctx.values.items():
        x[slot(name, dim)] += v
    return x
