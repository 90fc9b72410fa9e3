"""`ben audit verify` against real stored data: entries altered, removed or reordered in the spine's
RocksDB log and in the ben.audit table of its chDB (rewritten with ALTER TABLE while the spine is
stopped) are all found."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import sys
import textwrap
from pathlib import Path

import pytest

from ben.cli.procs import Cluster, wait_for
from ben.control import client
from ben.control.audit import Entry, _key
from ben.control.db import ControlDb
from ben.control.documents import make_envelope
from ben.control.offline import verify_data_dir
from tests.conftest import dump_logs
from tests.control.conftest import make_setup
from tests.control.test_commands import ben_process


def problems(report: list[dict], copy: str | None = None) -> list[str]:
    return [p for c in report if copy is None or c["copy"] == copy for p in c["problems"]]


@pytest.fixture(scope="module")
def stopped_spine() -> Path:
    """A spine that audited a few commands (no sidecar: they stay pending) and was stopped.

    Shared by this module's tests: the local-log test puts back what it changed; the ClickHouse
    test (last) leaves its damage.
    """
    home = Path(tempfile.mkdtemp(prefix="ba-", dir="/tmp"))
    setup = make_setup(home)
    cluster = Cluster(home, spine=setup.control_options())
    try:
        yield from _audited(cluster, setup)
    finally:
        cluster.stop()
        dump_logs(home)
        shutil.rmtree(home, ignore_errors=True)


def _audited(cluster, setup):
    cluster.start_spine()
    for i in range(3):
        client.send(cluster.spine_addr, make_envelope(setup.alice, "ping", "shop", {}, f"ping {i}")[1])
    client.send(cluster.spine_addr, make_envelope(setup.stranger, "ping", "shop", {}, "forged")[1])
    assert client.verify_audit(cluster.spine_addr).ok
    wait_for(lambda: len(client.audit_entries(cluster.spine_addr)) == 5, 60, "the sidecar pin and four audit entries")
    cluster.stop()
    yield cluster.home / "spine"


def test_local_log_alterations_removals_and_reorders_are_found(stopped_spine: Path) -> None:
    assert problems(verify_data_dir(stopped_spine, with_store=False)) == []
    db_path = stopped_spine / "control" / "db"

    def tamper(change) -> list[str]:
        db = ControlDb(db_path)
        saved = {k: v for k, v in db.scan(b"a")}
        try:
            change(db, saved)
        finally:
            db.close()
        found = problems(verify_data_dir(stopped_spine, with_store=False))
        db = ControlDb(db_path)
        try:  # put everything back as it was
            db.write(saved, tuple(k for k, _ in db.scan(b"a") if k not in saved))
        finally:
            db.close()
        return found

    def alter(db, saved):
        entry = Entry.from_bytes(saved[_key(2)])
        db.write({_key(2): Entry(**{**entry.__dict__, "body": {**entry.body, "reason": "nothing to see"}}).to_bytes()})

    def rehash(db, saved):  # an attacker recomputes the hash, but cannot sign it
        import hashlib

        entry = Entry.from_bytes(saved[_key(2)])
        forged = Entry(**{**entry.__dict__, "actor": "mallory"})
        forged = Entry(**{**forged.__dict__, "hash": hashlib.sha256(forged.chained()).hexdigest()})
        db.write({_key(2): forged.to_bytes()})

    found = tamper(alter)
    assert any("entry 2" in p and "(altered)" in p for p in found), found
    found = tamper(rehash)
    assert any("entry 2 has a bad signature" in p for p in found), found
    assert any("entry 3 does not follow entry 2" in p for p in found), found
    found = tamper(lambda db, saved: db.write({}, (_key(3),)))
    assert any("entries 3..3 are missing (removed)" in p for p in found), found
    found = tamper(lambda db, saved: db.write({_key(2): saved[_key(3)], _key(3): saved[_key(2)]}))
    assert any("says it is entry 3 (reordered)" in p for p in found), found
    found = tamper(lambda db, saved: db.write({_key(2): b"\x00garbage"}))
    assert any("entry 2 is unreadable" in p for p in found), found
    assert problems(verify_data_dir(stopped_spine, with_store=False)) == []  # restored


CHDB_TAMPER = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    from ben.control.offline import verify_data_dir
    from ben.store.chdb import ChdbStore
    spine = Path(sys.argv[1])
    store = ChdbStore(spine / "chdb")
    out = {}
    def step(name, sql):
        store._run(sql)
        out[name] = [p for c in verify_data_dir(spine, store=store) for p in c["problems"]]
    out["before"] = [p for c in verify_data_dir(spine, store=store) for p in c["problems"]]
    step("altered", "ALTER TABLE ben.audit UPDATE body = replace(body, 'ping 0', 'ping 9') WHERE seq = 2 "
                    "SETTINGS mutations_sync = 2")
    step("removed", "ALTER TABLE ben.audit DELETE WHERE seq = 3 SETTINGS mutations_sync = 2")
    # reorder: entries 1 and 2 trade places (each row keeps its content, takes the other's seq)
    import pyarrow as pa
    rows = json.loads(store.query_json("SELECT * FROM ben.audit WHERE seq IN (1, 4) ORDER BY seq"))["data"]
    store._run("ALTER TABLE ben.audit DELETE WHERE seq IN (1, 4) SETTINGS mutations_sync = 2")
    rows[0]["seq"], rows[1]["seq"] = rows[1]["seq"], rows[0]["seq"]
    store.insert_rows("ben.audit", pa.table({k: pa.array([r[k] for r in rows], pa.uint64() if k == "seq" else
                                                         pa.int64() if k == "ts" else pa.string()) for k in rows[0]}))
    out["reordered"] = [p for c in verify_data_dir(spine, store=store) for p in c["problems"]]
    store.close()
    print(json.dumps(out))
""")


def test_clickhouse_copy_alterations_removals_and_reorders_are_found(stopped_spine: Path) -> None:
    run = subprocess.run([sys.executable, "-c", CHDB_TAMPER, str(stopped_spine)], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    found = json.loads(run.stdout.strip().splitlines()[-1])
    assert found["before"] == []
    assert any("ben.audit: entry 2" in p and "(altered)" in p for p in found["altered"]), found["altered"]
    assert "ben.audit: entry 2 differs from the local log" in found["altered"]
    assert any("ben.audit: entries 3..3 are missing (removed)" in p for p in found["removed"]), found["removed"]
    new = set(found["reordered"]) - set(found["removed"])
    assert any("ben.audit: entry 1 " in p and "(altered)" in p for p in new), new
    assert any("ben.audit: entry 4 " in p for p in new), new
    # The operator's view: the CLI on the stopped spine's data directory says so, with exit code 1.
    out = ben_process("audit", "verify", "--data-dir", str(stopped_spine), timeout=120)
    assert out.returncode == 1 and "ben.audit: " in out.stdout and "DAMAGED" in out.stdout, out.stdout + out.stderr
    assert "local log: 5 entries" in out.stdout and "intact" in out.stdout.splitlines()[0]
