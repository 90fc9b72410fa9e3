"""The federation policy: what leaves, pseudonyms, generalisation, and errors naming file and field."""

from __future__ import annotations

import os

import pytest

from ben.core.errors import ConfigError
from ben.federation.policy import Facts, duration_bucket, load_key, load_policy, magnitude_class

from tests.helpers import killed_at_call

FACTS = Facts(incident_id="inc-0123456789", change="resolved", subsystem="db-eu-west-7.internal", state="resolved",
              severity="high", detector="ewma", direction="up", ratio=7.3, opened_ns=1_780_000_123_456_789_000,
              resolved_ns=1_780_000_123_456_789_000 + 45 * 60 * 10**9, anomalies=3)


def test_default_policy_lets_no_name_leave_and_generalises(tmp_path):
    policy = load_policy(None, tmp_path / "k")
    body = policy.apply(FACTS)
    text = repr(body)
    assert "db-eu-west-7" not in text and "inc-0123456789" not in text
    assert body["subsystem"] == policy.pseudonym("subsystem", "db-eu-west-7.internal")  # stable pseudonym
    assert body["subsystem"] != load_policy(None, tmp_path / "other-key").pseudonym("subsystem", FACTS.subsystem)
    assert body["opened"] % 60 == 0 and body["opened"] == 1_780_000_123_456_789_000 // 10**9 // 60 * 60
    assert body["magnitude"] == "3-10x" and body["duration"] == "30m-2h" and body["subsystem_class"] == "other"
    assert set(body) == {"change", "state", "severity", "detector", "direction", "anomalies", "subsystem_class",
                         "incident", "subsystem", "opened", "resolved", "magnitude", "duration"}


def test_policy_file_chooses_facts_and_classes(tmp_path):
    path = tmp_path / "federation.toml"
    path.write_text('leave = ["change", "subsystem_class"]\ngeneralise = ["magnitude"]\npseudonymise = []\n'
                    'min_group_size = 3\n[classes]\n"db-eu-west-7.internal" = "postgres"\n')
    policy = load_policy(path, tmp_path / "k")
    assert policy.apply(FACTS) == {"change": "resolved", "subsystem_class": "postgres", "magnitude": "3-10x"}
    assert policy.rules.min_group_size == 3


@pytest.mark.parametrize("text, field", [
    ('leave = ["subsystem"]\n', "subsystem"),           # a name may not leave as it is
    ('leave = ["hostname"]\n', "hostname"),             # unknown fact
    ('generalise = ["incident"]\n', "incident"),
    ('min_group_size = 0\n', "min_group_size"),
    ('colour = "red"\n', "colour"),
])
def test_bad_policy_names_file_and_field(tmp_path, text, field):
    path = tmp_path / "federation.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_policy(path, tmp_path / "k")
    assert str(path) in str(err.value) and field in str(err.value)


def test_key_created_0600_and_refused_when_others_can_read(tmp_path):
    key = tmp_path / "pseudonym.key"
    assert len(load_key(key)) >= 32 and (key.stat().st_mode & 0o777) == 0o600
    os.chmod(key, 0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        load_key(key)


def test_classes_and_buckets():
    assert [magnitude_class(r) for r in (1.2, 2, 5, 50)] == ["<1.5x", "1.5-3x", "3-10x", ">10x"]
    assert [duration_bucket(s) for s in (None, 60, 600, 3600, 10_000, 90_000)] == \
        ["ongoing", "<5m", "5-30m", "30m-2h", "2-12h", ">12h"]


def test_a_kill_while_the_key_is_made_never_leaves_a_key_file_the_next_start_refuses(tmp_path, monkeypatch):
    """ADR 0046 round 6: the key file was made (O_EXCL), then written: a spine killed between the two left an
    empty file, and every later start was refused ("federation key too short") until it was removed by hand.
    Killed at any step now, the next start gets a whole key; an empty file an old start left is made anew."""
    for kill_at in range(1, 8):
        key = tmp_path / f"k{kill_at}" / "pseudonym.key"
        key.parent.mkdir()
        with killed_at_call(monkeypatch, os, ("open", "fdopen", "write", "fchmod", "fsync", "link"), kill_at):
            load_key(key)
        assert not key.exists() or len(key.read_bytes()) == 65, f"killed at call {kill_at}: {key.read_bytes()!r}"
        assert len(load_key(key)) == 64 and load_key(key) == load_key(key)
    empty = tmp_path / "empty.key"
    empty.touch(mode=0o600)
    assert len(load_key(empty)) == 64
