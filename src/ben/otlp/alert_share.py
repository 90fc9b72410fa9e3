"""Each OTLP subsystem's share of the alert lane (ADR 0045, round 4).

Any local application may send OTLP to the loopback ports and mark its logs ``ben.alert = true`` or give
them an ERROR severity: both take the alert lane, which the sidecar and the spine serve first. So each
``service.name`` gets a token bucket: ``alert_rate_per_subsystem_per_s`` alerts a second on average, at
most ``alert_burst_per_subsystem`` at once. A record past its subsystem's share is not refused (the
exporter was told nothing is wrong with it): it is stored in the anomaly lane, marked ``ben.demoted =
alert``, counted (``otlp_alerts_demoted_total``) and logged at most once a minute naming the subsystem.

At most ``MAX_TRACKED`` subsystems are tracked (their names are the applications' to choose): past it,
subsystems whose bucket is full (it would be made again full) are forgotten, and if none is, the new
ones share one bucket.
"""

from __future__ import annotations

import logging
import time

log = logging.getLogger(__name__)

MAX_TRACKED = 4_096
LOG_INTERVAL_S = 60.0
SHARED = "\x00others"  # the bucket of subsystems past MAX_TRACKED (no service.name holds a NUL)


class AlertShare:
    """Token buckets, one per subsystem, for the records an OTLP request puts in the alert lane."""

    def __init__(self, rate_per_s: float, burst: int, clock=time.monotonic):
        self.rate_per_s = rate_per_s
        self.burst = burst
        self._clock = clock
        self._buckets: dict[str, list[float]] = {}   # subsystem -> [tokens, last refill]
        self.demoted = 0
        self.demoted_by: dict[str, int] = {}
        self._logged = -LOG_INTERVAL_S

    def take(self, subsystem: str) -> bool:
        """True if ``subsystem`` may put one more record in the alert lane now (a token is spent)."""
        now = self._clock()
        bucket = self._bucket(subsystem, now)
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
            log.warning("otlp: subsystem %r sent alerts over its share of the alert lane "
                        "(sidecar.otlp.alert_rate_per_subsystem_per_s = %g, alert_burst_per_subsystem = %d): "
                        "%d of its records stored in the anomaly lane instead (%d of all subsystems so far)",
                        subsystem, self.rate_per_s, self.burst, self.demoted_by[subsystem], self.demoted)
        return False

    def _bucket(self, subsystem: str, now: float) -> list[float]:
        bucket = self._buckets.get(subsystem)
        if bucket is not None:
            return bucket
        if len(self._buckets) >= MAX_TRACKED:
            full = [k for k, (tokens, last) in self._buckets.items()
                    if k != SHARED and tokens + (now - last) * self.rate_per_s >= self.burst]
            for k in full:
                del self._buckets[k]
            if len(self._buckets) >= MAX_TRACKED:
                subsystem = SHARED
                bucket = self._buckets.get(SHARED)
                if bucket is not None:
                    return bucket
        bucket = self._buckets[subsystem] = [float(self.burst), now]
        return bucket
