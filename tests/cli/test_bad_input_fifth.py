"""A fifth stranger's bad input to ``ben`` commands (ADR 0033, Round 5), in-process through ``ben.cli.main``."""

from __future__ import annotations

from pathlib import Path

from tests.cli.test_bad_input_in_process import ben


def test_bench_flags_that_crashed_or_filled_the_disk_are_refused(monkeypatch, capsys, home: Path) -> None:
    """``--seed -1``: "unexpected ValueError ... (a bug in ben)" (numpy's generators take no negative seed);
    ``--series 1e11``: "unexpected MemoryError"; ``--files 99999999999``: wrote files until the disk was full."""
    for args, words in ((("detect-quality", "--seed", "-1"), "'--seed': must be >= 0 (got '-1')"),
                        (("detect-real", "--generate", "--seed", "-3", str(home / "c")), "'--seed': must be >= 0"),
                        (("detect", "--series", "100000000000"), "'--series': must be <= 1000000"),
                        (("detect-real", "--generate", "--files", "99999999999", str(home / "c")),
                         "'--files': must be <= 10000")):
        code, _, err = ben(monkeypatch, capsys, home, "bench", *args)
        assert code == 2 and len(err) == 1 and words in err[0], (args, code, err)
    assert not (home / "c").exists()


def test_out_of_memory_is_one_line_and_no_bug(monkeypatch, capsys, home: Path) -> None:
    import ben.cli.bench as bench

    def huge(name):
        raise MemoryError("Unable to allocate 745. GiB for an array with shape (100000000000,)")

    monkeypatch.setattr(bench, "load", huge)
    code, _, err = ben(monkeypatch, capsys, home, "bench", "detect-quality")
    assert code == 1 and err == ["error: out of memory (Unable to allocate 745. GiB for an array with shape "
                                 "(100000000000,)): ask for less (a smaller count or size)"], err


def test_a_group_s_listing_shows_each_command_s_first_paragraph_on_one_line(monkeypatch, capsys, home: Path) -> None:
    """typer (rich mode) kept the docstring's line breaks in a group's listing: "evidence in numbers, the" ended
    a line of ``ben --help`` mid-phrase, and ``ben cortex --help`` broke three entries the same way."""
    for args, phrase in ((("--help",), "every anomaly's evidence in numbers, the commands sent because of it"),
                         (("cortex", "--help"), "prints the signed-command line to run (or the advice to follow)"),
                         (("bench", "--help"), "the spine's detection capacity beside the end-to-end ingest")):
        code, out, _ = ben(monkeypatch, capsys, home, *args)
        rows = [line.strip("│ ").strip() for line in out.splitlines() if line.startswith("│")]
        assert code == 0 and phrase in " ".join(rows), out
        # a listing's row that ends a sentence's clause mid-way and the next row that starts a new entry
        assert not any(r.endswith(", the") for r in rows), out


def test_emit_takes_gauge_for_metric_and_refuses_a_key_given_twice(monkeypatch, capsys, home: Path) -> None:
    """``--kind gauge`` (the SDK's ``Client.gauge``) was "expected one of metric, ..."; ``--attr k=v --attr k=w``
    sent k=w alone, in silence."""
    import ben.cli.emit as emit

    sent = []

    class Recording:  # the SDK's Client as emit uses it (the real one is covered by the cluster tests)
        producer_id, last_error = "p", None
        stats = type("Stats", (), {"rejected": 0, "truncated": 0, "replaced_strings": 0, "last_invalid": ""})()

        def gauge(self, name, value, attrs):
            sent.append(("gauge", name, value, attrs))
            return 1

        def flush(self, timeout):
            return True

        def shutdown(self, timeout):
            return True

    monkeypatch.setattr(emit, "sidecar_listening", lambda address: "unix:///nowhere")
    monkeypatch.setattr(emit, "sdk_client", lambda *a, **k: Recording())
    code, out, err = ben(monkeypatch, capsys, home, "emit", "temp", "--kind", "gauge", "--value", "21.5",
                         "--attr", "room=a", "--attr", "room=a")
    assert code == 0 and sent == [("gauge", "temp", 21.5, {"room": "a"})], (code, out, err)
    code, _, err = ben(monkeypatch, capsys, home, "emit", "temp", "--attr", "room=a", "--attr", "room=b")
    assert code == 2 and err == ["error: --attr 'room' given twice ('a' and 'b'): an event has one value per key"]
    assert len(sent) == 1


def test_the_default_addresses_in_help_name_ben_home(monkeypatch, capsys, home: Path) -> None:
    """``--spine``'s help named ~/.local/state/ben/spine.sock even where $BEN_HOME moves it."""
    for args, text in ((("query", "--help"), "$BEN_HOME/spine.sock"), (("emit", "--help"), "$BEN_HOME/sidecar.sock")):
        code, out, _ = ben(monkeypatch, capsys, home, *args)
        assert code == 0 and text in " ".join(out.replace("│", " ").split()), out
