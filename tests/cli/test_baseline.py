"""``ben baseline generate|import|export`` given places and values a new user gets wrong (ADR 0033, round 7):
run in-process through ``ben.cli.main``, the entry point the ``ben`` script calls."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_bad_input_in_process import ben


def test_generate_and_import_write_over_nothing_of_the_users(monkeypatch, capsys, home: Path) -> None:
    """``generate`` into a directory of the user's replaced its README.md (and wrote beside the rest);
    ``import --corpus`` into one wrote data/ and labels/ among the user's files."""
    mine = home / "project"
    mine.mkdir()
    (mine / "README.md").write_text("my notes\n")
    (mine / "main.py").write_text("print(1)\n")
    code, _, err = ben(monkeypatch, capsys, home, "baseline", "generate", str(mine), "--files", "1")
    assert code == 2 and len(err) == 1 and "'OUT'" in err[0] and "'main.py'" in err[0], err
    assert (mine / "README.md").read_text() == "my notes\n" and sorted(p.name for p in mine.iterdir()) == [
        "README.md", "main.py"]
    # a README.md alone is the user's too (a package has its datapackage.json beside it)
    only_readme = home / "notes"
    only_readme.mkdir()
    (only_readme / "README.md").write_text("mine\n")
    code, _, err = ben(monkeypatch, capsys, home, "baseline", "generate", str(only_readme), "--files", "1")
    assert code == 2 and "'README.md'" in err[0] and (only_readme / "README.md").read_text() == "mine\n", err

    pkg = home / "pkg"
    code, _, err = ben(monkeypatch, capsys, home, "baseline", "generate", str(pkg), "--files", "1")
    assert code == 0, err
    for target in (mine, home / "data-only"):
        if target.name == "data-only":  # a directory of the user's named data/ is no corpus
            (target / "data").mkdir(parents=True)
            (target / "data" / "keep.csv").write_text("x\n")
        code, _, err = ben(monkeypatch, capsys, home, "baseline", "import", str(pkg), "--corpus", str(target))
        assert code == 2 and len(err) == 1 and "'--corpus'" in err[0] and "nothing was written" in err[0], err
    assert sorted(p.name for p in mine.iterdir()) == ["README.md", "main.py"]
    assert (home / "data-only" / "data" / "keep.csv").read_text() == "x\n"


def test_a_package_written_again_keeps_no_series_of_the_one_before(monkeypatch, capsys, home: Path) -> None:
    """Written again with fewer series (or another package imported into the same corpus), the corpus kept
    the older series beside the new labels: scored as series without anomalies, in silence."""
    pkg = home / "pkg"
    assert ben(monkeypatch, capsys, home, "baseline", "generate", str(pkg), "--files", "6")[0] == 0
    before = {p.relative_to(pkg) for p in (pkg / "corpus" / "data").rglob("*.csv")}
    code, _, err = ben(monkeypatch, capsys, home, "baseline", "generate", str(pkg), "--files", "1", "--seed", "3")
    assert code == 0, err
    after = {p.relative_to(pkg) for p in (pkg / "corpus" / "data").rglob("*.csv")}
    labels = json.loads((pkg / "corpus" / "labels" / "combined_windows.json").read_text())
    assert len(after) < len(before) and {f"{p.parent.name}/{p.name}" for p in after} == set(labels)
    assert not [p for p in home.rglob(".corpus.*")], "the temporary corpora are gone"

    other = home / "other"
    assert ben(monkeypatch, capsys, home, "baseline", "generate", str(other), "--files", "6")[0] == 0
    code, _, err = ben(monkeypatch, capsys, home, "baseline", "import", str(pkg), "--corpus", str(other / "corpus"))
    assert code == 0, err
    again = {p.relative_to(other / "corpus" / "data") for p in (other / "corpus" / "data").rglob("*.csv")}
    assert {f"{p.parent}/{p.name}" for p in again} == set(labels)


def test_times_and_seeds_out_of_range_are_one_line(monkeypatch, capsys, home: Path) -> None:
    """``--from inf`` / ``1e300`` was "unexpected OverflowError (a bug in ben)"; ``generate --seed -1``
    "unexpected ValueError"."""
    for args, names in [
        (("baseline", "export", str(home / "x"), "--from", "inf"), ("--from", "'inf'")),
        (("baseline", "export", str(home / "x"), "--from", "1e300"), ("--from", "'1e300'")),
        (("baseline", "export", str(home / "x"), "--to", "-1e300"), ("--to", "'-1e300'")),
        (("baseline", "export", str(home / "x"), "--to", "2300-01-01"), ("--to", "2300-01-01")),
        (("baseline", "generate", str(home / "x"), "--seed", "-1"), ("--seed", "-1")),
    ]:
        code, _, err = ben(monkeypatch, capsys, home, *args)
        assert code == 2 and len(err) == 1 and err[0].startswith("error: ") and all(n in err[0] for n in names), (
            args, err)
        assert "a bug in ben" not in err[0]
    assert not (home / "x").exists()


def test_export_from_a_directory_that_is_no_store_is_refused_and_leaves_nothing(monkeypatch, capsys, home: Path) -> None:
    """``export --data-dir`` of an empty (or missing) directory made a chDB store and a federation pseudonym key
    there, then said "no labelled incident"; a failed export left an empty OUT; ``--spine`` beside it was
    ignored."""
    empty = home / "empty"
    empty.mkdir()
    for data_dir, said in ((empty, "not a chDB store"), (home / "no" / "where", "not a directory")):
        code, _, err = ben(monkeypatch, capsys, home, "baseline", "export", str(home / "out"), "--data-dir",
                           str(data_dir))
        assert code == 2 and len(err) == 1 and "--data-dir" in err[0] and said in err[0], err
    assert not any(empty.iterdir()) and not (home / "no").exists() and not (home / "out").exists()
    code, _, err = ben(monkeypatch, capsys, home, "baseline", "export", str(home / "out"), "--data-dir", str(empty),
                       "--spine", f"unix://{home}/none.sock")
    assert code == 2 and "--data-dir and --spine" in err[0], err
    code, _, err = ben(monkeypatch, capsys, home, "baseline", "export", str(home / "out"), "--spine",
                       f"unix://{home}/none.sock")
    assert code == 2 and "nothing answers" in err[-1] and not (home / "out").exists(), err


