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
