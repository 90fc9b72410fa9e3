"""The labelled-corpus layout (read/write), the realistic generator, and ben bench detect-real."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from ben.cli import app
from ben.detect import DetectorError
from ben.detect.corpus import generate_corpus, generate_hard_corpus, read_corpus, write_corpus


def test_generated_corpus_round_trips(tmp_path):
    series = generate_corpus(6, seed=3)
    write_corpus(tmp_path, series)
    back = read_corpus(tmp_path)
    assert sorted(s.name for s in back) == sorted(s.name for s in series)
    by = {s.name: s for s in back}
    for s in series:
        b = by[s.name]
        assert np.array_equal(b.ts_ns, s.ts_ns // 1_000_000_000 * 1_000_000_000)
        assert np.allclose(b.values, s.values)
        assert [(a // 10**9, z // 10**9) for a, z in b.windows] == [(a // 10**9, z // 10**9) for a, z in s.windows]


def test_generator_is_realistic_enough():
    series = generate_corpus(40, seed=17)
    gaps = [np.median(np.diff(s.ts_ns)) / 1e9 for s in series]
    assert {60, 300, 3600} <= {round(g / 60) * 60 for g in gaps if g >= 50}
    assert any(np.all(s.values == np.round(s.values)) for s in series)          # integer counts
    assert sum(len(s.windows) for s in series) >= 30
    assert any(not s.windows for s in series)                                    # files with no incident
    kinds = {k for s in series for k in s.kinds}
    assert {"burst", "failure", "shift", "spike", "pattern"} <= kinds            # storms, failing sensors
    assert any(s.name.startswith("mentions/") for s in series)                   # bursty mention counts
    hourly = [len(s.values) for s in series if np.median(np.diff(s.ts_ns)) >= 3000e9]
    assert hourly and all(1200 <= n <= 2200 for n in hourly)                      # ~1,500 hourly points
    assert sum(len(s.values) == 4032 for s in series) >= 5                       # two weeks at 5 min
    assert max(len(s.values) for s in series) >= 12000


def test_hard_generator_has_the_categories_it_names():
    series = generate_hard_corpus(10, seed=1)
    assert generate_hard_corpus(10, seed=1)[3].values.tolist() == series[3].values.tolist()   # deterministic
    by = {s.name.split("/")[0]: s for s in series}
    assert set(by) == {"traffic", "adexchange", "deploy", "heating", "storms"}
    steps = np.diff(by["traffic"].ts_ns) / 1e9
    assert steps.min() < 240 and np.percentile(steps, 90) > 600 and steps.max() > 3600    # irregular, outages
    hourly = by["adexchange"]
    assert np.median(np.diff(hourly.ts_ns)) == 3600e9 and 1300 <= len(hourly.values) < 1700
    storms = by["storms"].values
    assert (storms == 0).mean() > 0.2 and storms.max() >= 10                            # zeros and storms
    assert len(by["heating"].windows) == 2                                              # heating, then failure
    dep = by["deploy"]
    (a, z), = dep.windows
    onset = int(np.searchsorted(dep.ts_ns, (a + z) // 2))
    before, after = np.median(dep.values[onset - 300:onset - 10]), np.median(dep.values[onset + 10:])
    assert abs(after - before) > 20                                                     # the shift persists
    for s in series:
        w0 = s.windows[0][0]
        assert w0 >= s.ts_ns[int(0.15 * len(s.ts_ns))]                                  # after the probation


def test_bad_corpus_is_named(tmp_path):
    with pytest.raises(DetectorError, match="no data/"):
        read_corpus(tmp_path)
    (tmp_path / "data" / "g").mkdir(parents=True)
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "combined_windows.json").write_text("{}")
    (tmp_path / "data" / "g" / "x.csv").write_text("time,val\n1,2\n")
    with pytest.raises(DetectorError, match="x.csv.*header"):
        read_corpus(tmp_path)
    (tmp_path / "data" / "g" / "x.csv").write_text("timestamp,value\nyesterday,2\n")
    with pytest.raises(DetectorError, match="x.csv:2.*timestamp"):
        read_corpus(tmp_path)


def test_bench_detect_real_json(tmp_path):
    series = generate_corpus(3, seed=5)
    write_corpus(tmp_path, series)
    res = CliRunner().invoke(app, ["bench", "detect-real", str(tmp_path), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    for key in ("standard", "low_fp", "low_fn", "precision", "recall", "median_delay_s"):
        assert key in out
    assert len(out["files"]) == 3 and -100 <= out["standard"] <= 100


def test_bench_detect_real_generates_the_hard_corpus(tmp_path):
    res = CliRunner().invoke(app, ["bench", "detect-real", str(tmp_path / "c"), "--generate", "--hard",
                                   "--files", "5", "--seed", "2", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert sorted(f["file"].split("/")[0] for f in out["files"]) == sorted(
        ["traffic", "adexchange", "deploy", "heating", "storms"])
    assert out["windows"] == 6 and -100 <= out["standard"] <= 100


def test_semi_real_injection_labels_what_it_changes():
    from ben.cli.bench import load

    rb = load("real_backgrounds")
    ts = (1_767_225_600 + np.arange(4032) * 1800) * 1_000_000_000
    x = 100 + 10 * np.sin(np.arange(4032) * 2 * np.pi / 48)
    for seed in range(6):
        s = rb.inject("g/f.csv", ts, x, np.random.default_rng(seed))
        assert 1 <= len(s.windows) == len(s.kinds) <= 3
        changed = np.flatnonzero(s.values != x)
        assert len(changed) and changed[0] >= int(0.15 * len(x))          # after the probationary period
        first = min(a for a, _ in s.windows)
        assert first <= ts[changed[0]]                                     # the first change is labelled
        width = 0.1 * len(x) / len(s.windows) * 1800e9
        assert all(abs((b - a) - width) <= 2 * 1800e9 for a, b in s.windows)


_GOOD_CSV = "timestamp,value\n2026-01-01 00:00:00,1\n2026-01-01 00:05:00,2\n2026-01-01 00:10:00,3\n"
_GOOD_LABELS = {"g/a.csv": [["2026-01-01 00:00:00", "2026-01-01 00:05:00"]]}

#: (what is wrong, the CSV's bytes or None for the good one, the labels (None: no file; str: raw text), the
#: error's start (the file, and its line where there is one), a word of the reason)
BAD_CORPORA = [
    ("binary file", b"timestamp,value\n\xd0\xcf\x11\xe0\x00\x01", _GOOD_LABELS, "data/g/a.csv:2:", "UTF-8"),
    ("NUL byte", b"timestamp,value\n2026-01-01 00:00:00,1\x00\n", _GOOD_LABELS, "data/g/a.csv:2:", "NUL"),
    ("empty file", b"", _GOOD_LABELS, "data/g/a.csv:", "empty"),
    ("header only", b"timestamp,value\n", _GOOD_LABELS, "data/g/a.csv:", "no rows"),
    ("short row", b"timestamp,value\n2026-01-01 00:00:00,1\n2026-01-01 00:05:00\n", _GOOD_LABELS,
     "data/g/a.csv:3:", "timestamp,value"),
    ("NaN value", b"timestamp,value\n2026-01-01 00:00:00,1\n2026-01-01 00:05:00,nan\n", _GOOD_LABELS,
     "data/g/a.csv:3:", "finite"),
    ("inf value", b"timestamp,value\n2026-01-01 00:00:00,-inf\n", _GOOD_LABELS, "data/g/a.csv:2:", "finite"),
    ("inf timestamp", b"timestamp,value\ninf,1\n", _GOOD_LABELS, "data/g/a.csv:2:", "no time"),
    ("time goes back", b"timestamp,value\n2026-01-01 00:10:00,1\n2026-01-01 00:05:00,2\n", _GOOD_LABELS,
     "data/g/a.csv:3:", "time order"),
    ("no labels file", None, None, "labels/combined_windows.json:", "not found"),
    ("labels not JSON", None, '{"g/a.csv": [[\n', "labels/combined_windows.json:2:", "not JSON"),
    ("labels a list", None, "[1, 2]", "labels/combined_windows.json:", "JSON object"),
    ("windows not a list", None, {"g/a.csv": "soon"}, "labels/combined_windows.json:", "list"),
    ("label of no file", None, {"g/zzz.csv": []}, "labels/combined_windows.json:", "g/zzz.csv"),
    ("window outside the data", None, {"g/a.csv": [["2030-01-01", "2030-01-02"]]}, "labels/combined_windows.json:",
     "outside"),
    ("window reversed", None, {"g/a.csv": [["2026-01-01 00:10:00", "2026-01-01 00:00:00"]]},
     "labels/combined_windows.json:", "before its start"),
    ("window of one time", None, {"g/a.csv": [["2026-01-01 00:10:00"]]}, "labels/combined_windows.json:",
     "[start, end]"),
    # ADR 0033 round 11: json keeps the last of a key given twice, and a row is scored in one window only
    ("file named twice", None, '{"g/a.csv": [["2026-01-01 00:00:00", "2026-01-01 00:05:00"]],\n "g/a.csv": []}',
     "labels/combined_windows.json:2:", "'g/a.csv' is given twice"),
    ("window given twice", None, {"g/a.csv": _GOOD_LABELS["g/a.csv"] * 2}, "labels/combined_windows.json:",
     "window 1 ['2026-01-01 00:00:00', '2026-01-01 00:05:00'] is window 0 again"),
    ("windows that overlap", None, {"g/a.csv": [["2026-01-01 00:05:00", "2026-01-01 00:10:00"],
                                                ["2026-01-01 00:00:00", "2026-01-01 00:05:00"]]},
     "labels/combined_windows.json:", "window 1 ['2026-01-01 00:00:00', '2026-01-01 00:05:00'] overlaps window 0"),
]


@pytest.mark.parametrize("case", BAD_CORPORA, ids=[c[0] for c in BAD_CORPORA])
def test_a_bad_corpus_names_the_file_and_the_line(tmp_path, case):
    """Each was read in silence (NaN kept, rows sorted, short rows and stray labels dropped, a missing labels
    file taken as "no anomalies") or raised an exception that was no DetectorError (a bug in ben)."""
    _, data, labels, where, reason = case
    (tmp_path / "data" / "g").mkdir(parents=True)
    (tmp_path / "data" / "g" / "a.csv").write_bytes(_GOOD_CSV.encode() if data is None else data)
    if labels is not None:
        (tmp_path / "labels").mkdir()
        text = labels if isinstance(labels, str) else json.dumps(labels)
        (tmp_path / "labels" / "combined_windows.json").write_text(text)
    with pytest.raises(DetectorError) as caught:
        read_corpus(tmp_path)
    message = str(caught.value)
    assert message.startswith(str(tmp_path / where)) and reason in message, message
    assert "\n" not in message


def test_a_csv_or_labels_saved_with_a_byte_order_mark_are_read_and_utf16_is_named(tmp_path):
    """Excel's "CSV UTF-8" (and Notepad's UTF-8) put a byte order mark first: the header was refused as not
    'timestamp,value'. UTF-16 ("Unicode" in Windows) was "not UTF-8 text (a binary file?)"."""
    (tmp_path / "data" / "g").mkdir(parents=True)
    (tmp_path / "labels").mkdir()
    (tmp_path / "data" / "g" / "a.csv").write_bytes(b"\xef\xbb\xbf" + _GOOD_CSV.encode())
    (tmp_path / "labels" / "combined_windows.json").write_bytes(b"\xef\xbb\xbf" + json.dumps(_GOOD_LABELS).encode())
    (series,) = read_corpus(tmp_path)
    assert list(series.values) == [1.0, 2.0, 3.0] and len(series.windows) == 1
    (tmp_path / "data" / "g" / "a.csv").write_bytes(_GOOD_CSV.encode("utf-16"))
    with pytest.raises(DetectorError) as caught:
        read_corpus(tmp_path)
    assert str(caught.value) == f"{tmp_path / 'data' / 'g' / 'a.csv'}: UTF-16 text, not UTF-8 (save the file as UTF-8)"


def test_bench_detect_real_on_a_bad_corpus_is_one_line(tmp_path, capsys, monkeypatch):
    """Through ``ben``'s own entry point: one ``error:`` line naming the file and line, exit 2."""
    import sys

    from ben.cli import main

    (tmp_path / "data" / "g").mkdir(parents=True)
    (tmp_path / "data" / "g" / "a.csv").write_text("timestamp,value\n2026-01-01 00:00:00,nan\n")
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "combined_windows.json").write_text("{}")
    monkeypatch.setattr(sys, "argv", ["ben", "bench", "detect-real", str(tmp_path), "--json"])
    with pytest.raises(SystemExit) as exited:
        main()
    err = capsys.readouterr().err.strip().splitlines()
    assert exited.value.code == 2 and len(err) == 1, err
    assert err[0] == f"error: {tmp_path}/data/g/a.csv:2: value 'nan' is not a finite number", err


