"""From stored rows to anomalies and incidents, deterministically.

The store writer hands every routine-lane table it has stored to ``Detection.process``, in
spine order. Metrics and counters become series (subsystem, name, attributes); their points are
aggregated per series into fixed buckets of event time (mean for gauges, sum for counters, so a
counter is watched as a rate); each closed bucket is one point for ``ben.detect.MonitorBank``.
Its episodes become ``Anomaly`` objects, grouped into incidents by ``Correlator``.

Given the same rows in the same order, the output is the same: that is what ``ben replay``
relies on (it feeds rows read back from the store through this same class).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ben.detect import Episode, MonitorBank
from ben.spine.incidents import Anomaly, Correlator, Incident

log = logging.getLogger(__name__)

KIND_METRIC, KIND_COUNTER = 1, 2
#: What detection reads of a stored table (live and replay read the same).
COLUMNS = ("ts", "kind", "subsystem", "name", "value", "attributes.key", "attributes.value", "spine_seq")


def watched(table: pa.Table) -> pa.Table:
    """Only the rows and columns detection uses: metrics and counters (keeps hand-overs small)."""
    kind = table["kind"].to_numpy(zero_copy_only=False)
    keep = np.flatnonzero((kind == KIND_METRIC) | (kind == KIND_COUNTER))
    return table.select(list(COLUMNS)).take(pa.array(keep))


@dataclass
class Changes:
    """Parallel lists: each changed anomaly (None for an incident resolved by time) and its incident."""

    anomalies: list[Anomaly | None] = field(default_factory=list)
    incidents: list[Incident] = field(default_factory=list)


class Detection:
    def __init__(self, bucket_ns: int = 10**9, correlator: Correlator | None = None):
        self.bucket_ns = bucket_ns
        self.bank = MonitorBank(0)
        self.correlator = correlator or Correlator()
        self.keys: dict[str, int] = {}
        self.series: list[tuple[str, str, str]] = []   # (display name, subsystem, name)
        self._open_bucket = np.zeros(0, dtype=np.int64)
        self._sum = np.zeros(0)
        self._count = np.zeros(0, dtype=np.int64)
        self._counter = np.zeros(0, dtype=bool)
        self._episodes: dict[int, Anomaly] = {}       # series index -> its open anomaly
        self.points = 0
        self.late_points = 0

    @classmethod
    def from_config(cls, detect) -> Detection:
        """Detection as configured by a ``[spine.detect]`` table (``DetectConfig``)."""
        return cls(detect.bucket_ms * 10**6,
                   Correlator(int(detect.group_window_s * 1e9), int(detect.resolve_after_s * 1e9)))

    # -- series -------------------------------------------------------------------------------
    def _series_index(self, table: pa.Table) -> np.ndarray:
        """One integer per row: its series, registering new series as they appear."""
        strings = pa.list_(pa.string())  # (chDB returns list<string not null>, which binary_join lacks)
        attrs = pc.binary_join_element_wise(pc.binary_join(table["attributes.key"].cast(strings), ","),
                                            pc.binary_join(table["attributes.value"].cast(strings), ","), "=")
        key = pc.binary_join_element_wise(table["subsystem"], table["name"], attrs, "\x1f")
        encoded = key.combine_chunks().dictionary_encode() if isinstance(key, pa.ChunkedArray) else key.dictionary_encode()
        mapping = np.empty(len(encoded.dictionary), dtype=np.int64)
        for i, k in enumerate(encoded.dictionary.to_pylist()):
            idx = self.keys.get(k)
            if idx is None:
                idx = self._register(k)
            mapping[i] = idx
        return mapping[encoded.indices.to_numpy(zero_copy_only=False)]

    def _register(self, key: str) -> int:
        subsystem, name, attrs = key.split("\x1f")
        pairs = ""
        if attrs != "=":
            ks, vs = attrs.split("=", 1)
            pairs = "{" + ",".join(f"{k}={v}" for k, v in zip(ks.split(","), vs.split(","))) + "}"
        idx = len(self.series)
        self.keys[key] = idx
        self.series.append((f"{subsystem} {name}{pairs}", subsystem, name))
        n = idx + 1
        self._open_bucket = np.append(self._open_bucket, -1)
        self._sum = np.append(self._sum, 0.0)
        self._count = np.append(self._count, 0)
        self._counter = np.append(self._counter, False)
        self.bank.grow(n)
        return idx

    # -- the pipeline ---------------------------------------------------------------------------
    def process(self, table: pa.Table) -> Changes:
        """Feed stored rows (spine order, with spine_seq); return anomalies and incidents that changed.

        Rows are taken one spine WAL record at a time and incidents are ticked after each, so
        the result does not depend on how records were grouped into inserts (replay relies on it).
        """
        changes = Changes()
        if not table.num_rows:
            return changes
        seq = table["spine_seq"].to_numpy()
        bounds = np.concatenate(([0], np.flatnonzero(np.diff(seq)) + 1, [len(seq)]))
        for lo, hi in zip(bounds[:-1], bounds[1:]):
            self._record(table.slice(int(lo), int(hi - lo)), changes)
        return changes

    def _record(self, table: pa.Table, changes: Changes) -> None:
        ts_all = table["ts"].to_numpy()
        kind = table["kind"].to_numpy(zero_copy_only=False)
        keep = np.flatnonzero((kind == KIND_METRIC) | (kind == KIND_COUNTER))
        if len(keep):
            self._points(table.take(pa.array(keep)), kind[keep], changes)
        for inc in self.correlator.tick(int(ts_all.max())):
            changes.anomalies.append(None)
            changes.incidents.append(inc)

    def _points(self, part: pa.Table, kind: np.ndarray, changes: Changes) -> None:
        series = self._series_index(part)
        ts = part["ts"].to_numpy()
        values = part["value"].to_numpy()
        self._counter[series] |= kind == KIND_COUNTER
        idx, bts, bval = self._bucket(series, ts // self.bucket_ns, values)
        if len(idx):
            self.points += len(idx)
            result = self.bank.update(idx, bts, bval)
            for ep in result.episodes:
                self._on_episode(ep, changes)

    def _bucket(self, series: np.ndarray, bucket: np.ndarray, values: np.ndarray):
        """Aggregate points into buckets; return the buckets that closed, as (series, ts, value)."""
        out_s, out_t, out_v = [], [], []
        # Group consecutive rows of the same (series, bucket), keeping first-seen order of groups.
        order = np.lexsort((np.arange(len(series)), bucket, series))
        s, b, v = series[order], bucket[order], values[order]
        edges = np.flatnonzero((np.diff(s) != 0) | (np.diff(b) != 0)) + 1
        starts = np.concatenate(([0], edges))
        sums = np.add.reduceat(v, starts) if len(v) else np.zeros(0)
        counts = np.diff(np.concatenate((starts, [len(v)])))
        for i, start in enumerate(starts):
            si, bi = int(s[start]), int(b[start])
            open_b = self._open_bucket[si]
            if bi == open_b or open_b < 0:
                self._open_bucket[si] = bi
            elif bi > open_b:
                out_s.append(si)
                out_t.append(int(open_b) * self.bucket_ns)
                out_v.append(self._value(si))
                self._open_bucket[si], self._sum[si], self._count[si] = bi, 0.0, 0
            else:  # an older bucket than the open one: fold it in, count it
                self.late_points += int(counts[i])
            self._sum[si] += sums[i]
            self._count[si] += counts[i]
        if not out_s:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0)
        out = np.array(out_s, dtype=np.int64), np.array(out_t, dtype=np.int64), np.array(out_v)
        by_time = np.lexsort((out[0], out[1]))  # time order across series, then series order
        return out[0][by_time], out[1][by_time], out[2][by_time]

    def _value(self, si: int) -> float:
        if self._counter[si]:
            return float(self._sum[si]) * 1e9 / self.bucket_ns  # per second
        return float(self._sum[si] / max(1, self._count[si]))

    def _on_episode(self, ep: Episode, changes: Changes) -> None:
        if ep.kind != "anomaly":
            log.info("detection: series %s muted (flapping)", self.series[int(ep.series)][0])
            return
        display, subsystem, name = self.series[int(ep.series)]
        detectors = {d: {} for d in ep.detectors}
        if "cusum" in detectors and ep.cusum_points:
            detectors["cusum"] = {"sigma": float(ep.cusum_statistic), "points": int(ep.cusum_points)}
        for d in detectors:
            if d != "cusum" or not detectors[d]:
                detectors[d] = {"sigma": abs(float(ep.peak_deviation_sigma))}
        anomaly = Anomaly(display, subsystem, name, int(ep.start_ts), float(ep.baseline), float(ep.observed),
                          float(ep.peak_score), detectors, None if ep.state == "open" else int(ep.end_ts))
        incident = self.correlator.add(anomaly)
        changes.anomalies.append(anomaly)
        changes.incidents.append(incident)
