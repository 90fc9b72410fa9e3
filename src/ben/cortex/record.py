"""The cortex's decisions in ben's audit log: each history line, once, as a control-plane audit entry.

The cortex runs in the operator's CLI; the hash-chained, signed audit log is the spine's control
plane's (``ben.control.audit``), written with the spine's key. So every ``recommendation``,
``accept`` / ``dismiss`` (kind ``decision``) and ``learn`` (kind ``outcome``) line of the cortex's
history is sent to the spine (``Control.Record``, authenticated as the operator, who is recorded in
the entry). It is an outbox: ``<data_dir>/audited`` holds the history ``seq`` the spine has taken
up to; what a failed call (the spine down, ``ben explain --data-dir`` on a stopped one) leaves
behind is sent by the next call that reaches the spine, in order. A kill between the spine's
answer and the outbox write (or a spine killed before its answer) sends that line again; the spine
answers it with the entry the line made the first time (``ControlPlane.record``): each line is
audited once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

from ben.core.files import write_atomic

log = logging.getLogger(__name__)

KIND = {"recommendation": "recommendation", "accept": "decision", "dismiss": "decision", "learn": "outcome"}


def body(event: dict) -> dict:
    """The audit body of one history line: what was decided, with a sentence for a human (numbers
    with a fraction as strings: audit entries are canonical JSON, which has no floats)."""
    t, iid = event["type"], event["incident"]
    common = {"cortex_seq": event["seq"], "incident_id": iid, "at_ns": event["at_ns"]}
    if t == "recommendation":
        top = event["ranked"][0] if event["ranked"] else "nothing"
        return {**common, "reason": f"cortex recommended {top} for {iid} (model after {event['model_updates']} "
                                    "outcomes)", "ranked": event["ranked"], "modes": event["modes"],
                "expected": [f"{v:.4f}" for v in event.get("expected", [])], "model_updates": event["model_updates"]}
    if t == "accept":
        how = "the recommended" if event.get("choice", "recommended") == "recommended" else "another"
        return {**common, "reason": f"{event['by']} accepted {how} response {event['response']} for {iid}",
                "decision": "accept", "response": event["response"], "recommended": event.get("recommended", ""),
                "mode": event["mode"], "command": event["command"], "by": event["by"]}
    if t == "dismiss":
        return {**common, "reason": f"{event['by']} dismissed the recommendations for {iid}: "
                                    f"{event.get('why') or 'no reason given'}",
                "decision": "dismiss", "recommended": event.get("recommended", ""), "by": event["by"]}
    return {**common, "reason": f"cortex learned reward {event['reward']:.2f} for {event['response']} on {iid}",
            "response": event["response"], "reward": f"{event['reward']:.4f}", "signals": event["signals"],
            "by": event.get("by", "")}


class Outbox:
    """Sends history lines to the audit log in order, remembering how far it got (see the module doc)."""

    def __init__(self, path: Path, send: Callable[[str, str, dict], dict] | None):
        self.path, self.send = path, send
        try:
            self.done = int(json.loads(path.read_text(encoding="utf-8"))["seq"])
        except FileNotFoundError:
            self.done = 0
        except (ValueError, KeyError, TypeError):
            log.warning("cortex: %s unreadable; the history is sent to the audit log again from the start", path)
            self.done = 0
        self.entries: list[dict] = []    # audit entries made by this process (rows), for callers and tests

    def flush(self, events: list[dict]) -> int:
        """Send every auditable line after ``done``; how many are still waiting (0: all audited)."""
        waiting = [e for e in events if e["seq"] > self.done and e["type"] in KIND]
        if self.send is None:
            return len(waiting)
        for i, event in enumerate(waiting):
            try:
                self.entries.append(self.send(KIND[event["type"]], event["incident"], body(event)))
            except Exception as exc:   # noqa: BLE001 - kept for the next call; never lost
                log.warning("cortex: the audit log did not take history line %d (%s); %d lines wait for the "
                            "next call that reaches the spine", event["seq"], exc, len(waiting) - i)
                return len(waiting) - i
            self._mark(event["seq"])
        return 0

    def _mark(self, seq: int) -> None:
        self.done = seq
        write_atomic(self.path, json.dumps({"seq": seq}).encode(), 0o600)
