"""``ben spine`` and ``ben sidecar`` as processes: what they load at start."""

from __future__ import annotations

from pathlib import Path

from ben.cli.procs import Cluster, query_rows


def _libraries(pid: int) -> set[str]:
    """The site-packages a process has mapped (its imported extension modules)."""
    maps = Path(f"/proc/{pid}/maps").read_text()
    return {line.split("site-packages/")[1].split("/")[0] for line in maps.splitlines() if "site-packages/" in line}


def test_the_spine_stores_and_answers_without_loading_pandas(home: Path) -> None:
    """pyarrow imported pandas (0.6 s of CPU, ~50 MiB) at the spine's first Arrow array only to ask whether it
    was given a DataFrame: the spine process now never loads it, and still stores what it is sent."""
    from ben.sdk import Client

    cluster = Cluster(home)
    try:
        cluster.start()
        assert "pyarrow" in _libraries(cluster.spine.popen.pid)  # the Arrow path is in use...
        client = Client("serve-test", sidecar=cluster.sidecar_addr)
        client.alert("disk.full", "the store path works without pandas")
        assert client.flush(timeout=60), client.last_error
        client.shutdown()
        cluster.wait_drained()
        rows = query_rows(cluster.spine_addr, "SELECT body FROM ben.events WHERE subsystem = 'serve-test'")
        assert [r["body"] for r in rows] == ["the store path works without pandas"]
        assert "pandas" not in _libraries(cluster.spine.popen.pid)  # ...and pandas was never loaded
    finally:
        cluster.stop()
