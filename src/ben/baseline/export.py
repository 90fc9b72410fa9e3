"""``ben baseline export``: labelled incidents of a period as a baseline package, anonymised by the
federation policy (ADR 0038).

Per labelled incident opened in ``[from, to)``: its facts as the federation policy lets them leave
(the same ``Policy.apply`` that builds a federated summary: classes in clear, the incident and
subsystem pseudonymised with the federation key, times to the minute, magnitude and duration as
classes), its label and kind (the note only if the policy sets ``export_notes``), its anomalies
(series pseudonymised, numeric evidence only) and the points of each anomalous series from
``before_s`` before the first anomaly to ``after_s`` after the last. Never exported: host names,
attribute values, series and subsystem names in clear, narratives, log text.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Callable
from pathlib import Path

from ben.baseline.package import Package
from ben.federation.outbox import _lead
from ben.federation.policy import Facts, Policy
from ben.store.schema import ANOMALIES, EVENTS, INCIDENT_LABELS, INCIDENTS

log = logging.getLogger(__name__)

_WORD = re.compile(r"[A-Za-z0-9_.-]{1,48}")
_ID = re.compile(r"[A-Za-z0-9-]{1,64}")


def _lit(text: str) -> str:
    return "'" + str(text).replace("\\", "\\\\").replace("'", "\\'") + "'"


def numeric_evidence(raw: str) -> str:
    """An anomaly's evidence (detector -> statistics) with numbers only: no text can leave through it."""
    try:
        doc = json.loads(raw or "{}")
    except json.JSONDecodeError:
        return "{}"

    def keep(value):
        if isinstance(value, dict):
            return {k: v for k, v in ((k, keep(v)) for k, v in value.items() if _WORD.fullmatch(str(k)))
                    if v is not None}
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        return value if math.isfinite(value) else None
    return json.dumps(keep(doc) if isinstance(doc, dict) else {}, sort_keys=True, separators=(",", ":"))


def _attrs(series: str, subsystem: str, name: str) -> str:
    """The ``k=v,...`` part of a series' display name (``subsystem name{k=v,...}``)."""
    rest = series[len(f"{subsystem} {name}"):] if series.startswith(f"{subsystem} {name}") else ""
    return rest[1:-1] if rest.startswith("{") and rest.endswith("}") else ""


def build(query: Callable[[str], list[dict]], policy: Policy, *, from_ns: int, to_ns: int, before_s: float = 21_600,
          after_s: float = 3_600, max_points: int = 50_000) -> Package:
    """The package of the incidents labelled and opened in [from_ns, to_ns); ``query(sql)`` -> rows."""
    labels = {r["incident_id"]: r for r in query(
        f"SELECT incident_id, label, kind, note FROM {INCIDENT_LABELS} FINAL")}
    incidents = [r for r in query(
        f"SELECT id, subsystem, state, severity, opened_ts, updated_ts, resolved_ts, anomaly_ids FROM {INCIDENTS} "
        f"FINAL WHERE opened_ts >= {int(from_ns)} AND opened_ts < {int(to_ns)} ORDER BY opened_ts")
        if r["id"] in labels and _ID.fullmatch(r["id"])]
    pkg = Package(description={"source": "exported from a ben store", "from_ns": int(from_ns), "to_ns": int(to_ns),
                               "before_s": before_s, "after_s": after_s,
                               "policy": Path(policy.source).name if policy.source != "default policy" else "default"})
    for inc in incidents:
        label = labels[inc["id"]]
        anomalies = query(f"SELECT id, series, subsystem, name, start_ts, end_ts, baseline, observed, score, "
                          f"detectors, evidence FROM {ANOMALIES} FINAL WHERE incident_id = {_lit(inc['id'])} "
                          "ORDER BY start_ts")
        if not anomalies:
            continue
        detector, direction, ratio = _lead(anomalies)
        last_ts = int(inc["resolved_ts"]) or int(inc["updated_ts"])
        facts = Facts(incident_id=inc["id"], change="resolved" if inc["state"] == "resolved" else "opened",
                      subsystem=inc["subsystem"], state=inc["state"], severity=inc["severity"], detector=detector,
                      direction=direction, ratio=ratio, opened_ns=int(inc["opened_ts"]),
                      resolved_ns=int(inc["resolved_ts"]), anomalies=len(inc["anomaly_ids"]))
        body = policy.apply(facts)
        episode = policy.pseudonym("incident", inc["id"])
        start = min(int(a["start_ts"]) for a in anomalies)
        end = max(int(a["end_ts"]) or last_ts for a in anomalies)
        lo, hi = start - int(before_s * 1e9), end + int(after_s * 1e9)
        pkg.episodes.append({
            "episode": episode, "label": label["label"], "kind": label["kind"] or "other",
            "note": label["note"] if policy.rules.export_notes else "",
            "subsystem": body.get("subsystem", ""), "subsystem_class": body.get("subsystem_class", ""),
            "state": body.get("state", ""), "severity": body.get("severity", ""),
            "detector": body.get("detector", ""), "direction": body.get("direction", ""),
            "magnitude": body.get("magnitude", ""), "duration": body.get("duration", ""),
            "anomalies": int(body.get("anomalies", 0)), "opened_minute": int(body.get("opened", 0)),
            "resolved_minute": int(body.get("resolved", 0)), "window_start_ns": lo, "window_end_ns": hi})
        done: set[str] = set()
        for a in anomalies:
            series = policy.pseudonym("series", a["series"])
            pkg.anomalies.append({
                "episode": episode, "series": series, "start_ns": int(a["start_ts"]),
                "end_ns": int(a["end_ts"]) or end, "baseline": float(a["baseline"]), "observed": float(a["observed"]),
                "score": float(a["score"]),
                "detectors": ",".join(d for d in sorted(a["detectors"]) if _WORD.fullmatch(d)),
                "evidence": numeric_evidence(a["evidence"])})
            if series in done:
                continue
            done.add(series)
            pairs = _attrs(a["series"], a["subsystem"], a["name"])
            rows = query(
                f"SELECT ts, value, toString(kind) AS kind FROM {EVENTS} WHERE subsystem = {_lit(a['subsystem'])} "
                f"AND name = {_lit(a['name'])} AND kind IN ('metric', 'counter') AND arrayStringConcat(arrayMap("
                f"(k, v) -> concat(k, '=', v), `attributes.key`, `attributes.value`), ',') = {_lit(pairs)} "
                f"AND ts >= {lo} AND ts <= {hi} ORDER BY ts LIMIT {int(max_points)}")
            for r in rows:
                ts = int(r["ts"])
                pkg.points.append({"episode": episode, "series": series, "metric_kind": r["kind"],
                                   "phase": "before" if ts < start else "during" if ts <= end else "after",
                                   "ts_ns": ts, "value": float(r["value"])})
    log.info("baseline: %d labelled episode(s), %d anomalies, %d points", len(pkg.episodes), len(pkg.anomalies),
             len(pkg.points))
    return pkg
