"""The spine's query log (ADR 0045, 2026-12): every operator query through every query path is in a
hash-chained, signed log of its own with its operator, statement and outcome; failed and refused
ones too; a web page's own reads gathered; nothing the query path runs can remove or rewrite it."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from ben.cli.procs import Cluster, Proc, wait_for
from ben.control import client
from ben.control.audit import QUERY_PREFIX, AuditLog, Entry, _key
from ben.control.db import ControlDb
from ben.control.keys import generate
from ben.control.offline import verify_data_dir
from ben.control.queries import QueryAudit, QueryClaim, QueryOutcome
from ben.core.admin import run_query
from ben.core.errors import QueryError
from ben.core.peers import CALLER
from tests.conftest import rig_in_tmp


# -- the log itself (RocksDB, no processes) -------------------------------------------------------------
@pytest.fixture
def log(tmp_path) -> Iterator[QueryAudit]:
    db = ControlDb(tmp_path / "db")
    signer = generate(tmp_path / "keys", "spine")
    audit = QueryAudit(AuditLog(db, signer, "spine", prefix=QUERY_PREFIX), flush_interval_s=3600)
    audit.keys = {signer.id: signer.public}
    yield audit
    audit.shutdown(1)
    db.close()


def test_a_page_s_reads_are_gathered_and_a_failed_write_keeps_them(log):
    token = CALLER.set("alice")
    try:
        for i in range(50):
            log.record(query_id=f"q{i}", sql=f"SELECT {i % 2} AS n", claim=QueryClaim("web-page", "uid 0 (root)"),
                       outcome=QueryOutcome(1.5, rows=1))
        log.record(query_id="bad", sql="SELECT x", claim=QueryClaim("web-page", "uid 0 (root)"),
                   outcome=QueryOutcome(0.5, error="Unknown identifier x"))
        assert log.log.last_seq == 0  # gathered, not one entry per read
        real_write = log.log.append_many
        log.log.append_many = lambda *a, **k: (_ for _ in ()).throw(OSError("disk full"))
        with pytest.raises(OSError):
            log.flush()
        log.log.append_many = real_write
        log.record(query_id="q50", sql="SELECT 0 AS n", claim=QueryClaim("web-page", "uid 0 (root)"),
                   outcome=QueryOutcome(1.0, rows=1))
        assert log.flush() == 1
    finally:
        CALLER.reset(token)
    (entry,) = log.log.entries()
    assert entry.kind == "queries" and entry.body["operator"] == "alice" and entry.body["for"] == "uid 0 (root)"
    by_sql = {s["sql"]: s for s in entry.body["statements"]}
    assert by_sql["SELECT 0 AS n"]["count"] == 26 and by_sql["SELECT 1 AS n"]["count"] == 25
    assert by_sql["SELECT x"]["errors"] == 1 and "Unknown identifier" in by_sql["SELECT x"]["last_error"]
    assert entry.body["count"] == 52 and log.log.verify(log.keys, "query log").ok


def test_a_long_statement_keeps_4_kib_and_the_hash_of_the_whole(log):
    sql = "SELECT '" + "é" * 5000 + "'"
    entry = log.record(query_id="q", sql=sql, claim=QueryClaim.of("no-such-origin", "x" * 1000),
                       outcome=QueryOutcome(2.0, rows=1))
    assert len(entry.body["sql"].encode()) <= 4096 and entry.body["sql_bytes"] == len(sql.encode())
    assert entry.body["sql_sha256"] == hashlib.sha256(sql.encode()).hexdigest()
    assert entry.body["origin"] == "cli" and len(entry.body["for"]) == 256


# -- every query path, against a real spine with its web interface -----------------------------------------
class Rig:
    def __init__(self, home: Path):
        self.home = home
        self.cluster = Cluster(home, store={"query_timeout_s": 10})
        self.cluster.config.write_text(self.cluster.config.read_text() + "\n[web]\nlisten_port = 0\n")
        self.cluster.spine = Proc(["spine", "--config", str(self.cluster.config), "--web"], home / "logs" / "spine.log")
        self.cluster.spine.wait_ready(self.cluster.spine_addr)
        import re

        found = wait_for(lambda: re.search(r"web interface on (http://[^\s]+)", self.cluster.spine.tail(200)), 30,
                         "the web interface's address in the spine's log")
        self.web = found.group(1).rstrip("/")
        self.addr = self.cluster.spine_addr

    def entries(self) -> list[dict]:
        return [{**e, "body": json.loads(e["body"])} for e in client.audit_entries(self.addr, log="queries")]

    def ben(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "ben", *args], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def rig() -> Iterator[Rig]:
    with rig_in_tmp("bq-", Rig) as r:
        yield r


def _one(entries: list[dict], marker: str) -> dict:
    found = [e for e in entries if e["kind"] == "query" and marker in e["body"]["sql"]]
    assert len(found) == 1, (marker, found)
    return found[0]


def test_every_query_path_leaves_a_record_with_its_operator(rig: Rig):
    m = f"m{time.time_ns()}"
    started = time.time_ns()
    out = rig.ben("query", "--spine", rig.addr, f"SELECT number AS {m}_cli FROM numbers(3)")
    assert out.returncode == 0, out.stderr
    failed = rig.ben("query", "--spine", rig.addr, f"SELECT * FROM no_such_table_{m}")
    refused = rig.ben("query", "--spine", rig.addr, f"SELECT * FROM file('/etc/passwd') /* {m}_refused */")
    assert failed.returncode != 0 and refused.returncode != 0
    with urllib.request.urlopen(rig.web + "/sql?" + urllib.parse.urlencode({"q": f"SELECT 42 AS {m}_web"}),
                                timeout=60) as r:
        assert r.status == 200
    with urllib.request.urlopen(rig.web + "/incidents", timeout=60) as r:  # a page: the interface's own reads
        assert r.status == 200
    rig.ben("incidents", "--spine", rig.addr)  # a CLI command's fixed reads: one entry each
    entries = rig.entries()  # asking for the log writes the gathered page reads first

    operator = os.environ.get("USER") or __import__("pwd").getpwuid(os.geteuid()).pw_name
    cli = _one(entries, f"{m}_cli")
    assert cli["body"]["operator"] == operator and cli["body"]["origin"] == "cli"
    assert cli["body"]["outcome"] == "ok" and cli["body"]["rows"] == 3 and cli["body"]["duration_us"] >= 0
    assert cli["ts"] >= started and cli["command_id"].startswith("query:")
    assert cli["body"]["sql_sha256"] == hashlib.sha256(f"SELECT number AS {m}_cli FROM numbers(3)".encode()).hexdigest()
    bad = _one(entries, f"no_such_table_{m}")
    assert bad["body"]["outcome"] == "error" and "no_such_table" in bad["body"]["error"] and bad["body"]["rows"] is None
    sandboxed = _one(entries, f"{m}_refused")
    assert sandboxed["body"]["outcome"] == "error" and "file" in sandboxed["body"]["error"]
    web = _one(entries, f"{m}_web")
    assert web["body"]["origin"] == "web-sql" and web["body"]["operator"] == operator
    assert web["body"]["for"] == f"uid {os.geteuid()} ({operator})" and web["body"]["rows"] == 1
    pages = [e for e in entries if e["kind"] == "queries" and e["ts"] >= started]
    assert pages and all(e["body"]["origin"] == "web-page" for e in pages)
    assert any("ben.incidents" in s["sql"] for e in pages for s in e["body"]["statements"])
    assert any(e["kind"] == "query" and "ben.incidents" in e["body"]["sql"] and e["ts"] >= started for e in entries)

    listed = rig.ben("audit", "queries", "--spine", rig.addr)
    assert listed.returncode == 0 and f"{m}_cli" in listed.stdout and "3 row(s)" in listed.stdout, listed


TAMPER = ["ALTER TABLE ben.audit DELETE WHERE 1", "TRUNCATE TABLE ben.audit", "DROP TABLE ben.audit",
          "INSERT INTO ben.audit (seq) VALUES (1)", "SELECT * FROM file('{db}/CURRENT')",
          "SELECT * FROM system.tables WHERE name ILIKE '%quer%' AND database = 'ben'"]


def test_the_query_path_cannot_remove_or_rewrite_the_query_log(rig: Rig):
    m = f"keep{time.time_ns()}"
    run_query(rig.addr, f"SELECT 1 AS {m}")
    before = rig.entries()
    kept = _one(before, m)
    db = rig.home / "spine" / "control" / "db"
    for sql in TAMPER:
        try:
            rows = json.loads(run_query(rig.addr, sql.format(db=db)))["data"]
            assert rows == [], (sql, rows)  # the log is no table: nothing there to aim at
        except QueryError:
            pass
    after = rig.entries()
    assert [e for e in after if e["seq"] <= before[-1]["seq"]] == before  # nothing removed or changed
    assert _one(after, m) == kept
    tried = [e["body"]["sql"] for e in after if e["seq"] > before[-1]["seq"] and e["kind"] == "query"]
    assert [s for s in tried if not s.startswith("SELECT 1")] == [s.format(db=db) for s in TAMPER]
    report = json.loads(client.verify_audit(rig.addr).report_json)
    (queries,) = [c for c in report if c["copy"] == "query log"]
    assert queries["ok"] and queries["entries"] == after[-1]["seq"], queries


def test_the_query_log_is_signed_a_rewrite_on_disk_is_found(tmp_path):
    """Outside the query path (the data dir's owner, the spine stopped): an altered entry is found."""
    home = tmp_path / "c"
    cluster = Cluster(home)
    try:
        cluster.start_spine()
        run_query(cluster.spine_addr, "SELECT 1 AS honest")
        run_query(cluster.spine_addr, "SELECT 2 AS other")
    finally:
        cluster.stop()
    data = home / "spine"
    assert all(c["ok"] for c in verify_data_dir(data, with_store=False))
    db = ControlDb(data / "control" / "db")
    try:
        raw = db.get(_key(1, QUERY_PREFIX))
        entry = Entry.from_bytes(raw)
        forged = Entry(**{**entry.__dict__, "body": {**entry.body, "sql": "SELECT 1 AS nothing_to_see"}})
        db.write({_key(1, QUERY_PREFIX): forged.to_bytes()}, sync=True)
    finally:
        db.close()
    (queries,) = [c for c in verify_data_dir(data, with_store=False) if c["copy"] == "query log"]
    assert not queries["ok"] and any("entry 1" in p and "altered" in p for p in queries["problems"]), queries


def test_a_statement_s_escape_sequences_reach_no_terminal_through_the_query_log(rig: Rig):
    """An operator's failed statement is quoted by the engine's error, which the entry's reason holds: on the code
    before, ``ben audit queries`` wrote it as it came, and an escape sequence in a table's name retitled, cleared or
    recoloured the terminal of whoever read the log, a bidirectional override reordered the line."""
    m = f"esc{time.time_ns()}"
    with pytest.raises(QueryError):
        run_query(rig.addr, f"SELECT * FROM `no_such_{m}\x1b]0;owned\x07\x1b[2J\u202e`")
    (entry,) = [e for e in rig.entries() if e["kind"] == "query" and m in e["body"]["sql"]]
    assert "\x1b" in entry["body"]["reason"], entry  # the record keeps what happened; the terminal gets escapes
    listed = rig.ben("audit", "queries", "--spine", rig.addr)
    assert listed.returncode == 0 and f"no_such_{m}\\x1b]0;owned\\x07" in listed.stdout, repr(listed.stdout)
    assert not {"\x1b", "\x07", "\u202e"} & set(listed.stdout), listed.stdout[-2000:]
