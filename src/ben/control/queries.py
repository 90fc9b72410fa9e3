"""The spine's query log: every operator query, who ran it, when, what, and how it ended.

An operator with query access is one of the blueprint's adversaries, so every statement the
spine's query path (``Admin.Query``: ``ben query``, ``ben incidents``, the web interface) runs is
recorded here, the failed and refused ones too: the operator (the authenticated name, ADR 0034),
what the caller says it runs for (the web interface names its own client: a uid, ``web token``, a
certificate), the time, the statement (its first 4 KiB and the SHA-256 and length of the whole),
and the outcome (rows and duration in microseconds, or the error).

The log is a chain of its own (``QUERY_PREFIX``) in the control RocksDB beside the control plane's
audit log, hash-chained and signed with the same audit key, verified by ``ben audit verify``; it is
not in the store, so no statement can reach it (ADR 0045, 2026-12 amendment).

Volume: a query is one entry, fsync'd before its answer is sent, except the reads a web page makes
by itself (origin ``web-page``: the live feed polls a few statements twice a second while a page
is open). Those are gathered per operator, client and statement and written every
``FLUSH_INTERVAL_S`` as one entry listing each distinct statement once, with how often it ran, its
rows and errors: the same record, one entry per interval instead of one per poll. A caller may mark
any statement so; that only changes the granularity and lets a crash lose the last interval.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from dataclasses import dataclass

from ben.control.audit import AuditLog, Entry
from ben.control.documents import clean_text
from ben.core.peers import CALLER

log = logging.getLogger(__name__)

#: How much of a statement's text an entry keeps (its SHA-256 and length cover the whole).
SQL_TEXT_BYTES = 4096
#: The reads of a web page are written to the log this often (gathered).
FLUSH_INTERVAL_S = 10.0
#: Origins a caller may name (``Admin.Query`` metadata ``ben-query-origin``); anything else is ``cli``.
ORIGINS = ("cli", "web-sql", "web-page")
PAGE = "web-page"
_PER_ENTRY = 64  # distinct statements per gathered entry
_CLAIM_CHARS = 256


@dataclass(frozen=True)
class QueryClaim:
    """What a caller says about a query: its origin and whom it runs it for (not authenticated: the
    authenticated operator is recorded beside it)."""

    origin: str = "cli"
    on_behalf: str = ""

    @classmethod
    def of(cls, origin: str, on_behalf: str) -> QueryClaim:
        return cls(origin if origin in ORIGINS else "cli", clean_text(on_behalf[:_CLAIM_CHARS]))


@dataclass(frozen=True)
class QueryOutcome:
    """How a query ended: rows returned, or the error; its duration."""

    duration_ms: float
    rows: int | None = None
    error: str = ""


def statement(sql: str) -> dict:
    """The statement as an entry keeps it: the first 4 KiB (cleaned), the SHA-256 and length of the whole."""
    raw = sql.encode("utf-8", errors="replace")
    return {"sql": clean_text(raw[:SQL_TEXT_BYTES].decode("utf-8", errors="ignore")),
            "sql_sha256": hashlib.sha256(raw).hexdigest(), "sql_bytes": len(raw)}


class QueryAudit:
    """Records operator queries in their own hash-chained, signed log (see the module docstring)."""

    def __init__(self, audit: AuditLog, flush_interval_s: float = FLUSH_INTERVAL_S, *, max_entries: int = 0,
                 max_age_s: float = 0.0):
        self.log = audit
        self._interval = flush_interval_s
        self.max_entries, self.max_age_s = max_entries, max_age_s
        self.trimmed = 0
        self._lock = threading.Lock()
        self._gathered: dict[tuple[str, str, str], dict[str, dict]] = {}  # (operator, for, origin) -> by sha256
        self._wake = threading.Event()
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="query-audit", daemon=True)
        self.errors = 0

    def start(self) -> None:
        self._thread.start()

    def record(self, *, query_id: str, sql: str, claim: QueryClaim, outcome: QueryOutcome) -> Entry | None:
        """One query (before its answer is sent); a page's read is gathered (None)."""
        operator = CALLER.get()
        stmt = statement(sql)
        if claim.origin == PAGE:
            self._gather(operator, claim, stmt, outcome)
            return None
        who = (operator or "an operator") + (f" for {claim.on_behalf}" if claim.on_behalf else "")
        result = (f"failed after {outcome.duration_ms:.0f} ms: {outcome.error[:200]}" if outcome.error
                  else f"{outcome.rows} row(s) in {outcome.duration_ms:.0f} ms")
        body = {"reason": f"query by {who} ({claim.origin}): {result}", "origin": claim.origin,
                "for": claim.on_behalf, "operator": operator, "outcome": "error" if outcome.error else "ok",
                "rows": outcome.rows, "duration_us": round(outcome.duration_ms * 1000),
                "error": clean_text(outcome.error[:1024]), **stmt}
        return self.log.append("query", f"query:{query_id}", body, "spine")

    def _gather(self, operator: str, claim: QueryClaim, stmt: dict, outcome: QueryOutcome) -> None:
        now = time.time_ns()
        with self._lock:
            group = self._gathered.setdefault((operator, claim.on_behalf, claim.origin), {})
            seen = group.get(stmt["sql_sha256"])
            if seen is None:
                seen = group[stmt["sql_sha256"]] = {**stmt, "count": 0, "errors": 0, "rows": 0, "first_ts": now,
                                                    "max_duration_us": 0, "last_error": ""}
            seen["count"] += 1
            seen["last_ts"] = now
            seen["rows"] += outcome.rows or 0
            seen["max_duration_us"] = max(seen["max_duration_us"], round(outcome.duration_ms * 1000))
            if outcome.error:
                seen["errors"] += 1
                seen["last_error"] = clean_text(outcome.error[:1024])

    def flush(self) -> int:
        """Write what was gathered (an entry per operator, client and up to 64 statements); entries written."""
        with self._lock:
            gathered, self._gathered = self._gathered, {}
        items = []
        for (operator, on_behalf, origin), by_sha in gathered.items():
            stmts = list(by_sha.values())
            for i in range(0, len(stmts), _PER_ENTRY):
                part = stmts[i:i + _PER_ENTRY]
                count = sum(s["count"] for s in part)
                who = (operator or "an operator") + (f" for {on_behalf}" if on_behalf else "")
                items.append(("queries", f"queries:{part[0]['first_ts']}",
                              {"reason": f"{count} page read(s) by {who} ({origin}), {len(part)} statement(s)",
                               "origin": origin, "for": on_behalf, "operator": operator, "count": count,
                               "statements": part}, "spine", None))
        if items:
            try:
                self.log.append_many(items)
            except Exception:
                self._put_back(gathered)
                raise
        return len(items)

    def _put_back(self, gathered: dict[tuple[str, str, str], dict[str, dict]]) -> None:
        """Reads a failed write took out, back for the next one (merged with those gathered since)."""
        with self._lock:
            for key, by_sha in gathered.items():
                group = self._gathered.setdefault(key, {})
                for sha, old in by_sha.items():
                    new = group.get(sha)
                    if new is None:
                        group[sha] = old
                        continue
                    for name in ("count", "errors", "rows"):
                        new[name] += old[name]
                    new["first_ts"] = old["first_ts"]
                    new["max_duration_us"] = max(new["max_duration_us"], old["max_duration_us"])

    def force_flush(self, timeout: float = 5.0) -> bool:
        try:
            self.flush()
            return True
        except Exception as exc:  # the control db is closing: say so, once
            log.error("query log: could not write the gathered page reads: %s", exc)
            return False

    def retain(self) -> int:
        """Trim the entries past ``max_entries`` or older than ``max_age_s`` behind a signed anchor
        (``ben.control.anchor``); the number trimmed."""
        keep_from = self.log.last_seq - self.max_entries + 1 if self.max_entries else 0
        if self.max_age_s:
            cutoff = time.time_ns() - int(self.max_age_s * 1e9)
            first = self.log.first_kept()
            while first is not None and first.ts < cutoff and first.seq < self.log.last_seq:
                keep_from = max(keep_from, first.seq + 1)
                found = self.log.entries(after=first.seq, limit=1)
                first = found[0] if found else None
        if keep_from <= 1:
            return 0
        n = self.log.trim(keep_from)
        if n:
            self.trimmed += n
            log.info("query log: %d entries trimmed (spine.control.query_log_max_entries = %d, query_log_max_age_s "
                     "= %g); it starts at entry %d, behind a signed anchor", n, self.max_entries, self.max_age_s,
                     keep_from)
        return n

    def _run(self) -> None:
        while not self._stop:
            self._wake.wait(self._interval)
            try:
                self.flush()
                self.retain()
            except Exception as exc:  # kept for the next interval
                self.errors += 1
                log.warning("query log: writing the gathered page reads failed (%s); trying again", exc)

    def shutdown(self, timeout: float = 5.0) -> None:
        """Stop the thread, then write what is left (before the control db closes)."""
        self._stop = True
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        self.force_flush(timeout)
