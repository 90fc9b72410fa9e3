"""What an ingest receiver (``ben.core.receiver``) counts and answers: its figures for status, and one request's outcome."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ben.v1 import telemetry_pb2 as pb

if TYPE_CHECKING:
    from ben.core.receiver import IngestReceiver

#: Producers whose own counts the receiver keeps for status (the least recently heard from go first).
MAX_PRODUCERS = 256


@dataclass
class ReceiverFigures:
    """What the receiver counted since start (requests, events by lane, duplicates, refusals), for status."""

    requests: int = 0
    events_in: Counter = field(default_factory=Counter)        # by lane
    duplicates: int = 0
    rejected: int = 0                                          # invalid batches (permanent)
    rejected_by_reason: Counter = field(default_factory=Counter)  # invalid, undecodable, unencodable
    quarantined: int = 0                                       # refused requests saved to the quarantine dir
    bad_ts_events: int = 0                                     # events with ts outside timerange.MIN_TS_NS..MAX_TS_NS
    unprintable_sources: int = 0                               # requests whose source named with a control character
    # Per producer (SDK), its latest own counts (drops, invalid, cuts): "subsystem/instance" -> counts.
    producers: dict = field(default_factory=dict)
    refused: Counter = field(default_factory=Counter)          # by reason: quota, wal_error
    commits: int = 0
    acks: int = 0
    last_error: str = ""
    last_error_at: float = 0.0


@dataclass(frozen=True)
class IngestOutcome:
    """What became of one submitted request: durable up to ``durable_seq`` (the request is durable
    when it is at least its ``last_seq``), rejected for good (``error``), or refused for now
    (``retry_after_ms`` > 0: nothing of it was stored)."""

    durable_seq: int
    error: str = ""
    retry_after_ms: int = 0
    reason: str = ""  # why it was refused: "quota" (the WAL budget) or "wal_error" (e.g. a full disk)


def recent_error(receiver: IngestReceiver | None, window_s: float = 60.0) -> str:
    """The receiver's last error if it is at most window_s old ("" otherwise): for ``ben status``."""
    if receiver is None or not receiver.figures.last_error:
        return ""
    if time.monotonic() - receiver.figures.last_error_at > window_s:
        return ""
    return f"receiver: {receiver.figures.last_error}"




def note_producer(figures: ReceiverFigures, req: pb.IngestRequest) -> None:
    """Keep a request's producer counts (drops, invalid, cuts) as its producer's latest, for status."""
    src = req.batch.source
    name = f"{src.subsystem or '?'}/{src.instance or req.sender_id[:12]}"
    producers = figures.producers
    producers.pop(name, None)
    producers[name] = req.producer_counts
    if len(producers) > MAX_PRODUCERS:
        del producers[next(iter(producers))]
