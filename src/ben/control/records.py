"""The keys that make an operator's record (``Control.Record``: the cortex's history lines) audited once, and
their retention (ADR 0046 rounds 5 and 6).

Each record's audit entry is written with a key of the record's content in the same fsync'd batch
(``b"r"`` + SHA-256 of kind, subject and body -> the entry's seq), so the same line sent again (its answer lost
to a kill) is answered with that entry. A key is needed only while its line may be sent again: the cortex's
outbox sends a line until the spine's answer is noted, so within the time a cortex can stay away from its
spine. Keys whose entry is older than ``[spine.control] record_dedup_window_s`` (90 days), or no longer in the
log (trimmed behind an anchor), are deleted at each start and then hourly, as records arrive; each costs
about 50 bytes, a few per incident. A line sent again after its key went is audited again (said in one log
line): at least once past the window, once within it.
"""

from __future__ import annotations

import hashlib
import logging
import time

from ben.control import canonical
from ben.control.anchor import DELETE_BATCH
from ben.control.audit import AuditLog
from ben.control.db import ControlDb

log = logging.getLogger(__name__)

#: ``b"r" + sha256(kind, subject, body)`` -> the seq of the audit entry an operator's record made
RECORDED = b"r"
#: The oldest audit entry time whose record keys are all kept (written by ``retain``).
HORIZON = b"mrecord-horizon"
#: How often keys are trimmed while records arrive (they are also trimmed at each start).
RETAIN_INTERVAL_S = 3600.0


def record_key(kind: str, subject: str, body: dict) -> bytes:
    return RECORDED + hashlib.sha256(canonical.encode({"kind": kind, "subject": subject, "body": body})).digest()


def first_seq_from(audit: AuditLog, cutoff_ns: int) -> int:
    """The seq of the first kept entry written at or after ``cutoff_ns`` (entries are appended in time order);
    ``audit.last_seq + 1`` if none is."""
    first = audit.first_kept()
    lo, hi = (first.seq if first is not None else audit.last_seq + 1), audit.last_seq + 1
    while lo < hi:
        mid = (lo + hi) // 2
        found = audit.entries(after=mid - 1, limit=1)   # the first readable entry at or after mid
        if found and found[0].ts < cutoff_ns:
            lo = found[0].seq + 1
        else:
            hi = mid
    return lo


class RecordKeys:
    """The record keys of one control database: looked up, and trimmed to ``window_s``."""

    def __init__(self, db: ControlDb, audit: AuditLog, window_s: float):
        self.db, self.audit, self.window_s = db, audit, window_s
        self._next_retain = 0.0
        raw = db.get(HORIZON)
        self.horizon_ns = int(raw) if raw else 0
        self.trimmed = 0

    def seq_of(self, key: bytes) -> int | None:
        held = self.db.get(key)
        return int(held) if held is not None else None

    def due(self) -> bool:
        return self.window_s > 0 and time.monotonic() >= self._next_retain

    def retain(self, now_ns: int | None = None) -> int:
        """Delete the keys of entries older than the window or trimmed from the log; how many."""
        self._next_retain = time.monotonic() + RETAIN_INTERVAL_S
        if not self.window_s:
            return 0
        cutoff_ns = (now_ns if now_ns is not None else time.time_ns()) - int(self.window_s * 1e9)
        keep_from = first_seq_from(self.audit, cutoff_ns)
        doomed = [k for k, v in self.db.scan(RECORDED)
                  if len(k) == len(RECORDED) + 32 and v.isdigit() and int(v) < keep_from]
        for i in range(0, len(doomed), DELETE_BATCH):
            self.db.write({HORIZON: b"%d" % cutoff_ns} if i == 0 else {}, tuple(doomed[i:i + DELETE_BATCH]))
        if doomed:
            self.horizon_ns = max(self.horizon_ns, cutoff_ns)
            self.trimmed += len(doomed)
            log.info("control: %d record keys of audit entries before %d trimmed (spine.control."
                     "record_dedup_window_s = %g)", len(doomed), keep_from, self.window_s)
        return len(doomed)

    def past_window(self, body: dict) -> bool:
        """Whether a record's line (its ``at_ns``) is older than the keys kept: a copy may have been audited."""
        at = body.get("at_ns")
        return isinstance(at, int) and at < self.horizon_ns
