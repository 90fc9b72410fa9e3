"""Spine WAL records (IngestRequest bytes) -> one Arrow table in the events schema.

Vectorised: strings of all batches are concatenated into one dictionary and every string
column is a single ``take``; numeric columns are numpy concatenations. No per-event Python.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from ben.core.wal import Record
from ben.store.schema import EVENT_COLUMNS
from ben.v1 import telemetry_pb2 as pb


def decode(record: Record) -> pb.IngestRequest:
    return pb.IngestRequest.FromString(record.payload)


def to_table(records: Sequence[tuple[int, pb.IngestRequest]]) -> pa.Table:
    """Build the insert table for (spine_seq, request) pairs."""
    strings: list[str] = []
    cols: dict[str, list[np.ndarray]] = {k: [] for k in (
        "ts", "kind", "value", "name", "body", "host", "subsystem", "instance",
        "attr_counts", "attr_keys", "attr_values", "producer_id", "producer_seq",
        "sidecar_id", "sidecar_seq", "lane", "spine_seq")}
    for spine_seq, req in records:
        b = req.batch
        n = len(b.ts_unix_nano)
        base = len(strings)
        strings.extend(b.strings)
        own = len(strings)
        src = b.source
        strings.extend((src.host, src.subsystem, src.instance, b.producer_id, req.sender_id))
        cols["ts"].append(np.asarray(b.ts_unix_nano, dtype=np.int64))
        cols["kind"].append(np.asarray(b.kinds, dtype=np.int8))
        cols["value"].append(np.asarray(b.values, dtype=np.float64))
        cols["name"].append(np.asarray(b.names, dtype=np.int64) + base)
        cols["body"].append(np.asarray(b.bodies, dtype=np.int64) + base)
        cols["attr_counts"].append(np.asarray(b.attr_counts, dtype=np.int64))
        cols["attr_keys"].append(np.asarray(b.attr_keys, dtype=np.int64) + base)
        cols["attr_values"].append(np.asarray(b.attr_values, dtype=np.int64) + base)
        for i, key in enumerate(("host", "subsystem", "instance", "producer_id", "sidecar_id")):
            cols[key].append(np.full(n, own + i, dtype=np.int64))
        if len(b.event_seqs):
            cols["producer_seq"].append(np.asarray(b.event_seqs, dtype=np.uint64))
        else:
            cols["producer_seq"].append(np.arange(b.first_event_seq, b.first_event_seq + n, dtype=np.uint64))
        cols["sidecar_seq"].append(np.full(n, req.first_seq, dtype=np.uint64))
        cols["lane"].append(np.full(n, req.lane, dtype=np.int8))
        cols["spine_seq"].append(np.full(n, spine_seq, dtype=np.uint64))

    cat = {k: np.concatenate(v) if v else np.empty(0) for k, v in cols.items()}
    dictionary = pa.array(strings, type=pa.string())

    def text(key: str) -> pa.Array:
        return dictionary.take(pa.array(cat[key]))

    offsets = np.zeros(len(cat["attr_counts"]) + 1, dtype=np.int32)
    np.cumsum(cat["attr_counts"], out=offsets[1:])
    keys = pa.ListArray.from_arrays(pa.array(offsets), text("attr_keys"))
    values = pa.ListArray.from_arrays(pa.array(offsets), text("attr_values"))
    arrays = [
        pa.array(cat["ts"].astype(np.int64, copy=False)),
        pa.array(cat["kind"].astype(np.int8, copy=False)),
        text("host"),
        text("subsystem"),
        text("instance"),
        text("name"),
        pa.array(cat["value"].astype(np.float64, copy=False)),
        text("body"),
        keys,
        values,
        text("producer_id"),
        pa.array(cat["producer_seq"].astype(np.uint64, copy=False)),
        text("sidecar_id"),
        pa.array(cat["sidecar_seq"].astype(np.uint64, copy=False)),
        pa.array(cat["lane"].astype(np.int8, copy=False)),
        pa.array(cat["spine_seq"].astype(np.uint64, copy=False)),
        pa.array(np.full(len(cat["ts"]), time.time_ns(), dtype=np.int64)),
    ]
    return pa.Table.from_arrays(arrays, names=list(EVENT_COLUMNS))


#: Up to this many events, JSON rows inside the INSERT statement cost less than Arrow: chDB's fixed
#: cost per INSERT is most of a small one, and the cheapest statement reads no table function
#: (``ChdbStore._insert_inline``); past it, building JSON row by row costs more (90 ms for 3,000 rows).
INLINE_MAX_ROWS = 16


def to_json_rows(records: Sequence[tuple[int, pb.IngestRequest]]) -> tuple[str, list[int]]:
    """The same rows as :func:`to_table`, as JSONEachRow lines (one per event) and the events' ts.

    For the alert lane: up to ``INLINE_MAX_ROWS`` events, inserted as JSON inside the statement
    (``ChdbStore.insert_event_json``). Building them from the protobuf costs ~20 us a row, where ``to_table``
    costs ~1 ms for a single row and the table then crosses to the store process as Arrow IPC.
    The values are those of ``to_table(records).to_pylist()`` (``tests/store/test_rows.py``).
    """
    now = time.time_ns()
    lines: list[str] = []
    ts_all: list[int] = []
    for spine_seq, req in records:
        b = req.batch
        s = b.strings
        n = len(b.ts_unix_nano)
        seqs = list(b.event_seqs) if len(b.event_seqs) else range(b.first_event_seq, b.first_event_seq + n)
        src = b.source
        a = 0
        for i in range(n):
            k = b.attr_counts[i]
            ts = b.ts_unix_nano[i]
            ts_all.append(ts)
            lines.append(json.dumps(dict(zip(EVENT_COLUMNS, (
                ts, b.kinds[i], src.host, src.subsystem, src.instance, s[b.names[i]], b.values[i], s[b.bodies[i]],
                [s[j] for j in b.attr_keys[a:a + k]], [s[j] for j in b.attr_values[a:a + k]],
                b.producer_id, seqs[i], req.sender_id, req.first_seq, req.lane, spine_seq, now)))))
            a += k
    return "\n".join(lines), ts_all


def ipc_bytes(table: pa.Table) -> pa.Buffer:
    """The table as an Arrow IPC stream."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def warm_up() -> None:
    """Build a one-row table once, at start: pyarrow imports pandas and pyarrow.compute at their
    first use (0.1 s alone, 0.3-0.7 s on a busy machine), which the first alert after a start
    waited for in the store writer (``ben bench lanes``)."""
    b = pb.Batch(strings=["", "warm-up"], ts_unix_nano=[0], kinds=[pb.KIND_ALERT], names=[1], values=[0.0],
                 bodies=[0], attr_counts=[1], attr_keys=[1], attr_values=[1])
    ipc_bytes(to_table([(0, pb.IngestRequest(batch=b))]))
