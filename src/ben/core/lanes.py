"""Priority lanes: Alerts > Anomalies > Routine, one WAL per lane, and byte quotas.

A full WAL refuses routine data first, then anomalies; alerts keep a reserve of their own.
Nothing already in a WAL is ever evicted to make room.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ben.v1 import telemetry_pb2 as pb

if TYPE_CHECKING:  # the SDK imports this module; it must not need RocksDB
    from ben.core.wal import Wal

ALERT, ANOMALY, ROUTINE = pb.LANE_ALERT, pb.LANE_ANOMALY, pb.LANE_ROUTINE
#: Highest priority first.
LANES = (ALERT, ANOMALY, ROUTINE)
NAMES = {ALERT: "alert", ANOMALY: "anomaly", ROUTINE: "routine"}


def open_wals(data_dir: Path, *, min_free_bytes: int = 0, resume_free_bytes: int = 1 << 20) -> dict[int, Wal]:
    """One WAL per lane under data_dir (wal-alert, wal-anomaly, wal-routine), one quarantine dir;
    free-space thresholds as ``Wal`` takes them (ADR 0031)."""
    from ben.core.wal import Wal

    return {lane: Wal(data_dir / f"wal-{NAMES[lane]}", data_dir / "quarantine", min_free_bytes=min_free_bytes,
                      resume_free_bytes=resume_free_bytes) for lane in LANES}


@dataclass(frozen=True)
class Quota:
    """Byte limits over all lanes' WALs together."""

    max_bytes: int
    alert_reserve_bytes: int
    anomaly_reserve_bytes: int

    def limit(self, lane: int) -> int:
        if lane == ALERT:
            return self.max_bytes
        if lane == ANOMALY:
            return self.max_bytes - self.alert_reserve_bytes
        return self.max_bytes - self.alert_reserve_bytes - self.anomaly_reserve_bytes

    def admits(self, lane: int, used_bytes: int, extra_bytes: int) -> bool:
        return used_bytes + extra_bytes <= self.limit(lane)


def used_bytes(wals: dict[int, Wal]) -> int:
    return sum(w.nbytes for w in wals.values())


def refusals(wals: dict[int, Wal], quota: Quota) -> list[str]:
    """Why the receiver in front of these WALs refuses batches now, lane by lane, with the reason
    its ``refused_total`` counts them under (``ben status`` shows these lines; ADR 0031)."""
    out = []
    for lane, wal in wals.items():
        if wal.refusal:
            out.append(f"receiver: refusing {NAMES[lane]} batches (wal_error): WAL {wal.path}: {wal.refusal}")
    used = used_bytes(wals)
    for lane in wals:
        if used >= quota.limit(lane):
            out.append(f"receiver: refusing {NAMES[lane]} batches (quota): the WALs hold {used} bytes, "
                       f"{NAMES[lane]} may fill them to {quota.limit(lane)}")
    return out


#: The wal_sync_seconds quantiles cover the syncs of this many seconds back.
SYNC_WINDOW_S = 60.0


def wal_figures(wals: dict[int, Wal], quota: Quota) -> list:
    """WAL depth, bytes, oldest age per lane; quota limits; corruption counters; sync times."""
    from ben.core.figures import counter, gauge

    out = []
    for lane, wal in wals.items():
        name = NAMES[lane]
        out += [
            gauge("wal_records", wal.depth, "records waiting for the next hop", lane=name),
            gauge("wal_bytes", wal.nbytes, "bytes waiting for the next hop", lane=name),
            gauge("wal_oldest_age_seconds", wal.oldest_age_s(), "age of the oldest unacknowledged record",
                  lane=name),
            gauge("wal_quota_bytes", quota.limit(lane), "WAL bytes (all lanes) above which this lane is refused",
                  lane=name),
            counter("wal_corrupt_records_total", wal.corrupt_records, "records that failed their checksum",
                    lane=name),
            counter("wal_quarantined_records_total", wal.quarantined_records, "records moved to quarantine",
                    lane=name),
            counter("wal_corruption_events_total", wal.corruption_events,
                    "damaged RocksDB files found, quarantined and rebuilt around", lane=name),
            counter("wal_write_errors_total", wal.write_errors, "failed WAL writes (e.g. disk full)", lane=name),
            gauge("wal_writable", float(wal.writable), "0 while the WAL refuses writes (e.g. disk full)", lane=name),
            counter("wal_syncs_total", wal.syncs, "durable writes (fdatasyncs of the WAL's log files)", lane=name),
        ]
        out += [gauge("wal_sync_seconds", seconds, f"time one durable write waited for the disk, syncs of the "
                      f"last {SYNC_WINDOW_S:g} s", lane=name, quantile=f"{q:g}")
                for q, seconds in wal.sync_quantiles(SYNC_WINDOW_S).items()]
    return out


def receiver_figures(rx) -> list:
    """Ingest receiver counters: requests, acks, duplicates, refusals and drops by reason."""
    from ben.core.figures import counter

    out = [
        counter("requests_total", rx.requests, "ingest requests received"),
        counter("acks_total", rx.acks, "acknowledgements sent"),
        counter("duplicates_total", rx.duplicates, "resent requests acknowledged again, not stored"),
        counter("commits_total", rx.commits, "fsync'd WAL group commits"),
    ]
    for reason in ("invalid", "undecodable", "unencodable"):
        out.append(counter("dropped_total", rx.rejected_by_reason[reason], "requests refused for good", reason=reason))
    out += [
        counter("quarantined_requests_total", rx.quarantined,
                "refused requests kept in the quarantine dir (undecodable, unencodable)"),
        counter("bad_ts_events_total", rx.bad_ts_events,
                "events stored with a ts outside 2000..2100 (an SDK refuses them; another producer sent them)"),
        counter("unprintable_sources_total", rx.unprintable_sources,
                "requests whose subsystem, host or instance held a control character (stored as U+FFFD)"),
    ]
    for producer, counts in list(rx.producers.items()):
        for reason in ("dropped_full", "dropped_closed", "invalid", "truncated", "replaced_strings", "quarantined",
                       "rejected"):
            value = getattr(counts, reason)
            if value:  # only what happened: a quiet producer adds no rows to `ben status`
                out.append(counter("sdk_events_total", value, "events an SDK dropped, refused or changed, as it "
                                   "reported them (reason: its BufferStats field)", producer=producer, reason=reason))
    for reason in ("quota", "wal_error", "senders"):  # senders: a new sender past its client's bound (round 15)
        out.append(counter("refused_total", rx.refused[reason], "requests refused for now (sender keeps them)",
                           reason=reason))
    return out
