"""A resent OTLP request is stored once: digests of the requests accepted lately (ADR 0036, 2026-12-06).

OTLP requests carry no id. A client that did not get its answer (a timeout, a sidecar killed between
the fsync and the answer) sends the same request again; without this it was stored twice.

- **The digest** of a request is SHA-256 (its first 16 bytes) over the signal and the request message
  serialized again, deterministically, after parsing: the same content sent gzip or plain, as protobuf
  or as OTLP/JSON, or re-encoded by a Collector's queue, has one digest.
- **Written with the records.** A request becomes parts (one batch per source and lane, ``convert``);
  each part carries the metadata entry ``otlp-digest:<digest>:<part>`` into the ingest receiver, which
  writes it in the same RocksDB write batch as the part's records, only if it accepts them (a part
  refused for the quota or a WAL error leaves no entry, so its resend is stored). A kill -9 can never
  leave records without their entry or an entry without its records; a resend stores just the parts
  that have none (the lanes are separate WALs: one may be written and another not).
- **Bounded.** Entries live ``window_s`` (from the first part stored) and at most ``max_entries``
  requests are remembered, the oldest forgotten first. A forgotten entry is deleted from its lane's WAL
  in the batch of a later part of that lane (no write of its own); at start, entries are read back from
  the WALs and the expired ones, or those past the count, are deleted the same way. Entries are WAL
  metadata, never records: they are not shipped to the spine.
"""

from __future__ import annotations

import hashlib
import struct
import time
from collections import OrderedDict
from collections.abc import Callable

from ben.core.wal import Wal

PREFIX = "otlp-digest:"
DIGEST_BYTES = 16
#: Deletions of forgotten entries carried by one part's WAL batch (more than a part ever adds: bounded).
DROPS_PER_PART = 1024
_VALUE = struct.Struct(">QIQ")  # first stored (unix ns), parts of the request, items left out of it


class Entry:
    """One remembered request: when its first part was stored, how many of its items were left out (told
    again to a resend, in partial_success), and for each of its parts the lane it is stored in (compact:
    one byte a part, 0 while not stored; about 300 bytes an entry with the digest and the table's own)."""

    __slots__ = ("at_ns", "rejected", "lanes")

    def __init__(self, at_ns: int, parts: int, rejected: int):
        self.at_ns, self.rejected = at_ns, rejected
        self.lanes = bytes(parts)

    def has(self, part: int) -> bool:
        return part < len(self.lanes) and self.lanes[part] != 0

    def add(self, part: int, lane: int) -> None:
        if part >= len(self.lanes):
            self.lanes += bytes(part + 1 - len(self.lanes))
        self.lanes = self.lanes[:part] + bytes((lane + 1,)) + self.lanes[part + 1:]

    def stored(self) -> list[tuple[int, int]]:
        """(part, lane) of every part stored."""
        return [(part, code - 1) for part, code in enumerate(self.lanes) if code]

    @property
    def complete(self) -> bool:
        return 0 not in self.lanes


def digest(signal: str, request) -> bytes:
    """The digest of a parsed export request of ``signal``."""
    h = hashlib.sha256(signal.encode() + b"\n")
    h.update(request.SerializeToString(deterministic=True))
    return h.digest()[:DIGEST_BYTES]


def _name(key: bytes, part: int) -> str:
    return f"{PREFIX}{key.hex()}:{part}"


class Digests:
    """The requests accepted within the window, by digest; their entries in the lanes' WALs."""

    def __init__(self, wals: dict[int, Wal], window_s: float, max_entries: int,
                 clock: Callable[[], int] = time.time_ns):
        self.window_ns = int(window_s * 1e9)
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[bytes, Entry] = OrderedDict()  # oldest first
        self._doomed: dict[int, dict[str, None]] = {lane: {} for lane in wals}  # names to delete, by lane
        self.loaded = self.dropped = 0
        self._load(wals)

    @property
    def enabled(self) -> bool:
        return self.window_ns > 0 and self.max_entries > 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def doomed(self) -> int:
        """Entries forgotten whose deletion from the WALs is still to be written."""
        return sum(len(names) for names in self._doomed.values())

    def _load(self, wals: dict[int, Wal]) -> None:
        found: dict[bytes, Entry] = {}
        for lane, wal in wals.items():
            for name, value in wal.iter_meta(PREFIX):
                try:
                    hexkey, _, part = name[len(PREFIX):].partition(":")
                    key, at_ns, parts, rejected = bytes.fromhex(hexkey), *_VALUE.unpack(value)
                    index = int(part)
                except (ValueError, struct.error):
                    self._doomed[lane][name] = None  # not ours to read: delete it
                    continue
                entry = found.setdefault(key, Entry(at_ns, parts, rejected))
                entry.at_ns = min(entry.at_ns, at_ns)
                entry.add(index, lane)
        for key, entry in sorted(found.items(), key=lambda kv: kv[1].at_ns):
            self._entries[key] = entry
        self.loaded = len(self._entries)
        self._forget()

    def _forget(self) -> None:
        """Forget what is past the window or the count (oldest first); their WAL entries are doomed."""
        horizon = self._clock() - self.window_ns
        while self._entries:
            key, entry = next(iter(self._entries.items()))
            if len(self._entries) <= self.max_entries and entry.at_ns >= horizon:
                break
            del self._entries[key]
            self.dropped += 1
            for part, lane in entry.stored():
                self._doomed[lane][_name(key, part)] = None

    def lookup(self, key: bytes) -> Entry | None:
        """The request's entry if it was accepted (all or some of its parts) within the window."""
        self._forget()
        return self._entries.get(key)

    def meta(self, key: bytes, part: int, parts: int, lane: int, rejected: int) -> dict[str, bytes | None]:
        """The WAL metadata a part carries: its own entry, and deletions of forgotten ones of its lane."""
        doomed = self._doomed[lane]
        name = _name(key, part)
        doomed.pop(name, None)  # an older life of this name (expired, then resent) must not be deleted now
        out: dict[str, bytes | None] = {}
        for _ in range(min(DROPS_PER_PART, len(doomed))):
            forgotten = next(iter(doomed))
            del doomed[forgotten]
            out[forgotten] = None
        entry = self._entries.get(key)
        at_ns = entry.at_ns if entry is not None else self._clock()
        out[name] = _VALUE.pack(at_ns, parts, rejected)
        return out

    def stored(self, key: bytes, part: int, parts: int, lane: int, rejected: int,
               meta: dict[str, bytes | None]) -> None:
        """The part is durable, with its entry: remember it."""
        entry = self._entries.get(key)
        if entry is None:
            at_ns = _VALUE.unpack(meta[_name(key, part)])[0]
            entry = self._entries[key] = Entry(at_ns, parts, rejected)
        entry.add(part, lane)
        self._forget()

    def not_written(self, lane: int, meta: dict[str, bytes | None]) -> None:
        """The part was not written: the deletions it carried are still to be done."""
        self._doomed[lane].update((name, None) for name, value in meta.items() if value is None)
