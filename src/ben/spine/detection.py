"""From stored rows to anomalies and incidents, deterministically, without Python work per point.

The store writer hands every routine-lane table it has stored to ``Detection.process``, in
spine order. Metrics and counters become series (subsystem, name, attributes); their points are
aggregated per series into fixed buckets of event time (mean for gauges, sum per second for counters,
each increment shared among the buckets of its interval since the counter's previous point, so a
counter is watched as a rate: ``ben.spine.buckets``); each closed bucket is one point for the detection algorithm:
``calibrated`` (the default, ADR 0040: ``ben.detect.CalibratedBank``, the compiled per-point step
``SeriesMonitor`` runs, one state row per series) or ``bank`` (``ben.detect.MonitorBank``, the detector
bank of ADR 0010). Its episodes become ``Anomaly`` objects, grouped into incidents by ``Correlator``.

A whole table is handled at once (ADR 0029, 0040): series keys are built and dictionary-encoded
by Arrow, each distinct key looked up once (many at once: one Arrow hash lookup), new series
registered together (amortised growth); bucketing is one compiled pass over the rows; the closed
buckets of every record go to the detector in one call. Episodes are then put back at the record whose point caused them, and
incidents are ticked after each record, so the result is the one a record-by-record feed gives:
it does not depend on how records were grouped into inserts (``ben replay`` relies on it).

Cardinality is bounded: a subsystem holds at most ``max_series_per_subsystem`` series, a peer
``max_series_per_peer`` and the whole detection ``max_series``; the points of a refused series are
still stored, not watched, and counted (``refused_points``, ``refused_series``; over a peer's share
also ``refused_series_peer``), with a log line at most once a minute. A peer is who delivered the
series' first row, as the sidecar names it and no application can claim: its sidecar and whether it
came through the OTLP receiver (producer ``otlp-...``) or a ben SDK on the sidecar's socket. So one
local application, whatever ``service.name``s it makes up, cannot take the series of the others
(ADR 0045, round 4).

A series' unit is the body of its first row, when that reads as one (``ben.detect.words.ucum_words``: the
OTLP receiver stores a metric's ``unit`` there, ``ben.otlp.convert``); its anomalies say their numbers in it
(ADR 0012, 2026-12-07 round 2). A series without one is said in the unit its name's suffix carries.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import time
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ben.core.errors import ConfigError
from ben.detect import DetectorError, Episode, MonitorBank
from ben.detect.calibrated import Timing
from ben.detect.calibrated_bank import CalibratedBank
from ben.detect.words import MAX_UNIT_CHARS, ucum_words
from ben.spine.buckets import Closed, Columns, close_buckets
from ben.spine.buckets import warm_up as warm_buckets
from ben.spine.comove import CoMovement
from ben.spine.incidents import Anomaly, Correlator, Incident

log = logging.getLogger(__name__)
#: A warm-up of the kernels this long or longer (a compile) is said in the log, as it goes and when done.
SLOW_WARM_UP_S = 3.0

KIND_METRIC, KIND_COUNTER = 1, 2
#: What detection reads of a stored table (live and replay read the same).
COLUMNS = ("ts", "kind", "subsystem", "name", "value", "attributes.key", "attributes.value", "spine_seq")
#: ... and who delivered each row (the peer a new series is charged to); a table without them: one peer "".
PEER_COLUMNS = ("sidecar_id", "producer_id")
#: ... and each row's body: a metric's unit (a table without it: series without a unit).
UNIT_COLUMN = "body"
#: The body as catch-up and replay read it: a body too long to be a unit (a histogram's buckets) is not read back.
UNIT_SQL = f"if(length(body) <= {4 * MAX_UNIT_CHARS}, body, '') AS body"
OTLP_PRODUCER = "otlp-"  # the OTLP receiver's senders (ben.otlp.sender.Slots): no application chooses it
SEP = "\x1f"  # between subsystem, name and attributes in a series key
REFUSAL_LOG_INTERVAL_S = 60.0
#: A counter's bucketed value is its sum per second whatever the bucket (``_bucket_kernel``): its anomalies are
#: said "per s" (they were said "per 250 ms" of values per second with 250 ms buckets: ADR 0012, round 2).
RATE_NS = 10**9
_REFUSED = -1
#: A table's distinct keys are looked up in Arrow when they are at least 1/LOOKUP_RATIO of the known ones.
LOOKUP_RATIO = 8
ALGORITHMS = ("calibrated", "bank")
#: A calibrated episode's reason (``Episode.detectors``) as the anomaly's evidence key: ``drift`` there is
#: the gap between the fast and the slow level, not the bank's KL drift detector, so it is named apart.
CALIBRATED_KEYS = {"level": "level", "distribution": "distribution", "drift": "level_drift", "flat": "flat",
                   "sustained": "sustained"}


def watched(table: pa.Table) -> pa.Table:
    """Only the rows and columns detection uses: metrics and counters (keeps hand-overs small)."""
    kind = table["kind"].to_numpy(zero_copy_only=False)
    keep = np.flatnonzero((kind == KIND_METRIC) | (kind == KIND_COUNTER))
    names = list(COLUMNS) + [c for c in (*PEER_COLUMNS, UNIT_COLUMN) if c in table.column_names]
    return table.select(names).take(pa.array(keep))


def peer_of(sidecar_id: str | None, producer_id: str | None) -> str:
    """The peer a series is charged to: ``<sidecar>/otlp/u<uid>`` (the OTLP senders of one local account,
    ``otlp-<sidecar>-u<uid>-<slot>``, ``ben.otlp.sender``), ``<sidecar>/otlp/c<hex>`` (one client certificate
    over mutual TLS, round 12), ``<sidecar>/otlp`` or ``<sidecar>/sdk``."""
    sidecar, producer = sidecar_id or "", producer_id or ""
    if not producer.startswith(OTLP_PRODUCER):
        return f"{sidecar}/sdk"
    client = producer[len(OTLP_PRODUCER) + len(sidecar) + 1:].rpartition("-")[0] \
        if producer.startswith(f"{OTLP_PRODUCER}{sidecar}-") else ""
    named = (client.startswith("u") and client[1:].isdigit()) or re.fullmatch(r"c[0-9a-f]{16}", client)
    return f"{sidecar}/otlp/{client}" if named else f"{sidecar}/otlp"


def describe(key: str) -> tuple[str, str, str]:
    """A series key -> (display name, subsystem, name): ``checkout-api latency_ms{route=/pay}``."""
    subsystem, name, attrs = key.split(SEP)
    pairs = ""
    if attrs != "=":
        ks, vs = attrs.split("=", 1)
        pairs = "{" + ",".join(f"{k}={v}" for k, v in zip(ks.split(","), vs.split(","))) + "}"
    return f"{subsystem} {name}{pairs}", subsystem, name


@dataclass
class Changes:
    """Parallel lists: each changed anomaly (None for an incident resolved by time) and its incident."""

    anomalies: list[Anomaly | None] = field(default_factory=list)
    incidents: list[Incident | None] = field(default_factory=list)  # None: an anomaly attached to none


class Detection:
    """Detection over stored rows: series, buckets, the detector, co-movement and incidents.

    ``algorithm``: ``"calibrated"`` (default; ``timing`` sets its memories, documented defaults) or
    ``"bank"`` (the detector bank).
    """

    def __init__(self, bucket_ns: int = 10**9, correlator: Correlator | None = None, *,
                 max_series_per_subsystem: int = 10_000, max_series: int = 100_000, algorithm: str = "calibrated",
                 timing: Timing | None = None, max_series_per_peer: int | None = None):
        if algorithm not in ALGORITHMS:
            raise ValueError(f"algorithm {algorithm!r}: expected one of {', '.join(ALGORITHMS)}")
        self.bucket_ns = bucket_ns
        self.max_series_per_subsystem = max_series_per_subsystem
        self.max_series = max_series
        self.max_series_per_peer = max_series if max_series_per_peer is None else max_series_per_peer
        self.algorithm = algorithm
        self.bank: CalibratedBank | MonitorBank = (CalibratedBank(0, timing=timing) if algorithm == "calibrated"
                                                   else MonitorBank(0))
        self.correlator = correlator or Correlator()
        self.comove = CoMovement()
        self.keys: dict[str, int] = {}
        self.series: list[str] = []              # series key by index (describe() gives its parts)
        self._known: list[pa.Array] = []         # the first _known_n series keys, as Arrow (see _lookup)
        self._known_n = 0
        self.per_subsystem: dict[str, int] = {}
        self.per_peer: dict[str, int] = {}
        self.peers: list[str] = []               # the peer of each series (charged with it)
        self.units: list[str] = []               # the unit of each series, in words ("": its name's suffix)
        self.cols = Columns()
        self._open: set[int] = set()             # series with an anomaly episode open
        self.points = 0                          # bucketed points run through the bank
        self.rows = 0                            # watched rows taken in
        self.late_points = 0
        self.refused_points = 0
        self.refused_series = 0                  # distinct refused keys, counted once per table they appear in
        self.refused_series_peer = 0             # ... of them, refused for their peer's share (max_series_per_peer)
        self._refused_peer = ""                  # the last peer refused for its share (the log line names it)
        self._refusal_logged = 0.0

    @classmethod
    def from_config(cls, detect) -> Detection:
        """Detection as configured by a ``[spine.detect]`` table (``DetectConfig``), its compiled kernels ready
        (:meth:`warm_up`)."""
        det = cls(detect.bucket_ms * 10**6,
                  Correlator(int(detect.group_window_s * 1e9), int(detect.resolve_after_s * 1e9)),
                  max_series_per_subsystem=detect.max_series_per_subsystem, max_series=detect.max_series,
                  algorithm=detect.algorithm, timing=timing_of(detect.timing),
                  max_series_per_peer=detect.max_series_per_peer)
        det.warm_up()
        return det

    def warm_up(self) -> None:
        """Compile (or load) the compiled kernels now, once per process: compiling holds the interpreter for
        a few seconds, which must not happen at the first stored table while the spine takes data. Said in the log
        only when it takes SLOW_WARM_UP_S or more (compiling, after an install), so a quick start prints nothing."""
        import threading

        slow = threading.Timer(SLOW_WARM_UP_S, log.info, ("detection: compiling its kernels (the first start after "
                                                          "an install: ~15 s of CPU; later starts load them)",))
        slow.daemon, started = True, time.monotonic()
        slow.start()
        try:
            warm_buckets(self.bucket_ns)
            if isinstance(self.bank, CalibratedBank):
                self.bank.warm_up()
        finally:
            slow.cancel()
        if (took := time.monotonic() - started) >= SLOW_WARM_UP_S:
            log.info("detection: kernels ready in %.1f s", took)

    # -- series -------------------------------------------------------------------------------
    def _series_index(self, table: pa.Table, kind: np.ndarray) -> np.ndarray:
        """One integer per row: its series (``-1``: refused by the caps), registering new ones."""
        strings = pa.list_(pa.string())  # (chDB returns list<string not null>, which binary_join lacks)
        attrs = pc.binary_join_element_wise(pc.binary_join(table["attributes.key"].cast(strings), ","),
                                            pc.binary_join(table["attributes.value"].cast(strings), ","), "=")
        key = pc.binary_join_element_wise(table["subsystem"], table["name"], attrs, SEP)
        encoded = key.combine_chunks().dictionary_encode() if isinstance(key, pa.ChunkedArray) else key.dictionary_encode()
        indices = encoded.indices.to_numpy(zero_copy_only=False)
        dictionary = encoded.dictionary
        mapping = self._lookup(dictionary)
        new = np.flatnonzero(mapping == _REFUSED)
        if len(new):
            first_row = np.full(len(dictionary), len(indices), dtype=np.int64)
            np.minimum.at(first_row, indices, np.arange(len(indices)))
            firsts = pa.array(first_row[new])
            if all(c in table.column_names for c in PEER_COLUMNS):
                peers = [peer_of(s, p) for s, p in zip(table["sidecar_id"].take(firsts).to_pylist(),
                                                       table["producer_id"].take(firsts).to_pylist())]
            else:
                peers = [""] * len(new)
            bodies = table[UNIT_COLUMN].take(firsts) if UNIT_COLUMN in table.column_names else None
            mapping[new] = self._register(dictionary.take(pa.array(new)).to_pylist(),
                                          kind[first_row[new]] == KIND_COUNTER, peers, bodies)
        return mapping[indices]

    def _lookup(self, distinct: pa.Array) -> np.ndarray:
        """Each distinct key's series (``-1``: not registered). Many keys against the known ones: one
        hash lookup in Arrow (the known keys kept as an Arrow array, extended as series register);
        a few: the dict (building Arrow's hash of every known key would cost more)."""
        known = len(self.series)
        if known and len(distinct) * LOOKUP_RATIO >= known:
            if self._known_n < known:
                self._known.append(pa.array(self.series[self._known_n:], pa.string()))
                self._known = [pa.concat_arrays(self._known)] if len(self._known) > 1 else self._known
                self._known_n = known
            found = pc.index_in(distinct.cast(pa.string()), value_set=self._known[0])
            return pc.fill_null(found, _REFUSED).to_numpy(zero_copy_only=False).astype(np.int64)
        get = self.keys.get
        return np.array([get(k, _REFUSED) for k in distinct.to_pylist()], dtype=np.int64)

    def _register(self, keys: list[str], counters: np.ndarray, peers: list[str], bodies) -> np.ndarray:
        """Register new series (in first-seen order) within the caps; ``-1`` for each refused one. ``bodies``:
        the body of each one's first row (its unit, read for the registered ones only), or None."""
        out = np.full(len(keys), _REFUSED, dtype=np.int64)
        start = len(self.series)
        per, per_peer = self.per_subsystem, self.per_peer
        for i, (key, peer) in enumerate(zip(keys, peers)):
            subsystem = key[:key.index(SEP)]
            held = per.get(subsystem, 0)
            if held >= self.max_series_per_subsystem or len(self.series) >= self.max_series:
                self.refused_series += 1
                continue
            if per_peer.get(peer, 0) >= self.max_series_per_peer:
                self.refused_series += 1
                self.refused_series_peer += 1
                self._refused_peer = peer
                continue
            per[subsystem] = held + 1
            per_peer[peer] = per_peer.get(peer, 0) + 1
            self.peers.append(peer)
            self.units.append(ucum_words(bodies[i].as_py() or "") if bodies is not None else "")
            out[i] = len(self.series)
            self.keys[key] = len(self.series)
            self.series.append(key)
        n = len(self.series)
        if n > start:
            self.cols.grow(n)
            self.cols.counter[start:n] = counters[out >= 0]
            self.bank.grow(n)
            self.comove.grow(n)
        return out

    def describe(self, index: int) -> tuple[str, str, str]:
        """(display name, subsystem, name) of series ``index``."""
        return describe(self.series[index])

    # -- the pipeline ---------------------------------------------------------------------------
    def process(self, table: pa.Table) -> Changes:
        """Feed stored rows (spine order, with spine_seq); return anomalies and incidents that changed.

        The result is the one a feed of one spine WAL record at a time gives, incidents ticked
        after each record, so it does not depend on how records were grouped into inserts.
        """
        changes = Changes()
        if not table.num_rows:
            return changes
        seq = table["spine_seq"].to_numpy()
        starts = np.concatenate(([0], np.flatnonzero(np.diff(seq)) + 1))
        record = np.repeat(np.arange(len(starts)), np.diff(np.concatenate((starts, [len(seq)]))))
        ts_all = table["ts"].to_numpy()
        record_max_ts = np.maximum.reduceat(ts_all, starts)
        kind = table["kind"].to_numpy(zero_copy_only=False)
        keep = np.flatnonzero((kind == KIND_METRIC) | (kind == KIND_COUNTER))
        events: list[tuple[int, Episode, dict | None, int]] = []
        closed = None
        if len(keep):
            part = table if len(keep) == table.num_rows else table.take(pa.array(keep))
            events, closed = self._points(part, kind[keep], record[keep])
        self._correlate(events, closed, record_max_ts, changes)
        return changes

    def _points(self, part: pa.Table, kind: np.ndarray,
                record: np.ndarray) -> tuple[list[tuple[int, Episode, dict | None]], Closed | None]:
        series = self._series_index(part, kind)
        ts = part["ts"].to_numpy()
        values = part["value"].to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
        self.rows += len(series)
        ok = series >= 0
        if not ok.all():
            self._refused(int((~ok).sum()))
            series, ts, values, record = series[ok], ts[ok], values[ok], record[ok]
            if not len(series):
                return [], None
        closed = self._bucket(series, ts, values, record)
        if not len(closed.series):
            return [], None
        self.points += len(closed.series)
        result = self.bank.update(closed.series, closed.ts, closed.value)
        if isinstance(self.bank, CalibratedBank):  # each episode comes with the point that caused it
            for ep in result.episodes:
                (self._open.add if ep.state == "open" else self._open.discard)(int(ep.series))
            return [(int(closed.record[at]), ep, ev, at) for at, ep, ev in
                    zip(result.at.tolist(), result.episodes, result.evidence)], closed
        return self._place(result.episodes, result.flags, closed), closed

    def _refused(self, points: int) -> None:
        self.refused_points += points
        now = time.monotonic()
        if now - self._refusal_logged >= REFUSAL_LOG_INTERVAL_S:
            self._refusal_logged = now
            log.warning("detection: series cap reached (max_series_per_subsystem=%d, max_series_per_peer=%d, "
                        "max_series=%d): %d new series and %d points not watched so far (still stored); %d of the "
                        "series over a peer's share (spine.detect.max_series_per_peer; the last: peer %r)",
                        self.max_series_per_subsystem, self.max_series_per_peer, self.max_series,
                        self.refused_series, self.refused_points, self.refused_series_peer, self._refused_peer)

    def _bucket(self, series: np.ndarray, ts: np.ndarray, values: np.ndarray, record: np.ndarray) -> Closed:
        """Aggregate points into buckets; return the buckets that closed, in (record, time, series) order
        (``ben.spine.buckets``: a counter's increment is a rate over the interval since its previous point,
        shared among the buckets it covers; one compiled pass, ADR 0040)."""
        closed, late = close_buckets(self.cols, series, ts, values, record, self.bucket_ns)
        self.late_points += late
        return closed

    def _place(self, episodes: list[Episode], flags: np.ndarray,
               closed: Closed) -> list[tuple[int, Episode, dict | None]]:
        """Each episode event with the feed position of the point that caused it.

        An anomaly opens at the point whose in-episode flag turns on and closes at the one whose
        flag turns off (per series, in order); mutes only log and go at the end of the table.
        """
        if not episodes:
            return []
        n = len(closed.series)
        order = np.argsort(closed.series, kind="stable")
        s, f = closed.series[order], flags[order]
        first = np.r_[True, s[1:] != s[:-1]]
        before = np.empty(n, dtype=bool)
        before[1:] = f[:-1]
        before[first] = np.isin(s[first], np.fromiter(self._open, dtype=np.int64, count=len(self._open)))
        turns = order[np.flatnonzero(f != before)]  # feed positions, per series in order
        by_series: dict[int, list[int]] = {}
        for p in turns[np.lexsort((turns, closed.series[turns]))]:
            by_series.setdefault(int(closed.series[p]), []).append(int(p))
        placed = []
        for ep in episodes:
            at = n
            if ep.kind == "anomaly":
                i = int(ep.series)
                queue = by_series.get(i)
                at = queue.pop(0) if queue else n - 1
                (self._open.add if ep.state == "open" else self._open.discard)(i)
            placed.append((at, ep))
        placed.sort(key=lambda item: item[0])  # stable: a point's events keep the bank's order
        last_record = int(closed.record[-1])
        return [(int(closed.record[at]) if at < n else last_record, ep, None, at) for at, ep in placed]

    def _correlate(self, events: list[tuple[int, Episode, dict | None, int]], closed: Closed | None,
                   record_max_ts: np.ndarray,
                   changes: Changes) -> None:
        """Episodes to incidents, record by record, ticking incidents after each record.

        The co-movement rings take the closed buckets up to the point that caused an episode's event
        (in feed order: record, time, series) before it is correlated, so what they hold then does not
        depend on how records were grouped, nor on how many seconds one record carries (a record of a
        sidecar's backlog holding minutes after the episode filled the rings with them: ADR 0012, 2026-12-07).
        """
        at = 0
        fed = 0
        corr = self.correlator
        for rec, now in enumerate(record_max_ts.tolist()):
            while at < len(events) and events[at][0] == rec:
                pos = events[at][3]
                upto = pos + 1 if pos < len(closed.series) else len(closed.series)
                if upto > fed:
                    self._ring(closed, fed, upto)
                    fed = upto
                self._on_episode(events[at][1], events[at][2], changes)
                at += 1
            if corr.pending():
                for inc in corr.tick(int(now)):
                    changes.anomalies.append(None)
                    changes.incidents.append(inc)
        if closed is not None:
            self._ring(closed, fed, len(closed.series))

    def _ring(self, closed: Closed, lo: int, hi: int) -> None:
        if hi > lo:
            self.comove.add(closed.series[lo:hi], closed.ts[lo:hi] // self.bucket_ns, closed.value[lo:hi])

    def _on_episode(self, ep: Episode, evidence: dict | None, changes: Changes) -> None:
        index = int(ep.series)
        if ep.kind != "anomaly":
            log.info("detection: series %s %s (flapping)", self.describe(index)[0],
                     "muted" if ep.state == "open" else "unmuted")
            return
        display, subsystem, name = self.describe(index)
        if evidence is not None:
            detectors = calibrated_evidence(ep, evidence, self.bank.timing)
        else:
            detectors = {d: {} for d in ep.detectors}
            if "cusum" in detectors and ep.cusum_points:
                detectors["cusum"] = {"sigma": float(ep.cusum_statistic), "points": int(ep.cusum_points)}
            for d in detectors:
                if d != "cusum" or not detectors[d]:
                    detectors[d] = {"sigma": abs(float(ep.peak_deviation_sigma))}
        anomaly = Anomaly(display, subsystem, name, int(ep.start_ts), float(ep.baseline), float(ep.observed),
                          float(ep.peak_score), detectors, None if ep.state == "open" else int(ep.end_ts),
                          scale=float(ep.scale), index=index, note=ep.note,
                          per_ns=RATE_NS if self.cols.counter[index] else 0, peak=float(ep.peak_value),
                          unit=self.units[index])
        incident = self.correlator.add(anomaly, related=self.comove.related)
        changes.anomalies.append(anomaly)
        changes.incidents.append(incident)


def timing_of(keys: dict[str, float], source: str | None = None) -> Timing:
    """``[spine.detect.timing]`` as a :class:`Timing`; a ConfigError naming the key it cannot take (and the
    config file, ``source``, when the caller knows it), with the known key nearest to a misspelt one."""
    import difflib

    known = [f.name for f in dataclasses.fields(Timing)]
    unknown = sorted(set(keys) - set(known))
    if unknown:
        near = difflib.get_close_matches(unknown[0], known, n=1, cutoff=0.6)
        hint = f"did you mean 'spine.detect.timing.{near[0]}'?" if near else f"known: {', '.join(known)}"
        raise ConfigError(f"unknown key; {hint}", source=source, field=f"spine.detect.timing.{unknown[0]}")
    try:
        return Timing(**keys)
    except DetectorError as exc:
        raise ConfigError(str(exc), source=source, field="spine.detect.timing") from None


def calibrated_evidence(ep: Episode, evidence: dict, timing: Timing) -> dict[str, dict[str, float]]:
    """A calibrated episode's evidence for ``ben explain``, in numbers, under the feature that opened it.

    ``sigma``: the peak's shift in the scale at the onset; ``evidence``: the onset's calibrated surprise
    (``-ln p``, Bonferroni-corrected nats: the peak's, plus what the points that held it added, up to
    half the peak again; the score is ``evidence / (evidence + score_half)``); at the
    point that caused this event, the four features (``level_z``: deviation from the prediction in
    scales, ``kl``: the recent residual distribution's KL divergence from the reference, ``drift_z``: the
    fast level's gap to the slow one in scales, ``flat_intervals``: how long the value has not changed,
    ``sustained_z``: the residual's mean over hours in its own spreads, negative below the expected),
    the prediction (``expected``) and the band (``band``: the scale, so normal is ``expected +- band``);
    ``rebaselined`` 1.0 when the change became the new normal (the sentence then says so).
    """
    score = min(float(ep.peak_score), 1.0 - 1e-12)
    stats = {"sigma": abs(float(ep.peak_deviation_sigma)), "evidence": timing.score_half * score / (1.0 - score),
             "level_z": float(evidence["level_z"]), "kl": float(evidence["kl"]),
             "drift_z": float(evidence["drift_z"]), "flat_intervals": float(evidence["flat_intervals"]),
             "sustained_z": float(evidence.get("sustained_z", 0.0)),
             "expected": float(evidence["expected"]), "band": float(evidence["scale"])}
    if ep.note:
        stats["rebaselined"] = 1.0
    return {CALIBRATED_KEYS.get(d, d): dict(stats) for d in ep.detectors}
