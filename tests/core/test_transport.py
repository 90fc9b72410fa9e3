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
