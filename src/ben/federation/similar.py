"""Federated incidents similar to a local one: same signature (operator-declared subsystem class,
detector, direction, magnitude class), seen in the last 30 days, with how they were resolved."""

from __future__ import annotations

import time

from ben.federation.outbox import _lead
from ben.federation.policy import magnitude_class
from ben.store.schema import FEDERATED_INCIDENTS

WINDOW_S = 30 * 86_400


def signature(subsystem: str, anomalies: list[dict], classes: dict[str, str]) -> dict:
    """The local incident's signature, computed as its federated summary would be."""
    detector, direction, ratio = _lead(anomalies)
    return {"subsystem_class": classes.get(subsystem, "other"), "detector": detector, "direction": direction,
            "magnitude_class": magnitude_class(ratio)}


def similar_sql(sig: dict, *, now_s: int | None = None, limit: int = 20) -> str:
    """The query (read-only) for similar federated incidents; an unknown class ("other") matches any class."""
    now_s = int(time.time()) if now_s is None else now_s
    safe = {k: str(v).replace("\\", "").replace("'", "") for k, v in sig.items()}
    where = [f"{k} = '{v}'" for k, v in safe.items() if not (k == "subsystem_class" and v == "other")]
    where.append(f"opened_minute >= {now_s - WINDOW_S}")
    return (f"SELECT cluster, incident, argMax(state, received_ts) AS state, argMax(change, received_ts) AS change, "
            f"any(subsystem_class) AS subsystem_class, any(detector) AS detector, any(direction) AS direction, "
            f"any(magnitude_class) AS magnitude_class, max(severity) AS severity, min(opened_minute) AS opened_minute, "
            f"max(resolved_minute) AS resolved_minute, argMax(duration_bucket, received_ts) AS duration_bucket "
            f"FROM (SELECT * FROM {FEDERATED_INCIDENTS} FINAL WHERE {' AND '.join(where)}) "
            f"GROUP BY cluster, incident ORDER BY opened_minute DESC LIMIT {int(limit)}")
