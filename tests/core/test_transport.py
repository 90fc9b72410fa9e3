"""Transport security options (ADR 0034): config, TLS files, the listen check, client material."""

from __future__ import annotations

from pathlib import Path

import pytest

from ben.core import transport
from ben.core.config import load_config
from ben.core.errors import ConfigError


def test_security_options_parse_and_resolve_relative_paths(tmp_path: Path) -> None:
    path = tmp_path / "ben.toml"
    path.write_text('[spine]\nlisten = "0.0.0.0:7070"\nsocket_mode = 0o640\nsocket_group = "ben"\n'
                    'redact_manifest = "redact.toml"\n'
                    'tls = { cert = "certs/spine.crt", key = "certs/spine.key", ca = "certs/ca.crt" }\n'
                    '[[spine.operators]]\nname = "alice"\nuids = [1000]\n'
                    '[sidecar]\ninsecure = true\n')
    cfg = load_config(path)
    assert cfg.spine.socket_mode == 0o640 and cfg.spine.socket_group == "ben"
    assert cfg.spine.tls.key == tmp_path / "certs" / "spine.key"
    assert cfg.spine.redact_manifest == tmp_path / "redact.toml"
    assert [(o.name, o.uids) for o in cfg.spine.operators] == [("alice", [1000])]
    assert cfg.sidecar.insecure and not cfg.spine.insecure
    files = transport.tls_files(cfg.spine.tls, "spine.tls")
    assert files is not None and files.ca == tmp_path / "certs" / "ca.crt"


def test_bad_security_options_name_the_field(tmp_path: Path) -> None:
    path = tmp_path / "ben.toml"
    path.write_text("[spine]\nsocket_mode = 0o1777\n")
    with pytest.raises(ConfigError, match="spine.socket_mode"):
        load_config(path)
    path.write_text('[spine]\ntls = { cert = "a.crt" }\n')
    with pytest.raises(ConfigError, match="key, ca not set") as partial:
        transport.tls_files(load_config(path).spine.tls, "spine.tls")
    assert partial.value.field == "spine.tls"


def test_tcp_listen_needs_tls_or_insecure() -> None:
    with pytest.raises(ConfigError, match="insecure = true") as refused:
        transport.check_listen("127.0.0.1:7070", "spine.listen", tls=None, insecure=False)
    assert refused.value.field == "spine.listen"
    transport.check_listen("127.0.0.1:7070", "spine.listen", tls=None, insecure=True)
    transport.check_listen("unix:///tmp/x.sock", "spine.listen", tls=None, insecure=False)


@pytest.mark.parametrize("address", ["0.0.0.0:7070", "[::]:7070", "10.1.2.3:7070", "spine.example:7070"])
@pytest.mark.parametrize("flag", ["spine.listen", "sidecar.listen"])
def test_plain_tcp_beyond_loopback_is_refused_even_when_insecure(address: str, flag: str) -> None:
    """A plain listener serves every caller as an unauthenticated operator (ADR 0034): a network peer could
    query and command. ``insecure = true`` is for loopback only (ADR 0045, round 9)."""
    with pytest.raises(ConfigError, match="not loopback") as refused:
        transport.check_listen(address, flag, tls=None, insecure=True)
    assert refused.value.field == flag and "mutual TLS" in str(refused.value)
    transport.check_listen(address, flag, tls=transport.TlsFiles(Path("c"), Path("k"), Path("ca")), insecure=True)
    for loopback in ("127.0.0.1:7070", "[::1]:7070", "localhost:7070", "127.8.9.1:7070"):
        transport.check_listen(loopback, flag, tls=None, insecure=True)


