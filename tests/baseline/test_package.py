"""The baseline package format: the shipped synthetic library regenerates from its seed, and bad
packages are refused naming the file and the field."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ben.baseline import synthetic
from ben.baseline.labels import check
from ben.baseline.package import read_package, write_package
from ben.core.errors import ConfigError

SHIPPED = Path(__file__).resolve().parents[2] / "docs" / "baseline-library"


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bl") / "library"
    desc = json.loads((SHIPPED / "datapackage.json").read_text())["description"]
    write_package(out, synthetic.build(seed=desc["seed"], files=desc["files"]))
    return out


def test_shipped_library_is_marked_synthetic_and_small() -> None:
    meta = json.loads((SHIPPED / "datapackage.json").read_text())
    assert meta["synthetic"] is True and "SYNTHETIC" in meta["title"] and meta["description"]["seed"] == synthetic.SEED
    assert "SYNTHETIC DATA" in (SHIPPED / "README.md").read_text()
    assert sum(p.stat().st_size for p in SHIPPED.rglob("*") if p.is_file()) < 1 << 20
    pkg = read_package(SHIPPED)
    assert pkg.synthetic and {e["label"] for e in pkg.episodes} == {"real", "noise"}


def test_shipped_library_regenerates_from_its_seed(regenerated: Path) -> None:
    shipped = sorted(p.relative_to(SHIPPED) for p in SHIPPED.rglob("*") if p.is_file())
    again = sorted(p.relative_to(regenerated) for p in regenerated.rglob("*") if p.is_file())
    assert shipped == again
    for rel in shipped:
        if rel.suffix == ".parquet":  # same rows (the bytes may carry the writer's version)
            assert pq.read_table(SHIPPED / rel).to_pylist() == pq.read_table(regenerated / rel).to_pylist(), rel
        else:
            assert (SHIPPED / rel).read_bytes() == (regenerated / rel).read_bytes(), rel


def _copy(tmp_path: Path) -> Path:
    dst = tmp_path / "pkg"
    shutil.copytree(SHIPPED, dst)
    return dst


def test_unknown_format_version_is_refused(tmp_path: Path) -> None:
    pkg = _copy(tmp_path)
    meta = json.loads((pkg / "datapackage.json").read_text())
    meta["ben_baseline_format"] = 2
    (pkg / "datapackage.json").write_text(json.dumps(meta))
    with pytest.raises(ConfigError) as err:
        read_package(pkg)
    assert err.value.field == "ben_baseline_format" and err.value.source.endswith("datapackage.json")


def test_schema_that_differs_is_refused_naming_the_field(tmp_path: Path) -> None:
    pkg = _copy(tmp_path)
    meta = json.loads((pkg / "datapackage.json").read_text())
    points = next(r for r in meta["resources"] if r["name"] == "points")
    points["schema"]["fields"][4]["name"] = "time"
    (pkg / "datapackage.json").write_text(json.dumps(meta))
    with pytest.raises(ConfigError) as err:
        read_package(pkg)
    assert "ts_ns" in str(err.value) and err.value.field == "resources.points.schema.fields"


def test_bad_parquet_column_and_value_are_refused_naming_file_and_field(tmp_path: Path) -> None:
    pkg = _copy(tmp_path)
    table = pq.read_table(pkg / "episodes.parquet")
    labels = table.column("label").to_pylist()
    bad = table.set_column(table.schema.get_field_index("label"), "label", pa.array(["maybe"] + labels[1:]))
    pq.write_table(bad, pkg / "episodes.parquet")
    with pytest.raises(ConfigError) as err:
        read_package(pkg)
    assert err.value.field == "label" and err.value.source.endswith("episodes.parquet") and "'maybe'" in str(err.value)

    pq.write_table(table, pkg / "episodes.parquet")  # restored
    points = pq.read_table(pkg / "points.parquet")
    pq.write_table(points.set_column(points.schema.get_field_index("value"), "value",
                                     points.column("value").cast(pa.string())), pkg / "points.parquet")
    with pytest.raises(ConfigError) as err:
        read_package(pkg)
    assert err.value.field == "value" and err.value.source.endswith("points.parquet")

    (pkg / "points.parquet").write_bytes(b"not parquet")
    with pytest.raises(ConfigError) as err:
        read_package(pkg)
    assert err.value.source.endswith("points.parquet") and "Parquet" in str(err.value)


def test_a_resource_path_out_of_the_package_or_a_directory_says_so(tmp_path: Path) -> None:
    """Both were "file missing": a path that was not the resource's own file, and a directory in its place."""
    pkg = _copy(tmp_path)
    meta = json.loads((pkg / "datapackage.json").read_text())
    next(r for r in meta["resources"] if r["name"] == "points")["path"] = "../../etc/passwd"
    (pkg / "datapackage.json").write_text(json.dumps(meta))
    with pytest.raises(ConfigError, match=r"resource points: path '../../etc/passwd', expected 'points.parquet'") as err:
        read_package(pkg)
    assert err.value.field == "resources.points.path" and err.value.source.endswith("datapackage.json")
    pkg = _copy(tmp_path / "again")
    (pkg / "episodes.parquet").unlink()
    (pkg / "episodes.parquet").mkdir()
    with pytest.raises(ConfigError, match="resource episodes: a directory, not a file"):
        read_package(pkg)


