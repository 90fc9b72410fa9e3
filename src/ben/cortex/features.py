"""An incident as named numbers (the bandit's context), and their hashing into a fixed vector.

Features are named so that ``explain`` can say which drove a recommendation: ``bias``,
``subsystem=<s>``, ``severity=<s>``, ``detector=<d>``, ``stat:<d>.<k>`` (a detector's statistic,
squashed), ``direction=up|down``, ``magnitude`` (log of the relative change), ``series=<name>``,
``score``, ``comoving`` (how many series moved together), ``hour_sin`` / ``hour_cos`` (time of day,
UTC), ``cross=<subsystem>|<direction or detector>``. Names map to one of ``dim`` slots by a
stable hash (blake2b), so the vector is the same on every machine and across restarts.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass

import numpy as np

DEFAULT_DIM = 64


@dataclass(frozen=True)
class Context:
    """The features of one incident: names -> values (small, JSON-able), and the incident's subsystem."""

    subsystem: str
    values: dict[str, float]

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


def from_incident(incident: dict, anomalies: list[dict]) -> Context:
    """The context of an incident row (``ben.incidents``) and its anomaly rows (``ben.anomalies``)."""
    subsystem = str(incident.get("subsystem", ""))
    f: dict[str, float] = {"bias": 1.0, f"subsystem={subsystem}": 1.0,
                           f"severity={incident.get('severity', '')}": 1.0}
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


def vector(ctx: Context, dim: int = DEFAULT_DIM) -> np.ndarray:
    x = np.zeros(dim)
    for name, v in ctx.values.items():
        x[slot(name, dim)] += v
    return x
