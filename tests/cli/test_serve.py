"""``ben spine`` and ``ben sidecar`` as processes: what they load at start."""

from __future__ import annotations

import os
import subprocess
import sys
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


def _ben(*args: str, home: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ben", *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "BEN_HOME": str(home), "COLUMNS": "200"}, stdin=subprocess.DEVNULL)


def test_check_says_a_configuration_would_start_and_opens_nothing(tmp_path: Path) -> None:
    """An operator changing a production config wants to know it starts before restarting (``nginx -t``):
    ``ben spine --check`` / ``ben sidecar --check`` run the component's own start-up checks and exit, creating no
    directory, socket or file."""
    home = tmp_path / "home"
    config = tmp_path / "ben.toml"
    config.write_text(f'[spine]\ndata_dir = "{tmp_path / "spine"}"\n[sidecar]\ndata_dir = "{tmp_path / "sc"}"\n')
    config.chmod(0o600)
    for component in ("spine", "sidecar"):
        out = _ben(component, "--check", "--config", str(config), home=home)
        assert out.returncode == 0, out.stderr
        assert f"ben {component}: {config} would start" in out.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ben.toml"]  # no data directory, no socket, no home
    (tmp_path / "spine").mkdir(mode=0o700)  # one that exists is read, not marked as the spine's
    assert _ben("spine", "--check", "--config", str(config), home=home).returncode == 0
    assert list((tmp_path / "spine").iterdir()) == []


def test_check_refuses_what_the_start_refuses_in_one_line_naming_the_field(tmp_path: Path) -> None:
    """Each refusal is the start's own (``Spine.check`` / ``Sidecar.check`` run first at every start): one line
    naming the field, exit non-zero, nothing created. The sidecar's OTLP token was read only once the sidecar had
    opened its WAL and bound its socket; it is now refused before anything opens."""
    key = tmp_path / "junk.pem"
    key.write_text("not a certificate")
    key.chmod(0o600)
    theirs = tmp_path / "sidecar-data"  # a sidecar's data directory given to a spine
    theirs.mkdir(mode=0o700)
    (theirs / "ben-data-dir.json").write_text('{"component": "sidecar", "layout": 1}\n')
    cases = [
        ("spine", '[spine.control]\ntrust = "missing-trust.toml"\n', "spine.control.trust", "not found"),
        ("spine", f'[spine]\ndata_dir = "{theirs}"\n', "spine.data_dir", "is a sidecar's data directory"),
        ("spine", '[spine]\nlisten = "0.0.0.0:7070"\n', "spine.listen", "is TCP"),
        ("spine", '[spine.store]\nbackend = "clickhouse"\npassword_env = "BEN_NO_SUCH_PASSWORD_VARIABLE"\n',
         "spine.store.password_env", "not set"),
        ("sidecar", '[sidecar.otlp]\nauth_token_file = "missing-token"\n', "sidecar.otlp.auth_token_file",
         "token file"),
        ("sidecar", f'[sidecar]\nlisten = "127.0.0.1:17999"\n[sidecar.tls]\ncert = "{key}"\nkey = "{key}"\n'
                    f'ca = "{key}"\n', "sidecar.tls.cert", "not a PEM certificate"),
    ]
    configs = []
    for i, (component, text, _, _) in enumerate(cases):
        config = tmp_path / f"c{i}" / "ben.toml"
        config.parent.mkdir()
        config.parent.chmod(0o700)
        config.write_text(text)
        config.chmod(0o600)
        configs.append(config)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(len(cases)) as pool:  # each run is mostly the interpreter's start
        outs = list(pool.map(lambda case: _ben(case[0][0], "--check", "--config", str(case[1]), home=tmp_path / "home"),
                             zip(cases, configs)))
    for (component, text, field, words), config, out in zip(cases, configs, outs):
        assert out.returncode != 0, (text, out.stdout)
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1 and field in lines[0] and words in lines[0], (text, out.stderr)
        assert "Traceback" not in out.stderr
        assert sorted(p.name for p in config.parent.iterdir()) == ["ben.toml"], text
