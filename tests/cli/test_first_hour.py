"""A first hour without traps (ADR 0033): the README's recipe, the demo's ids, --version, verbatim tables,
clear errors for an unwritable data dir, several Clients in one process."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ben.cli.procs import query_rows
from ben.sdk import Client

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def sh(line: str, home: Path, timeout: float = 180) -> subprocess.CompletedProcess:
    env = {**os.environ, "BEN_HOME": str(home), "PATH": f"{BIN}:{os.environ['PATH']}", "COLUMNS": "200"}
    return subprocess.run(["bash", "-c", line], capture_output=True, text=True, timeout=timeout, env=env)


def ben(*args: str, home: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200", **({"BEN_HOME": str(home)} if home else {})}
    return subprocess.run([sys.executable, "-m", "ben", *args], capture_output=True, text=True, timeout=timeout,
                          env=env)


def readme_recipe() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = text.split("<!-- recipe: make-an-incident -->", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.strip()]


@pytest.mark.timeout(300)
def test_the_readme_recipe_makes_an_incident(cluster) -> None:
    lines = readme_recipe()
    assert len(lines) == 3
    outs = [sh(line, cluster.home) for line in lines]
    for line, out in zip(lines, outs):
        assert out.returncode == 0, (line, out.stdout[-2000:], out.stderr[-2000:])
    synth = json.loads(outs[0].stdout.strip().splitlines()[-1])
    assert synth["emitted"] == 390_000 and synth["acked"] == 390_001 and synth["flushed"], synth  # + the alert
    ids = re.findall(r"\binc-[0-9a-f]+", outs[1].stdout)
    assert ids, outs[1].stdout + outs[1].stderr
    assert f"ben explain {ids[0]}" in outs[1].stdout
    explained = " ".join(outs[2].stdout.split())
    assert explained.startswith(ids[0]) and "evidence" in explained, explained
    assert "latency_ms{route=/pay}" in explained, explained


def test_version() -> None:
    from ben import __version__

    out = ben("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"ben {__version__}"


MARKUP = ["closing [/] tag", "[red]not red[/red]", ":x: stays text", "[bold", "a [link=x]y[/link]"]


def test_tables_show_stored_markup_verbatim(module_cluster) -> None:
    cluster = module_cluster
    client = Client("markup[/]", sidecar=cluster.sidecar_addr, flush_interval_ms=20)
    for text in MARKUP:
        client.log(text, attrs={"k": text})
    assert client.flush(timeout=30)
    client.shutdown(timeout=5)
    cluster.wait_drained()
    out = ben("query", "--spine", cluster.spine_addr,
              "SELECT body, subsystem FROM ben.events WHERE kind = 'log' ORDER BY producer_seq")
    assert out.returncode == 0, out.stderr[-2000:]
    for text in MARKUP:
        assert text in out.stdout, (text, out.stdout)
    assert "markup[/]" in out.stdout and "❌" not in out.stdout
    status = ben("status", "--spine", cluster.spine_addr, "--sidecar", cluster.sidecar_addr)
    assert status.returncode == 0, status.stderr[-2000:]


@pytest.mark.parametrize("command", ["spine", "sidecar", "demo"])
def test_an_unwritable_data_dir_is_one_clear_line(home: Path, command: str) -> None:
    (home / "a-file").write_text("")
    bad = home / "a-file" / "data"
    if command == "demo":
        out = ben("demo", "--duration", "1", "--data-dir", str(bad))
    else:
        config = home / "ben.toml"
        config.write_text(f'[{command}]\ndata_dir = "{bad}"\nlisten = "unix://{home / "s.sock"}"\n')
        out = ben(command, "--config", str(config))
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and str(bad) in lines[0], out.stderr
    assert "Traceback" not in out.stderr + out.stdout


def test_several_clients_in_one_process_print_no_tracebacks(module_cluster) -> None:
    cluster = module_cluster
    script = f"""
import gc
from ben.sdk import Client
clients = [Client(f"c{{i}}", sidecar="{cluster.sidecar_addr}") for i in range(3)]
for c in clients:
    c.gauge("m", 1.0)
    assert c.flush(10)
clients[0].shutdown(2)
extra = Client("x", sidecar="{cluster.sidecar_addr}")
extra.gauge("m", 1.0)
assert extra.flush(10)
for c in clients[1:] + [extra]:
    c.shutdown(2)
del clients, extra, c
gc.collect()
print("done")
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "done", out.stderr[-3000:]
    assert "Traceback" not in out.stderr and "Event loop is closed" not in out.stderr, out.stderr[-3000:]
    assert query_rows(cluster.spine_addr, "SELECT count() AS n FROM ben.events WHERE name = 'm'")


def test_follow_says_it_is_waiting(module_cluster) -> None:
    cluster = module_cluster
    import threading

    proc = subprocess.Popen([sys.executable, "-m", "ben", "incidents", "--follow", "--spine", cluster.spine_addr],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(proc.stderr.readline()), daemon=True)
    reader.start()
    try:
        reader.join(60)
        assert got and "waiting for the first one" in got[0], got
        assert proc.poll() is None  # still following
    finally:
        proc.send_signal(2)
        _, err = proc.communicate(timeout=30)
    # Ctrl-C ends it quietly: exit 0 or 130, or death by SIGINT (-2, what a shell also shows as 130)
    assert proc.returncode in (0, 130, -2) and "Traceback" not in err, err[-2000:]


def test_a_wait_that_ends_without_an_incident_is_no_success(module_cluster) -> None:
    """`ben incidents --wait S` that saw no incident printed an empty table and exited 0: the README's
    `ben incidents --wait 120` then `ben explain latest` read as if the first had found one."""
    cluster = module_cluster
    for extra in ((), ("--json",)):
        out = ben("incidents", "--wait", "0.5", "--spine", cluster.spine_addr, *extra)
        assert out.returncode == 1, (out.returncode, out.stdout[-500:], out.stderr[-1000:])
        last = out.stderr.strip().splitlines()[-1]
        assert last.startswith("error: no incident within --wait 0.5 s"), out.stderr
    assert ben("incidents", "--spine", cluster.spine_addr).returncode == 0  # without --wait: a table, as before