def test_missing_package_and_bad_json(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no datapackage.json"):
        read_package(tmp_path)
    (tmp_path / "datapackage.json").write_text("{nope")
    with pytest.raises(ConfigError, match="not JSON"):
        read_package(tmp_path)


@pytest.mark.parametrize("args, word", [
    (("inc-1", "maybe", "", ""), "LABEL"), (("inc-1", "real", "wobble", ""), "--kind"),
    (("x'; DROP", "real", "", ""), "ID"), (("inc-1", "real", "", "a\nb"), "--note")])
def test_label_fields_are_checked(args, word) -> None:
    with pytest.raises(ValueError, match=word):
        check(*args)
    assert check("inc-1", "noise", "", "") == "other"


def _edit(pkg: Path, resource: str, change) -> None:
    """Rewrite one resource's rows with ``change(rows)`` applied, its schema kept."""
    table = pq.read_table(pkg / f"{resource}.parquet")
    rows = table.to_pylist()
    change(rows)
    pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), pkg / f"{resource}.parquet")


@pytest.mark.parametrize("resource, change, field, said", [
    # ADR 0033 round 6: a series or episode names a file of the corpus: "../../../x" wrote <corpus>/../x.csv
    ("points", lambda r: r[0].update(series="../../../x"), "series", "is no plain file name"),
    ("points", lambda r: r[3].update(series="a/b"), "series", "row 3: 'a/b' is no plain file name"),
    ("anomalies", lambda r: r[0].update(series="a\x1b[31mb"), "series", "is no plain file name"),
    ("episodes", lambda r: r[0].update(episode=".."), "episode", "is no plain file name"),
    ("points", lambda r: r[0].update(series="x" * 201), "series", "1 to 200 characters"),
    # values a corpus cannot hold: imported, then refused by ben bench detect-real (or scored) later
    ("points", lambda r: r[2].update(value=float("nan")), "value", "row 2: value nan is not a finite number"),
    ("points", lambda r: r[0].update(value=float("-inf")), "value", "not a finite number"),
    ("points", lambda r: r[0].update(ts_ns=-5), "ts_ns", "is not a time after 1970"),
    ("episodes", lambda r: r[0].update(window_end_ns=r[0]["window_start_ns"] - 1), "window_end_ns", "is before"),
    # an episode listed twice: its anomalies were said to be "not in episodes.parquet"
    ("episodes", lambda r: r[1].update(episode=r[0]["episode"]), "episode", "rows 0 and 1: episode"),
])
def test_rows_a_corpus_cannot_hold_are_refused_and_nothing_is_written(tmp_path: Path, resource, change, field,
                                                                      said) -> None:
    from ben.baseline.package import write_detect_corpus

    pkg = _copy(tmp_path)
    _edit(pkg, resource, change)
    with pytest.raises(ConfigError) as err:
        write_detect_corpus(tmp_path / "a" / "b" / "out", read_package(pkg))
    assert err.value.field == field and err.value.source.endswith(f"{resource}.parquet"), err.value
    assert said in str(err.value), err.value
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pkg"], list(tmp_path.iterdir())  # nothing outside


@pytest.mark.parametrize("version, said", [(True, "the integer 1"), ("1", "the integer 1"), (None, "no format version"),
                                           (2, "newer than this ben reads")])
