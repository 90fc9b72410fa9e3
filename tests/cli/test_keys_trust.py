"""``ben keys trust --sidecar ID PUBKEY --target PATTERN``: the pin names the targets a sidecar may take commands
for (ADR 0045 round 14: without them, a pinned sidecar that announces another's subsystems is sent their
commands). Run in-process through ``ben.cli.main``; the store written is read back as the spine reads it."""

from __future__ import annotations

from pathlib import Path

from ben.control.trust_store import TrustStore
from tests.cli.test_bad_input_in_process import PUBKEY, ben


def test_a_pin_with_targets_is_read_back_with_them_and_one_without_takes_any(monkeypatch, capsys, home: Path) -> None:
    trust = home / "control.trust"
    code, out, err = ben(monkeypatch, capsys, home, "keys", "trust", "--sidecar", "sc-web", PUBKEY, "--trust",
                         str(trust), "--target", "web-*", "--target", 'odd"name')
    assert code == 0 and "for targets web-*, odd\"name" in out, (out, err)
    code, out, err = ben(monkeypatch, capsys, home, "keys", "trust", "--sidecar", "sc-any", PUBKEY, "--trust",
                         str(trust))
    assert code == 0, err
    store = TrustStore.load(trust)
    assert store.sidecar_targets == {"sc-web": ["web-*", 'odd"name'], "sc-any": None}
    # the same pin again with other targets: said, not "already pinned" with the targets asked for not written
    code, _, err = ben(monkeypatch, capsys, home, "keys", "trust", "--sidecar", "sc-web", PUBKEY, "--trust",
                       str(trust), "--target", "batch-*")
    assert code == 2 and len(err) == 1 and "--target" in err[0] and "edit its [[sidecars]] entry" in err[0], err
    code, out, _ = ben(monkeypatch, capsys, home, "keys", "trust", "--sidecar", "sc-web", PUBKEY, "--trust",
                       str(trust), "--target", "web-*", "--target", 'odd"name')
    assert code == 0 and "already pinned" in out
    assert TrustStore.load(trust).sidecar_targets["sc-web"] == ["web-*", 'odd"name']


def test_a_target_that_is_no_glob_is_refused_naming_the_flag(monkeypatch, capsys, home: Path) -> None:
    trust = home / "control.trust"
    for bad in ("", "web *", "web-\x1b[31m"):
        code, _, err = ben(monkeypatch, capsys, home, "keys", "trust", "--sidecar", "sc-web", PUBKEY, "--trust",
                           str(trust), "--target", bad)
        assert code == 2 and len(err) == 1 and "--target" in err[0], (bad, err)
    assert not trust.exists()
