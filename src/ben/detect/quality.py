"""Scoring detectors against labelled series: how alarms are matched to faults.

An *alarm* is the opening of an anomaly episode (mutes are not alarms). For a fault with
window ``[start, end]``:

- the first alarm that opens within ``[start, end + tolerance]`` detects it (a true positive);
  its *delay* is ``alarm - start`` in points; one fault counts once;
- further alarms inside the same window (plus tolerance) are duplicates: neither true nor false;
- any other alarm is a false alarm (also on faulty series, before or after their faults).

``precision = detected faults / (detected faults + false alarms)``, ``recall = detected faults /
faults``, ``F1`` their harmonic mean. Per fault type the same counts are taken over the series
carrying that type. ``false_alarms_per_10k`` is false alarms per 10,000 points of the fault-free
series (``clean``, ``noisy``, ``flat``, ``seasonal_clean``, ``counter``).
"""

from __future__ import annotations

import statistics
from collections import defaultdict

import numpy as np

from ben.detect.monitor import MonitorBank
from ben.detect.synthetic import FAULT_FREE_KINDS, FAULT_KINDS, LabelledSeries

__all__ = ["alarms_of", "match", "score", "evaluate", "TOLERANCE"]

TOLERANCE = 20


def alarms_of(bank: MonitorBank, data: list[LabelledSeries]) -> list[list[int]]:
    """Run ``bank`` (one series per labelled series, equal lengths) and return alarm indices."""
    length = len(data[0].values)
    values = np.stack([s.values for s in data], axis=1)
    res = bank.update_block(data[0].ts_ns, values)
    index = {int(t): i for i, t in enumerate(data[0].ts_ns)}
    out: list[list[int]] = [[] for _ in data]
    for e in res.episodes:
        if e.kind == "anomaly" and e.state == "open":
            out[int(e.series)].append(index[e.start_ts])
    assert all(len(s.values) == length for s in data)
    return out


def match(series: LabelledSeries, alarms: list[int], tolerance: int = TOLERANCE) -> dict:
    """Match one series' alarms to its faults: detected faults with delays, false alarms."""
    detected: dict[int, int] = {}
    false_alarms = 0
    for a in sorted(alarms):
        hit = [i for i, f in enumerate(series.faults) if f.start <= a <= f.end + tolerance]
        if not hit:
            false_alarms += 1
            continue
        fresh = [i for i in hit if i not in detected]
        if fresh:
            detected[fresh[0]] = a - series.faults[fresh[0]].start
    return {"detected": detected, "false_alarms": false_alarms}


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def score(data: list[LabelledSeries], alarms: list[list[int]], tolerance: int = TOLERANCE) -> dict:
    """Precision, recall, F1 and median delay per fault type and overall; false alarms."""
    by_type: dict[str, dict] = defaultdict(lambda: {"tp": 0, "fp": 0, "fn": 0, "delays": []})
    free_points = free_fp = 0
    per_kind_fp: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for s, a in zip(data, alarms):
        m = match(s, a, tolerance)
        if s.faults:
            kind = s.faults[0].kind
            row = by_type[kind]
            row["tp"] += len(m["detected"])
            row["fn"] += len(s.faults) - len(m["detected"])
            row["fp"] += m["false_alarms"]
            row["delays"].extend(m["detected"].values())
        else:
            free_points += len(s.values)
            free_fp += m["false_alarms"]
            per_kind_fp[s.kind][0] += m["false_alarms"]
            per_kind_fp[s.kind][1] += len(s.values)
    report: dict = {"per_type": {}}
    tp = fp = fn = 0
    delays: list[int] = []
    for kind in FAULT_KINDS:
        row = by_type.get(kind)
        if not row:
            continue
        p, r, f = _prf(row["tp"], row["fp"], row["fn"])
        report["per_type"][kind] = {"precision": p, "recall": r, "f1": f, "faults": row["tp"] + row["fn"],
                                    "false_alarms": row["fp"],
                                    "median_delay": statistics.median(row["delays"]) if row["delays"] else None}
        tp, fp, fn = tp + row["tp"], fp + row["fp"], fn + row["fn"]
        delays += row["delays"]
    p, r, f = _prf(tp, fp + free_fp, fn)
    report.update(precision=p, recall=r, f1=f, faults=tp + fn, detected=tp, false_alarms=fp + free_fp,
                  median_delay=statistics.median(delays) if delays else None,
                  false_alarms_per_10k=1e4 * free_fp / free_points if free_points else 0.0,
                  fault_free_points=free_points,
                  fault_free={k: {"false_alarms": v[0], "per_10k": 1e4 * v[0] / v[1]}
                              for k, v in per_kind_fp.items() if k in FAULT_FREE_KINDS})
    return report


def evaluate(data: list[LabelledSeries], tolerance: int = TOLERANCE, **monitor_args) -> dict:
    """Run a default (or configured) :class:`MonitorBank` over ``data`` and :func:`score` it."""
    bank = MonitorBank(len(data), counters=[s.counter for s in data], **monitor_args)
    return score(data, alarms_of(bank, data), tolerance)
