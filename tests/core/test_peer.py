"""The kernel names the uid behind a loopback connection (ben.core.peer): netlink, and /proc as fallback."""

from __future__ import annotations

import os
import socket
import subprocess

import pytest

from ben.core import peer

NOBODY = 65534


@pytest.fixture
def server():
    with socket.socket(socket.AF_INET6) as srv:  # dual-stack: IPv4 clients arrive as ::ffff:127.0.0.1
        srv.bind(("::", 0))
        srv.listen()
        yield srv


def _from_nobody(port: int, host: str) -> subprocess.Popen:
    code = (f"import socket, sys; s = socket.create_connection(({host!r}, {port})); print('up', flush=True); "
            "sys.stdin.read()")
    proc = subprocess.Popen(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                             "/usr/bin/python3", "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "up"
    return proc


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
@pytest.mark.parametrize("netlink", [True, False])
def test_the_uid_of_the_client_socket(server, monkeypatch, host: str, netlink: bool) -> None:
    if not netlink:
        monkeypatch.setattr(peer, "_diag", lambda *a: (_ for _ in ()).throw(OSError("no netlink")))
    port = server.getsockname()[1]
    with socket.create_connection((host, port)) as mine:
        conn, addr = server.accept()
        with conn:
            assert peer.peer_uid(addr[:2], conn.getsockname()[:2]) == os.geteuid()
        assert mine
    proc = _from_nobody(port, host)
    try:
        conn, addr = server.accept()
        with conn:
            assert peer.peer_uid(addr[:2], conn.getsockname()[:2]) == NOBODY
    finally:
        proc.communicate("")
    assert peer.peer_uid((host, 1), (host, port)) is None  # no such connection


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
@pytest.mark.parametrize("netlink", [True, False])
def test_a_client_that_closed_its_end_is_no_one_not_root(server, monkeypatch, host: str, netlink: bool) -> None:
    """Round 8: another account connects, sends, closes at once; its end is then an orphan, soon a TIME_WAIT
    entry, which netlink and /proc list with uid 0. It was named root (served as root by the web interface of
    a spine running as root, charged to root's OTLP shares); an end no open socket holds is now no one."""
    if not netlink:
        monkeypatch.setattr(peer, "_diag", lambda *a: (_ for _ in ()).throw(OSError("no netlink")))
    port = server.getsockname()[1]
    code = (f"import socket; s = socket.create_connection(({host!r}, {port})); s.sendall(b'GET / HTTP/1.1\\r\\n\\r\\n');"
            " print(s.getsockname()[1], flush=True); s.close()")
    out = subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "/usr/bin/python3",
                          "-c", code], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    conn, addr = server.accept()
    with conn:
        assert conn.recv(100).startswith(b"GET /")  # the request is here, its sender gone
        assert peer.peer_uid(addr[:2], conn.getsockname()[:2]) is None
