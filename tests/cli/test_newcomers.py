"""The federation and baseline commands as a newcomer meets them (ADR 0033, "Web, federation and cortex
newcomers"): in this process, through ``ben.cli.main``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.test_bad_input_tenth import ben


@pytest.mark.parametrize("status, said", [
    ([], "not a federation status (a JSON list, not an object)"),
    ({"connected": True}, "no field 'cluster'"),
    ({"cluster": "east", "servers": [1], "stream": "s", "connected": True}, "expected str instance"),
    ({"updated": "yesterday"}, "invalid literal"),
])
def test_a_federation_status_of_another_shape_is_one_line_naming_the_file(monkeypatch, capsys, home: Path, status,
                                                                          said) -> None:
    """A status file another version of ben wrote (or a damaged one) was "unexpected KeyError (a bug in ben)";
    --json still shows it as it is."""
    (home / "federation").mkdir()
    (home / "federation" / "status.json").write_text(json.dumps(status))
    code, _, err = ben(monkeypatch, capsys, home, "federation", "status", "--data-dir", str(home))
    assert code == 2 and len(err) == 1 and "status.json" in err[0] and said in err[0], (code, err)
    code, out, err = ben(monkeypatch, capsys, home, "federation", "status", "--data-dir", str(home), "--json")
    assert code == 0 and json.loads(out) == status and not err, (code, out, err)


def test_a_federation_status_the_spine_stopped_writing_says_it_is_stale(monkeypatch, capsys, home: Path) -> None:
    """A spine stopped while connected left "connected; status 3600s old": read as connected."""
    import time

    status = {"cluster": "east", "servers": ["nats://127.0.0.1:4222"], "stream": "BEN_FEDERATION", "connected": True,
              "published": 3, "publish_duplicates": 0, "outbox_depth": 0, "held_back": 0, "received": 0,
              "redelivered": 0, "rejected": {}, "rejected_total": 0, "lag": 0, "peers": {}, "last_error": "",
              "poll_interval_ms": 1000}
    (home / "federation").mkdir()
    for age, stale in ((3600, True), (1, False)):
        (home / "federation" / "status.json").write_text(json.dumps({**status, "updated": int(time.time()) - age}))
        code, out, err = ben(monkeypatch, capsys, home, "federation", "status", "--data-dir", str(home))
        assert code == 0 and not err and out.startswith("cluster east") and ("STALE" in out) == stale, (code, out)
