"""The audit log: hash-chained, signed entries, kept in the component's RocksDB (and, at the
spine, mirrored into ``ben.audit`` in ClickHouse).

Every entry has its number ``seq`` (1, 2, ...), a time, a ``kind`` (command, proposal,
approval, refusal, delivery, execution, receipt, kill_switch, acknowledgement), the command (for an
acknowledgement: the incident) it is about, the actor (a key id or component; for an acknowledgement
the operator's name), a JSON ``body`` (always with the human ``reason``), the hash of
the previous entry, its own hash (SHA-256 over the canonical bytes of all of the above) and the
component key's Ed25519 signature over that hash. ``verify_entries`` walks a copy in ``seq``
order and reports every entry that was altered (hash or signature), removed (a gap, or a
broken link) or reordered (a broken link, or a stored seq that is not where it is kept).
Removing the newest entries leaves a valid shorter chain: the local log and the ClickHouse copy
are compared, so an attacker must rewrite both alike (see ADR 0013).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ben.core.peers import CALLER
from ben.control import canonical
from ben.control.anchor import ANCHOR, DELETE_BATCH, Anchor, read_anchor
from ben.control.db import ControlDb
from ben.control.keys import Signer, verify

log = logging.getLogger(__name__)

PREFIX = b"a"
#: The spine's query log (ADR 0045, 2026-12 amendment): its own chain, beside the control plane's.
QUERY_PREFIX = b"q"
GENESIS = "0" * 64
KINDS = ("command", "proposal", "approval", "refusal", "delivery", "execution", "receipt", "kill_switch", "pin",
         "acknowledgement")
#: Kinds an operator's client records through ``Control.Record`` (the learning cortex, ADR 0039).
RECORD_KINDS = ("recommendation", "decision", "outcome")


#: What an entry writes beside it in its batch: keys and values, or a function of the entry's seq giving them.
Puts = dict[bytes, bytes] | Callable[[int], dict[bytes, bytes]] | None


def _key(seq: int, prefix: bytes = PREFIX) -> bytes:
    return prefix + seq.to_bytes(8, "big")


@dataclass(frozen=True)
class Entry:
    """One record of the hash-chained audit log: what happened to which command, by whom, chained to the previous
    entry's hash and signed."""

    seq: int
    ts: int
    kind: str
    command_id: str
    actor: str
    body: dict
    prev_hash: str
    hash: str
    key_id: str
    signature: str  # base64

    def chained(self) -> bytes:
        return canonical.encode({"seq": self.seq, "ts": self.ts, "kind": self.kind, "command_id": self.command_id,
                                 "actor": self.actor, "body": self.body, "prev_hash": self.prev_hash,
                                 "key_id": self.key_id})

    def to_bytes(self) -> bytes:
        return canonical.encode(asdict(self))

    @classmethod
    def from_bytes(cls, data: bytes) -> Entry:
        return cls(**json.loads(data))

    def row(self) -> dict:
        return {**asdict(self), "body": json.dumps(self.body, sort_keys=True)}

    @classmethod
    def from_row(cls, row: dict) -> Entry:
        return cls(seq=int(row["seq"]), ts=int(row["ts"]), kind=row["kind"], command_id=row["command_id"],
                   actor=row["actor"], body=json.loads(row["body"]), prev_hash=row["prev_hash"], hash=row["hash"],
                   key_id=row["key_id"], signature=row["signature"])


@dataclass
class Verdict:
    """What verifying one copy of the log found."""

    copy: str
    entries: int = 0
    head: str = GENESIS
    problems: list[str] = field(default_factory=list)
    #: The first entry verified: 1, or the anchor's first kept entry once older ones were trimmed.
    first_seq: int = 1

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_entries(entries: Iterable[tuple[int, Entry | None]], keys: dict[str, Ed25519PublicKey],
                   copy: str, anchor: Anchor | None = None) -> Verdict:
    """entries: (position seq, entry or None if unreadable), in position order. ``anchor``: the chain was
    trimmed (``ben.control.anchor``): it starts at the anchor's entry, which must match it."""
    verdict = Verdict(copy)
    expected, prev = 1, GENESIS
    if anchor is not None:
        expected, prev, verdict.first_seq = anchor.first_seq, anchor.prev_hash, anchor.first_seq
        if problem := anchor.problem(keys, copy):
            verdict.problems.append(problem)
        entries = [(p, e) for p, e in entries if p >= anchor.first_seq]  # (a trim a crash cut short: left over)
        first = entries[0][1] if entries and entries[0][0] == anchor.first_seq else None
        if first is None or first.hash != anchor.hash:
            verdict.problems.append(f"{copy}: entry {anchor.first_seq}, the first kept after trimming, does not "
                                    "match its anchor (altered or removed)")
    for position, entry in entries:
        verdict.entries += 1
        if entry is None:
            verdict.problems.append(f"{copy}: entry {position} is unreadable (altered)")
            expected, prev = position + 1, "?"
            continue
        if position != entry.seq:
            verdict.problems.append(f"{copy}: entry kept at {position} says it is entry {entry.seq} (reordered)")
        if position > expected:
            verdict.problems.append(f"{copy}: entries {expected}..{position - 1} are missing (removed)")
        elif position < expected:
            verdict.problems.append(f"{copy}: entry {position} appears again after {expected - 1} (reordered)")
        try:
            digest = hashlib.sha256(entry.chained()).hexdigest()
        except (ValueError, TypeError):
            digest = ""
        if digest != entry.hash:
            verdict.problems.append(f"{copy}: entry {position} ({entry.kind} {entry.command_id}) does not match its "
                                    "hash (altered)")
        if prev != "?" and entry.prev_hash != prev and position == expected:
            verdict.problems.append(f"{copy}: entry {position} does not follow entry {position - 1} (its prev_hash "
                                    "differs: altered, removed or reordered)")
        public = keys.get(entry.key_id)
        if public is None:
            verdict.problems.append(f"{copy}: entry {position} is signed by unknown key {entry.key_id!r}")
        else:
            try:
                good = verify(public, base64.b64decode(entry.signature), entry.hash.encode())
            except ValueError:
                good = False
            if not good:
                verdict.problems.append(f"{copy}: entry {position} has a bad signature (altered)")
        expected, prev = max(expected, position + 1), entry.hash
    verdict.head = prev
    return verdict