def test_a_format_version_that_is_not_the_integer_says_which(tmp_path: Path, version, said) -> None:
    pkg = _copy(tmp_path)
    meta = json.loads((pkg / "datapackage.json").read_text())
    if version is None:
        del meta["ben_baseline_format"]
    else:
        meta["ben_baseline_format"] = version
    (pkg / "datapackage.json").write_text(json.dumps(meta))
    with pytest.raises(ConfigError) as err:
        read_package(pkg)
    assert err.value.field == "ben_baseline_format" and said in str(err.value), err.value


def test_overlapping_anomalies_of_one_series_become_one_window_of_the_corpus(tmp_path: Path) -> None:
    """Two anomalies of one series in an episode (two detectors, or one that opened again) may overlap; as two
    windows, ``ben bench detect-real`` counted one of them missed whatever was detected, and now refuses such
    labels (ADR 0033 round 11). The import makes them one window; windows apart stay apart."""
    from ben.baseline.package import Package, write_detect_corpus
    from ben.detect.corpus import read_corpus

    t0 = 1_767_225_600 * 10**9
    minute = 60 * 10**9
    pkg = Package(episodes=[{"episode": "e1", "label": "real"}],
                  anomalies=[{"episode": "e1", "series": "s", "start_ns": t0 + a * minute, "end_ns": t0 + b * minute}
                             for a, b in ((10, 20), (15, 30), (40, 45))],
                  points=[{"episode": "e1", "series": "s", "ts_ns": t0 + i * minute, "value": 1.0 + i % 3}
                          for i in range(60)])
    assert write_detect_corpus(tmp_path / "corpus", pkg) == 1
    (series,) = read_corpus(tmp_path / "corpus")
    assert series.windows == ((t0 + 10 * minute, t0 + 30 * minute), (t0 + 40 * minute, t0 + 45 * minute))


@pytest.mark.parametrize("change, field, said", [
    (lambda m: m["resources"][0].update(schema=None), "resources.episodes.schema.fields", "not a list of fields"),
    (lambda m: m["resources"][0].update(schema={"fields": "x"}), "resources.episodes.schema.fields", "not a list"),
    (lambda m: m["resources"][0]["schema"].update(fields=[1, 2]), "resources.episodes.schema.fields", "not a list"),
    (lambda m: m.update(synthetic="false"), "synthetic", "is not true or false"),
    (lambda m: m.update(description="hello"), "description", "is not an object"),
])
def test_a_datapackage_of_other_shapes_names_the_field(tmp_path: Path, change, field, said) -> None:
    """Each was "unexpected AttributeError (a bug in ben)", or taken: "synthetic": "false" said SYNTHETIC."""
    pkg = _copy(tmp_path)
    meta = json.loads((pkg / "datapackage.json").read_text())
    change(meta)
    (pkg / "datapackage.json").write_text(json.dumps(meta))
    with pytest.raises(ConfigError) as err:
        read_package(pkg)
    assert err.value.field == field and said in str(err.value), err.value


def test_a_datapackage_saved_with_a_byte_order_mark_is_read_and_one_not_utf8_is_named(tmp_path: Path) -> None:
    pkg = _copy(tmp_path)
    text = (pkg / "datapackage.json").read_bytes()
    (pkg / "datapackage.json").write_bytes(b"\xef\xbb\xbf" + text)  # was "not JSON (Unexpected UTF-8 BOM ...)"
    assert read_package(pkg).synthetic
    (pkg / "datapackage.json").write_bytes(b"\xff\xfe{" + text)  # was "unexpected UnicodeDecodeError"
    with pytest.raises(ConfigError) as err:
        read_package(pkg)
    assert "not UTF-8" in str(err.value) and err.value.source.endswith("datapackage.json"), err.value


def test_a_package_an_import_would_refuse_is_not_written(tmp_path: Path, monkeypatch) -> None:
    from ben.baseline import package

    pkg = synthetic.build(seed=1, files=1)
    monkeypatch.setattr(package, "MAX_RESOURCE_ROWS", len(pkg.points) - 1)
    with pytest.raises(ConfigError, match=r"points rows, more than the .* --from/--to; nothing was written"):
        write_package(tmp_path / "out", pkg)
    assert not (tmp_path / "out").exists()
