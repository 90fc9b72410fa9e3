"""The NATS link's own TLS and credentials (ADR 0038, 2026-12): refused options named, a real
nats-server with mutual TLS and users, one clear line per refusal, nothing lost while refused."""

from __future__ import annotations

import logging
import signal
import socket
import subprocess
import threading
from pathlib import Path

import pytest

from ben.control.keys import generate
from ben.core.certs import init_ca, issue
from ben.core.config import FederationConfig
from ben.core.errors import ConfigError
from ben.federation import Federation
from ben.federation.security import resolve
from ben.store.process import ChdbProcessStore
from tests.federation.conftest import NATS, NatsServer, add_incident, federated_rows, free_port, wait_for

PASSWORDS = {"east": "east-password-0123456789", "west": "west-password-9876543210"}


def secret(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text + "\n")
    path.chmod(mode)
    return path


@pytest.fixture
def pki(tmp_path) -> dict[str, Path]:
    ca = init_ca(tmp_path / "pki")
    issue(tmp_path / "pki", "nats", server=True)
    issue(tmp_path / "pki", "east")
    issue(tmp_path / "pki", "west")
    init_ca(tmp_path / "other")  # a CA that signed none of them
    return {"ca": ca, "dir": tmp_path / "pki", "other_ca": tmp_path / "other" / "ca.crt"}


# -- options, refused at start naming the option --------------------------------------------------------
def test_plain_non_loopback_server_is_refused_and_insecure_warns(caplog):
    with pytest.raises(ConfigError) as err:
        resolve(FederationConfig(servers=["nats://10.0.0.5:4222"]))
    assert err.value.field == "spine.federation.tls_ca_file" and "insecure = true" in str(err.value)
    with caplog.at_level(logging.WARNING, logger="ben.federation"):
        assert resolve(FederationConfig(servers=["nats://10.0.0.5:4222"], insecure=True)).tls is None
    assert any("plain text" in r.getMessage() and "10.0.0.5" in r.getMessage() for r in caplog.records)
    assert resolve(FederationConfig(servers=["nats://127.0.0.1:4222"])).tls is None  # loopback as before


@pytest.mark.parametrize("options, field, words", [
    ({"servers": ["nats://ben:secret@127.0.0.1:4222"]}, "servers", "credentials in a server URL"),
    ({"servers": ["http://127.0.0.1:4222"]}, "servers", "nats://"),
    # ADR 0033 round 6: taken, then retried for ever ("Port out of range") or a link with no server at all
    ({"servers": ["nats://127.0.0.1:99999"]}, "servers", "a port of 1-65535"),
    ({"servers": ["nats://127.0.0.1:0"]}, "servers", "a port of 1-65535"),
    ({"servers": ["nats://127.0.0.1:abc"]}, "servers", "a port of 1-65535"),
    ({"servers": ["nats://no such host:4222"], "insecure": True}, "servers", "a host name or address"),
    ({"servers": []}, "servers", "no server"),
    ({"token_file": "loose"}, "token_file", "chmod 600"),
    ({"token_file": "empty"}, "token_file", "empty"),
    ({"token_file": "missing"}, "token_file", "not found"),
    ({"user": "east"}, "password_file", "together"),
    ({"password_file": "token"}, "user", "together"),
    ({"user": "east", "password_file": "token", "token_file": "token"}, "token_file", "not both"),
    ({"tls_ca_file": "ca", "tls_cert_file": "cert"}, "tls_key_file", "together"),
    ({"tls_ca_file": "ca", "tls_cert_file": "cert", "tls_key_file": "loose_key"}, "tls_key_file", "chmod 600"),
    ({"tls_ca_file": "token"}, "tls_ca_file", "cannot load the CA"),
    ({"tls_cert_file": "cert", "tls_key_file": "key"}, "tls_ca_file", "without TLS"),
])
def test_bad_security_options_are_named(tmp_path, pki, options, field, words):
    files = {"loose": secret(tmp_path / "loose", "0123456789abcdef", 0o644), "empty": secret(tmp_path / "e", ""),
             "missing": tmp_path / "nope", "token": secret(tmp_path / "t", "0123456789abcdef"), "ca": pki["ca"],
             "cert": pki["dir"] / "east.crt", "key": pki["dir"] / "east.key",
             "loose_key": pki["dir"] / "west.key"}
    files["loose_key"].chmod(0o640)
    cfg = {k: (files[v] if k.endswith("_file") else v) for k, v in options.items()}
    with pytest.raises(ConfigError) as err:
        resolve(FederationConfig(**cfg))
    assert err.value.field == f"spine.federation.{field}", err.value
    assert words in str(err.value), err.value


def test_no_credentials_are_sent_to_a_server_that_does_not_start_tls(tmp_path, pki):
    """A peer in the middle answering "no TLS": with TLS configured, CONNECT (and the password) is
    never sent; nats-py alone would send it in clear."""
    received = bytearray()
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.sendall(b'INFO {"server_id":"x","version":"2.9.10","proto":1,"max_payload":1048576,'
                         b'"headers":true,"auth_required":true}\r\n')
            conn.settimeout(5)
            try:
                while chunk := conn.recv(4096):
                    received.extend(chunk)
            except OSError:
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    cfg = FederationConfig(enabled=True, cluster="east", consume=False, servers=[f"nats://127.0.0.1:{port}"],
                           tls_ca_file=pki["ca"], user="east",
                           password_file=secret(tmp_path / "pw", PASSWORDS["east"]))
    store = ChdbProcessStore(tmp_path / "chdb")
    fed = Federation(cfg, tmp_path / "east", store)
    try:
        fed.start()
        wait_for(lambda: "did not start TLS" in fed.last_error or b"CONNECT" in received, 30,
                 "the refusal of a server without TLS (or a CONNECT sent to it)")
        thread.join(10)
    finally:
        fed.shutdown(5)
        store.close()
        listener.close()
    assert PASSWORDS["east"].encode() not in received and b"CONNECT" not in received, bytes(received)
    assert "did not start TLS" in fed.last_error and "tls_ca_file" in fed.last_error


