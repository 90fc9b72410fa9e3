"""Files that decide whom ben trusts, writable by another account (ADR 0045, round 9).

The trust store (operators' and sidecars' keys), the command policy, the federation trust file, a TLS CA and
the redaction manifest were used whatever their owner and mode: an account able to write the trust store (a
file 0666, or a directory it may write, where it replaces the file) added its own key as an operator and the
spine and the sidecars obeyed its commands from the next one on (the trust store is read again when it
changes, round 6). Now such a file is refused at start, naming the option, and a running component keeps the
store in force (logged). Real files with real owners (``nobody``), a real spine.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from types import SimpleNamespace

import pytest

from ben.cli.procs import Cluster, Proc
from ben.core.errors import ConfigError
from ben.core.files import check_trusted

NOBODY = 65534


def _plant(tmp_path: Path, case: str) -> Path:
    """A trust file another account could change, one way per ``case``."""
    home = tmp_path / "etc"
    home.mkdir(mode=0o755)
    path = home / "trust.toml"
    path.write_text("# keys\n")
    path.chmod(0o644)
    if case == "others_may_write":
        path.chmod(0o666)
    elif case == "group_may_write":
        path.chmod(0o664)
    elif case == "another_owner":
        os.chown(path, NOBODY, NOBODY)
    elif case == "directory_others_may_write":
        home.chmod(0o777)
    elif case == "directory_of_another_owner":
        os.chown(home, NOBODY, NOBODY)
    elif case == "symlink_into_a_shared_directory":
        shared = tmp_path / "shared"
        shared.mkdir()
        shared.chmod(0o777)
        target = shared / "trust.toml"
        path.rename(target)
        path.symlink_to(target)
    return path


CASES = ["others_may_write", "group_may_write", "another_owner", "directory_others_may_write",
         "directory_of_another_owner", "symlink_into_a_shared_directory"]


@pytest.mark.parametrize("case", CASES)
def test_a_file_another_account_could_change_is_refused_naming_the_option(tmp_path: Path, case: str) -> None:
    tmp_path.chmod(0o755)
    path = _plant(tmp_path, case)
    with pytest.raises(ConfigError) as refused:
        check_trusted(path, "control.trust")
    assert refused.value.field == "control.trust" and "whom ben trusts" in str(refused.value)


def test_a_file_only_its_owner_or_root_may_change_is_used(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    check_trusted(_plant(tmp_path, "plain"), "control.trust")  # 0644 in a 0755 directory
    sticky = tmp_path / "sticky"
    sticky.mkdir()
    sticky.chmod(0o1777)  # /tmp: others may write in it, not replace what is ours
    (sticky / "policy.toml").write_text("")
    (sticky / "policy.toml").chmod(0o600)
    check_trusted(sticky / "policy.toml", "control.policy")
    check_trusted(tmp_path / "missing.toml", "control.trust")  # left to the reader, which names it


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("what", ["trust", "policy", "ca"])
def test_a_spine_refuses_to_start_with_a_trust_file_others_may_write(home: Path, what: str) -> None:
    from ben.core.certs import init_ca, issue
    from tests.control.conftest import make_setup

    setup = make_setup(home)
    spine: dict = {**setup.control_options()}
    listen = None
    if what == "ca":
        certs = home / "certs"
        init_ca(certs)
        cert, key = issue(certs, "spine", server=True)
        spine["tls"] = {"cert": str(cert), "key": str(key), "ca": str(certs / "ca.crt")}
        listen, loose, field = f"127.0.0.1:{_port()}", certs / "ca.crt", "spine.tls.ca"
    else:
        loose = setup.trust if what == "trust" else setup.policy
        field = f"control.{what}"
    loose.chmod(0o666)
    cluster = Cluster(home, listen, spine=spine) if listen else Cluster(home, spine=spine)
    proc = Proc(["spine", "--config", str(cluster.config)], home / "logs" / f"refused-{what}.log")
    try:
        assert proc.popen.wait(60) == 2
    finally:
        if proc.alive():
            proc.stop()
    assert field in proc.tail() and "group or others may write it" in proc.tail(), proc.tail()
    assert not (home / "spine").exists()  # refused before anything was opened


def test_the_other_cas_another_account_may_write_are_refused_naming_the_option(tmp_path: Path) -> None:
    """The web interface's, the federation link's and the OTLP listeners' CAs, the same way."""
    from ben.core.certs import init_ca, issue
    from ben.core.config import FederationConfig, OtlpConfig, WebConfig
    from ben.federation.security import resolve
    from ben.otlp.receiver import OtlpReceiver
    from ben.web.auth import check_tls

    tmp_path.chmod(0o755)
    certs = tmp_path / "certs"
    init_ca(certs)
    cert, key = issue(certs, "host", server=True)
    ca = certs / "ca.crt"
    ca.chmod(0o666)
    with pytest.raises(ConfigError) as web:
        check_tls(WebConfig(tls={"cert": cert, "key": key, "ca": ca}))
    with pytest.raises(ConfigError) as federation:
        resolve(FederationConfig(servers=["tls://127.0.0.1:4222"], tls_ca_file=ca))
    otlp = OtlpConfig(grpc_listen="127.0.0.1:0", tls_cert_file=cert, tls_key_file=key, tls_client_ca_file=ca)
    with pytest.raises(ConfigError) as sidecar:  # the receiver's check of its listeners' TLS, on its config alone
        OtlpReceiver._check_transport(SimpleNamespace(config=otlp), "127.0.0.1:0", "sidecar.otlp.grpc_listen")
    for refused, field in ((web, "web.tls.ca"), (federation, "spine.federation.tls_ca_file"),
                           (sidecar, "sidecar.otlp.tls_client_ca_file")):
        assert refused.value.field == field and "group or others may write it" in str(refused.value), refused.value
