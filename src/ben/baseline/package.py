"""The baseline dataset on disk, format ``ben-baseline`` version 1: write, read and validate it.

Layout of a package directory::

    datapackage.json    Frictionless Data Package (profile tabular-data-package), a schema per resource,
                        ``ben_baseline_format`` (this module's FORMAT_VERSION) and ``synthetic``
    README.md           the datasheet (Gebru et al., "Datasheets for Datasets")
    episodes.parquet    one row per labelled episode (an incident): labels and the policy's facts
    anomalies.parquet   one row per anomaly of an episode: its series, window and numeric evidence
    points.parquet      the series: before, during and after each episode
    corpus/             the same series in ``ben bench detect-real``'s layout (data/<episode>/<series>.csv,
                        labels/combined_windows.json: the anomaly windows of episodes labelled real)

The Parquet files are written by ClickHouse's own Parquet output (chDB, ``FORMAT Parquet``) from the
rows, in a child process (chDB keeps one session per process). They are read with pyarrow (already
one of ben's dependencies). Reading checks the format version, every resource's columns and types
against the schema below, and the enumerated values; an error names the file and the field.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ben.core.errors import ConfigError
from ben.core.files import may_write_dir, replace_dir
from ben.core.interpreter import python_argv

FORMAT_VERSION = 1
NAME = "ben-baseline"
LABELS = ("real", "noise")
KINDS = ("spike", "level", "drift", "seasonal", "other")
PHASES = ("before", "during", "after")

# resource -> [(field, ClickHouse type, Frictionless type, description)], in column order.
SCHEMAS: dict[str, list[tuple[str, str, str, str]]] = {
    "episodes": [
        ("episode", "String", "string", "episode id (the incident's pseudonym, or a synthetic id)"),
        ("label", "String", "string", "real | noise (the operator's verdict)"),
        ("kind", "String", "string", "spike | level | drift | seasonal | other"),
        ("note", "String", "string", "the operator's note; empty unless the policy sets export_notes"),
        ("subsystem", "String", "string", "pseudonym of the subsystem (keyed HMAC)"),
        ("subsystem_class", "String", "string", "operator-declared class (postgres, nginx, ...) or other"),
        ("state", "String", "string", "open | acknowledged | resolved"),
        ("severity", "String", "string", "low | medium | high | critical"),
        ("detector", "String", "string", "the lead anomaly's first detector"),
        ("direction", "String", "string", "up | down"),
        ("magnitude", "String", "string", "magnitude class: <1.5x | 1.5-3x | 3-10x | >10x"),
        ("duration", "String", "string", "duration bucket: <5m | 5-30m | 30m-2h | 2-12h | >12h | ongoing"),
        ("anomalies", "Int64", "integer", "anomalies in the incident"),
        ("opened_minute", "Int64", "integer", "unix seconds, generalised to the minute (0: withheld)"),
        ("resolved_minute", "Int64", "integer", "unix seconds, generalised to the minute (0: open or withheld)"),
        ("window_start_ns", "Int64", "integer", "start of the exported series window (unix ns)"),
        ("window_end_ns", "Int64", "integer", "end of the exported series window (unix ns)"),
    ],
    "anomalies": [
        ("episode", "String", "string", "the episode"),
        ("series", "String", "string", "pseudonym of the series (subsystem, metric name and attributes)"),
        ("start_ns", "Int64", "integer", "anomaly start (unix ns)"),
        ("end_ns", "Int64", "integer", "anomaly end (unix ns; the episode's end while it was ongoing)"),
        ("baseline", "Float64", "number", "expected value"),
        ("observed", "Float64", "number", "observed value"),
        ("score", "Float64", "number", "detector score"),
        ("detectors", "String", "string", "detectors that flagged it, comma-separated"),
        ("evidence", "String", "string", "JSON: per-detector numeric statistics (no text)"),
    ],
    "points": [
        ("episode", "String", "string", "the episode"),
        ("series", "String", "string", "pseudonym of the series"),
        ("metric_kind", "String", "string", "metric | counter (a counter's raw cumulative value)"),
        ("phase", "String", "string", "before | during | after the episode's anomalies"),
        ("ts_ns", "Int64", "integer", "point time (unix ns)"),
        ("value", "Float64", "number", "point value"),
    ],
}
ORDER = {"episodes": "episode", "anomalies": "episode, series, start_ns", "points": "episode, series, ts_ns"}
ENUMS = {("episodes", "label"): LABELS, ("episodes", "kind"): KINDS, ("points", "phase"): PHASES,
         ("points", "metric_kind"): ("metric", "counter")}
_ARROW = {"String": ("string", "large_string", "binary", "large_binary"), "Int64": ("int64",),
          "Float64": ("double",)}


@dataclass
class Package:
    """A dataset in memory: rows per resource (dicts keyed by the schema's fields) and its metadata."""

    episodes: list[dict] = field(default_factory=list)
    anomalies: list[dict] = field(default_factory=list)
    points: list[dict] = field(default_factory=list)
    synthetic: bool = False
    description: dict = field(default_factory=dict)  # source, period, policy, generator seed, ...

    def rows(self, resource: str) -> list[dict]:
        return getattr(self, resource)


def _error(path: Path, what: str, fieldname: str = "") -> ConfigError:
    return ConfigError(f"baseline package: {what}", source=str(path), field=fieldname or None)


# --------------------------------------------------------------------------------------------- writing
#: What a package directory holds: a directory holding anything else is not written over (``ben baseline
#: generate ~`` replaced a README.md of the user's; ADR 0033, round 7). A detect-real corpus: ben.detect.corpus.
PACKAGE_FILES = frozenset({"datapackage.json", "README.md", "corpus", *(f"{name}.parquet" for name in SCHEMAS)})


def _to_parquet(jobs: list[tuple[Path, str, Path, str]]) -> None:
    """(JSONEachRow in, structure, Parquet out, ORDER BY) each through chDB's Parquet output, in a child.
    Its failure is its last line (a file it could not write: ``_child``'s one line; else the exception's)."""
    spec = json.dumps([[str(a), s, str(b), o] for a, s, b, o in jobs])
    proc = subprocess.run(python_argv("-m", "ben.baseline.package", spec), capture_output=True, text=True,
                          timeout=300)
    if proc.returncode != 0:
        last = next((line.strip() for line in reversed(proc.stderr.splitlines()) if line.strip()), "")
        raise ConfigError(f"baseline package: chDB could not write Parquet: {last[-500:]}",
                          source=str(jobs[0][2].parent), field=None)


def _clean(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN: Parquet gets a null-free 0 below
    return value


def datapackage(pkg: Package) -> dict:
    resources = []
    for name, cols in SCHEMAS.items():
        fields = [{"name": f, "type": t, "description": d} for f, _, t, d in cols]
        for f in fields:
            if (name, f["name"]) in ENUMS:
                f["constraints"] = {"enum": list(ENUMS[(name, f["name"])])}
        resources.append({"name": name, "path": f"{name}.parquet", "profile": "tabular-data-resource",
                          "format": "parquet", "mediatype": "application/vnd.apache.parquet",
                          "schema": {"fields": fields}})
    return {"profile": "tabular-data-package", "name": NAME + ("-synthetic" if pkg.synthetic else ""),
            "title": "ben baseline library: labelled operational episodes" + (" (SYNTHETIC)" if pkg.synthetic else ""),
            "version": f"{FORMAT_VERSION}.0.0", "ben_baseline_format": FORMAT_VERSION, "synthetic": pkg.synthetic,
            "description": pkg.description, "licenses": [{"name": "CC-BY-4.0",
                                                          "path": "https://creativecommons.org/licenses/by/4.0/"}],
            "resources": resources}


def check_package_out(out: Path) -> None:
    """Raise the ConfigError :func:`write_package` would for ``out`` (before long work, not after it)."""
    may_write_dir(Path(out), PACKAGE_FILES, "datapackage.json", "README.md", "OUT", "a baseline package")


def write_package(out: Path, pkg: Package) -> None:
    """Write ``pkg`` as a package directory (Parquet, datapackage.json, README.md datasheet, corpus/), whole or
    not at all (``replace_dir``): a full disk or a kill left a half-written package (a 0-byte Parquet file and no
    datapackage.json) in a directory the command had made, or half of a new one over an old one."""
    out = Path(out)
    check_package_out(out)
    for name in SCHEMAS:  # what an import would refuse is not written (ADR 0038, "2026-12-07")
        if len(pkg.rows(name)) > MAX_RESOURCE_ROWS:
            raise ConfigError(f"cannot write {out}: {len(pkg.rows(name)):,} {name} rows, more than the "
                              f"{MAX_RESOURCE_ROWS:,} a package's resource may hold (export a shorter period: "
                              "--from/--to; nothing was written)", field="OUT")
    try:
        replace_dir(out, lambda staging: _write_package(staging, pkg), "OUT")
    except OSError as exc:
        raise ConfigError(f"cannot write {out}: {exc.strerror or exc} (nothing of it was written)",
                          field="OUT") from None
    except ConfigError as exc:
        if "could not write Parquet" not in str(exc):
            raise
        raise ConfigError(f"cannot write {out}: {str(exc).split('could not write Parquet: ', 1)[1]} (nothing "
                          "of it was written)", field="OUT") from None


def _write_package(out: Path, pkg: Package) -> None:
    from ben.baseline.datasheet import datasheet

    with tempfile.TemporaryDirectory(prefix="ben-baseline-") as tmp:
        jobs = []
        for name, cols in SCHEMAS.items():
            src = Path(tmp) / f"{name}.jsonl"
            with src.open("w") as fh:
                for row in pkg.rows(name):
                    fh.write(json.dumps({f: _clean(row[f]) for f, *_ in cols}) + "\n")
            structure = ", ".join(f"{f} {t}" for f, t, *_ in cols)
            jobs.append((src, structure, out / f"{name}.parquet", ORDER[name]))
        _to_parquet(jobs)
    (out / "datapackage.json").write_text(json.dumps(datapackage(pkg), indent=1, sort_keys=True) + "\n")
    (out / "README.md").write_text(datasheet(pkg))
    write_detect_corpus(out / "corpus", read_package(out))


# --------------------------------------------------------------------------------------------- reading
def read_package(root: Path) -> Package:
    """Read and validate a package directory; ConfigError naming the file and field otherwise."""
    import pyarrow.parquet as pq

    root = Path(root)
    meta_path = root / "datapackage.json"
    if not meta_path.is_file():
        raise _error(root, "no datapackage.json (not a baseline package directory)")
    try:  # a byte order mark (a file saved by Notepad) is no error, as for every file ben reads
        meta = json.loads(meta_path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as exc:  # was "unexpected UnicodeDecodeError (a bug in ben)"
        raise _error(meta_path, f"not UTF-8 text (byte {exc.start}): not JSON") from None
    except json.JSONDecodeError as exc:
        raise _error(meta_path, f"not JSON ({exc})") from None
    if not isinstance(meta, dict) or meta.get("profile") != "tabular-data-package":
        raise _error(meta_path, "expected profile tabular-data-package", "profile")
    version = meta.get("ben_baseline_format")
    if version is None:  # was "format version None is not one this ben reads"
        raise _error(meta_path, "no format version: not a ben baseline package (ben baseline export writes one)",
                     "ben_baseline_format")
    if type(version) is int and version > FORMAT_VERSION:
        raise _error(meta_path, f"format version {version} is newer than this ben reads ({FORMAT_VERSION}): "
                                "a newer ben wrote it", "ben_baseline_format")
    if type(version) is not int or version != FORMAT_VERSION:  # true was read as 1
        raise _error(meta_path, f"format version {version!r} is not one this ben reads (the integer "
                                f"{FORMAT_VERSION})", "ben_baseline_format")
    synthetic = meta.get("synthetic", False)
    if type(synthetic) is not bool:  # "false" was read as true: the package said SYNTHETIC
        raise _error(meta_path, f"synthetic {synthetic!r:.40} is not true or false", "synthetic")
    description = meta.get("description") or {}
    if not isinstance(description, dict):
        raise _error(meta_path, f"description {description!r:.40} is not an object", "description")
    resources = meta.get("resources", [])
    declared = {r.get("name"): r for r in resources if isinstance(r, dict)} if isinstance(resources, list) else {}
    pkg = Package(synthetic=synthetic, description=description)
    for name, cols in SCHEMAS.items():
        res = declared.get(name)
        if res is None:
            raise _error(meta_path, f"no resource {name!r}", "resources")
        schema = res.get("schema")
        listed = schema.get("fields") if isinstance(schema, dict) else None
        if not isinstance(listed, list) or not all(isinstance(f, dict) for f in listed):  # was an AttributeError
            raise _error(meta_path, f"resource {name}: schema.fields is not a list of fields "
                                    "({\"name\": ..., \"type\": ...})", f"resources.{name}.schema.fields")
        fields = [(f.get("name"), f.get("type")) for f in listed]
        want = [(f, t) for f, _, t, _ in cols]
        if fields != want:
            bad = next((w for w, h in zip(want + [None] * len(fields), fields + [None] * len(want)) if w != h), None)
            raise _error(meta_path, f"resource {name}: schema differs from format {FORMAT_VERSION} at "
                                    f"{bad[0] if bad else '?'}", f"resources.{name}.schema.fields")
        if res.get("path") != f"{name}.parquet":  # never a path out of the package ("../../etc/passwd")
            raise _error(meta_path, f"resource {name}: path {res.get('path')!r}, expected '{name}.parquet'",
                         f"resources.{name}.path")
        path = root / f"{name}.parquet"
        if not path.is_file():
            what = "a directory, not a file" if path.is_dir() else "file missing"
            raise _error(path, f"resource {name}: {what}", f"resources.{name}.path")
        try:
            _check_size(path, pq.ParquetFile(path).metadata)
            table = pq.read_table(path)
        except ConfigError:
            raise
        except Exception as exc:  # pyarrow raises several kinds for a damaged file
            raise _error(path, f"not a readable Parquet file ({exc})") from None
        for f, ch_type, _, _ in cols:
            if f not in table.column_names:
                raise _error(path, "column missing", f)
            arrow = str(table.schema.field(f).type)
            if arrow not in _ARROW[ch_type]:
                raise _error(path, f"column has type {arrow}, expected {ch_type}", f)
        rows = table.select([f for f, *_ in cols]).to_pylist()
        for (res_name, f), allowed in ENUMS.items():
            if res_name != name:
                continue
            for i, row in enumerate(rows):
                value = row[f].decode() if isinstance(row[f], bytes) else row[f]
                if value not in allowed:
                    raise _error(path, f"row {i}: {value!r} is not one of {', '.join(allowed)}", f)
        for row in rows:
            for f, ch_type, _, _ in cols:
                if isinstance(row[f], bytes):
                    row[f] = row[f].decode()
        _check_rows(path, name, rows)
        setattr(pkg, name, rows)
    episodes = {e["episode"] for e in pkg.episodes}
    for name in ("anomalies", "points"):
        for i, row in enumerate(pkg.rows(name)):
            if row["episode"] not in episodes:
                raise _error(root / f"{name}.parquet", f"row {i}: episode {row['episode']!r} is not in "
                                                       "episodes.parquet", "episode")
    return pkg


#: The most rows one resource may hold, and the most bytes its columns may take once decompressed, as its
#: footer declares them (checked before a row is read). A package is a stranger's file: a few kilobytes of
#: Parquet can declare gigabytes of repeated values, and every row becomes a Python object here (about 1 KB),
#: so past these an import would take the machine's memory. The shipped library holds 12,674 points.
MAX_RESOURCE_ROWS = 5_000_000
MAX_RESOURCE_BYTES = 1 << 30


def _check_size(path: Path, meta) -> None:
    """Refuse a resource whose footer declares more rows or decompressed bytes than an import holds."""
    rows = meta.num_rows
    size = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    if rows > MAX_RESOURCE_ROWS:
        raise _error(path, f"{rows:,} rows: more than the {MAX_RESOURCE_ROWS:,} one resource of a package may hold "
                           "(split the export into several packages)")
    if size > MAX_RESOURCE_BYTES:
        raise _error(path, f"{size / (1 << 20):,.0f} MiB once decompressed: more than the "
                           f"{MAX_RESOURCE_BYTES >> 20:,} MiB one resource of a package may take")


#: Longest episode or series name: each names a directory or file of the corpus (data/<episode>/<series>.csv).
MAX_NAME_CHARS = 200


def _check_rows(path: Path, name: str, rows: list[dict]) -> None:
    """What the types cannot say (ADR 0033, round 6): an episode or series names a file of the corpus, so it
    is one plain file name ("../../../etc/x" wrote outside it); a point's value is finite and its time after
    1970; an episode's window does not end before it starts, and an episode is listed once."""
    import math

    seen: dict[str, int] = {}
    for i, row in enumerate(rows):
        for f in ("episode", "series"):
            value = row.get(f)
            if value is None:
                continue
            if (not value or len(value) > MAX_NAME_CHARS or value.startswith(".") or "/" in value or "\\" in value
                    or not value.isprintable()):
                raise _error(path, f"row {i}: {value[:80]!r} is no plain file name (it names a file of the corpus: "
                                   f"no '/', '\\', leading '.' or control character, 1 to {MAX_NAME_CHARS} "
                                   "characters)", f)
        if name == "points":
            if not math.isfinite(row["value"]):
                raise _error(path, f"row {i}: value {row['value']!r} is not a finite number", "value")
            if row["ts_ns"] <= 0:
                raise _error(path, f"row {i}: ts_ns {row['ts_ns']} is not a time after 1970 (unix nanoseconds)",
                             "ts_ns")
        elif name == "episodes":
            if row["window_end_ns"] < row["window_start_ns"]:
                raise _error(path, f"row {i}: window_end_ns {row['window_end_ns']} is before window_start_ns "
                                   f"{row['window_start_ns']}", "window_end_ns")
            if (first := seen.setdefault(row["episode"], i)) != i:
                raise _error(path, f"rows {first} and {i}: episode {row['episode']!r} twice", "episode")


# ------------------------------------------------------------------------------- detect-real's layout
def write_detect_corpus(out: Path, pkg: Package) -> int:
    """The series in ``ben bench detect-real``'s layout; the windows are the anomalies of episodes
    labelled real (an episode labelled noise has none: what fires there is a false alarm). Files."""
    import numpy as np

    from ben.detect.corpus import Series, check_corpus_out, replace_corpus

    labels = {e["episode"]: e["label"] for e in pkg.episodes}
    windows: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for a in pkg.anomalies:
        if labels.get(a["episode"]) == "real":
            windows.setdefault((a["episode"], a["series"]), []).append((int(a["start_ns"]), int(a["end_ns"])))
    points: dict[tuple[str, str], list[tuple[int, float]]] = {}
    for p in pkg.points:
        points.setdefault((p["episode"], p["series"]), []).append((int(p["ts_ns"]), float(p["value"])))
    series = []
    for (episode, name), pts in sorted(points.items()):
        pts.sort()
        series.append(Series(f"{episode}/{name}.csv", np.array([t for t, _ in pts], dtype=np.int64),
                             np.array([v for _, v in pts], dtype=np.float64),
                             _merged(windows.get((episode, name), []))))
    out = Path(out)
    check_corpus_out(out, "--corpus")  # before anything is written: a directory of the user's is left alone
    if series:  # whole or not at all: a killed import leaves the corpus it had, never half of the new one
        replace_corpus(out, series, "--corpus")
    return len(series)


def _merged(windows: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """A series' anomaly windows, those that overlap made one: two anomalies of one series in an episode (two
    detectors, or one that opened again) may overlap, and ``ben bench detect-real`` scores each row in one window
    only (it refuses labels whose windows overlap; ADR 0033 round 11)."""
    out: list[list[int]] = []
    for start, end in sorted(windows):
        if out and start <= out[-1][1]:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return tuple((a, b) for a, b in out)


def _child(spec: str) -> None:
    import chdb

    for src, structure, dst, order in json.loads(spec):
        sql = f"SELECT * FROM file('{src}', 'JSONEachRow', '{structure}') ORDER BY {order}"
        data = chdb.query(sql, "Parquet").bytes()
        try:
            Path(dst).write_bytes(data)
        except OSError as exc:  # a full disk: one line for the parent, not a traceback
            sys.stderr.write(f"{exc.strerror or exc}\n")
            sys.exit(1)


if __name__ == "__main__":
    _child(sys.argv[1])
