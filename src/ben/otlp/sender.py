"""Hands converted OTLP requests to the sidecar's ingest receiver: numbered, durable, or refused.

The receiver de-duplicates by (sender, lane) and sequence number, as for every hop (ADR 0005).
OTLP carries no such numbers, so the OTLP receiver is a small, fixed set of in-process senders
(``otlp-<sidecar id>-<slot>``): each export request takes a free slot, numbers its events after
what that slot last made durable, submits them, and waits. A slot is used by one request at a
time, so each (slot, lane) numbers its events in order, with no gap: after a refusal the next
request of the slot takes the refused numbers again, as a resending SDK would. Several slots let
concurrent requests share one group commit (one fsync for all of them).

Each client the kernel names (``clients``: a loopback client's uid) has slots of its own,
``otlp-<sidecar id>-u<uid>-<slot>``: the spine charges the series of a sender to its peer, which it
reads from the sender's name (``<sidecar>/otlp/u<uid>``), so one local account's series cannot spend
another's share. At most ``MAX_CLIENTS`` clients get slots of their own; others share the receiver's.

OTLP itself is at-least-once: a client that does not get the answer (a timeout, a sidecar killed
between the fsync and the answer) sends again. With a request's digest (``dedup``), each part carries
its entry into the WAL batch of its records, and the parts a resend finds stored are not sent again.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from ben.core.receiver import IngestReceiver
from ben.core.receiver_figures import IngestOutcome
from ben.otlp.convert import Converted
from ben.otlp.dedup import Digests, Entry
from ben.v1 import telemetry_pb2 as pb


@dataclass(frozen=True)
class Delivery:
    """The outcome of one export request: stored, refused for now (retry), or rejected."""

    ok: bool
    retry_after_ms: int = 0
    reason: str = ""       # "quota" | "wal_error" when refused for now
    error: str = ""        # rejected for good (the batch contract), names the field
    unstored: tuple[int, ...] = ()   # the indices of the parts the WAL did not take


MAX_CLIENTS = 1_024


class Slots:
    """The OTLP receiver's senders towards the local ingest receiver."""

    def __init__(self, receiver: IngestReceiver, sidecar_id: str, slots: int = 8, digests: Digests | None = None):
        self._receiver = receiver
        self.digests = digests
        self._sidecar_id = sidecar_id
        self._slots = slots
        self._pools: dict[str, asyncio.Queue[str]] = {}
        self._next: dict[tuple[str, int], int] = {}

    def _pool(self, client: str) -> asyncio.Queue[str]:
        """The free senders of ``client`` (made at its first request; "" past MAX_CLIENTS)."""
        pool = self._pools.get(client)
        if pool is None:
            if client and len(self._pools) > MAX_CLIENTS:
                return self._pool("")
            pool = self._pools[client] = asyncio.Queue()
            for i in range(self._slots):
                pool.put_nowait(f"otlp-{self._sidecar_id}-{client}-{i}" if client else f"otlp-{self._sidecar_id}-{i}")
        return pool

    def _first(self, sender: str, lane: int) -> int:
        key = (sender, lane)
        if key not in self._next:
            self._next[key] = self._receiver.high_water_mark(sender, lane) + 1
        return self._next[key]

    async def deliver(self, converted: Converted, key: bytes | None = None, seen: Entry | None = None,
                      client: str = "") -> Delivery:
        """Submit every part and wait until all are durable (or one is refused/rejected). With ``key``
        (the request's digest), each part carries its digest entry, and the parts ``seen`` holds stored
        already (a resend) are left out."""
        todo = [(i, part) for i, part in enumerate(converted.parts) if seen is None or not seen.has(i)]
        if not todo:
            return Delivery(True)
        digests = self.digests if key is not None else None
        n, rejected = len(converted.parts), converted.rejected
        free = self._pool(client)
        sender = await free.get()
        try:
            requests: list[pb.IngestRequest] = []
            metas: list[dict | None] = []
            for i, part in todo:
                first = self._first(sender, part.lane)
                last = first + len(part.events) - 1
                requests.append(pb.IngestRequest(sender_id=sender, first_seq=first, last_seq=last, lane=part.lane,
                                                 batch=part.build(sender, first)))
                metas.append(digests.meta(key, i, n, part.lane, rejected) if digests is not None else None)
                self._next[(sender, part.lane)] = last + 1
            outcomes: list[IngestOutcome] = await asyncio.gather(
                *(self._receiver.submit(r, meta) for r, meta in zip(requests, metas)))
            if digests is not None:
                for (i, part), out, meta in zip(todo, outcomes, metas):
                    if out.error or out.retry_after_ms:
                        digests.not_written(part.lane, meta)
                    else:
                        digests.stored(key, i, n, part.lane, rejected, meta)
            # Where each lane of this slot goes on: after what the receiver holds durable.
            for r, out in zip(requests, outcomes):
                self._next[(sender, r.lane)] = min(self._next[(sender, r.lane)], out.durable_seq + 1) \
                    if out.retry_after_ms else max(self._next[(sender, r.lane)], out.durable_seq + 1)
            unstored = tuple(i for (i, _), o in zip(todo, outcomes) if o.error or o.retry_after_ms)
            refused = [o for o in outcomes if o.retry_after_ms]
            if refused:
                worst = max(refused, key=lambda o: o.retry_after_ms)
                return Delivery(False, worst.retry_after_ms, worst.reason, unstored=unstored)
            errors = [o.error for o in outcomes if o.error]
            if errors:
                return Delivery(False, error=errors[0], unstored=unstored)
            return Delivery(True)
        finally:
            free.put_nowait(sender)
