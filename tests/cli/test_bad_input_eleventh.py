"""Round 11 of a new user giving bad input on purpose (ADR 0033). In-process (``ben.cli.main``): no peer is
reached."""

from __future__ import annotations

import contextlib
import json
import sys
import time
from pathlib import Path

import pytest

import ben.core.certs as certs
from tests.cli.test_bad_input_in_process import ben


def _pair(directory: Path, name: str) -> tuple[bytes, bytes]:
    """The public key of ``name``'s certificate and of its key (equal for a pair)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    pem = serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    cert = x509.load_pem_x509_certificate((directory / f"{name}.crt").read_bytes())
    key = serialization.load_pem_private_key((directory / f"{name}.key").read_bytes(), password=None)
    return cert.public_key().public_bytes(*pem), key.public_key().public_bytes(*pem)


@pytest.mark.parametrize("name, init", [("alice", False), ("ca", True)])
def test_a_certificate_there_without_its_key_gets_no_key_that_is_not_its_own(monkeypatch, capsys, home: Path,
                                                                            name: str, init: bool) -> None:
    """``ben certs issue alice`` where ``alice.crt`` is and ``alice.key`` is not (removed, or a run stopped between
    the two): the key was written, then "alice.crt exists (--force overwrites it)", exit 2: a key beside a
    certificate of another key, which every handshake then refused. ``ben certs init`` the same with ca.crt.
    Both are checked before either is written now: nothing is written."""
    d = home / "certs"
    assert ben(monkeypatch, capsys, home, "certs", "init", "--dir", str(d))[0] == 0
    assert ben(monkeypatch, capsys, home, "certs", "issue", "alice", "--dir", str(d))[0] == 0
    (d / f"{name}.key").unlink()
    args = ("certs", "init") if init else ("certs", "issue", name)
    code, _, err = ben(monkeypatch, capsys, home, *args, "--dir", str(d))
    assert code == 2 and err == [f"error: field '--dir': {d / name}.crt exists (--force overwrites it; nothing was "
                                 "written)"], err
    assert not (d / f"{name}.key").exists()
    assert ben(monkeypatch, capsys, home, *args, "--dir", str(d), "--force")[0] == 0
    cert_key, key_key = _pair(d, name)
    assert cert_key == key_key


def test_a_ctrl_c_between_the_key_and_its_certificate_leaves_neither(monkeypatch, capsys, home: Path) -> None:
    """Ctrl-C (or a full disk) after ``alice.key`` was written and before ``alice.crt``: the key stayed, and the
    run again said "alice.key exists (--force overwrites it)" of a key without a certificate. The key this run
    made is removed now: the run again issues the pair."""
    d = home / "certs"
    assert ben(monkeypatch, capsys, home, "certs", "init", "--dir", str(d))[0] == 0
    real = certs.write_atomic

    def interrupted(path, data, mode):
        if str(path).endswith("alice.crt"):
            raise KeyboardInterrupt
        return real(path, data, mode)

    monkeypatch.setattr(certs, "write_atomic", interrupted)
    code, _, err = ben(monkeypatch, capsys, home, "certs", "issue", "alice", "--dir", str(d))
    assert code == 130 and err == ["ben: interrupted"], err
    assert not (d / "alice.key").exists() and not (d / "alice.crt").exists()
    monkeypatch.setattr(certs, "write_atomic", real)
    assert ben(monkeypatch, capsys, home, "certs", "issue", "alice", "--dir", str(d))[0] == 0
    cert_key, key_key = _pair(d, "alice")
    assert cert_key == key_key


def test_a_reconnect_wait_whose_start_is_above_its_cap_is_refused(monkeypatch, capsys, home: Path) -> None:
    """``reconnect_min_ms = 60000`` with ``reconnect_max_ms = 10`` (in ``[sidecar]`` or ``Client()``) was taken:
    the first wait was a minute, the next ones anywhere between 10 ms and a minute. Refused naming both."""
    from ben.core.errors import ConfigError
    from ben.sdk import Client

    config = home / "ben.toml"
    config.write_text("[sidecar]\nreconnect_min_ms = 60000\nreconnect_max_ms = 10\n")
    code, _, err = ben(monkeypatch, capsys, home, "sidecar", "--config", str(config))
    assert code == 2 and err == [f"error: in {config}, field 'sidecar': reconnect_min_ms = 60000 is above "
                                 "reconnect_max_ms = 10: the wait before a reconnect starts at the first and doubles "
                                 "up to the second"], err
    with pytest.raises(ConfigError) as refused:
        Client("api", sidecar=f"unix://{home}/absent.sock", reconnect_min_ms=60_000, reconnect_max_ms=10)
    assert refused.value.field == "reconnect_min_ms" and "above reconnect_max_ms = 10" in str(refused.value)


def test_an_async_handler_or_one_of_the_wrong_arity_is_refused_not_reported_as_run(home: Path) -> None:
    """``client.on_command("throttle_job", throttle)`` with ``async def throttle(cmd)`` (what an asyncio
    application writes) was taken; at each command the handler made a coroutine nobody awaited and the signed
    receipt said **ran, ok** (``{"value": "<coroutine object …>"}``): a command reported done that never ran.
    A handler taking no argument was taken too, and failed at the first command. Both are refused at
    ``on_command``; one that still returns an awaitable (a plain function returning a coroutine) is a failed
    receipt saying it did not run."""
    import asyncio

    from ben.core.errors import ConfigError
    from ben.sdk import Client
    from ben.sdk.commands import CommandChannel
    from ben.v1 import control_pb2 as pb

    async def throttle(cmd):
        return {"limited": cmd.params.job}

    client = Client("api", sidecar=f"unix://{home}/absent.sock")
    try:
        for handler, words in ((throttle, "an async def"), (lambda: {}, "must take one argument, the command")):
            with pytest.raises(ConfigError) as refused:
                client.on_command("throttle_job", handler)
            assert refused.value.field == "handler" and words in str(refused.value), refused.value
        client.on_command("ping", lambda cmd, extra=1: {"pong": extra})  # a default argument is fine
    finally:
        client.shutdown(timeout=1)
    loop = asyncio.new_event_loop()
    try:
        channel = CommandChannel(loop, "unix:///absent.sock", "api", "i", (50, 100))
        channel.handlers["ping"] = lambda cmd: throttle(cmd)
        result = channel._run_one(pb.CommandToRun(command_id="cmd-1", action="ping", params_json="{}"))
    finally:
        loop.close()
    assert not result.ok and "did not run" in result.error and channel.ran == 0, result


@pytest.fixture
def foreign_ports():
    """A gRPC server with none of ben's services (what the OTLP/gRPC port is to ben's calls) and an HTTP/1 server
    (the OTLP/HTTP port), on loopback: their addresses."""
    import http.server
    import threading
    from concurrent import futures

    import grpc

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    grpc_port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    class Quiet(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # not on the stderr the test reads
            pass

    web = http.server.HTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=web.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{grpc_port}", f"127.0.0.1:{web.server_address[1]}"
    finally:
        web.shutdown()
        web.server_close()
        server.stop(None)


@pytest.mark.timeout(90)  # emit waited its whole --timeout (120 s) before it said anything, synth for ever
def test_an_otlp_port_given_as_a_ben_address_is_said_to_be_no_ben_component(monkeypatch, capsys, home: Path,
                                                                           foreign_ports) -> None:
    """The README gives the sidecar's OTLP ports (4317, 4318) beside its own socket: ``ben emit --sidecar
    127.0.0.1:4317`` waited the whole --timeout, then "UNIMPLEMENTED: Method not found!"; ``ben synth --fast`` to it
    blocked for ever on its full buffer, without a word; ``ben status --spine 127.0.0.1:4318`` said "nothing
    answers at 127.0.0.1:4318 (is it running?)" of a port that answers. Each now says what answered there and
    where ben's components answer; emit and synth before they send anything."""
    from ben.sdk import Client

    grpc_addr, http_addr = foreign_ports
    for addr, what in ((grpc_addr, "is a gRPC server that serves none of ben's calls"),
                       (http_addr, "is an HTTP/1 server")):
        code, _, err = ben(monkeypatch, capsys, home, "query", "SELECT 1", "--spine", addr)
        assert code == 2 and len(err) == 1 and err[0].startswith(f"error: {addr} {what}"), err
        assert "not a ben spine or sidecar" in err[0], err
        code, _, err = ben(monkeypatch, capsys, home, "command", "list", "--spine", addr)
        assert code == 2 and len(err) == 1 and err[0].startswith(f"error: {addr} {what}"), err
    foreign = (f"{grpc_addr} is a gRPC server that serves none of ben's calls (an OTLP/gRPC port such as 4317? another "
               "program? an older ben?), not a ben spine or sidecar: ben's components answer at their listen address "
               "(by default unix://$BEN_HOME/spine.sock and unix://$BEN_HOME/sidecar.sock)")
    code, _, err = ben(monkeypatch, capsys, home, "emit", "deploy", "--sidecar", grpc_addr, "--timeout", "120")
    assert code == 2 and err == [f"error: --sidecar: {foreign}"], err
    # --fast blocked on its full buffer for ever (390,000 events, a buffer of 100,000), without a word
    code, _, err = ben(monkeypatch, capsys, home, "synth", "--fast", "--rate", "100", "--duration", "3900",
                       "--sidecar", grpc_addr)
    assert code == 2 and err == [f"error: --sidecar: {foreign}"], err
    client = Client("api", sidecar=grpc_addr)  # the SDK: its flush warning and last_error say the same
    try:
        assert client.gauge("g", 1.0) is not None and not client.flush(timeout=2)
        # a write racing the server's end of the stream breaks it with INTERNAL only: the SDK reconnects, and once it
        # has seen what answers there it keeps saying so
        deadline = time.monotonic() + 30
        while client.last_error != foreign and time.monotonic() < deadline:
            client.flush(timeout=0.5)
        assert client.last_error == foreign, client.last_error
    finally:
        client.shutdown(timeout=0.1)


