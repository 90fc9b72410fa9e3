"""Refused attaches, audited one by one up to a budget per caller and counted past it (ADR 0045, round 15).

Every refused ``Control.Attach`` (an unpinned sidecar id, another key, no proof) was an audit entry of its own, and
the control plane's log is not trimmed: a socket group member (or a certificate of the CA) looping attaches with
made-up ids wrote about 550 bytes an attempt, 120 a second from one client, for as long as it liked (round 14:
2,000 attempts, 1.1 MB). Now a caller has ``attach_refusals_audited`` entries a window of
``attach_refusals_window_s``; past it its refusals are counted, and one entry (code
``attach_refusals_collapsed``), written at the first refused attach after the window ended, says how many, by
code, and which sidecar ids they claimed (the first ``MAX_IDS``): every refusal is still in the log, as an entry
or in a count. The spine's stop writes what is counted. A caller is what the listener can tell apart: a certificate's common name over mutual TLS, else the
local callers (the unix socket's group, the accounts plain loopback TCP serves) as one.

Round 16 takes the same budget (the same options) for a pinned sidecar's announcements of targets its
``[[sidecars]]`` entry does not list (``target_not_pinned``, audited once per change since round 14): a socket
group member registering made-up subsystems on the sidecar made every announcement a change, an entry each. The
caller is then the sidecar, the entry that ends a window ``target_announcements_collapsed`` with the targets named.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

#: Sidecar ids named in a collapsed entry at most (the rest are in its count).
MAX_IDS = 16


@dataclass
class _Window:
    started: float
    audited: int = 0
    counted: Counter = field(default_factory=Counter)  # by code, past the budget
    ids: list[str] = field(default_factory=list)


class AttachRefusals:
    """Which refusals of a caller get an audit entry of their own; the rest counted and written per window."""

    def __init__(self, audited: int, window_s: float, clock: Callable[[], float] = time.monotonic,
                 what: str = "attaches", code: str = "attach_refusals_collapsed", named: str = "sidecar_ids"):
        self.audited, self.window_s, self._clock = audited, window_s, clock
        self._what, self._code, self._named = what, code, named  # the collapsed entry's words, code and list
        self._windows: dict[str, _Window] = {}

    def take(self, caller: str, code: str, sidecar_id: str) -> tuple[bool, list[dict]]:
        """A refusal of ``caller``: whether it gets an entry of its own, and the collapsed entries of windows that
        ended (to be written first)."""
        out = self.ended()
        window = self._windows.setdefault(caller, _Window(self._clock()))
        if window.audited < self.audited:
            window.audited += 1
            return True, out
        window.counted[code] += 1
        if len(window.ids) < MAX_IDS and sidecar_id not in window.ids:
            window.ids.append(sidecar_id)
        return False, out

    def ended(self, every: bool = False) -> list[dict]:
        """The collapsed entries of the windows that ended (``every``: of all, at a stop); those are forgotten."""
        now = self._clock()
        out = []
        for caller, window in list(self._windows.items()):
            if every or now - window.started >= self.window_s:
                del self._windows[caller]
                if window.counted:
                    out.append(self._collapsed(caller, window, now))
        return out

    def _collapsed(self, caller: str, window: _Window, now: float) -> dict:
        n = sum(window.counted.values())
        return {"code": self._code, "caller": caller, "count": n, "by_code": dict(window.counted),
                self._named: window.ids, "seconds": int(now - window.started),
                "reason": (f"{n} more {self._what} of {caller} refused in {now - window.started:.0f} s, counted here "
                           f"rather than one entry each (past {window.audited} entries a window; "
                           "spine.control.attach_refusals_audited)")}
