"""Round 14 of a new user giving bad input on purpose (ADR 0033): Ctrl-C at every stage ends every command the same
way, and what the thirteen rounds before had not tried. Real ``ben`` processes."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from ben.cli.procs import Cluster, wait_for
from tests.cli.test_bad_input import ben as ben_process
from tests.cli.test_bad_input import one_clear_line


def stopped_by(sig: int, home: Path, name: str, ready: str, *args: str, env: dict | None = None,
               ) -> subprocess.CompletedProcess:
    """``ben ARGS`` started as from a terminal (a process group of its own), sent ``sig`` to its group once
    ``ready`` is in what it printed (as a terminal's Ctrl-C reaches every process of the foreground group)."""
    out, err = home / f"{name}.out", home / f"{name}.err"
    with open(out, "wb") as stdout, open(err, "wb") as stderr:  # files: no pipe to fill while it runs
        proc = subprocess.Popen([sys.executable, "-m", "ben", *args], stdout=stdout, stderr=stderr,
                                stdin=subprocess.DEVNULL, start_new_session=True,
                                env={**os.environ, "BEN_HOME": str(home), **(env or {})})
    try:
        wait_for(lambda: proc.poll() is not None or ready in out.read_text() + err.read_text(), 120,
                 f"ben {' '.join(args)} to say {ready!r}")
        assert proc.poll() is None, err.read_text()[-2000:]
        os.killpg(proc.pid, sig)
        proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return subprocess.CompletedProcess(proc.args, proc.returncode, out.read_text(), err.read_text())


def interrupted(out: subprocess.CompletedProcess) -> None:
    """Ctrl-C's end: 130, "ben: interrupted" the last line, no traceback."""
    assert "Traceback" not in out.stdout + out.stderr, out.stderr[-3000:]
    assert out.returncode == 130, (out.args, out.returncode, out.stderr[-2000:])
    assert out.stderr.strip().splitlines()[-1] == "ben: interrupted", (out.args, out.stderr[-2000:])


def test_ctrl_c_ends_every_long_running_command_with_130_once_it_stopped_cleanly(home: Path) -> None:
    """Ctrl-C of ``ben synth``, ``ben incidents --follow``, ``ben sidecar`` and ``ben spine`` exited 0, of ``ben web``
    130, of every other command 130: a script (``ben synth && next``) went on as if the run had ended as asked. Each
    now stops as cleanly as before (synth flushes and prints its summary, a server drains), then ends as interrupted:
    "ben: interrupted", 130. SIGTERM (a service manager's stop) is a clean stop, 0, for the servers and ``ben web``
    alike (``ben web`` died of it, -15, where the spine and sidecar exited 0)."""
    cluster = Cluster(home / "c")
    try:
        cluster.start()
        synth = stopped_by(signal.SIGINT, home, "synth", "Ctrl-C stops", "synth", "--rate", "200",
                           "--sidecar", cluster.sidecar_addr)
        interrupted(synth)
        summary = json.loads(synth.stdout.strip().splitlines()[-1])
        assert summary["flushed"] is True and summary["acked"] == summary["emitted"] > 0, synth.stdout
        interrupted(stopped_by(signal.SIGINT, home, "follow", "following", "incidents", "--follow",
                               "--spine", cluster.spine_addr))
        for sig, code in ((signal.SIGINT, 130), (signal.SIGTERM, 0)):
            web = stopped_by(sig, home, f"web-{sig}", "serving", "web", "--port", "0", "--spine", cluster.spine_addr)
            if code:
                interrupted(web)
            else:
                assert web.returncode == 0 and "Traceback" not in web.stderr, (web.returncode, web.stderr[-2000:])
    finally:
        cluster.stop()
    config = home / "ben.toml"  # a sidecar and a spine of their own, as the README starts them
    config.write_text(f'[sidecar]\ndata_dir = "{home}/sc"\nlisten = "unix://{home}/sc.sock"\n'
                      '[sidecar.otlp]\ngrpc_listen = ""\nhttp_listen = ""\n'
                      f'[spine]\ndata_dir = "{home}/sp"\nlisten = "unix://{home}/sp.sock"\n')
    for sig, code in ((signal.SIGINT, 130), (signal.SIGTERM, 0)):
        sidecar = stopped_by(sig, home, f"sidecar-{sig}", "sidecar: ready", "sidecar", "-c", str(config))
        assert "sidecar: stopped" in sidecar.stderr, sidecar.stderr[-2000:]
        if code:
            interrupted(sidecar)
        else:
            assert sidecar.returncode == 0 and "Traceback" not in sidecar.stderr, sidecar.stderr[-2000:]
    spine = stopped_by(signal.SIGINT, home, "spine", "spine: ready", "spine", "-c", str(config))
    assert "spine: stopped" in spine.stderr, spine.stderr[-2000:]
    interrupted(spine)


def test_a_time_zone_or_temporary_directory_chdb_cannot_use_is_named(home: Path) -> None:
    """``TZ=Nowhere/Nope`` (a zone the system has not got) made every command that opens chDB (``ben spine``, ``ben
    demo``, ``ben query --data-dir``) say "cannot open chDB at …: a damaged store, or not a chDB store (chdb-core
    engine not found. Install it with: pip install chdb-core)": a store that was fine, and a package that was
    installed; the reason was in the exception's context. A ``TMPDIR`` chDB cannot write (a read-only mount; ``/proc``
    here) was "a damaged store" too, followed by ClickHouse's stack trace of some 30 lines. Each names the variable."""
    store = home / "stopped"
    (store / "metadata").mkdir(parents=True)  # what `--data-dir` looks for before it opens the store
    out = ben_process("query", "--data-dir", str(store), "SELECT 1", env={"BEN_HOME": str(home), "TZ": "Nowhere/Nope"})
    line = one_clear_line(out, 2, "$TZ", "'Nowhere/Nope'", "no time zone")
    assert "damaged" not in line and "pip install" not in line, line
    for args in (("query", "--data-dir", str(store), "SELECT 1"), ("spine",)):
        out = ben_process(*args, env={"BEN_HOME": str(home), "TMPDIR": "/proc"})
        line = one_clear_line(out, 2, "$TMPDIR", "/proc/clickhouse-embedded-", "cannot make its temporary directory")
        # nothing but the error and ben's own log lines (a start slow enough says its detection kernels' warm-up)
        others = [x for x in out.stderr.strip().splitlines()[:-1] if not re.match(r"\d{4}-\d\d-\d\d [\d:,]+ \w+ ben\.", x)]
        assert not others and "damaged" not in line, out.stderr[-3000:]


def test_a_file_the_demo_cannot_write_is_named(home: Path) -> None:
    """``ben demo --data-dir`` on a full disk said "error:: No space left on device": the write of its config fails
    when the file is closed, where Python names no file, and the line had nothing between its two colons. A file
    size limit (``ulimit -f 0``: the same failure at the same place, without a full disk) stands for it here."""
    import resource

    def no_room() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))  # writes fail with EFBIG (Python ignores SIGXFSZ)

    data = home / "demo"
    out = subprocess.run([sys.executable, "-m", "ben", "demo", "--duration", "1", "--no-web", "--data-dir", str(data)],
                         capture_output=True, text=True, timeout=120, preexec_fn=no_room, stdin=subprocess.DEVNULL,
                         env={**os.environ, "BEN_HOME": str(home)})
    line = one_clear_line(out, 2, str(data / "ben.toml"), "File too large")
    assert "error::" not in line and not (data / "spine").exists(), out.stderr[-2000:]


