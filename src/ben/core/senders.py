"""How many senders each client of an ingest listener may make marks for (ADR 0045, round 15).

The receiver keeps a durable mark per (sender, lane), in memory and in the WAL's metadata read at every start, so
that a resend after a lost acknowledgement is never stored twice. A sender id is the client's choice: an SDK makes
a random one at every process start, and a stranger who may connect (any local account on a plain loopback
``listen``) could make up ids at will, each a mark for good (round 14: 50,000 short ids took a sidecar from 103 MB
to 142 MB, and its start from 2.3 s to 5.2 s).

``SenderBook`` bounds the senders each *client* holds marks for: a client is what the listener can tell apart (the
kernel-named uid on plain loopback TCP and, since round 18, on a sidecar's unix socket; the certificate over
mutual TLS; the spine's unix socket as one), never what the request says. A new sender of a client holding ``per_client`` already is refused for now (the receiver
answers ``retry_after_ms`` at mark 0 and an error naming the limit, keeps nothing of it), unless the client's
least recently heard sender has been silent for ``idle_s``: that sender is taken as gone (an SDK process that
exited: its id is never used again) and its marks are retired to make room. A mark is never forgotten otherwise,
so a sender that is still there is never stored twice. ``idle_s = None`` (the spine, whose senders are sidecars
with stable ids that may be cut off for days) retires nothing: past the bound only refusals.

Senders whose marks were read at start have no client (the client is not written down); they are charged to
none and, with ``idle_s``, retired once silent that long after the start.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable

from ben.core.sparse_log import Sparse

log = logging.getLogger("ben.core.receiver")

#: The receiver's senders made inside the process (the OTLP receiver's slots, bounded by their own clients).
INTERNAL = None


class SenderBook:
    """Which client each sender belongs to, and when it was last heard, by client in that order."""

    def __init__(self, per_client: int, idle_s: float | None, field: str, *,
                 clock: Callable[[], float] = time.monotonic):
        self.per_client, self.idle_s, self.field = per_client, idle_s, field
        self._clock = clock
        self._client: dict[str, str | None] = {}                 # sender -> its client ("" for one read at start)
        self._order: dict[str | None, OrderedDict[str, float]] = {}  # client -> sender -> last heard
        self.refused = 0
        self.retired = 0
        self._said = Sparse(log, clock=clock)  # a refusal: a line a minute per client, the rest counted

    def __len__(self) -> int:
        return len(self._client)

    def load(self, senders: Iterable[str]) -> None:
        """Senders with marks read at start: charged to no client, heard "now"."""
        now = self._clock()
        pool = self._order.setdefault("", OrderedDict())
        for sender in senders:
            if sender not in self._client:
                self._client[sender] = ""
                pool[sender] = now

    def known(self, sender: str) -> bool:
        return sender in self._client

    def heard(self, sender: str) -> None:
        """A request of a known sender arrived: it is the most recently heard of its client."""
        client = self._client.get(sender)
        if sender in self._client:
            pool = self._order[client]
            pool[sender] = self._clock()
            pool.move_to_end(sender)

    def room(self, client: str | None, busy: Callable[[str], bool], sender: str = "") -> tuple[str, list[str]]:
        """May ``client`` make a new sender (``sender``, for the log)? ``("", retired)``: yes, after retiring the
        senders listed (gone: their marks are to be deleted); ``(why, retired)``: no, ``why`` naming the limit
        (logged once a minute per client, the rest counted). ``busy(s)``: ``s`` has a refusal pending (not retired
        whatever its silence)."""
        retired = self._retire_idle("", busy)  # those read at start, silent since
        if client is INTERNAL:
            return "", retired
        pool = self._order.get(client)
        if pool is None or len(pool) < self.per_client:
            return "", retired
        retired += self._retire_idle(client, busy, 1)
        if len(pool) < self.per_client:
            return "", retired
        self.refused += 1
        silent = "" if self.idle_s is None else f", none silent for {self.idle_s:g} s"
        why = (f"this client holds marks for {len(pool)} senders already, the most {self.field} allows{silent}: "
               "a new sender id is refused for now, nothing of it stored (send under a sender id already in use, "
               "or retry later)")
        self._said.warning(client, "refused new sender %s of client %s (%d refused so far): %s", sender, client,
                           self.refused, why)
        return why, retired

    def add(self, sender: str, client: str | None) -> None:
        """``sender`` made its first mark, for ``client``."""
        if sender in self._client:
            self.heard(sender)
            return
        self._client[sender] = client
        self._order.setdefault(client, OrderedDict())[sender] = self._clock()

    def _retire_idle(self, client: str | None, busy: Callable[[str], bool], most: int | None = None) -> list[str]:
        """Retire ``client``'s senders silent for ``idle_s`` (at most ``most``), least recently heard first."""
        pool = self._order.get(client)
        if self.idle_s is None or not pool:
            return []
        cut = self._clock() - self.idle_s
        out = []
        for sender, heard in pool.items():  # least recently heard first: stops at the first one heard since
            if heard > cut or (most is not None and len(out) >= most):
                break
            if not busy(sender):
                out.append(sender)
        for sender in out:
            del pool[sender], self._client[sender]
        self.retired += len(out)
        return out

    def held(self, client: str | None) -> int:
        """Senders ``client`` holds marks for."""
        return len(self._order.get(client, ()))


def client_of_listener(tls: bool, plain, gated: Callable[[str], str] | None = None) -> Callable[[object], str]:
    """A listener's ``client_of(context)``: over mutual TLS the certificate's common name, on plain loopback TCP
    the uid the kernel names (``plain``: a ``ben.core.peers.PlainTcp``; "unnamed" when it names none), on a unix
    socket behind an accepting gate (``gated``: its ``client_of_peer``, ``u<uid>`` from ``SO_PEERCRED``, ADR 0045,
    round 18) the uid of the process that connected, on any other unix socket one client (gRPC names no unix
    peer)."""
    from ben.core.peers import common_name

    if tls:
        return lambda context: "certificate " + (common_name(context) or "?")
    if plain is not None:
        def by_uid(context) -> str:
            uid = plain.uid_of(context.peer() or "")
            return "unnamed" if uid is None else f"uid {uid}"
        return by_uid
    if gated is not None:
        def by_account(context) -> str:
            from urllib.parse import unquote

            client = gated(unquote(context.peer() or ""))
            return f"uid {client[1:]}" if client else "unix socket"
        return by_account
    return lambda context: "unix socket"