def test_client_material_from_the_environment(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BEN_TLS_CERT", str(tmp_path / "a.crt"))
    with pytest.raises(ConfigError, match="BEN_TLS_KEY"):
        transport.client_tls()
    monkeypatch.setenv("BEN_TLS_KEY", str(tmp_path / "a.key"))
    monkeypatch.setenv("BEN_TLS_CA", str(tmp_path / "ca.crt"))
    assert transport.client_tls() == transport.TlsFiles(tmp_path / "a.crt", tmp_path / "a.key", tmp_path / "ca.crt")


def test_limits_match_bens_own() -> None:
    from ben.control.canonical import MAX_BYTES

    options = dict(transport.SERVER_OPTIONS)
    assert MAX_BYTES < options["grpc.max_receive_message_length"] == transport.MAX_MESSAGE_BYTES == 16 << 20
    assert dict(transport.SPINE_SERVER_OPTIONS)["grpc.max_receive_message_length"] == 32 << 20
    assert dict(transport.CHANNEL_OPTIONS)["grpc.max_send_message_length"] == transport.MAX_MESSAGE_BYTES


def test_a_peer_paused_for_half_a_second_answers_and_a_missing_one_fails_at_once(make_cluster, home) -> None:
    """One connection attempt may take as long as the call allows (gRPC's min connect timeout), so a
    spine that stalls on a loaded machine is not "nothing answers" after 0.1 s; no socket still fails fast."""
    import os
    import signal
    import threading
    import time

    from ben.core.admin import fetch_status
    from ben.core.errors import TransportError

    cluster = make_cluster()
    cluster.start_spine()
    os.kill(cluster.spine.pid, signal.SIGSTOP)
    resume = threading.Timer(0.5, os.kill, (cluster.spine.pid, signal.SIGCONT))
    resume.start()
    try:
        started = time.monotonic()
        fetch_status(cluster.spine_addr, timeout=30.0)
        assert time.monotonic() - started >= 0.4  # it was paused: the answer came after the resume
    finally:
        resume.join()
        os.kill(cluster.spine.pid, signal.SIGCONT)
    started = time.monotonic()
    with pytest.raises(TransportError, match="nothing answers"):
        fetch_status(f"unix://{home / 'absent.sock'}", timeout=30.0)
    assert time.monotonic() - started < 5.0


def test_tls_files_that_are_no_tls_material_are_named_before_any_connection(monkeypatch, tmp_path: Path) -> None:
    """`BEN_TLS_CERT=/etc/passwd …`: the key was told "has mode 0644 …; run chmod 600 /etc/passwd" (a directory:
    "chmod 600 /tmp"); bytes that are no PEM went to gRPC, which logged "Invalid cert chain file" lines of its
    own while the command said "nothing answers". Each file is now named by its variable (or config key)."""
    import os

    from ben.core.certs import init_ca, issue

    init_ca(tmp_path)
    cert, key = issue(tmp_path, "alice")
    other_key = issue(tmp_path, "bob")[1]
    ca = tmp_path / "ca.crt"
    junk = tmp_path / "junk"
    junk.write_bytes(os.urandom(200))
    os.chmod(junk, 0o600)
    text = tmp_path / "passwd"
    text.write_text("root:x:0:0:root:/root:/bin/bash\n")  # 0644, as /etc/passwd
    for (c, k, a), field, said in [
        ((text, text, text), "$BEN_TLS_CERT", "not a PEM certificate"),
        ((cert, text, ca), "$BEN_TLS_KEY", "not a PEM private key"),
        ((cert, junk, ca), "$BEN_TLS_KEY", "not a PEM private key"),
        ((cert, tmp_path, ca), "$BEN_TLS_KEY", "Is a directory"),
        ((cert, cert, ca), "$BEN_TLS_KEY", "a certificate, not its private key"),
        ((key, key, ca), "$BEN_TLS_CERT", "a private key, not a certificate"),
        ((cert, key, junk), "$BEN_TLS_CA", "not a PEM certificate"),
        ((cert, key, tmp_path / "none.crt"), "$BEN_TLS_CA", "not found"),
        ((cert, other_key, ca), "$BEN_TLS_KEY", "is not the key of"),
    ]:
        monkeypatch.setenv("BEN_TLS_CERT", str(c))
        monkeypatch.setenv("BEN_TLS_KEY", str(k))
        monkeypatch.setenv("BEN_TLS_CA", str(a))
        with pytest.raises(ConfigError) as refused:
            transport.client_tls().read("tls")
        assert refused.value.field == field and said in str(refused.value), (c, k, a, str(refused.value))
        assert "chmod" not in str(refused.value)
    os.chmod(key, 0o644)  # a real key others may read: still refused, now with the chmod
    monkeypatch.setenv("BEN_TLS_CERT", str(cert))
    monkeypatch.setenv("BEN_TLS_KEY", str(key))
    monkeypatch.setenv("BEN_TLS_CA", str(ca))
    with pytest.raises(ConfigError, match="chmod 600"):
        transport.client_tls().read("tls")
    os.chmod(key, 0o600)
    assert transport.client_tls().read("tls")[1] == key.read_bytes()
    bundle = tmp_path / "bundle.pem"  # a certificate and its key in one file serves as the key
    bundle.write_bytes(cert.read_bytes() + key.read_bytes())
    os.chmod(bundle, 0o600)
    monkeypatch.setenv("BEN_TLS_KEY", str(bundle))
    transport.client_tls().read("tls")


def test_a_directory_given_as_a_private_key_is_said_to_be_one(tmp_path: Path) -> None:
    from ben.core.files import check_private

    with pytest.raises(ConfigError, match="is a directory, not a file") as refused:
        check_private(tmp_path, "web.token_file")
    assert "chmod" not in str(refused.value) and refused.value.field == "web.token_file"


def test_another_account_s_stale_socket_in_a_sticky_directory_is_named_not_a_traceback(home: Path) -> None:
    """Round 12: in a sticky shared directory (``/tmp``, allowed for sockets since round 3) a stale socket another
    account left at the listen path (or the auth socket's beside it) cannot be removed by the user ben runs as:
    ``prepare_listen`` raised PermissionError, a traceback. Now a ConfigError naming the option and the owner. Real
    accounts: the socket is root's, ben runs as ``nobody`` through ``setpriv``."""
    import os
    import socket
    import subprocess
    import sys

    os.chmod(home, 0o755)  # traversable by nobody (tmp_path's parents are not)
    shared = home / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    stale = shared / "spine.sock.auth"
    with socket.socket(socket.AF_UNIX) as left:
        left.bind(str(stale))  # closed at once: nothing listens there, the file stays
    src = str(Path(transport.__file__).resolve().parents[2])
    out = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c",
         "import sys; from ben.core.transport import prepare_listen; from ben.core.errors import ConfigError\n"
         "try:\n    prepare_listen(sys.argv[1], 'spine.listen')\nexcept ConfigError as exc:\n"
         "    print('refused', exc.field, exc)", f"unix://{stale}"],
        capture_output=True, text=True, timeout=60, env={"PYTHONPATH": src, "PATH": os.environ["PATH"]})
    assert "Traceback" not in out.stderr, out.stderr
    assert out.stdout.startswith("refused spine.listen") and "stale socket of uid 0" in out.stdout, out.stdout
    assert stale.exists()
