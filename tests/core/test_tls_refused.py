"""A TLS handshake that fails is said as such, not "nothing answers (is it running?)": the README issues the spine's
certificate ``--host spine.example``, and a newcomer who dialled it as ``127.0.0.1`` (or with another CA's material,
or a spine on plain TCP) was told to start a spine that was running. Real TLS servers on real sockets; the ``ben``
command in a process of its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent import futures
from pathlib import Path

import grpc
import pytest

from ben.core.certs import init_ca, issue

ROOT = Path(__file__).resolve().parents[2]


def _certs(directory: Path) -> Path:
    directory.mkdir(mode=0o700)
    init_ca(directory)
    issue(directory, "spine", server=True, hosts=("spine.example",))
    issue(directory, "alice")
    return directory


@pytest.fixture
def servers(tmp_path):
    """A mutual-TLS server whose certificate names only spine.example, and a plain one; both on loopback."""
    ours = _certs(tmp_path / "ours")
    tls = grpc.server(futures.ThreadPoolExecutor(2))
    creds = grpc.ssl_server_credentials([((ours / "spine.key").read_bytes(), (ours / "spine.crt").read_bytes())],
                                        root_certificates=(ours / "ca.crt").read_bytes(), require_client_auth=True)
    tls_port = tls.add_secure_port("127.0.0.1:0", creds)
    plain = grpc.server(futures.ThreadPoolExecutor(2))
    plain_port = plain.add_insecure_port("127.0.0.1:0")
    tls.start()
    plain.start()
    try:
        yield ours, _certs(tmp_path / "theirs"), f"127.0.0.1:{tls_port}", f"127.0.0.1:{plain_port}"
    finally:
        tls.stop(None)
        plain.stop(None)


def _run(certs: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "BEN_TLS_CERT": str(certs / "alice.crt"),
           "BEN_TLS_KEY": str(certs / "alice.key"), "BEN_TLS_CA": str(certs / "ca.crt")}
    return subprocess.run([sys.executable, "-m", "ben", *args], env=env, capture_output=True, text=True, timeout=120)


def _ben(certs: Path, *args: str) -> tuple[int, list[str]]:
    done = _run(certs, *args)
    return done.returncode, [line for line in done.stderr.splitlines() if line.startswith("error:")]


@pytest.mark.parametrize("command", [["query", "SELECT 1", "--spine"], ["command", "list", "--spine"]])
def test_a_certificate_for_another_name_is_said_not_nothing_answers(servers, command) -> None:
    ours, _, tls_address, _ = servers
    code, err = _ben(ours, *command, tls_address)
    assert code == 2 and len(err) == 1, err
    assert "nothing answers" not in err[0] and "does not name '127.0.0.1'" in err[0], err
    assert "--host 127.0.0.1" in err[0], err


def test_ben_status_says_it_too(servers, tmp_path) -> None:
    ours, _, tls_address, _ = servers
    done = _run(ours, "status", "--json", "--spine", tls_address, "--sidecar", f"unix://{tmp_path}/none.sock")
    assert done.returncode == 1, done.stderr
    said = json.loads(done.stdout)["spine"]["error"]
    assert "nothing answers" not in said and "does not name '127.0.0.1'" in said, said


def test_another_ca_and_a_plain_listener_are_said(servers) -> None:
    ours, theirs, tls_address, plain_address = servers
    code, err = _ben(theirs, "query", "SELECT 1", "--spine", tls_address)
    assert code == 2 and len(err) == 1 and "nothing answers" not in err[0] and "BEN_TLS_CA" in err[0], err
    code, err = _ben(ours, "query", "SELECT 1", "--spine", plain_address)
    assert code == 2 and len(err) == 1 and "without TLS" in err[0], err


def test_nothing_listening_is_still_nothing_answers(servers, tmp_path) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code, err = _ben(servers[0], "query", "SELECT 1", "--spine", f"127.0.0.1:{port}")
    assert code == 2 and len(err) == 1 and "nothing answers" in err[0], err


def _mixed(ours: Path, theirs: Path, *args: str) -> tuple[int, list[str]]:
    """``ben`` trusting the listener's CA (``ours``) with a client certificate another CA (``theirs``) issued."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "BEN_TLS_CERT": str(theirs / "alice.crt"),
           "BEN_TLS_KEY": str(theirs / "alice.key"), "BEN_TLS_CA": str(ours / "ca.crt")}
    done = subprocess.run([sys.executable, "-m", "ben", *args], env=env, capture_output=True, text=True, timeout=120)
    return done.returncode, [line for line in done.stderr.splitlines() if line.startswith("error:")]


@pytest.mark.parametrize("command", [["query", "SELECT 1", "--spine"], ["command", "list", "--spine"]])
def test_a_client_certificate_the_listener_refuses_is_said_not_nothing_answers(tmp_path, command) -> None:
    """gRPC's client hears only "Socket closed" when the listener refuses its certificate (TLS 1.3 judges it after the
    client's handshake is done): the command said "nothing answers (is it running?)" of a running spine."""
    ours, theirs = _certs(tmp_path / "ours"), _certs(tmp_path / "theirs")
    issue(ours, "local", server=True, hosts=("127.0.0.1",))
    server = grpc.server(futures.ThreadPoolExecutor(2))
    creds = grpc.ssl_server_credentials([((ours / "local.key").read_bytes(), (ours / "local.crt").read_bytes())],
                                        root_certificates=(ours / "ca.crt").read_bytes(), require_client_auth=True)
    port = server.add_secure_port("127.0.0.1:0", creds)
    server.start()
    try:
        code, err = _mixed(ours, theirs, *command, f"127.0.0.1:{port}")
        assert code == 2 and len(err) == 1, err
        assert "nothing answers" not in err[0] and "closed the connection once it saw this end's certificate" in err[0]
        assert "$BEN_TLS_CERT" in err[0] and "start the spine" not in err[0], err
        code, err = _ben(ours, *command, f"127.0.0.1:{port}")  # its own CA's certificate: the call goes through
        assert not any("certificate" in line for line in err), err
    finally:
        server.stop(None)
