"""``docs/deploy.md``'s files (``docs/examples/deploy/``) as an operator installs them: the systemd units pass
``systemd-analyze verify`` and check their configuration before every start; the two configurations, their paths
moved under a temporary directory and their addresses to loopback, pass ``--check`` and run: a spine storing in a
real ClickHouse server and a sidecar shipping to it over mutual TLS, an event of the SDK stored once, queried by the
operator the spine's file names, with her certificate."""

from __future__ import annotations

import grp
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

from ben.cli.procs import Proc, query_rows, wait_for
from ben.core.certs import init_ca, issue

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples" / "deploy"
BEN = Path(sys.executable).parent / "ben"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_unit_files_pass_systemd_analyze_verify_and_check_before_each_start(tmp_path: Path) -> None:
    for unit in ("ben-spine.service", "ben-sidecar.service"):
        text = (EXAMPLES / unit).read_text()
        component = unit.removeprefix("ben-").removesuffix(".service")
        run = re.search(r"^ExecStart=(.*)$", text, re.M).group(1)
        assert run == f"/opt/ben/.venv/bin/ben {component} --config /etc/ben/{component}.toml"
        assert re.search(r"^ExecStartPre=(.*)$", text, re.M).group(1) == run.replace(" --config", " --check --config")
        (tmp_path / unit).write_text(text.replace("/opt/ben/.venv/bin/ben", str(BEN)))  # where ben is, here
        out = subprocess.run(["systemd-analyze", "verify", str(tmp_path / unit)], capture_output=True, text=True,
                             timeout=60)
        assert out.returncode == 0, out.stderr
        said = [line for line in out.stderr.splitlines() if re.search(r"(?i)unknown|ignoring|invalid|fail", line)]
        assert said == [], said


def _moved(name: str, base: Path, values: dict[str, str]) -> Path:
    """An example configuration with its paths under base and the values the test's servers need."""
    text = (EXAMPLES / name).read_text()
    for path, under in (("/etc/ben", "etc"), ("/var/lib/ben", "lib"), ("/run/ben", "run")):
        text = text.replace(path, str(base / under))
    for old, new in values.items():
        assert old in text, old  # the example still says it
        text = text.replace(old, new)
    out = base / "etc" / name
    out.write_text(text)
    out.chmod(0o640)
    return out


def test_the_example_configurations_run_a_spine_and_a_sidecar_over_mutual_tls(home: Path, clickhouse,
                                                                              monkeypatch) -> None:
    etc, certs = home / "etc", home / "etc" / "certs"
    etc.mkdir(mode=0o750)
    init_ca(certs)  # as deploy.md: the spine's server certificate (loopback here), a sidecar's, an operator's
    issue(certs, "spine", server=True)
    for name in ("web-1", "alice"):
        issue(certs, name)
    (etc / "clickhouse.pw").write_text("\n")  # the test server's default user has no password
    (etc / "clickhouse.pw").chmod(0o600)
    port = _free_port()
    spine_config = _moved("spine.toml", home, {
        "0.0.0.0:7070": f"127.0.0.1:{port}", "127.0.0.1:9464": f"127.0.0.1:{_free_port()}",
        'host = "127.0.0.1"\nport = 9000': f'host = "{clickhouse.host}"\nport = {clickhouse.port}',
        'user = "ben"': 'user = "default"'})
    sidecar_config = _moved("sidecar.toml", home, {
        "spine.example:7070": f"127.0.0.1:{port}", 'socket_group = "ben"': f'socket_group = "{grp.getgrgid(os.getgid()).gr_name}"',
        "127.0.0.1:4317": f"127.0.0.1:{_free_port()}", "127.0.0.1:4318": f"127.0.0.1:{_free_port()}"})
    env = {"BEN_HOME": str(home / "lib")}  # as the units set it
    for component, config in (("spine", spine_config), ("sidecar", sidecar_config)):
        check = subprocess.run([str(BEN), component, "--check", "--config", str(config)], capture_output=True,
                               text=True, timeout=120, env={**os.environ, **env})
        assert check.returncode == 0 and "would start" in check.stdout, check.stderr
    for name, value in (("BEN_TLS_CERT", "alice.crt"), ("BEN_TLS_KEY", "alice.key"), ("BEN_TLS_CA", "ca.crt")):
        monkeypatch.setenv(name, str(certs / value))  # the operator the spine's file names, on TCP
    spine = Proc(["spine", "--config", str(spine_config)], home / "logs" / "spine.log", env)
    sidecar = None
    try:
        spine.wait_ready(f"127.0.0.1:{port}", 120)
        sidecar = Proc(["sidecar", "--config", str(sidecar_config)], home / "logs" / "sidecar.log", env)
        socket_address = f"unix://{home / 'run' / 'sidecar.sock'}"
        sidecar.wait_ready(socket_address, 120)
        assert oct((home / "run" / "sidecar.sock").stat().st_mode & 0o777) == oct(0o660)

        from ben.sdk import Client

        client = Client("deploy-check", sidecar=socket_address)
        client.alert("deployed", "from the example configuration")
        assert client.flush(timeout=60), client.last_error
        client.shutdown()
        sql = "SELECT body, count() AS n FROM ben.events WHERE subsystem = 'deploy-check' GROUP BY body"
        rows = wait_for(lambda: query_rows(f"127.0.0.1:{port}", sql), 60, "the event in the ClickHouse server")
        assert [(row["body"], int(row["n"])) for row in rows] == [("from the example configuration", 1)]
    finally:
        for proc in (sidecar, spine):
            if proc is not None:
                proc.stop()
