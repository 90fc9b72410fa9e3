"""Columnar batch checks shared by every hop (see proto/ben/v1/telemetry.proto)."""

from __future__ import annotations

import re

import numpy as np

from ben.core.timerange import MAX_TS_NS, MIN_TS_NS
from ben.v1 import telemetry_pb2 as pb

MAX_EVENTS_PER_BATCH = 1_000_000
_KIND_MAX = max(pb.Kind.values())
#: A control character in a source's names (C0, C1, line and paragraph separators; as ``ben.sdk.batch``).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class BatchError(ValueError):
    """A batch violates the wire contract; the message names the field."""


def validate(batch: pb.Batch) -> int:
    """Check a batch against the contract and return its number of events.

    Raises ``BatchError`` naming the first offending field.
    """
    n = len(batch.ts_unix_nano)
    if n == 0:
        raise BatchError("batch has no events (ts_unix_nano is empty)")
    if n > MAX_EVENTS_PER_BATCH:
        raise BatchError(f"batch has {n} events; the limit is {MAX_EVENTS_PER_BATCH}")
    for field in ("values", "kinds", "names", "bodies", "attr_counts"):
        got = len(getattr(batch, field))
        if got != n:
            raise BatchError(f"field {field!r} has {got} entries, expected {n} (one per event)")
    if len(batch.event_seqs) not in (0, n):
        raise BatchError(f"field 'event_seqs' has {len(batch.event_seqs)} entries, expected 0 or {n}")
    if not batch.strings or batch.strings[0] != "":
        raise BatchError("field 'strings' must start with the empty string")
    if not batch.producer_id:
        raise BatchError("field 'producer_id' is empty")
    if batch.first_event_seq < 1:
        raise BatchError("field 'first_event_seq' must be >= 1")
    n_strings = len(batch.strings)
    n_attrs = int(np.asarray(batch.attr_counts, dtype=np.uint64).sum())
    for field in ("attr_keys", "attr_values"):
        got = len(getattr(batch, field))
        if got != n_attrs:
            raise BatchError(f"field {field!r} has {got} entries, expected {n_attrs} (sum of attr_counts)")
    for field in ("names", "bodies", "attr_keys", "attr_values"):
        values = getattr(batch, field)
        if len(values) and int(np.asarray(values, dtype=np.uint32).max()) >= n_strings:
            raise BatchError(f"field {field!r} indexes past the end of 'strings' ({n_strings} entries)")
    kinds = np.asarray(batch.kinds, dtype=np.int32)
    if int(kinds.min()) < 1 or int(kinds.max()) > _KIND_MAX:
        raise BatchError(f"field 'kinds' holds a value outside 1..{_KIND_MAX}")
    return n


def count_bad_ts(batch: pb.Batch) -> int:
    """How many events of a batch have a ts outside [MIN_TS_NS, MAX_TS_NS)."""
    ts = np.asarray(batch.ts_unix_nano, dtype=np.int64)
    return int(np.count_nonzero((ts < MIN_TS_NS) | (ts >= MAX_TS_NS)))


def printable_source(src: pb.Source) -> bool:
    """Make a source's names printable; whether any changed.

    A producer other than ben's SDK (which refuses them) may name its subsystem, host or instance with a newline or
    another control character: each becomes U+FFFD, as the OTLP receiver does, and the receiver counts the request
    (``unprintable_sources_total``); its events are kept. Those names head every row, incident and command target,
    and a newline in one broke every line that showed it."""
    if src.subsystem.isprintable() and src.host.isprintable() and src.instance.isprintable():
        return False
    changed = False
    for name in ("subsystem", "host", "instance"):
        value = getattr(src, name)
        if not value.isprintable() and _CONTROL.search(value):
            setattr(src, name, _CONTROL.sub("\ufffd", value))
            changed = True
    return changed
