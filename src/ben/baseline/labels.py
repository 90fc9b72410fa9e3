"""Operators label incidents (``ben incidents label ID real|noise``): in the spine, audited, stored.

A label is an audit entry of kind ``label`` (the hash-chained, signed audit log of ``ben.control``,
with the authenticated operator's name) and a row of ``ben.incident_labels`` (the latest wins). The
audit entry is written first: a label the store has is always one the audit log records.

The other way round is an outbox (ADR 0046 round 6): the entry's own fsync'd RocksDB batch also writes
a *pending* key (``b"L"`` + the entry's seq), removed once the row is stored. A spine killed between
the two (or a store that refused the insert) leaves the key; the spine's next start, and the next label,
store what it names (``store_pending``). The row is a function of the entry alone (its ``version`` and
``labelled_ts`` are the entry's time, ``audit_seq`` its seq), so storing it twice gives the same row,
which ``ReplacingMergeTree`` keeps once, and a label stored late never wins over a later one.
"""

from __future__ import annotations

import json
import logging

from ben.control.audit import Entry
from ben.store.schema import INCIDENT_LABELS, INCIDENTS

log = logging.getLogger(__name__)

LABELS = ("real", "noise")
KINDS = ("spike", "level", "drift", "seasonal", "other")
MAX_NOTE = 2000
COLUMNS = ["incident_id", "label", "kind", "note", "operator", "audit_seq", "labelled_ts", "version"]
#: ``b"L" + seq`` (8 bytes big-endian) -> b"": audit entry ``seq`` is a label whose row may not be stored yet.
PENDING = b"L"
#: Set once every label audited before pending keys existed was checked against the store.
CHECKED = b"mlabels-checked"   # (a meta key, like the kill switch's b"mkill")


def pending_key(seq: int) -> bytes:
    return PENDING + seq.to_bytes(8, "big")


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


def row(entry: Entry) -> tuple:
    """The ``ben.incident_labels`` row of a label's audit entry (the same row however often it is built)."""
    b = entry.body
    return (b["incident_id"], b["label"], b["kind"], b.get("note", ""), b.get("operator") or b.get("by", ""),
            entry.seq, entry.ts, entry.ts)


def _store(store, db, entries: list[Entry]) -> None:
    if entries:
        store.insert_values(INCIDENT_LABELS, COLUMNS, [row(e) for e in entries])
        db.write({}, tuple(pending_key(e.seq) for e in entries), sync=False)  # lost in a crash: stored again


def record_label(store, control, incident_id: str, label: str, kind: str, note: str, by: str) -> int:
    """Audit, then store, one label (``control``: the spine's ``ControlPlane``); the audit entry's seq.
    KeyError: no such incident."""
    kind = check(incident_id, label, kind, note)
    found = json.loads(store.query_json(f"SELECT count() AS n FROM {INCIDENTS} WHERE id = '{incident_id}'"))
    if not int(found["data"][0]["n"]):
        raise KeyError(f"no incident {incident_id!r} in this spine's store (ben incidents lists them)")
    store_pending(store, control)
    entry = control.audit.append("label", incident_id, {"reason": f"incident labelled {label} ({kind})",
                                                        "incident_id": incident_id, "label": label, "kind": kind,
                                                        "note": note, "by": by}, by or None,
                                 puts=lambda seq: {pending_key(seq): b""})
    _store(store, control.db, [entry])
    log.info("incident %s labelled %s (%s) by %s (audit entry %d)", incident_id, label, kind, row(entry)[4],
             entry.seq)
    return entry.seq


def _entry(audit, seq: int) -> Entry | None:
    found = audit.entries(after=seq - 1, limit=1)
    return found[0] if found and found[0].seq == seq and found[0].kind == "label" else None


def store_pending(store, control) -> int:
    """Store the labels audited but not known to be stored (a kill between the two, a refused insert); how
    many. On its first run it also checks every label audited before pending keys existed."""
    db, audit = control.db, control.audit
    seqs = [int.from_bytes(k[len(PENDING):], "big") for k, _ in db.scan(PENDING) if len(k) == len(PENDING) + 8]
    entries = [e for e in (_entry(audit, s) for s in seqs) if e is not None]
    gone = [pending_key(s) for s in seqs if not any(e.seq == s for e in entries)]
    if db.get(CHECKED) is None:
        stored = {int(r["audit_seq"]) for r in json.loads(store.query_json(
            f"SELECT DISTINCT audit_seq FROM {INCIDENT_LABELS}"))["data"]}
        after = 0
        while page := audit.entries(after=after, limit=1000):   # the whole log once, a page at a time
            entries += [e for e in page if e.kind == "label" and e.seq not in stored and e.seq not in seqs]
            after = page[-1].seq
    _store(store, db, entries)
    puts = {CHECKED: b"1"} if db.get(CHECKED) is None else {}
    if puts or gone:
        db.write(puts, tuple(gone))
    if entries:
        log.warning("labels: %d label(s) audited but not stored (a kill or a store error between the two) are "
                    "stored now: audit entries %s", len(entries), ", ".join(str(e.seq) for e in entries[:20]))
    return len(entries)
