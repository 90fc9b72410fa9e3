"""Builds one columnar batch (see proto/ben/v1/telemetry.proto) from events, one at a time."""

from __future__ import annotations

import time
from collections.abc import Mapping

from ben.v1 import telemetry_pb2 as pb


class BatchBuilder:
    """Accumulates events of one batch; strings are dictionary-encoded as they arrive."""

    __slots__ = ("first_seq", "created", "strings", "ts", "values", "kinds", "names", "bodies",
                 "attr_counts", "attr_keys", "attr_values")

    def __init__(self, first_seq: int):
        self.first_seq = first_seq
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
        return len(self.ts)

    def add(self, kind: int, name: str, value: float, body: str, attrs: Mapping[str, object] | None,
            ts: int) -> None:
        strings = self.strings
        idx = strings.get(name)
        if idx is None:
            idx = strings[name] = len(strings)
        self.names.append(idx)
        if body:
            idx = strings.get(body)
            if idx is None:
                idx = strings[body] = len(strings)
            self.bodies.append(idx)
        else:
            self.bodies.append(0)
        if attrs:
            keys, vals = self.attr_keys, self.attr_values
            for k, v in attrs.items():
                idx = strings.get(k)
                if idx is None:
                    idx = strings[k] = len(strings)
                keys.append(idx)
                if not isinstance(v, str):
                    v = str(v)
                idx = strings.get(v)
                if idx is None:
                    idx = strings[v] = len(strings)
                vals.append(idx)
            self.attr_counts.append(len(attrs))
        else:
            self.attr_counts.append(0)
        self.ts.append(ts)
        self.values.append(value)
        self.kinds.append(kind)

    @property
    def last_seq(self) -> int:
        return self.first_seq + len(self.ts) - 1

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
        return batch