# -- a real nats-server with mutual TLS and users -----------------------------------------------------
class SecureNats(NatsServer):
    """nats-server -js with TLS (client certificates required) and a user per cluster."""

    def __init__(self, store_dir: Path, port: int, pki: dict[str, Path]):
        super().__init__(store_dir, port)
        self.conf = store_dir.parent / "nats.conf"
        self.pki = pki
        self.write(PASSWORDS)

    def reload(self, **passwords: str) -> None:
        """Change users' passwords and have the server reload its config (SIGHUP)."""
        self.write({**PASSWORDS, **passwords})
        self.proc.send_signal(signal.SIGHUP)

    def write(self, passwords: dict[str, str]) -> None:
        port, store_dir, pki = self.port, self.store_dir, self.pki
        users = ", ".join(f'{{user: "{u}", password: "{p}"}}' for u, p in passwords.items())
        d = pki["dir"]
        self.conf.write_text(f'listen: "127.0.0.1:{port}"\njetstream {{ store_dir: "{store_dir}" }}\n'
                             f'tls {{ cert_file: "{d / "nats.crt"}", key_file: "{d / "nats.key"}", '
                             f'ca_file: "{pki["ca"]}", verify: true, timeout: 2 }}\n'
                             f"authorization {{ users: [ {users} ] }}\n")

    @property
    def url(self) -> str:
        return f"tls://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = subprocess.Popen([NATS, "-c", str(self.conf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)

        def up() -> bool:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return True
            except OSError:
                assert self.proc.poll() is None, "nats-server exited (its config?)"
                return False
        wait_for(up, 60, "nats-server to listen")


def test_mutual_tls_and_credentials_link_and_refusals_name_the_option(tmp_path, pki):
    if not Path(NATS).exists():
        pytest.fail("nats-server is not installed: run scripts/debian-deps.sh")
    server = SecureNats(tmp_path / "jetstream", free_port(), pki)
    server.start()
    east_key = generate(tmp_path / "keys", "east")
    trust = tmp_path / "west-trust.toml"
    trust.write_text(f'[clusters.east]\npublic_key = "{east_key.public_text}"\n')
    d = pki["dir"]
    good = {name: dict(enabled=True, servers=[server.url], poll_interval_ms=100, ack_wait_s=2, tls_ca_file=pki["ca"],
                       tls_cert_file=d / f"{name}.crt", tls_key_file=d / f"{name}.key", user=name,
                       password_file=secret(tmp_path / f"{name}.pw", PASSWORDS[name])) for name in PASSWORDS}
    wrong_pw = secret(tmp_path / "wrong.pw", "not-the-password-0000")
    refusals = [({"password_file": wrong_pw}, "refused user 'east' with the password of spine.federation.password_file"),
                ({"user": "", "password_file": None}, "asks for credentials: set spine.federation.token_file"),
                ({"tls_ca_file": pki["other_ca"]}, "does not verify against spine.federation.tls_ca_file"),
                ({"tls_cert_file": None, "tls_key_file": None}, "asks for a client certificate")]
    stores = [ChdbProcessStore(tmp_path / "east-chdb"), ChdbProcessStore(tmp_path / "west-chdb")]
    running: list[Federation] = []

    def east(**changes) -> Federation:
        fed = Federation(FederationConfig(cluster="east", consume=False, key=east_key.path,
                                          **{**good["east"], **changes}), tmp_path / "east", stores[0])
        fed.start()
        running.append(fed)
        return fed

    try:
        for n in range(3):
            add_incident(stores[0], n=n, subsystem=f"db-{n}", series="latency_ms")
        for changes, words in refusals:  # refused: one line naming the option; the summaries wait
            fed = east(**changes)
            wait_for(lambda: words in fed.last_error, 60, f"the refusal {words!r}")
            wait_for(lambda: fed.outbox.depth == 3, 30, "3 summaries kept in the outbox while refused")
            assert not fed.connected and fed.published == 0, fed.status()
            assert "\n" not in fed.last_error and "Traceback" not in fed.last_error
            running.pop().shutdown(5)
            assert not fed._thread.is_alive()
        publisher = east()
        west = Federation(FederationConfig(cluster="west", trust=trust, **good["west"]), tmp_path / "west", stores[1])
        west.start()
        running.append(west)
        wait_for(lambda: len(federated_rows(stores[1])) == 3, 60, "the 3 summaries held while refused, at west")
        assert publisher.connected and publisher.outbox.depth == 0 and publisher.published == 3
        assert len({r["summary_id"] for r in federated_rows(stores[1])}) == 3

        server.reload(east="a-new-password-for-east-42")  # east's password changes under a connected link
        for n in range(3, 6):
            add_incident(stores[0], n=n, subsystem=f"db-{n}", series="latency_ms")
        wait_for(lambda: "password_file" in publisher.last_error, 60, "east's reconnection refused, named")
        wait_for(lambda: publisher.outbox.depth == 3, 60, "3 summaries kept in east's outbox while refused")
        assert len(federated_rows(stores[1])) == 3
        server.reload(east=PASSWORDS["east"])
        wait_for(lambda: len(federated_rows(stores[1])) == 6, 60, "the 3 summaries kept while refused, at west")
        assert len({r["summary_id"] for r in federated_rows(stores[1])}) == 6 and publisher.outbox.depth == 0
    finally:
        for fed in running:
            fed.shutdown(5)
        for store in stores:
            store.close()
        server.stop()
