"""`ben web`'s flags are validated like the config file: a bad one is a ConfigError naming the flag."""

from __future__ import annotations

import pytest

from ben.cli.web import web_config
from ben.core.errors import ConfigError


def test_a_bad_port_names_the_flag(tmp_path, monkeypatch):
    monkeypatch.setenv("BEN_HOME", str(tmp_path))
    assert web_config(None, None, 8500).listen_port == 8500
    with pytest.raises(ConfigError, match="command line, field '--port'.*65535"):
        web_config(None, None, 99_999)
    with pytest.raises(ConfigError, match="'--port'"):
        web_config(None, None, -1)


@pytest.mark.parametrize("host", ["", "no such host", "a;b", "127.0.0.1/8"])
def test_a_host_that_is_no_address_names_the_flag(tmp_path, monkeypatch, host):
    monkeypatch.setenv("BEN_HOME", str(tmp_path))  # was "web.listen_host = '...' is not loopback: set web.token_env"
    with pytest.raises(ConfigError, match="field '--host': expected an IP address or a host name"):
        web_config(None, host, None)
    assert web_config(None, "::1", None).listen_host == "::1"


def test_a_bracketed_ipv6_host_is_that_address_and_a_host_that_cannot_be_bound_names_the_host(tmp_path, monkeypatch):
    """`ben web --host [::1]` (as a URL writes it) passed the check and then could not be bound: "Name or service not
    known (choose another with --port)"; an address that is not this machine's also sent the user to --port."""
    from ben.core.config_sections import WebConfig
    from ben.web.server import WebServer

    monkeypatch.setenv("BEN_HOME", str(tmp_path))
    assert web_config(None, "[::1]", None).listen_host == "::1"
    monkeypatch.setenv("BEN_WEB_TEST_TOKEN", "t" * 32)
    server = WebServer(WebConfig(listen_host="192.0.2.1", listen_port=0, token_env="BEN_WEB_TEST_TOKEN"),
                       f"unix://{tmp_path}/spine.sock")
    with pytest.raises(ConfigError) as refused:
        server._probe()  # 192.0.2.1 (TEST-NET-1) is no address of this machine
    assert "web.listen_host" in str(refused.value) and "--host" in str(refused.value), refused.value
