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
