"""The query log's retention (ADR 0045, round 4): the oldest entries trimmed behind a signed anchor, the kept
part still verified, said where it starts, and any tampering with the anchor or what follows it found."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ben.cli.procs import Cluster, wait_for
from ben.control import client
from ben.control.anchor import ANCHOR, Anchor
from ben.control.audit import QUERY_PREFIX, AuditLog, _key
from ben.control.db import ControlDb
from ben.control.keys import generate
from ben.control.offline import verify_data_dir
from ben.control.queries import QueryAudit, QueryClaim, QueryOutcome
from ben.core.admin import run_query


@pytest.fixture
def log(tmp_path) -> Iterator[QueryAudit]:
    db = ControlDb(tmp_path / "db")
    signer = generate(tmp_path / "keys", "spine")
    audit = QueryAudit(AuditLog(db, signer, "spine", prefix=QUERY_PREFIX), flush_interval_s=3600, max_entries=5)
    audit.keys = {signer.id: signer.public}
    audit.db = db
    yield audit
    audit.shutdown(1)
    db.close()


def _queries(log: QueryAudit, n: int) -> None:
    for i in range(n):
        log.record(query_id=f"q{i}", sql=f"SELECT {i}", claim=QueryClaim("cli", ""), outcome=QueryOutcome(1.0, rows=1))


def test_trimming_keeps_a_verifiable_chain_that_says_where_it_starts(log) -> None:
    _queries(log, 20)
    assert log.retain() == 15 and log.retain() == 0
    verdict = log.log.verify(log.keys, "query log")
    assert verdict.ok and verdict.first_seq == 16 and verdict.entries == 5, verdict
    assert [e.seq for e in log.log.entries()] == [16, 17, 18, 19, 20]
    _queries(log, 3)  # the chain goes on past the anchor; a second trim moves it
    assert log.retain() == 3 and log.log.verify(log.keys).first_seq == 19


def test_an_anchor_or_a_kept_entry_tampered_with_is_found(log) -> None:
    _queries(log, 10)
    log.retain()
    anchor = Anchor.from_bytes(log.db.get(ANCHOR + QUERY_PREFIX))
    # an anchor moved forward to hide entries 6 and 7 (without the key: its signature fails)
    moved = Anchor(**{**anchor.__dict__, "first_seq": 8, "hash": log.log.entries(after=7, limit=1)[0].hash})
    log.db.write({ANCHOR + QUERY_PREFIX: moved.to_bytes()}, (_key(6, QUERY_PREFIX), _key(7, QUERY_PREFIX)))
    problems = log.log.verify(log.keys).problems
    assert any("anchor" in p and "bad signature" in p for p in problems), problems
    log.db.write({ANCHOR + QUERY_PREFIX: anchor.to_bytes()})  # the true anchor, its first entries gone
    problems = log.log.verify(log.keys).problems
    assert any("entry 6, the first kept" in p for p in problems) and any("6..7" in p for p in problems), problems


def test_by_age_the_newest_entry_is_always_kept(log) -> None:
    log.max_entries, log.max_age_s = 0, 1e-9
    _queries(log, 4)
    assert log.retain() == 3 and [e.seq for e in log.log.entries()] == [4]
    assert log.log.verify(log.keys).ok


def test_a_running_spine_trims_its_query_log_and_ben_audit_verify_proves_the_rest(tmp_path: Path) -> None:
    """Real spine, ``[spine.control] query_log_max_entries = 3``: after eight queries the log holds the last
    ones, ``ben audit verify`` (running, then ``--data-dir`` stopped) says intact and where it starts."""
    cluster = Cluster(tmp_path / "c", spine={"control": {"query_log_max_entries": 3}})
    try:
        cluster.start_spine()
        for i in range(8):
            run_query(cluster.spine_addr, f"SELECT {i} AS n")
        wait_for(lambda: client.audit_entries(cluster.spine_addr, log="queries")[0]["seq"] >= 6, 30,
                 "the query log to be trimmed (every 10 s)")
        assert [e["seq"] for e in client.audit_entries(cluster.spine_addr, log="queries")] == [6, 7, 8]
        out = subprocess.run([sys.executable, "-m", "ben", "audit", "verify", "--spine", cluster.spine_addr],
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0 and "query log: 3 entries from entry 6 (earlier ones trimmed" in out.stdout, out
        assert "trimmed" in cluster.spine.tail(200)
    finally:
        cluster.stop()
    (queries,) = [c for c in verify_data_dir(tmp_path / "c" / "spine", with_store=False) if c["copy"] == "query log"]
    assert queries["ok"] and queries["first_seq"] == 6 and queries["entries"] == 3, queries
