"""``ben cortex accept|dismiss|feedback`` and ``ben incidents feedback`` with no spine (ADR 0033, round 7): run
in-process through ``ben.cli.main``."""

from __future__ import annotations

from pathlib import Path

from tests.cli.test_bad_input_in_process import ben


def test_no_spine_offers_no_flag_the_command_lacks(monkeypatch, capsys, home: Path) -> None:
    """Said "... (or pass --data-dir to read a stopped spine's store)": none of these commands has --data-dir."""
    for args in (("cortex", "accept", "inc-0000000000"), ("cortex", "dismiss", "inc-0000000000"),
                 ("cortex", "feedback", "inc-0000000000", "helpful"),
                 ("incidents", "feedback", "inc-0000000000", "helpful")):
        code, _, err = ben(monkeypatch, capsys, home, *args, "--spine", f"unix://{home}/none.sock")
        assert code == 2 and len(err) == 1, (args, err)
        assert "nothing answers" in err[0] and "none.sock" in err[0] and "--data-dir" not in err[0], (args, err)
        assert "--spine" in err[0], (args, err)