def test_bench_detect_real_json_is_strict_json_on_a_tiny_corpus(tmp_path, capsys, monkeypatch):
    """A corpus too small to score gave ``Infinity`` in ``--json`` (no strict parser reads it): null now."""
    import json
    import sys

    from ben.cli import main

    (tmp_path / "data" / "g").mkdir(parents=True)
    rows = "".join(f"2026-01-01 00:{i:02d}:00,{1.0 + (i % 3)}\n" for i in range(20))
    (tmp_path / "data" / "g" / "a.csv").write_text("timestamp,value\n" + rows)
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "combined_windows.json").write_text("{}")
    monkeypatch.setattr(sys, "argv", ["ben", "bench", "detect-real", str(tmp_path), "--json"])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code in (0, None)

    def refuse(constant: str):
        raise AssertionError(f"{constant} in --json output")

    result = json.loads(capsys.readouterr().out, parse_constant=refuse)
    assert {"standard", "low_fp", "low_fn"} <= set(result)


def test_windows_nab_does_not_score_are_said_not_left_out_in_silence(tmp_path, capsys, monkeypatch):
    """A window ending within its file's probationary period (or holding no row) is not scored by NAB's rules:
    ``"windows": 0`` of a corpus whose labels gave one, and nothing said; a file of ``data/`` saved as ``.CSV`` or
    compressed was left out in silence (ADR 0033 round 11). Said on stderr now, with ``--json`` too; the JSON on
    stdout is unchanged."""
    import sys

    from ben.cli import main

    (tmp_path / "data" / "g").mkdir(parents=True)
    rows = "".join(f"{1_767_225_600 + 60 * i},{1.0 + (i % 3)}\n" for i in range(100))  # probation: 15 rows
    (tmp_path / "data" / "g" / "a.csv").write_text("timestamp,value\n" + rows)
    for other in ("B.CSV", "c.csv.gz", ".DS_Store"):  # saved as .CSV, compressed; a hidden file is no data
        (tmp_path / "data" / "g" / other).write_text("timestamp,value\n")
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "combined_windows.json").write_text(json.dumps(
        {"g/a.csv": [[1_767_225_600 + 60, 1_767_225_600 + 600], [1_767_225_600 + 3000.5, 1_767_225_600 + 3001]]}))
    monkeypatch.setattr(sys, "argv", ["ben", "bench", "detect-real", str(tmp_path), "--json"])
    with pytest.raises(SystemExit) as exited:
        main()
    out = capsys.readouterr()
    assert exited.value.code in (0, None) and json.loads(out.out)["windows"] == 0
    assert out.err.strip().splitlines() == [
        "detect-real: 2 labelled windows are not scored (NAB's rules): g/a.csv window 0: it ends within the file's "
        "first 15 rows, NAB's probationary period (15% of the rows, at most 750); g/a.csv window 1: no row of the "
        "file is inside it",
        f"detect-real: 2 files of {tmp_path / 'data'} not read (only *.csv is read): g/B.CSV, g/c.csv.gz"], out.err
