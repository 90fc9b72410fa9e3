"""Keys, trust store and policy files: written safely, validated, errors that name the file and field."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from ben.control.keys import generate, load_signer
from ben.control.policy import Past, Policy
from ben.control.trust_store import TrustStore
from ben.core.errors import ConfigError, PolicyError, SignatureError
from tests.control.conftest import make_setup
from tests.control.test_commands import ben
from tests.helpers import killed_at_call


def test_keys_generate_writes_a_private_file_0600(home: Path) -> None:
    out = ben("keys", "generate", "ops", "--dir", str(home / "k"))
    assert out.returncode == 0, out.stderr
    key = home / "k" / "ops.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    signer = load_signer(key)
    assert f"key id:      {signer.id}" in out.stdout and signer.public_text in out.stdout
    again = ben("keys", "generate", "ops", "--dir", str(home / "k"))
    assert again.returncode == 2 and "refusing to overwrite" in again.stderr
    os.chmod(key, 0o644)
    with pytest.raises(ConfigError, match="accessible by others"):
        load_signer(key)


class _Killed(Exception):
    pass


def test_a_kill_during_keys_generate_never_leaves_a_key_without_its_public_half(home: Path, monkeypatch) -> None:
    """A kill at any write, sync or rename of ``generate``: a NAME.key on disk always has its NAME.pub
    (``ben audit verify`` and the trust store need it); a .pub alone is harmless (generate again)."""
    import pathlib

    real = {"replace": os.replace, "fsync": os.fsync, "write": os.write, "write_text": pathlib.Path.write_text}
    for kill_at in range(1, 12):
        calls = [0]

        def hook(name):
            def call(*args, **kwargs):
                calls[0] += 1
                if calls[0] == kill_at:
                    raise _Killed(name)
                return real[name](*args, **kwargs)
            return call

        directory = home / f"k{kill_at}"
        with monkeypatch.context() as m:
            for name in ("replace", "fsync", "write"):
                m.setattr(os, name, hook(name))
            m.setattr(pathlib.Path, "write_text", hook("write_text"))
            try:
                signer = generate(directory, "ops")
            except _Killed:
                signer = None
        if (directory / "ops.key").exists():
            assert (directory / "ops.pub").exists(), f"killed at call {kill_at}: a key without its .pub"
            assert load_signer(directory / "ops.key").public_text == (directory / "ops.pub").read_text().strip()
        if signer is not None:
            break
    assert signer is not None and calls[0] < kill_at, "generate never ran to the end"


def test_sequence_numbers_increase_per_key(home: Path) -> None:
    signer = generate(home, "seq")
    assert [signer.next_sequence() for _ in range(3)] == [1, 2, 3]
    assert load_signer(home / "seq.key").next_sequence() == 4


@pytest.mark.parametrize("text, field, message", [
    ('[roles.op]\nkind = "robot"\nactions = ["*"]\ntargets = ["*"]\n', "roles.op.kind", "'human' or 'automation'"),
    ('[roles.op]\nkind = "human"\nactions = []\ntargets = ["*"]\n', "roles.op.actions", "at least 1"),
    ('[[keys]]\nname = "a"\nrole = "nope"\npublic_key = "AAAA"\n', "keys[0].role", "not defined"),
    ('[roles.op]\nkind = "human"\nactions = ["*"]\ntargets = ["*"]\n[[keys]]\nname = "a"\nrole = "op"\n'
     'public_key = "abc"\n', "keys[0].public_key", "not an Ed25519 public key"),
    ('[roles.op]\nkind = "human"\nactions = ["*"]\ntargets = ["*"]\nsuperuser = true\n', "roles.op.superuser",
     "unknown field"),
])
def test_trust_store_errors_name_file_and_field(home: Path, text: str, field: str, message: str) -> None:
    path = home / "trust.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        TrustStore.load(path)
    assert str(path) in str(info.value) and field in str(info.value) and message in str(info.value)


@pytest.mark.parametrize("text, field, message", [
    ("[actions.set_mode]\ntargets = []\n", "actions.set_mode.targets", "at least 1"),
    ('[actions.set_mode]\ntargets = ["*"]\nrate = 0\n', "actions.set_mode.rate", "greater than or equal to 1"),
    ('[actions.set_mode]\ntargets = ["*"]\nblast = 3\n', "actions.set_mode.blast", "unknown field"),
    ('[actions.Set-Mode]\ntargets = ["*"]\n', "actions", "action name 'Set-Mode'"),
    ('kill_switch = "yes"\n', "kill_switch", "valid boolean"),
    # ADR 0033 round 6: a misspelt key of a rule offered nothing; contradictory or impossible limits were taken
    ('[actions.set_mode]\ntargets = ["*"]\nblast_raduis = 3\n', "actions.set_mode.blast_raduis",
     "did you mean 'actions.set_mode.blast_radius'?"),
    ('[actions.set_mode]\ntargets = ["*"]\nrate = 2\nblast_radius = 5\n', "actions.set_mode",
     "blast_radius = 5 is more than rate = 2"),
    ('[actions.set_mode]\ntargets = ["shop*", ""]\n', "actions.set_mode.targets", "an empty target pattern ''"),
    ('[actions.set_mode]\ntargets = ["*"]\nwindow_s = 99999999999999999999\n', "actions.set_mode.window_s",
     "less than or equal to 31536000"),
    ('[actions.set_mode]\ntargets = ["*"]\nbreaker_cooldown_s = 40000000\n', "actions.set_mode.breaker_cooldown_s",
     "less than or equal to 31536000"),
])
def test_policy_errors_name_file_and_rule(home: Path, text: str, field: str, message: str) -> None:
    path = home / "policy.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        Policy.load(path)
    assert str(path) in str(info.value) and field in str(info.value) and message in str(info.value), info.value


def test_policy_bounds() -> None:
    from ben.control.policy import ActionRule, PolicyModel

    policy = Policy(PolicyModel(actions={"throttle_job": ActionRule(targets=["batch-*"], blast_radius=2, rate=3,
                                                                   window_s=60, breaker_failures=2)}), "p.toml")
    now = 1_000 * 10**9
    past = [Past("throttle_job", "batch-a", now - 10 * 10**9), Past("throttle_job", "batch-b", now - 5 * 10**9)]
    policy.check("throttle_job", "batch-a", now, past)
    with pytest.raises(PolicyError) as info:
        policy.check("throttle_job", "batch-c", now, past)
    assert info.value.reason == "over_blast_radius" and "p.toml" in str(info.value)
    with pytest.raises(PolicyError) as info:
        policy.check("throttle_job", "batch-a", now, past + [Past("throttle_job", "batch-a", now - 1)])
    assert info.value.reason == "over_rate"
    policy.check("throttle_job", "batch-c", now + 61 * 10**9, past)  # the window moved on
    failed = [Past("throttle_job", "batch-a", now - 2, "failed"), Past("throttle_job", "batch-a", now - 1, "refused")]
    with pytest.raises(PolicyError) as info:
        policy.check("throttle_job", "batch-a", now + 120 * 10**9, failed)
    assert info.value.reason == "breaker_open"
    with pytest.raises(PolicyError) as info:
        policy.check("throttle_job", "web", now, [])
    assert info.value.reason == "wrong_target"
    with pytest.raises(PolicyError) as info:
        policy.check("reboot", "batch-a", now, [])
    assert info.value.reason == "action_not_allowed"


def test_trust_authorizes_by_role(home: Path) -> None:
    setup = make_setup(home)
    trust = TrustStore.load(setup.trust)
    assert trust.authorize(setup.bot.id, "throttle_job", "batch-7").name == "nightly-bot"
    for kid, action, target, reason in ((setup.bot.id, "quarantine_artifact", "batch", "wrong_role"),
                                        (setup.bot.id, "ping", "web", "wrong_target"),
                                        (setup.stranger.id, "ping", "shop", "unknown_key")):
        with pytest.raises(SignatureError) as info:
            trust.authorize(kid, action, target)
        assert info.value.reason == reason
    assert trust.approver(setup.alice.id).name == "alice"
    with pytest.raises(SignatureError):
        trust.approver(setup.victor.id)  # a human without approve = true


def test_spine_refuses_to_start_with_a_bad_trust_store(home: Path) -> None:
    bad = home / "trust.toml"
    bad.write_text('[[keys]]\nname = "a"\nrole = "ghost"\npublic_key = "x"\n')
    config = home / "ben.toml"
    config.write_text(f'[spine]\ndata_dir = "{home / "spine"}"\nlisten = "unix://{home / "s.sock"}"\n'
                      '[spine.control]\ntrust = "trust.toml"\n')
    out = ben("spine", "--config", str(config))
    assert out.returncode == 2 and str(bad) in out.stderr and "keys[0].role" in out.stderr, out.stderr[-2000:]


NOBODY = 65534


def _as_nobody(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *argv],
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("how", ["file", "symlink"])
def test_a_temporary_name_another_account_made_first_gets_no_key(home: Path, how: str) -> None:
    """``ben keys generate ops --dir <shared>`` wrote the key through ``ops.key.tmp``, a name anyone could
    guess: another account that made it first in a directory it may write (here a sticky, world-writable
    one, as /tmp) got the private key in its own file (and, through a symlink, into any file the key's
    owner may write). Now the temporary name is unguessable and made with O_EXCL, and a directory other
    accounts may write is refused, naming ``--dir``."""
    shared = home / "shared"
    shared.mkdir()
    os.chmod(home, 0o755)
    os.chmod(shared, 0o1777)
    victim = home / "victim"
    victim.write_text("untouched\n")
    planted = shared / "ops.key.tmp"
    if how == "file":
        assert _as_nobody("/bin/sh", "-c", f"umask 0; : > {planted}").returncode == 0
    else:
        assert _as_nobody("ln", "-s", str(victim), str(planted)).returncode == 0
    out = ben("keys", "generate", "ops", "--dir", str(shared))
    assert out.returncode == 2 and "--dir" in out.stderr and "other accounts may write" in out.stderr, out.stderr
    assert not (shared / "ops.key").exists()
    assert victim.read_text() == "untouched\n"
    if how == "file":
        assert planted.stat().st_size == 0  # nothing written through the planted name
    # and in a directory of its own, a leftover of that name (a kill mid-write) is no obstacle nor target
    own = home / "own"
    own.mkdir(mode=0o700)
    (own / "ops.key.tmp").write_text("left by a kill\n")
    assert ben("keys", "generate", "ops", "--dir", str(own)).returncode == 0
    assert (own / "ops.key.tmp").read_text() == "left by a kill\n"
    load_signer(own / "ops.key")


def test_the_temporary_file_is_never_one_another_account_made(home: Path) -> None:
    """The writer itself (used for keys, certificates, checkpoints, the cortex's state), below the
    directory check: a planted ``<name>.tmp`` (another account's file, or a symlink) is left alone."""
    from ben.core.files import write_atomic
    shared = home / "s"
    shared.mkdir()
    os.chmod(home, 0o755)
    os.chmod(shared, 0o1777)
    planted = shared / "x.key.tmp"
    assert _as_nobody("/bin/sh", "-c", f"umask 0; : > {planted}").returncode == 0
    write_atomic(shared / "x.key", b"secret", 0o600)
    assert planted.stat().st_size == 0 and planted.stat().st_uid == NOBODY
    st = (shared / "x.key").stat()
    assert st.st_uid == os.geteuid() and stat.S_IMODE(st.st_mode) == 0o600
    assert _as_nobody("cat", str(shared / "x.key")).returncode != 0


def test_a_kill_at_any_step_of_next_sequence_never_counts_back(home: Path, monkeypatch) -> None:
    """ADR 0046 round 6: the counter was truncated, then written: a kill between the two left an empty file,
    the count began again at 1, and the spine refused each next command as a replay of an old sequence number.
    Killed at any call of its update, the next number is above every number it gave out."""
    signer = generate(home, "seq")
    given = [signer.next_sequence() for _ in range(3)]
    for kill_at in range(1, 6):
        with killed_at_call(monkeypatch, os, ("ftruncate", "write", "pwrite", "fsync", "lseek"), kill_at):
            given.append(signer.next_sequence())
        after = signer.next_sequence()
        assert after > max(given), f"killed at call {kill_at}: {after} after {given}"
        given.append(after)
    (home / "seq.seq").write_text("x1\n")
    with pytest.raises(ConfigError, match="not a sequence number"):
        signer.next_sequence()
