"""Operators label incidents (``ben incidents label ID real|noise``): in the spine, audited, stored.

A label is an audit entry of kind ``label`` (the hash-chained, signed audit log of ``ben.control``,
with the authenticated operator's name) and a row of ``ben.incident_labels`` (the latest wins). The
audit entry is written first: a label the store has is always one the audit log records.
"""

from __future__ import annotations

import json
import logging
import time

from ben.store.schema import INCIDENT_LABELS, INCIDENTS

log = logging.getLogger(__name__)

LABELS = ("real", "noise")
KINDS = ("spike", "level", "drift", "seasonal", "other")
MAX_NOTE = 2000
COLUMNS = ["incident_id", "label", "kind", "note", "operator", "audit_seq", "labelled_ts", "version"]


def check(incident_id: str, label: str, kind: str, note: str) -> str:
    """Validate a label's fields (ValueError naming the field); the kind ("" -> other)."""
    if not incident_id or len(incident_id) > 64 or not incident_id.replace("-", "").isalnum():
        raise ValueError(f"ID {incident_id!r}: expected an incident id such as inc-3f2a9c0d1e")
    if label not in LABELS:
        raise ValueError(f"LABEL {label!r}: expected real or noise")
    kind = kind or "other"
    if kind not in KINDS:
        raise ValueError(f"--kind {kind!r}: expected one of {', '.join(KINDS)}")
    if len(note) > MAX_NOTE or any(ord(c) < 32 and c not in "\t" for c in note):
        raise ValueError(f"--note: at most {MAX_NOTE} characters, one line")
    return kind


def record_label(store, audit, incident_id: str, label: str, kind: str, note: str, by: str) -> int:
    """Audit, then store, one label; the audit entry's seq. KeyError: no such incident."""
    kind = check(incident_id, label, kind, note)
    found = json.loads(store.query_json(f"SELECT count() AS n FROM {INCIDENTS} WHERE id = '{incident_id}'"))
    if not int(found["data"][0]["n"]):
        raise KeyError(f"no incident {incident_id!r} in this spine's store (ben incidents lists them)")
    entry = audit.append("label", incident_id, {"reason": f"incident labelled {label} ({kind})",
                                                "incident_id": incident_id, "label": label, "kind": kind,
                                                "note": note, "by": by}, by or None)
    operator = entry.body.get("operator") or by
    now = time.time_ns()
    store.insert_values(INCIDENT_LABELS, COLUMNS, [(incident_id, label, kind, note, operator, entry.seq, now, now)])
    log.info("incident %s labelled %s (%s) by %s (audit entry %d)", incident_id, label, kind, operator, entry.seq)
    return entry.seq
