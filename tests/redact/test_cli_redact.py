"""``ben redact lint|check|default`` as an operator runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "redact.toml"


def ben(*args: str, stdin: str = "", env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ben", "redact", *args], input=stdin, capture_output=True,
                          text=True, timeout=60, env={**os.environ, **(env or {})})


def test_lint_ok_and_errors(tmp_path: Path) -> None:
    out = ben("lint", str(EXAMPLE), env={"BEN_REDACT_KEY": "x" * 20})
    assert out.returncode == 0 and "ok" in out.stdout and "auth-headers" in out.stdout, out.stderr
    out = ben("lint", str(EXAMPLE), env={"BEN_REDACT_KEY": ""})
    assert out.returncode == 2 and "BEN_REDACT_KEY is not set" in out.stderr
    assert ben("lint", "--no-key", str(EXAMPLE), env={"BEN_REDACT_KEY": ""}).returncode == 0
    bad = tmp_path / "bad.toml"
    bad.write_text('[[rule]]\nname = "ok"\ndetect = "card"\naction = "mask"\n\n[[rule]]\nname = "t"\n'
                   'fields = ["body"]\naction = "truncate"\n')
    out = ben("lint", str(bad))
    assert out.returncode == 2 and "rule 't'" in out.stderr and "line 6" in out.stderr \
        and "needs max_chars" in out.stderr and "Traceback" not in out.stderr, out.stderr


def test_check_is_a_dry_run_that_prints_only_redacted_values() -> None:
    events = [{"name": "login", "body": "card 4111 1111 1111 1111 by ann@example.org",
               "attributes": {"http.request.header.authorization": "Bearer s3cr3t-t0ken-value", "zone": "a"}},
              {"name": "latency_ms", "kind": "metric", "attributes": {"route": "/pay"}}]
    stdin = "".join(json.dumps(e) + "\n" for e in events)
    out = ben("check", "--manifest", str(EXAMPLE), stdin=stdin, env={"BEN_REDACT_KEY": "x" * 20})
    assert out.returncode == 0, out.stderr
    first, second = [json.loads(line) for line in out.stdout.splitlines()]
    assert first["fired"] == ["auth-headers", "card", "email"]
    assert first["body"].startswith("card [card] by hmac:")
    assert first["attributes"] == {"zone": "a"}
    assert second == {"line": 2, "fired": [], "name": "latency_ms", "body": "", "attributes": {"route": "/pay"}}
    for secret in ("4111", "ann@example.org", "s3cr3t"):
        assert secret not in out.stdout + out.stderr
    assert "2 events, 1 redacted" in out.stderr
    out = ben("check", stdin='{"name": "x"}\nnot json\n')   # the default manifest
    assert out.returncode == 2 and "stdin line 2: not JSON" in out.stderr


def test_default_prints_a_manifest_that_lints(tmp_path: Path) -> None:
    out = ben("default")
    (tmp_path / "d.toml").write_text(out.stdout)
    assert ben("lint", str(tmp_path / "d.toml")).returncode == 0


def test_bench_redact_json() -> None:
    out = subprocess.run([sys.executable, "-m", "ben", "bench", "redact", "--batches", "2", "--runs", "1", "--json"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    for key in ("events_per_s", "baseline_events_per_s", "body_events_per_s", "body_baseline_events_per_s"):
        assert result[key] > 0, key
    assert result["ratio"] == result["events_per_s"] / result["baseline_events_per_s"]
    assert result["formats"] >= 40 and len(result["recall_by_placement"]) >= 10
    assert result["recall_min"] >= 0.99 and result["benign_mangled_rate"] <= 0.005, result["missed"]


def test_lint_warns_about_a_drop_rule_that_would_empty_bodies(tmp_path: Path) -> None:
    dropping = tmp_path / "drop.toml"
    dropping.write_text('[[rule]]\nname = "private-key"\ndetect = "private_key"\naction = "drop"\n')
    out = ben("lint", str(dropping))
    assert out.returncode == 0 and "ok" in out.stdout, out.stderr
    assert "warning: rule 'private-key' (line 1)" in out.stderr and "becomes empty" in out.stderr, out.stderr
    out = ben("lint", "--no-key", str(EXAMPLE))
    assert out.returncode == 0 and "warning" not in out.stderr, out.stderr


def test_lint_of_the_readme_example_without_its_key_says_how_to_go_on() -> None:
    """``ben redact lint docs/examples/redact.toml``, as the README puts it, ended in "environment variable
    BEN_REDACT_KEY is not set or empty": no word of ``--no-key``, of what the key is, or whether the rules were
    valid (ADR 0033, fourth round)."""
    out = ben("lint", str(EXAMPLE), env={"BEN_REDACT_KEY": ""})
    lines = out.stderr.strip().splitlines()
    assert out.returncode == 2 and len(lines) == 1, out.stderr
    assert "export BEN_REDACT_KEY=$(openssl rand -hex 32)" in lines[0] and "the rules are valid (13)" in lines[0] \
        and "--no-key" in lines[0], lines