@contextlib.contextmanager
def _holding(path: Path, posix: bool = False):
    """A process of its own holding a lock on ``path`` (flock, or a POSIX lock as RocksDB's): its pid, while held."""
    import subprocess

    take = "fcntl.lockf(fd, fcntl.LOCK_EX)" if posix else "fcntl.flock(fd, fcntl.LOCK_EX)"
    with subprocess.Popen([sys.executable, "-c", "import fcntl, os, sys, time; fd = os.open(sys.argv[1], os.O_RDWR "
                           f"| os.O_CREAT); {take}; print('held', flush=True); time.sleep(120)", str(path)],
                          stdout=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout.readline().strip() == "held"
            yield proc.pid
        finally:
            proc.kill()


def test_a_store_or_wal_in_use_names_the_process_that_holds_it(monkeypatch, capsys, home: Path) -> None:
    """Two ``ben query --data-dir DIR`` at once: the second said "in use by another process (is a spine running on
    it? …)" when no spine was; a WAL in use said "is another ben component running on the same data_dir?" of
    whatever held it. Each now names the process (pid and command line; a chDB store process by the process
    that started it)."""
    from ben.core.errors import WalError
    from ben.core.wal import Wal
    from ben.store.chdb import ChdbStore

    ChdbStore(home / "store").close()
    with _holding(home / "store" / "status") as pid:
        code, _, err = ben(monkeypatch, capsys, home, "query", "SELECT 1", "--data-dir", str(home / "store"))
    assert code == 2 and len(err) == 1 and f"is in use by another process (pid {pid}: -c import fcntl" in err[0], err
    Wal(home / "wal").close()
    with _holding(home / "wal" / "LOCK", posix=True) as pid, pytest.raises(WalError) as refused:
        Wal(home / "wal")
    assert f"is in use by another process (pid {pid}: -c import fcntl" in str(refused.value), refused.value


def test_tls_clients_without_tls_are_refused_not_taken_as_a_restriction(home: Path) -> None:
    """``[web] tls_clients = ["alice"]`` (or ``[sidecar] tls_clients``) without TLS was taken in silence: served
    as before, the names restricting nothing, to a reader who believed only alice could connect. Refused now,
    naming the field."""
    import asyncio

    from ben.core.config import SidecarConfig
    from ben.core.config_sections import WebConfig
    from ben.core.errors import ConfigError
    from ben.sidecar import Sidecar
    from ben.web.auth import check_tls

    with pytest.raises(ConfigError) as refused:
        check_tls(WebConfig(tls_clients=["alice"]))
    assert refused.value.field == "web.tls_clients" and "[web.tls] is not set" in str(refused.value)
    assert check_tls(WebConfig()) is False
    cfg = SidecarConfig(data_dir=home / "sc", listen=f"unix://{home}/sc.sock", spine=f"unix://{home}/spine.sock",
                        tls_clients=["alice"], otlp={"grpc_listen": "", "http_listen": ""})
    with pytest.raises(ConfigError) as refused:
        asyncio.run(Sidecar(cfg).start())
    assert refused.value.field == "sidecar.tls_clients" and "is a unix socket" in str(refused.value)
    assert not (home / "sc").exists()


def test_ben_sidecar_socket_written_as_an_address_is_read_as_one_or_refused(monkeypatch, capsys, home: Path) -> None:
    """``$BEN_SIDECAR_SOCKET`` takes a path: ``unix:///run/ben/sidecar.sock`` (what ``--sidecar`` takes) was the
    relative path ``unix:/run/…`` under the current directory, and ``127.0.0.1:7777`` a socket file of that name
    made in the current directory, where ``ben sidecar`` listened and said "ready". The first is the path it
    names; the second is refused naming the variable (a TCP sidecar is given as --sidecar or Client(sidecar=))."""
    from ben.core.address import default_sidecar_address
    from ben.core.errors import ConfigError

    monkeypatch.chdir(home)
    monkeypatch.setenv("BEN_SIDECAR_SOCKET", f"unix://{home}/sc.sock")
    assert default_sidecar_address() == f"unix://{home}/sc.sock"
    monkeypatch.setenv("BEN_SIDECAR_SOCKET", "unix:rel.sock")
    assert default_sidecar_address() == f"unix://{home}/rel.sock"
    monkeypatch.setenv("BEN_SIDECAR_SOCKET", "127.0.0.1:7777")
    with pytest.raises(ConfigError) as refused:
        default_sidecar_address()
    assert refused.value.field == "$BEN_SIDECAR_SOCKET" and "is host:port" in str(refused.value)
    code, _, err = ben(monkeypatch, capsys, home, "sidecar")
    assert code == 2 and len(err) == 1 and "'$BEN_SIDECAR_SOCKET': '127.0.0.1:7777' is host:port" in err[0], err
    assert not (home / "127.0.0.1:7777").exists() and not (home / "sidecar").exists()


def test_status_with_the_two_addresses_swapped_says_so(monkeypatch, capsys, home: Path) -> None:
    """``ben status --sidecar <the spine's socket> --spine <the sidecar's>`` printed the spine's figures under
    "sidecar …" and the sidecar's under "spine …", exit 0. Each answer names its component: a mismatch is that
    address's error line now, exit 1."""
    import asyncio
    import threading

    import grpc

    from ben.core.admin import AdminServicer
    from ben.v1 import admin_pb2_grpc

    loop = asyncio.new_event_loop()
    addresses = {name: f"unix://{home}/{name}.sock" for name in ("spine", "sidecar")}

    async def serve() -> list:
        servers = []
        for name, address in addresses.items():
            server = grpc.aio.server()
            admin_pb2_grpc.add_AdminServicer_to_server(AdminServicer(name, lambda: f"{name}-1", lambda: []), server)
            server.add_insecure_port(address)
            await server.start()
            servers.append(server)
        return servers

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    servers = asyncio.run_coroutine_threadsafe(serve(), loop).result(30)
    try:
        code, out, err = ben(monkeypatch, capsys, home, "status", "--json", "--sidecar", addresses["spine"],
                             "--spine", addresses["sidecar"])
        code_right, _, _ = ben(monkeypatch, capsys, home, "status", "--json", "--sidecar", addresses["sidecar"],
                               "--spine", addresses["spine"])
    finally:
        for server in servers:
            asyncio.run_coroutine_threadsafe(server.stop(None), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)
        loop.close()
    got = json.loads(out)
    assert code == 1 and got["sidecar"] == {"error": f"{addresses['spine']} is the spine's address, not a sidecar's "
                                                     "(--sidecar names the sidecar's; the spine's is --spine)"}, got
    assert "is the sidecar's address, not a spine's" in got["spine"]["error"] and code_right == 0
