"""The outbox: incident changes read from the store, anonymised, signed and kept on disk until
JetStream acknowledged them (a RocksDB ``Wal``, like ben's other logs).

The spine already stores every incident change in ``ben.incidents`` (one row per change, a
monotonic ``version``). ``Outbox.poll`` reads the rows after its cursor, decides which are
changes federation publishes (opened, escalated: severity rose, resolved; an acknowledgement is
not), and appends their sealed summaries with the new cursor and what was published per incident
in ONE fsync'd batch: a crash repeats a poll whole or not at all. A summary's id is a keyed hash
of (incident, change, severity), so a repeated poll makes the same ids and JetStream's duplicate
window (``Nats-Msg-Id``) and the peer's check drop the copies.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from ben.control.keys import Signer
from ben.core.wal import Wal
from ben.core.wal.layout import Record
from ben.federation.policy import Facts, Policy
from ben.federation.summary import seal
from ben.store.schema import ANOMALIES, INCIDENTS

log = logging.getLogger(__name__)

SEVERITY_RANK = {"low": 0, "medium": 1, "high": 2, "critical": 3}
POLL_ROWS = 1000


def _lead(anomalies: list[dict]) -> tuple[str, str, float]:
    """(detector, direction, ratio) of the strongest anomaly."""
    if not anomalies:
        return "none", "up", 1.0
    a = max(anomalies, key=lambda r: (float(r["score"]), -int(r["start_ts"])))
    base, obs = float(a["baseline"]), float(a["observed"])
    direction = "up" if obs >= base else "down"
    lo, hi = sorted((abs(base), abs(obs)))
    ratio = hi / lo if lo > 0 else float("inf") if hi > 0 else 1.0
    detectors = a["detectors"] or ["none"]
    return str(sorted(detectors)[0]), direction, ratio


class Outbox:
    """Summaries waiting for their PubAck (durable), and the poll cursor over ben.incidents."""

    def __init__(self, path: Path, *, store, policy: Policy, signer: Signer, cluster: str):
        self.wal = Wal(path)
        self._store = store
        self._policy = policy
        self._signer = signer
        self._cluster = cluster
        self.held = 0  # summaries held back by min_group_size (not yet published)

    @property
    def cursor(self) -> int:
        raw = self.wal.get_meta("cursor")
        return int(raw) if raw else 0

    def _query(self, sql: str) -> list[dict]:
        return json.loads(self._store.query_json(sql))["data"]

    def poll(self) -> int:
        """Append the summaries of incident changes stored since the cursor; how many."""
        rows = self._query(f"SELECT id, subsystem, state, severity, opened_ts, resolved_ts, anomaly_ids, version "
                           f"FROM {INCIDENTS} WHERE version > {self.cursor} ORDER BY version LIMIT {POLL_ROWS}")
        if not rows:
            return 0
        payloads: list[bytes] = []
        meta: dict[str, bytes] = {"cursor": str(max(int(r["version"]) for r in rows)).encode()}
        for row in rows:
            change = self._change(row, meta)
            if change is None:
                continue
            ids = [i for i in row["anomaly_ids"] if all(c.isalnum() or c == "-" for c in i)]
            anomalies = self._query(
                f"SELECT baseline, observed, score, start_ts, detectors FROM {ANOMALIES} FINAL "
                f"WHERE id IN ({', '.join(repr(i) for i in ids)})") if ids else []
            detector, direction, ratio = _lead(anomalies)
            facts = Facts(incident_id=row["id"], change=change, subsystem=row["subsystem"], state=row["state"],
                          severity=row["severity"], detector=detector, direction=direction, ratio=ratio,
                          opened_ns=int(row["opened_ts"]), resolved_ns=int(row["resolved_ts"]),
                          anomalies=len(row["anomaly_ids"]))
            group = "group:" + "|".join(self._policy.signature(facts))
            if change == "opened":
                meta[group] = str(self._group_size(group, meta) + 1).encode()
            if self._group_size(group, meta) < self._policy.rules.min_group_size:
                self.held += 1
                log.info("federation: summary of a %s change held back (group below min_group_size)", change)
                continue
            summary_id = self._policy.pseudonym("summary", f"{self._cluster}|{row['id']}|{change}|{row['severity']}")
            payloads.append(seal(self._signer, summary_id=summary_id, cluster=self._cluster,
                                 body=self._policy.apply(facts)))
        self.wal.append(payloads, meta)
        return len(payloads)

    def _group_size(self, group: str, meta: dict[str, bytes]) -> int:
        raw = meta.get(group) or self.wal.get_meta(group)
        return int(raw) if raw else 0

    def _change(self, row: dict, meta: dict[str, bytes]) -> str | None:
        """opened / escalated / resolved, or None (nothing federation publishes); records it in meta."""
        name = f"inc:{row['id']}"
        raw = meta.get(name) or self.wal.get_meta(name)
        state, severity = row["state"], row["severity"]
        if raw is None:
            change = "resolved" if state == "resolved" else "opened"
        else:
            was_state, was_severity = raw.decode().split("|")
            if was_state == "resolved":
                return None
            if state == "resolved":
                change = "resolved"
            elif SEVERITY_RANK.get(severity, 0) > SEVERITY_RANK.get(was_severity, 0):
                change = "escalated"
            else:
                return None
        meta[name] = f"{state}|{severity}".encode()
        return change

    def pending(self, max_records: int = 256) -> list[Record]:
        first = self.wal.first_seq
        return [] if first is None else self.wal.read(first - 1, max_records)

    def read_after(self, seq: int, max_records: int = 256) -> list[Record]:
        """Summaries after ``seq`` (the publisher's pipeline reads ahead of what was PubAcked)."""
        return self.wal.read(seq, max_records)

    def acked(self, seq: int) -> None:
        self.wal.truncate(seq)

    @property
    def depth(self) -> int:
        return self.wal.depth

    def close(self) -> None:
        self.wal.close()
