"""label -> export -> import -> detect-real, through a real spine (its gRPC Label call, its audit log,
its chDB store), and nothing identifying in the exported files' bytes."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ben.cli.procs import Cluster, query_rows
from ben.store.process import ChdbProcessStore
from ben.store.schema import ANOMALIES, INCIDENTS

HOST = "db-primary-fra3.corp.example"
ATTR = "tenant-acme-gmbh-4471"
SUBSYSTEM = "payments-ledger-svc"
NARRATIVE = "ERROR disk quota exceeded for user mallard"
SEEDS = [HOST, ATTR, SUBSYSTEM, NARRATIVE, "inc-00000000a1", "inc-00000000b2"]
T0 = 1_780_000_000 * 10**9
MIN = 60 * 10**9


def ben(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ben", *args], capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ))


def _seed_store(path: Path) -> None:
    """Two incidents as the spine stores them, with their series (a level shift on one, noise on the other)."""
    store = ChdbProcessStore(path)
    try:
        values = []
        for i in range(600):  # 10 hours of a minute series; the shift at minute 480 lasts 30 minutes
            ts = T0 + i * MIN
            v = 100.0 + 5 * math.sin(i / 7) + (400.0 if 480 <= i < 510 else 0.0)
            values.append(f"({ts}, 'metric', '{HOST}', '{SUBSYSTEM}', 'latency_ms', {v}, ['tenant'], ['{ATTR}'])")
            values.append(f"({ts}, 'metric', '{HOST}', '{SUBSYSTEM}', 'queue_depth', {10 + (i % 3)}, [], [])")
        store.execute("INSERT INTO ben.events (ts, kind, host, subsystem, name, value, `attributes.key`, "
                      f"`attributes.value`) VALUES {', '.join(values)}")
        for inc, an, name, series, start, end in [
                ("inc-00000000a1", "an-0000000000a1", "latency_ms", f"{SUBSYSTEM} latency_ms{{tenant={ATTR}}}",
                 T0 + 480 * MIN, T0 + 510 * MIN),
                ("inc-00000000b2", "an-0000000000b2", "queue_depth", f"{SUBSYSTEM} queue_depth", T0 + 300 * MIN,
                 T0 + 305 * MIN)]:
            store.insert_rows(ANOMALIES, pa.table({
                "id": [an], "series": [series], "subsystem": [SUBSYSTEM], "name": [name],
                "start_ts": pa.array([start], pa.int64()), "end_ts": pa.array([end], pa.int64()),
                "baseline": [100.0], "observed": [500.0], "score": [0.97], "detectors": [["level_shift"]],
                "evidence": [json.dumps({"level_shift": {"sigma": 12.5, "host": HOST}})], "sentence": [NARRATIVE],
                "incident_id": [inc], "version": pa.array([1], pa.int64())}))
            store.insert_rows(INCIDENTS, pa.table({
                "id": [inc], "subsystem": [SUBSYSTEM], "state": ["resolved"], "severity": ["high"],
                "opened_ts": pa.array([start], pa.int64()), "updated_ts": pa.array([end], pa.int64()),
                "resolved_ts": pa.array([end + 5 * MIN], pa.int64()), "narrative": [NARRATIVE],
                "anomaly_ids": [[an]], "version": pa.array([1], pa.int64())}))
    finally:
        store.close()


def test_label_export_import_and_detect_real_score_it(home: Path) -> None:
    cluster = Cluster(home)
    _seed_store(home / "spine" / "chdb")
    cluster.start_spine()
    try:
        spine = cluster.spine_addr
        out = ben("incidents", "label", "inc-00000000a1", "real", "--kind", "level", "--note", f"{HOST} disk full",
                  "--by", "alice", "--spine", spine)
        assert out.returncode == 0 and "labelled real (level)" in out.stdout, out.stderr
        out = ben("incidents", "label", "inc-00000000b2", "noise", "--spine", spine)
        assert out.returncode == 0, out.stderr
        out = ben("incidents", "label", "inc-0000000404", "real", "--spine", spine)
        assert out.returncode == 2 and "no incident 'inc-0000000404'" in out.stderr
        out = ben("incidents", "label", "inc-00000000a1", "maybe", "--spine", spine)
        assert out.returncode == 2 and "LABEL 'maybe'" in out.stderr

        # Audited in the hash-chained log with the operator's name (the mirror in ClickHouse shows it).
        audit = query_rows(spine, "SELECT actor, body FROM ben.audit WHERE kind = 'label' ORDER BY seq")
        assert len(audit) == 2
        first = json.loads(audit[0]["body"])
        assert audit[0]["actor"] == "alice" and first["label"] == "real" and first["kind"] == "level"
        assert first["operator"]  # the authenticated operator, recorded by the audit log
        assert ben("audit", "verify", "--spine", spine).returncode == 0

        pkg = home / "pkg"
        out = ben("baseline", "export", str(pkg), "--from", str(T0 // 10**9), "--to", str(T0 // 10**9 + 86_400),
                  "--config", str(cluster.config), "--spine", spine)
        assert out.returncode == 0, out.stderr[-3000:]
    finally:
        cluster.stop()

    # The stopped spine's store gives the same package (same policy key, same pseudonyms).
    again = home / "pkg-offline"
    out = ben("baseline", "export", str(again), "--from", str(T0 // 10**9), "--to", str(T0 // 10**9 + 86_400),
              "--config", str(cluster.config), "--data-dir", str(home / "spine"))
    assert out.returncode == 0, out.stderr[-3000:]
    for name in ("episodes", "anomalies", "points"):
        rows = pq.read_table(pkg / f"{name}.parquet").to_pylist()
        assert pq.read_table(again / f"{name}.parquet").to_pylist() == rows and rows

    files = [p for p in pkg.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"datapackage.json", "README.md", "episodes.parquet", "anomalies.parquet",
                                       "points.parquet", "combined_windows.json"}
    raw = b"".join(p.read_bytes() for p in files)
    for seed in SEEDS + ["mallard", "acme", "latency_ms", "disk full"]:
        assert seed.encode() not in raw, f"{seed!r} leaked into the exported package"

    out = ben("baseline", "import", str(pkg), "--corpus", str(home / "corpus"))
    assert out.returncode == 0 and "2 episodes (1 real)" in out.stdout, out.stderr
    windows = json.loads((home / "corpus" / "labels" / "combined_windows.json").read_text())
    assert sorted(len(w) for w in windows.values()) == [0, 1]  # the noise episode has no window
    out = ben("bench", "detect-real", str(home / "corpus"), "--json", timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    scored = json.loads(out.stdout)
    assert scored["windows"] == 1 and len(scored["files"]) == 2 and "standard" in scored
    # 6 h before the first anomaly, 1 h after the last (the store's series starts at minute 0)
    assert sorted(f["points"] for f in scored["files"]) == [366, 451]


def test_export_refuses_bad_input(home: Path, tmp_path: Path) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("")
    out = ben("baseline", "export", str(tmp_path / "full"), "--spine", f"unix://{home}/none.sock")
    assert out.returncode == 2 and "not an empty directory" in out.stderr
    out = ben("baseline", "export", str(tmp_path / "new"), "--from", "yesterday", "--spine", f"unix://{home}/none.sock")
    assert out.returncode == 2 and "--from 'yesterday'" in out.stderr
    out = ben("baseline", "import", str(tmp_path))
    assert out.returncode == 2 and "datapackage.json" in out.stderr and "Traceback" not in out.stderr


def test_export_refuses_a_directory_another_account_may_write(home: Path) -> None:
    """``ben baseline export OUT`` took an empty OUT another account owns (or may write in), then queried the
    spine for seconds before writing ``datapackage.json``, ``README.md`` and the Parquet files by name: that
    account planted symlinks in the meantime, and the export wrote through them into any file its user may
    write. Now OUT is made (or checked) as the exporter's own before anything is read, naming OUT."""
    os.chmod(home, 0o755)
    theirs = home / "theirs"
    theirs.mkdir()
    os.chown(theirs, 65534, 65534)  # an empty directory of another account (nobody)
    out = ben("baseline", "export", str(theirs), "--spine", f"unix://{home}/none.sock")
    assert out.returncode == 2 and "OUT" in out.stderr and "uid 65534" in out.stderr, out.stderr
    shared = home / "shared"
    shared.mkdir(mode=0o777)
    os.chmod(shared, 0o777)  # ours, but any account may write in it
    out = ben("baseline", "export", str(shared), "--spine", f"unix://{home}/none.sock")
    assert out.returncode == 2 and "other accounts may write" in out.stderr, out.stderr
    assert not any(shared.iterdir())
