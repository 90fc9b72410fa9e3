"""The spine's mirror of the control log into ClickHouse (``ben.audit``, ``ben.commands``), off the
request path.

The control RocksDB is the record: a command and its audit entry are written there in one fsync'd
batch, and only then is anything mirrored. A background thread copies, in batches, the audit
entries above the highest one the table holds and the latest version of every command record
changed since its last pass. A failure (the store is down, an insert raises anything) is counted
and retried from the log with backoff, from what the table holds then (an INSERT stored whose
answer was lost is not sent twice); it never reaches the operator's request, so no command is
ever left half-recorded by the mirror. ``force_flush`` waits until both copies caught up.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable

import pyarrow as pa

from ben.control.audit import AuditLog, Entry
from ben.core.errors import BenError
from ben.store.schema import AUDIT, COMMANDS

log = logging.getLogger(__name__)

_BATCH = 2000
_BACKOFF_S = (0.05, 5.0)
_GATHER_S = 0.25


def audit_table(entries: list[Entry]) -> pa.Table:
    rows = [e.row() for e in entries]
    return pa.table({
        "seq": pa.array([r["seq"] for r in rows], pa.uint64()),
        "ts": pa.array([r["ts"] for r in rows], pa.int64()),
        **{name: pa.array([r[name] for r in rows], pa.string())
           for name in ("kind", "command_id", "actor", "body", "prev_hash", "hash", "key_id", "signature")}})


def commands_table(records: list[dict]) -> pa.Table:
    version = time.time_ns()
    return pa.table({
        **{name: pa.array([str(r.get(name, "")) for r in records], pa.string())
           for name in ("id", "action", "target", "issuer", "state", "reason", "incident_id")},
        "envelope": pa.array([json.dumps(r["envelope"]) for r in records], pa.string()),
        "receipt": pa.array([json.dumps(r["receipt"]) if r.get("receipt") else "" for r in records], pa.string()),
        "updated_ts": pa.array([r["updated_ts"] for r in records], pa.int64()),
        "version": pa.array([version + i for i in range(len(records))], pa.int64())})


class Mirror:
    """Copies the audit log and changed command records into the store, in a background thread."""

    def __init__(self, store, audit: AuditLog, record: Callable[[str], dict | None],
                 changed_since: Callable[[int], list[str]] = lambda _ts: []):
        self._store = store
        self._audit = audit
        self._record = record
        self._changed_since = changed_since
        self._cond = threading.Condition()
        self._dirty: dict[str, int] = {}  # command id -> generation of its last change
        self._gen = 0
        self._stop = False
        self._flushing = 0
        self.mirrored_seq = -1  # unknown until the table was asked
        self.errors = 0
        self.last_error = ""
        self._thread = threading.Thread(target=self._run, name="control-mirror", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def changed(self, command_id: str | None = None) -> None:
        with self._cond:
            if command_id is not None:
                self._gen += 1
                self._dirty[command_id] = self._gen
            self._cond.notify_all()

    @property
    def behind(self) -> int:
        """Audit entries and command records not yet in the store."""
        with self._cond:
            seq = max(self.mirrored_seq, 0)
            return max(self._audit.last_seq - seq, 0) + len(self._dirty)

    def _caught_up(self) -> bool:
        return self.mirrored_seq >= self._audit.last_seq and not self._dirty

    def force_flush(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            self._flushing += 1
            self._cond.notify_all()
            try:
                while not self._caught_up():
                    left = deadline - time.monotonic()
                    if left <= 0 or not self._thread.is_alive():
                        return False
                    self._cond.wait(min(left, 0.05))
                return True
            finally:
                self._flushing -= 1

    def shutdown(self, timeout: float) -> None:
        self.force_flush(timeout)
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        self._thread.join(timeout)

    # -- the thread ---------------------------------------------------------------------------------
    def _run(self) -> None:
        backoff = _BACKOFF_S[0]
        while True:
            with self._cond:
                while not self._stop and self._caught_up():
                    self._cond.wait(1.0)
                if self._stop:
                    return
                if not self._flushing:  # gather a batch: one insert per table per interval, not per command
                    self._cond.wait(_GATHER_S)
            try:
                self._pass()
                backoff = _BACKOFF_S[0]
            except Exception as exc:  # any failure: counted, retried from the log; never lost
                # An INSERT may have been stored with its answer lost (the store process killed between
                # the two): ask the table what it holds again rather than send those entries twice.
                with self._cond:
                    self.mirrored_seq = -1
                self.errors += 1
                self.last_error = f"{type(exc).__name__}: {exc}"
                level = logging.WARNING if isinstance(exc, BenError) else logging.ERROR
                log.log(level, "control: mirroring into the store failed (%s); retrying in %.1f s", self.last_error,
                        backoff)
                with self._cond:
                    self._cond.wait(backoff)
                backoff = min(backoff * 2, _BACKOFF_S[1])

    def _pass(self) -> None:
        if self.mirrored_seq < 0:  # first pass: what the tables lack (a crash, a store that was down)
            have = json.loads(self._store.query_json(f"SELECT max(seq) AS m, count() AS n FROM {AUDIT}"))["data"][0]
            newest = json.loads(self._store.query_json(
                f"SELECT max(updated_ts) AS t, count() AS n FROM {COMMANDS}"))["data"][0]
            for command_id in self._changed_since(int(newest["t"]) if int(newest["n"]) else -1):
                self.changed(command_id)
            self.mirrored_seq = int(have["m"]) if int(have["n"]) else 0
        entries = self._audit.entries(after=self.mirrored_seq, limit=_BATCH)
        if entries:
            self._store.insert_rows(AUDIT, audit_table(entries))
            with self._cond:
                self.mirrored_seq = entries[-1].seq
                self._cond.notify_all()
        with self._cond:
            taken = dict(list(self._dirty.items())[:_BATCH])
        records = [r for r in (self._record(i) for i in taken) if r is not None]
        if records:
            self._store.insert_rows(COMMANDS, commands_table(records))
        with self._cond:
            for command_id, gen in taken.items():
                if self._dirty.get(command_id) == gen:  # not changed again meanwhile
                    del self._dirty[command_id]
            self._cond.notify_all()
