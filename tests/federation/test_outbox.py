"""The outbox's choice of changes (opened, escalated, resolved; not acknowledged), min_group_size, and its
durability across a reopen (real RocksDB; the store is a stand-in answering the two queries it makes)."""

from __future__ import annotations

import json

from ben.control import canonical
from ben.control.keys import generate
from ben.federation.outbox import Outbox
from ben.federation.policy import Policy, PolicyFile


class Rows:
    """ben.incidents rows after a version; anomalies by id."""

    def __init__(self):
        self.incidents: list[dict] = []

    def add(self, inc: str, subsystem: str, state: str, severity: str) -> None:
        self.incidents.append({"id": inc, "subsystem": subsystem, "state": state, "severity": severity,
                               "opened_ts": 1_780_000_000 * 10**9, "resolved_ts": 0, "anomaly_ids": [],
                               "version": len(self.incidents) + 1})

    def query_json(self, sql: str) -> bytes:
        if "ben.incidents" in sql:
            after = int(sql.split("version > ")[1].split()[0])
            return json.dumps({"data": [r for r in self.incidents if r["version"] > after]}).encode()
        return b'{"data": []}'


def _changes(outbox: Outbox) -> list[str]:
    return [canonical.decode(r.payload)["summary"]["body"]["change"] for r in outbox.pending()]


def test_changes_published_and_group_size_held_back(tmp_path):
    rows, signer = Rows(), generate(tmp_path, "east")
    policy = Policy(rules=PolicyFile(min_group_size=2, classes={"db-1": "postgres", "db-2": "postgres"}), key=b"k" * 32)
    outbox = Outbox(tmp_path / "outbox", store=rows, policy=policy, signer=signer, cluster="east")
    rows.add("inc-a", "db-1", "open", "low")
    assert outbox.poll() == 0 and outbox.held == 1          # alone in its group: held back
    rows.add("inc-b", "db-2", "open", "low")                # same signature: the group reaches 2
    rows.add("inc-b", "db-2", "acknowledged", "low")        # not a federated change
    rows.add("inc-b", "db-2", "open", "high")               # escalated
    rows.add("inc-b", "db-2", "resolved", "high")
    rows.add("inc-b", "db-2", "resolved", "high")           # nothing new
    assert outbox.poll() == 3 and _changes(outbox) == ["opened", "escalated", "resolved"]
    outbox.close()
    again = Outbox(tmp_path / "outbox", store=rows, policy=policy, signer=signer, cluster="east")
    assert again.poll() == 0 and _changes(again) == ["opened", "escalated", "resolved"]  # cursor and records kept
    again.acked(again.pending()[-1].seq)
    assert again.depth == 0
    again.close()
