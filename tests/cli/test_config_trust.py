"""A component's config file is no other account's to change (ADR 0045, round 14): it names the operators' uids,
the socket group, the trust store and policy, the redaction manifest, ``insecure``. The trust store and policy were
refused when another account could write them (round 9); the file naming them was read as it was. Real ``ben
spine``, ``ben sidecar`` and ``ben web`` processes."""

from __future__ import annotations

import os

import pytest

from ben.cli.procs import Cluster, Proc


@pytest.mark.parametrize("which", ["spine", "sidecar", "web"])
@pytest.mark.parametrize("loose", ["file_0666", "directory_0777", "owned_by_nobody"])
def test_a_config_another_account_could_change_refuses_the_start(home, which, loose) -> None:
    shared = home / "etc"
    shared.mkdir()
    cluster = Cluster(home)
    config = shared / "ben.toml"
    config.write_text(cluster.config.read_text())
    if loose == "file_0666":
        config.chmod(0o666)
    elif loose == "directory_0777":
        shared.chmod(0o777)
    else:
        os.chown(config, 65534, 65534)
    proc = Proc([which, "--config", str(config)], home / "logs" / f"{which}-{loose}.log")
    try:
        assert proc.popen.wait(60) == 2, proc.tail()  # on the code before: it started
    finally:
        if proc.alive():
            proc.stop()
    assert "--config" in proc.tail() and str(config) in proc.tail(), proc.tail()
    assert not (home / which).exists()  # refused before anything was made