def test_a_web_host_that_is_no_ip_address_names_the_flag(home: Path) -> None:
    """``ben web --host 999.1.1.1`` (an address mistyped) said "field 'web.token_env': web.listen_host = '999.1.1.1' is
    not loopback: set web.token_env or web.token_file …": a config key the user had not written, and a token asked
    for an address that is none. One line naming ``--host``."""
    for host in ("999.1.1.1", "127.0.0.1.5"):
        out = ben_process("web", "--host", host, "--port", "0", env={"BEN_HOME": str(home)})
        line = one_clear_line(out, 2, "--host", f"'{host}' is no IPv4 address")
        assert "token" not in line, line
    config = home / "web.toml"  # the same address in a config file: its key, not a token it never set
    config.write_text('[web]\nlisten_host = "999.1.1.1"\n')
    config.chmod(0o600)
    out = ben_process("web", "--config", str(config), env={"BEN_HOME": str(home)})
    line = one_clear_line(out, 2, "web.listen_host", "'999.1.1.1' is no IPv4 address")
    assert "token" not in line, line


def test_a_second_ctrl_c_of_a_server_is_an_interruption_too(make_cluster) -> None:
    """A sidecar draining its WAL to a spine that is gone, stopped by a second Ctrl-C, exited 1, where a second Ctrl-C
    of ``ben synth`` or ``ben demo`` exits 130. It exits 130 now when Ctrl-C was either signal (a second SIGTERM still
    exits 1, ``tests/core/test_service.py``), and the acknowledged events are all there at the next start."""
    import time

    from ben.core.service import REPEAT_WINDOW_S
    from tests.core.test_service import emit_acked
    from tests.helpers import assert_exactly_once

    cluster = make_cluster(sidecar={"shutdown_timeout_ms": 60_000})
    cluster.start()
    cluster.spine.stop()
    client = emit_acked(cluster, 2_000)
    side = cluster.sidecar
    first = time.monotonic()
    side.signal(signal.SIGINT)  # it now waits up to 60 s for the spine to take the WAL
    wait_for(lambda: "shutting down" in side.tail(), 60, "the sidecar to start shutting down")
    wait_for(lambda: time.monotonic() - first > REPEAT_WINDOW_S + 0.2, 5, "the repeat window to pass")
    side.signal(signal.SIGINT)
    assert side.popen.wait(timeout=30) == 130 and "second signal" in side.tail(), side.tail()
    cluster.start_sidecar()
    cluster.start_spine()
    cluster.wait_drained()
    assert_exactly_once(cluster.spine_addr, client.producer_id, 2_000)
