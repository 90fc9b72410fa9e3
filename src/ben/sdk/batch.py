"""Builds one columnar batch (see proto/ben/v1/telemetry.proto) from events, one at a time."""

from __future__ import annotations

import time
from collections.abc import Mapping

from ben.v1 import telemetry_pb2 as pb


class BatchBuilder:
    """Accumulates events of one batch; strings are dictionary-encoded as they arrive."""

    __slots__ = ("first_seq", "last_seq", "seqs", "n", "created", "strings", "ts", "values", "kinds", "names", "bodies",
                 "attr_counts", "attr_keys", "attr_values")

    def __init__(self, first_seq: int):
        self.first_seq = first_seq
        self.last_seq = first_seq - 1
        self.seqs: list[int] = []  # filled only once the numbering has a gap
        self.n = 0
        self.created = time.monotonic()
        self.strings: dict[str, int] = {"": 0}
        self.ts: list[int] = []
        self.values: list[float] = []
        self.kinds: list[int] = []
        self.names: list[int] = []
        self.bodies: list[int] = []
        self.attr_counts: list[int] = []
        self.attr_keys: list[int] = []
        self.attr_values: list[int] = []

    def __len__(self) -> int:
        return self.n

    def add(self, kind: int, name: str, value: float, body: str, attrs: Mapping[str, object] | None,
            ts: int, seq: int | None = None) -> None:
        """Append one event (numbered seq, default: the next one).

        Raises TypeError/ValueError on bad arguments, before changing any column.
        """
        strings = self.strings
        get = strings.get
        value = float(value)
        ni = get(name)
        if not ni:  # new, or "" (index 0), which is no name
            if type(name) is not str or not name:
                raise TypeError("name must be a non-empty str")
            ni = strings[name] = len(strings)
        if body:
            bi = get(body)
            if bi is None:
                if type(body) is not str:
                    raise TypeError("body must be a str")
                bi = strings[body] = len(strings)
        else:
            bi = 0
        if attrs:
            keys = []
            vals = []
            for k, v in attrs.items():
                i = get(k)
                if i is None:
                    if type(k) is not str:
                        raise TypeError("attribute keys must be str")
                    i = strings[k] = len(strings)
                keys.append(i)
                if type(v) is not str:
                    v = str(v)
                i = get(v)
                if i is None:
                    i = strings[v] = len(strings)
                vals.append(i)
            self.attr_keys += keys
            self.attr_values += vals
            self.attr_counts.append(len(keys))
        else:
            self.attr_counts.append(0)
        self.names.append(ni)
        self.bodies.append(bi)
        self.ts.append(ts)
        self.values.append(value)
        self.kinds.append(kind)
        if seq is None:
            seq = self.last_seq + 1
        if seq != self.last_seq + 1 and not self.seqs:  # first gap: from now on, number explicitly
            self.seqs = list(range(self.first_seq, self.first_seq + self.n))
        if self.seqs:
            self.seqs.append(seq)
        self.last_seq = seq
        self.n += 1

    def build(self, source: pb.Source, producer_id: str) -> pb.Batch:
        batch = pb.Batch(source=source, producer_id=producer_id, first_event_seq=self.first_seq)
        batch.strings.extend(self.strings)  # dicts keep insertion order: index order
        batch.ts_unix_nano.extend(self.ts)
        batch.values.extend(self.values)
        batch.kinds.extend(self.kinds)
        batch.names.extend(self.names)
        batch.bodies.extend(self.bodies)
        batch.attr_counts.extend(self.attr_counts)
        batch.attr_keys.extend(self.attr_keys)
        batch.attr_values.extend(self.attr_values)
        batch.event_seqs.extend(self.seqs)
        return batch
