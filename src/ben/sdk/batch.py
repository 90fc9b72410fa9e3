"""Builds one columnar batch (see proto/ben/v1/telemetry.proto) from events, one at a time."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from itertools import islice

from ben.core.errors import InvalidEventError
from ben.sdk import limits
from ben.sdk.limits import Counts, attr_value_text, check_value, clean
from ben.v1 import telemetry_pb2 as pb

#: What a series name may not hold: C0 and C1 control characters (newline, tab, escape) and the Unicode
#: line and paragraph separators; a name broke every table and log line that shows it.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class BatchBuilder:
    """Accumulates events of one batch; strings are dictionary-encoded as they arrive."""

    __slots__ = ("first_seq", "last_seq", "seqs", "n", "created", "strings", "ts", "values", "kinds", "names", "bodies",
                 "attr_counts", "attr_keys", "attr_values", "unprintable_names")

    def __init__(self, first_seq: int, *, unprintable_names: str = "keep"):
        """``unprintable_names``: what a name with a newline, tab or other control character does:
        ``"refuse"`` raises (the SDK's buffer: its caller can fix it), ``"replace"`` makes each such
        character U+FFFD, counted (the OTLP receiver: what an exporter sent is kept, not refused whole),
        ``"keep"`` keeps it (tools that rebuild stored batches)."""
        if unprintable_names not in ("keep", "refuse", "replace"):
            raise ValueError(f"unprintable_names must be keep, refuse or replace, got {unprintable_names!r}")
        self.unprintable_names = unprintable_names
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
            ts: int, seq: int | None = None, counts: Counts | None = None) -> None:
        """Append one event (numbered seq, default: the next one), cleaned as ``ben.sdk.limits`` says.

        Raises InvalidEventError (a ValueError naming the argument) on bad arguments, before
        changing any column; cuts and replacements are added to ``counts``.
        """
        counts = counts if counts is not None else Counts()
        strings = self.strings
        get = strings.get
        value = value if type(value) is float else check_value(value)
        # A string found in the dictionary was cleaned when it went in: valid UTF-8 (its length is
        # still checked: the same text may be a long body and a name).
        ni = get(name) if type(name) is str and len(name) <= limits.MAX_NAME_CHARS else None
        if ni and self.unprintable_names != "keep" and not name.isprintable():
            ni = None   # (in the dictionary as a body or a value, which may hold a newline: not yet a name)
        if not ni:  # new, or "" (index 0), which is no name
            if not name or not isinstance(name, str):
                raise InvalidEventError("must be a non-empty str", field="name")
            name = clean(name, limits.MAX_NAME_CHARS, "name", counts)
            if self.unprintable_names != "keep" and not name.isprintable() and _CONTROL.search(name):
                if self.unprintable_names == "refuse":  # (after clean: no lone surrogate is left)
                    raise InvalidEventError(f"must be printable text (no newline, tab or other control "
                                            f"character): {name[:60]!r}", field="name")
                name = _CONTROL.sub("\ufffd", name)
                counts.replaced_strings += 1
            ni = get(name) or len(strings)
            strings.setdefault(name, ni)
        if body:
            bi = get(body) if type(body) is str and len(body) <= limits.MAX_BODY_CHARS else None
            if bi is None:
                body = clean(body, limits.MAX_BODY_CHARS, "body", counts)
                bi = strings.setdefault(body, len(strings))
        else:
            if body is not None and body != "":
                raise InvalidEventError(f"must be a str, got {type(body).__name__}", field="body")
            bi = 0
        if attrs:
            if not isinstance(attrs, Mapping):
                raise InvalidEventError(f"must be a mapping of str to str/int/float/bool, got {type(attrs).__name__}",
                                        field="attrs")
            keys = []
            vals = []
            items = attrs.items()
            if len(attrs) > limits.MAX_ATTRS:  # the first ones only: a list of all of a million-key dict took 0.2 s
                items = islice(items, limits.MAX_ATTRS)  # of the caller's thread on the hot path (ADR 0033, round 10)
                counts.truncated += 1
            for k, v in items:
                i = get(k) if type(k) is str and len(k) <= limits.MAX_ATTR_KEY_CHARS else None
                if i is None:
                    k = clean(k, limits.MAX_ATTR_KEY_CHARS, f"attrs[{k!r:.60}] (its key)", counts)
                    i = strings.setdefault(k, len(strings))
                keys.append(i)
                if type(v) is not str:
                    v = attr_value_text(k, v)
                i = get(v) if len(v) <= limits.MAX_ATTR_VALUE_CHARS else None
                if i is None:
                    v = clean(v, limits.MAX_ATTR_VALUE_CHARS, f"attrs[{k!r:.60}]", counts)
                    i = strings.setdefault(v, len(strings))
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