def test_an_infinite_span_around_the_episodes_is_refused_before_anything_is_read(monkeypatch, capsys,
                                                                                   home: Path) -> None:
    """``--before-s inf`` / ``1e300`` was taken, then "unexpected OverflowError" once an episode was read."""
    for flag, value in (("--before-s", "inf"), ("--after-s", "1e300"), ("--before-s", "40000000")):
        code, _, err = ben(monkeypatch, capsys, home, "baseline", "export", str(home / "out"), flag, value,
                           "--spine", f"unix://{home}/none.sock")
        assert code == 2 and len(err) == 1 and flag in err[0] and "nothing answers" not in err[0], err
    assert not (home / "out").exists()


def test_generate_says_how_far_it_is(monkeypatch, capsys, home: Path) -> None:
    """200 series take seconds and ``generate`` said nothing until the end (ADR 0033, round 7): about ten lines
    on stderr now, the last one naming where it writes; the package is the same."""
    code, out, err = ben(monkeypatch, capsys, home, "baseline", "generate", str(home / "pkg"), "--files", "20")
    assert code == 0, err
    steps = [line for line in err if line.startswith("generate: ") and line.endswith(" series")]
    assert steps[0] == "generate: 2/20 series" and steps[-1] == "generate: 20/20 series" and len(steps) == 10, err
    assert err[-1] == f"generate: writing {home / 'pkg'}" and "SYNTHETIC baseline package" in out


def test_a_package_that_does_not_fit_on_the_disk_is_one_line_and_leaves_what_was_there(monkeypatch, capsys,
                                                                                       home: Path) -> None:
    """`ben baseline generate OUT` on a full disk: "chDB could not write Parquet:" and the child's traceback, and a
    0-byte `episodes.parquet` in the OUT it had made; over an older package, half of the new one over it. Now one
    line naming OUT, and OUT as it was (absent, or the older package whole)."""
    from tests.core.test_wal_faults import fill, tmpfs

    with tmpfs(home / "disk", "4m") as disk:
        old = disk / "pkg"
        assert ben(monkeypatch, capsys, home, "baseline", "generate", str(old), "--files", "2")[0] == 0
        before = {p.relative_to(old): p.read_bytes() for p in old.rglob("*") if p.is_file()}
        fill(disk / "filler")
        for out in (old, disk / "new"):
            code, _, err = ben(monkeypatch, capsys, home, "baseline", "generate", str(out), "--files", "2",
                               "--seed", "9")
            assert code == 2 and err[-1].startswith("error: ") and "OUT" in err[-1], err
            assert str(out) in err[-1] and "No space left on device" in err[-1], err
            assert not any("Traceback" in line or line.startswith("  File ") for line in err), err
        assert not (disk / "new").exists()
        assert {p.relative_to(old): p.read_bytes() for p in old.rglob("*") if p.is_file()} == before
        assert sorted(p.name for p in disk.iterdir()) == ["filler", "pkg"]  # no staging directory left


def test_a_package_whose_parquet_declares_more_than_an_import_holds_is_refused_before_reading(
        monkeypatch, capsys, home: Path) -> None:
    """A package is a stranger's file: 3,000,000 equal points compress to a few kilobytes of Parquet and took
    about 3 GB of the importer's memory (a Python object per row). The footer's row count and decompressed size
    are checked first; the limits are lowered here so the test needs no gigabytes."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from ben.baseline import package

    pkg = home / "pkg"
    assert ben(monkeypatch, capsys, home, "baseline", "generate", str(pkg), "--files", "1")[0] == 0
    points = pkg / "points.parquet"
    table = pq.read_table(points)
    row = table.slice(0, 1).to_pylist()[0]
    n = 3_000_000
    bomb = pa.table({f.name: pa.repeat(pa.scalar(row[f.name], f.type), n) for f in table.schema}, schema=table.schema)
    pq.write_table(bomb, points, compression="zstd")
    assert points.stat().st_size < 200_000  # a few kilobytes on disk: the size of the file says nothing
    monkeypatch.setattr(package, "MAX_RESOURCE_ROWS", 1_000_000, raising=False)
    code, _, err = ben(monkeypatch, capsys, home, "baseline", "import", str(pkg), "--corpus", str(home / "c"))
    assert code == 2 and len(err) == 1 and "points.parquet" in err[0] and "3,000,000 rows" in err[0], err
    # values all different take their size once decompressed (a long unique text would too)
    import random

    rng = random.Random(1)
    spread = pa.table({f.name: (pa.array([rng.random() for _ in range(100_000)], f.type) if f.name == "value"
                                else pa.repeat(pa.scalar(row[f.name], f.type), 100_000)) for f in table.schema},
                      schema=table.schema)
    pq.write_table(spread, points, compression="zstd")
    monkeypatch.setattr(package, "MAX_RESOURCE_BYTES", 256 << 10, raising=False)
    code, _, err = ben(monkeypatch, capsys, home, "baseline", "import", str(pkg), "--corpus", str(home / "c"))
    assert code == 2 and len(err) == 1 and "points.parquet" in err[0] and "once decompressed" in err[0], err
    assert not (home / "c").exists()
