"""Each OTLP subsystem's share of the alert lane (ADR 0045, rounds 4 and 6).

Any local application may send OTLP to the loopback ports and mark its logs ``ben.alert = true`` or give
them an ERROR severity: both take the alert lane, which the sidecar and the spine serve first. So each
``service.name`` gets a token bucket: ``alert_rate_per_subsystem_per_s`` alerts a second on average, at
most ``alert_burst_per_subsystem`` at once. A record past its subsystem's share is not refused (the
exporter was told nothing is wrong with it): it is stored in the anomaly lane, marked ``ben.demoted =
alert``, counted (``otlp_alerts_demoted_total``) and logged at most once a minute naming the subsystem.

A name is the application's to choose, so an application rotating made-up names would get a share
each. Buckets are kept per *client* and name: the client is who the kernel says sent the request (a
loopback client's uid, ``ben.otlp.clients``; "" when it cannot be told), which no application chooses.
A client has its own bucket for at most ``per_client`` names (``alert_subsystems_per_client``); its
further names share one bucket of that client (``OTHERS``). At most ``MAX_TRACKED`` buckets are held in
all, least recently used first out: a bucket that has refilled (it would be made again full) is
forgotten in O(1); if the least recently used one has not, the new name goes to the shared bucket of
everyone (``SHARED``) until one has.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict

log = logging.getLogger(__name__)

MAX_TRACKED = 4_096
LOG_INTERVAL_S = 60.0
OTHERS = "\x00others"  # a client's names past its per_client (no service.name holds a NUL)
SHARED = ("\x00", OTHERS)  # the bucket of every name while MAX_TRACKED refilling buckets are held


class AlertShare:
    """Token buckets, one per (client, subsystem), for the records an OTLP request puts in the alert lane."""

    def __init__(self, rate_per_s: float, burst: int, clock=time.monotonic, per_client: int = 32):
        self.rate_per_s = rate_per_s
        self.burst = burst
        self.per_client = per_client
        self._clock = clock
        self._buckets: OrderedDict[tuple[str, str], list[float]] = OrderedDict()  # -> [tokens, last refill]
        self._names: dict[str, int] = {}  # client -> buckets it holds (its OTHERS aside)
        self.demoted = 0
        self.demoted_by: dict[str, int] = {}
        self._logged = -LOG_INTERVAL_S

    def take(self, subsystem: str, client: str = "") -> bool:
        """True if ``subsystem`` (sent by ``client``) may put one more record in the alert lane now (a
        token is spent)."""
        now = self._clock()
        bucket = self._bucket(client, subsystem, now)
        tokens = min(float(self.burst), bucket[0] + (now - bucket[1]) * self.rate_per_s)
        bucket[1] = now
        if tokens >= 1.0:
            bucket[0] = tokens - 1.0
            return True
        bucket[0] = tokens
        self.demoted += 1
        self.demoted_by[subsystem] = self.demoted_by.get(subsystem, 0) + 1
        if len(self.demoted_by) > MAX_TRACKED:
            self.demoted_by = {subsystem: self.demoted_by[subsystem]}
        if now - self._logged >= LOG_INTERVAL_S:
            self._logged = now
            log.warning("otlp: subsystem %r%s sent alerts over its share of the alert lane "
                        "(sidecar.otlp.alert_rate_per_subsystem_per_s = %g, alert_burst_per_subsystem = %d, "
                        "alert_subsystems_per_client = %d): %d of its records stored in the anomaly lane instead "
                        "(%d of all subsystems so far)", subsystem, f" (client {client})" if client else "",
                        self.rate_per_s, self.burst, self.per_client, self.demoted_by[subsystem], self.demoted)
        return False

    def tracked(self) -> int:
        """Buckets held now."""
        return len(self._buckets)

    def _bucket(self, client: str, subsystem: str, now: float) -> list[float]:
        key = (client, subsystem)
        bucket = self._buckets.get(key)
        if bucket is None and self._names.get(client, 0) >= self.per_client:
            key = (client, OTHERS)  # the client's further names share one bucket
            bucket = self._buckets.get(key)
        if bucket is not None:
            self._buckets.move_to_end(key)
            return bucket
        if len(self._buckets) >= MAX_TRACKED and not self._forget_one(now):
            key = SHARED
            bucket = self._buckets.get(key)
            if bucket is not None:
                self._buckets.move_to_end(key)
                return bucket
        bucket = self._buckets[key] = [float(self.burst), now]
        if key[1] != OTHERS:
            self._names[client] = self._names.get(client, 0) + 1
        return bucket

    def _forget_one(self, now: float) -> bool:
        """Forget the least recently used bucket if it has refilled (True); O(1)."""
        for key, (tokens, last) in self._buckets.items():
            if key == SHARED:  # never forgotten while it stands for others; look at the next one
                continue
            if tokens + (now - last) * self.rate_per_s < self.burst:
                return False
            del self._buckets[key]
            if key[1] != OTHERS:
                left = self._names[key[0]] - 1
                if left:
                    self._names[key[0]] = left
                else:
                    del self._names[key[0]]
            return True
        return False