def compare_copies(local: list[Entry], other: list[Entry], other_name: str) -> list[str]:
    """Entries the two copies disagree on (same seq, any field different; one copy shorter)."""
    problems = []
    theirs = {e.seq: e for e in other}
    for entry in local:
        if entry.seq in theirs and theirs[entry.seq].to_bytes() != entry.to_bytes():
            problems.append(f"{other_name}: entry {entry.seq} differs from the local log")
    last_local = local[-1].seq if local else 0
    last_other = max(theirs) if theirs else 0
    if last_other < last_local:
        problems.append(f"{other_name} ends at entry {last_other}, the local log at {last_local} "
                        "(entries removed from the copy)")
    elif last_other > last_local:
        problems.append(f"the local log ends at entry {last_local}, {other_name} at {last_other} "
                        "(entries removed from the local log)")
    return problems


def read_positions(db: ControlDb, prefix: bytes = PREFIX) -> list[tuple[int, Entry | None]]:
    """Every entry of a local log with the seq it is kept under (None: unreadable)."""
    out = []
    for key, value in db.scan(prefix):
        try:
            entry = Entry.from_bytes(value)
        except (ValueError, TypeError, KeyError):
            entry = None
        out.append((int.from_bytes(key[1:], "big"), entry))
    return out


def verify_copy(rows: list[dict], keys: dict[str, Ed25519PublicKey], local: list[Entry], name: str) -> Verdict:
    """Verify a copy read back from ClickHouse (rows ORDER BY seq) and compare it with the local log."""
    copy: list[tuple[int, Entry | None]] = []
    for row in rows:
        try:
            copy.append((int(row["seq"]), Entry.from_row(row)))
        except (ValueError, KeyError, TypeError):
            copy.append((int(row.get("seq", 0)), None))
    verdict = verify_entries(copy, keys, name)
    verdict.problems += compare_copies(local, [e for _, e in copy if e is not None], name)
    return verdict


def report(verdicts: list[Verdict]) -> list[dict]:
    return [{"copy": v.copy, "entries": v.entries, "head": v.head, "ok": v.ok, "problems": v.problems,
             "first_seq": v.first_seq} for v in verdicts]


