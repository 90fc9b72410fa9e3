"""``ben query`` says what happened to a query (ADR 0032): the spine's limits and refusals by name,
"start the spine" only when nothing answers, Ctrl-C cancels the query at the spine."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from ben.cli.procs import Cluster, wait_for
from tests.cli.test_cli import ben


def test_query_errors_say_what_happened(home: Path) -> None:
    cluster = Cluster(home, store={"query_timeout_s": 1.0, "query_max_result_bytes": 1 << 20})
    cluster.start_spine()
    try:
        address = cluster.spine_addr
        cases = [
            ("SELECT count() FROM numbers(1e13)", "error: query cancelled after 1 s: max_execution_time"),
            ("SELECT * FROM numbers(1e7)", "error: result over 1 MiB: max_result_bytes"),
            ("SELECT * FROM file('/etc/passwd', 'CSV')", "error: refused by the query sandbox: table function file()"),
            ("SELECT 1 INTO OUTFILE '/tmp/ben-never'", "error: refused by the query sandbox: INTO OUTFILE"),
        ]
        for sql, message in cases:
            out = ben("query", "--spine", address, sql)
            assert out.returncode == 2 and out.stderr.startswith(message), out.stderr
            assert "start the spine" not in out.stderr
    finally:
        cluster.stop()


def test_ctrl_c_cancels_the_query_at_the_spine(home: Path) -> None:
    cluster = Cluster(home)
    cluster.start_spine()
    address = cluster.spine_addr
    try:
        proc = subprocess.Popen([sys.executable, "-m", "ben", "query", "--spine", address,
                                 "SELECT sum(sleepEachRow(0.00003)) FROM numbers(1e9)"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_for(lambda: cluster.status("spine").get("queries_running", 0) == 1, 30, "the query to run")
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=90)  # a bound on the failure (it exits at once)
        assert proc.returncode == 130 and "interrupted" in err, err
        wait_for(lambda: cluster.status("spine").get("queries_cancelled_total", 0) == 1, 10, "the spine to cancel it")
        started = time.monotonic()
        assert ben("query", "--spine", address, "SELECT 1").returncode == 0  # not queued behind it
        assert time.monotonic() - started < 15.0
    finally:
        cluster.stop()


def test_offline_query_is_sandboxed_too(tmp_path: Path) -> None:
    from ben.store import ChdbStore

    ChdbStore(tmp_path / "chdb").close()
    out = ben("query", "--data-dir", str(tmp_path / "chdb"), "SELECT file('/etc/passwd') AS p")
    assert out.returncode == 2 and "refused by the query sandbox: function file()" in out.stderr, out.stderr
