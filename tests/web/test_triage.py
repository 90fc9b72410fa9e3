"""The cortex's recommendations on the incident page (``ben.web.triage``): a ``[cortex] responses`` file that
cannot be read stops ``ben web`` / ``ben spine --web`` at start (ADR 0033, round 7)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ben.core.config import load_config
from ben.core.errors import ConfigError
from ben.web.triage import recommender


def _config(tmp_path: Path, responses: str) -> Path:
    cfg = tmp_path / "ben.toml"
    cfg.write_text(f'[cortex]\nresponses = "{responses}"\n')
    return cfg


@pytest.mark.parametrize("responses, said", [("missing.toml", "file not found"), ("adir", "a directory")])
def test_a_responses_file_that_cannot_be_read_is_refused_at_start(tmp_path, monkeypatch, responses, said):
    """Was taken: the web served, and every incident page said the error in place of its recommendations."""
    monkeypatch.setenv("BEN_HOME", str(tmp_path))
    (tmp_path / "adir").mkdir()
    with pytest.raises(ConfigError, match=said) as raised:
        recommender(load_config(_config(tmp_path, responses)))
    assert str(tmp_path / responses) in str(raised.value)


def test_a_readable_responses_file_gives_the_recommender(tmp_path, monkeypatch):
    monkeypatch.setenv("BEN_HOME", str(tmp_path))
    (tmp_path / "r.toml").write_text('[[subsystems]]\nmatch = "*"\nresponses = ["watch"]\n')
    assert callable(recommender(load_config(_config(tmp_path, "r.toml"))))
    assert recommender(load_config(None)) is None  # no [cortex] responses: the cortex is off