class AuditLog:
    """Append-only, hash-chained, signed; thread-safe. ``mirror`` gets each new entry (spine: ClickHouse).
    ``prefix``: the chain's keys in the control RocksDB (``QUERY_PREFIX``: the spine's query log)."""

    def __init__(self, db: ControlDb, signer: Signer, actor: str, mirror: Callable[[list[Entry]], None] | None = None,
                 *, prefix: bytes = PREFIX):
        self._db = db
        self._prefix = prefix
        self._signer = signer
        self.actor = actor
        self._mirror = mirror
        self.mirror_errors = 0
        last = None
        for _, value in self._db.scan(prefix):
            last = value
        if last is None:
            self.last_seq, self.last_hash = 0, GENESIS
        else:
            try:
                entry = Entry.from_bytes(last)
                self.last_seq, self.last_hash = entry.seq, entry.hash
            except (ValueError, TypeError, KeyError):
                # A damaged last entry: keep numbering after it; verify reports it.
                keys = [k for k, _ in self._db.scan(prefix)]
                self.last_seq, self.last_hash = int.from_bytes(keys[-1][1:], "big"), "?"
                log.error("audit log %s: the last entry is unreadable; `ben audit verify` will report it", db.path)

    @property
    def key_id(self) -> str:
        return self._signer.id

    def append(self, kind: str, command_id: str, body: dict, actor: str | None = None, *,
               puts: Puts = None, sync: bool = True) -> Entry:
        """Append durably (fsync), together with ``puts`` in the same RocksDB batch; then mirror."""
        return self.append_many([(kind, command_id, body, actor, puts)], sync=sync)[0]

    def append_many(self, items: list[tuple[str, str, dict, str | None, Puts]], *,
                    sync: bool = True) -> list[Entry]:
        """Several entries (kind, command_id, body, actor, puts) and their puts in one batch, one fsync;
        ``puts`` may be a function of the entry's seq (a key that names the entry it was written with).

        Everything is built (and every body encoded) before anything is written: an entry that
        cannot be encoded raises here and nothing of the batch is kept. ``sync=False`` (for what
        a crash may lose because it is redone: a delivery, a receipt the sidecar sends again)
        skips the fsync; RocksDB's log is ordered, so such entries can only be lost from the end,
        never leave a gap, and the next synced write makes them durable too."""
        caller = CALLER.get()  # the authenticated operator of this call (ADR 0034)
        with self._db.lock:
            seq, prev = self.last_seq, self.last_hash
            entries, batch = [], {}
            for kind, command_id, body, actor, puts in items:
                if caller and "operator" not in body:
                    body = {**body, "operator": caller}
                seq += 1
                draft = Entry(seq, time.time_ns(), kind, command_id, actor or self.actor, body, prev, "",
                              self._signer.id, "")
                digest = hashlib.sha256(draft.chained()).hexdigest()
                entry = Entry(**{**asdict(draft), "hash": digest,
                                 "signature": base64.b64encode(self._signer.sign(digest.encode())).decode()})
                batch.update((puts(seq) if callable(puts) else puts) or {})
                batch[_key(seq, self._prefix)] = entry.to_bytes()
                entries.append(entry)
                prev = digest
            self._db.write(batch, sync=sync)
            self.last_seq, self.last_hash = seq, prev
            if self._mirror is not None:
                try:
                    self._mirror(entries)
                except Exception as exc:  # the local log is the record; the mirror catches up from it
                    self.mirror_errors += 1
                    log.warning("audit: mirroring entries up to %d failed (%s); retried from the log", seq, exc)
            return entries

    def positions(self) -> list[tuple[int, Entry | None]]:
        return read_positions(self._db, self._prefix)

    def entries(self, after: int = 0, limit: int | None = None) -> list[Entry]:
        """Readable entries kept above ``after`` (at most ``limit``), read from there on."""
        out = []
        for key, value in self._db.scan(self._prefix, _key(after + 1, self._prefix)):
            try:
                out.append(Entry.from_bytes(value))
            except (ValueError, TypeError, KeyError):
                continue
            if limit is not None and len(out) >= limit:
                break
        return out

    def verify(self, keys: dict[str, Ed25519PublicKey], copy: str = "local log") -> Verdict:
        with self._db.lock:
            anchor, unreadable = read_anchor(self._db, self._prefix)
            verdict = verify_entries(self.positions(), keys, copy, anchor)
        if unreadable:
            verdict.problems.insert(0, f"{copy}: {unreadable}")
        return verdict

    def first_kept(self) -> Entry | None:
        """The oldest readable entry kept (past the anchor, if the log was trimmed)."""
        anchor, _ = read_anchor(self._db, self._prefix)
        start = anchor.first_seq if anchor is not None else 1
        found = self.entries(after=start - 1, limit=1)
        return found[0] if found else None

    def trim(self, keep_from: int) -> int:
        """Delete the entries below ``keep_from`` (never the newest), behind a signed anchor naming entry
        ``keep_from``; the number deleted (``ben.control.anchor``)."""
        with self._db.lock:
            keep_from = min(keep_from, self.last_seq)
            old, _ = read_anchor(self._db, self._prefix)
            if keep_from <= 1 or (old is not None and keep_from <= old.first_seq):
                return 0
            kept = self.entries(after=keep_from - 1, limit=1)
            if not kept or kept[0].seq != keep_from:
                return 0  # not readable where it would start: verify reports that entry; trim nothing
            doomed = [k for k, _ in self._db.scan(self._prefix) if int.from_bytes(k[1:], "big") < keep_from]
            anchor = Anchor.make(self._signer, first_seq=keep_from, hash=kept[0].hash, prev_hash=kept[0].prev_hash,
                                 trimmed=(old.trimmed if old is not None else 0) + len(doomed))
            for i in range(0, max(len(doomed), 1), DELETE_BATCH):  # the anchor first, with the first deletions
                puts = {ANCHOR + self._prefix: anchor.to_bytes()} if i == 0 else {}
                self._db.write(puts, tuple(doomed[i:i + DELETE_BATCH]))
            return len(doomed)
