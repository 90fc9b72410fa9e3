"""What the pages show, read through the spine's public admin API (the CLI's read-only query path).

Every function here is synchronous and blocking (gRPC); the app calls them in a worker thread.
Values are put into SQL only as quoted literals (``lit``) or checked numbers.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ben.core.admin import fetch_status, run_query
from ben.core.errors import QueryError, TransportError
from ben.core.figures import flat

ID_RE = re.compile(r"^[A-Za-z0-9-]{1,64}$")
SEVERITIES = ("critical", "high", "medium", "low", "warning", "info")
STATES = ("open", "acknowledged", "resolved")
NAMES_TTL_S = 10.0   # the series list is re-read at most this often
SETTLED_S = 300      # a plot whose window ended this long ago (wall clock) no longer changes: cached
PLOT_CACHE = 256     # plots kept
PLOT_TTL_S = 600.0   # ... for at most this long


def lit(value: str) -> str:
    """A ClickHouse string literal."""
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def _finite(value) -> float | None:
    """A bucket's value for the plot: None for NaN or ±inf (the query answers them as "nan" / "inf", which
    the plot drew nowhere; a null is a gap)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def check_id(value: str, what: str = "id") -> str:
    if not ID_RE.match(value or ""):
        raise QueryError(f"{what} {value!r}: expected letters, digits and dashes (e.g. inc-3f2a9c0d1e)")
    return value


@dataclass(frozen=True)
class FeedFilter:
    """The feed's filters (all optional): subsystem, severity, state, and a time window in seconds."""

    subsystem: str = ""
    severity: str = ""
    state: str = ""
    since_s: int = 0
    limit: int = 100


class Reader:
    """Read-only access to one spine (and, for the map and status, sidecars) for the pages."""

    def __init__(self, spine: str, sidecars: tuple[str, ...] = (), timeout_s: float = 30.0,
                 sql_max_result_bytes: int = 16 << 20):
        self.spine = spine
        # The SQL page's results (ADR 0045, round 11): one of 200 MB (a page of 300 MB) took the interface's
        # process, the spine's with ``ben spine --web``, 1.3 GB; refused as it arrives past this many bytes.
        self._sql_max = (sql_max_result_bytes, "web.sql_max_result_bytes")
        self.sidecars = tuple(sidecars)
        self._timeout = timeout_s
        self._lock = threading.Lock()
        self._plots: OrderedDict[tuple, tuple[float, dict]] = OrderedDict()  # settled episodes' plots (anomaly_plot)
        self._names: tuple[float, list[dict]] | None = None     # (read at, series_names)

    def rows(self, sql: str) -> list[dict]:
        return self.result(sql)["data"]

    def result(self, sql: str, *, on_behalf: str = "", origin: str = "web-page") -> dict:
        """Full ClickHouse JSON (meta, data, statistics). A connection refused is tried once more after
        0.2 s (a spine busy accepting); a second refusal is the caller's TransportError. ``origin``:
        ``web-page`` for a page's own reads, ``web-sql`` for its client's SQL (the spine's query log
        records each with ``on_behalf``, the client, beside the operator the interface runs as)."""
        bound = self._sql_max if origin == "web-sql" else None
        try:
            return json.loads(run_query(self.spine, sql, self._timeout, origin=origin, on_behalf=on_behalf,
                                        max_reply=bound))
        except TransportError:
            time.sleep(0.2)
            return json.loads(run_query(self.spine, sql, self._timeout, origin=origin, on_behalf=on_behalf,
                                        max_reply=bound))

    # -- incidents ------------------------------------------------------------------------------------
    def incidents(self, f: FeedFilter) -> list[dict]:
        where = []
        if f.subsystem:
            where.append(f"subsystem = {lit(f.subsystem)}")
        if f.severity:
            where.append(f"severity = {lit(f.severity)}")
        if f.state:
            where.append(f"state = {lit(f.state)}")
        if f.since_s > 0:
            where.append(f"opened_ts >= {int((time.time() - f.since_s) * 1e9)}")
        cond = ("WHERE " + " AND ".join(where)) if where else ""
        return self.rows("SELECT id, subsystem, state, severity, opened_ts, updated_ts, resolved_ts, narrative "
                         f"FROM ben.incidents FINAL {cond} ORDER BY opened_ts DESC LIMIT {int(f.limit)}")

    def incident(self, incident_id: str) -> dict | None:
        """The incident with its anomalies, commands and audit entries: four queries asked at once, each
        bounded by a primary key or a small table (the page's server time is about their slowest)."""
        iid = lit(check_id(incident_id))
        queries = {
            "incident": f"SELECT * FROM ben.incidents FINAL WHERE id = {iid}",
            # By primary key (ben.anomalies is ORDER BY id): the ids the incident lists, not a scan of all.
            "anomalies": "SELECT * FROM ben.anomalies FINAL WHERE id IN (SELECT arrayJoin(anomaly_ids) FROM "
                         f"ben.incidents FINAL WHERE id = {iid}) ORDER BY start_ts",
            "commands": "SELECT id, action, target, issuer, state, reason, receipt, updated_ts FROM ben.commands FINAL "
                        f"WHERE incident_id = {iid} ORDER BY updated_ts",
            # The entries about its commands, and those about the incident itself (acknowledgements).
            "audit": "SELECT seq, ts, kind, command_id, actor, body FROM ben.audit WHERE command_id IN (SELECT id FROM "
                     f"ben.commands FINAL WHERE incident_id = {iid}) OR command_id = {iid} ORDER BY seq LIMIT 200",
        }
        with ThreadPoolExecutor(len(queries), thread_name_prefix="ben-web-read") as pool:
            futures = {k: pool.submit(self.rows, sql) for k, sql in queries.items()}
            found = {k: f.result() for k, f in futures.items()}
        if not found["incident"]:
            return None
        inc = found["incident"][0]
        inc.update(anomalies=found["anomalies"], commands=found["commands"], audit=found["audit"])
        for a in inc["anomalies"]:
            try:
                a["evidence"] = json.loads(a["evidence"] or "{}")
            except ValueError:
                a["evidence"] = {"raw": a["evidence"]}
            if not isinstance(a["evidence"], dict):  # a list or a number stored: shown, not a 500 on .items()
                a["evidence"] = {"raw": a["evidence"]}
            words(a)
        # "sigma" said once where the page gives one, as ``ben explain`` says it (web round 16: the page used the
        # word without saying what it is)
        from ben.detect.words import SIGMA_SAID, says_sigma

        inc["sigma_said"] = SIGMA_SAID if says_sigma(inc.get("narrative"), *(t for a in inc["anomalies"] for t in
                                                                            (a.get("sentence"), *a["words"]))) else ""
        return inc

    def incident_named(self, name: str) -> str | None:
        """The incident id that ``latest`` (the newest incident) or an anomaly id (``an-...``) names, as ``ben
        explain`` takes them; None when there is none (the page then says so)."""
        if name == "latest":
            rows = self.rows("SELECT id FROM ben.incidents FINAL ORDER BY opened_ts DESC LIMIT 1")
        else:
            rows = self.rows(f"SELECT incident_id AS id FROM ben.anomalies FINAL WHERE id = {lit(check_id(name))} "
                             "AND incident_id != '' LIMIT 1")
        return str(rows[0]["id"]) if rows else None

    def open_counts(self) -> list[dict]:
        return self.rows("SELECT subsystem, severity, count() AS n FROM ben.incidents FINAL "
                         "WHERE state != 'resolved' GROUP BY subsystem, severity")

    # -- series ---------------------------------------------------------------------------------------
    def series_names(self, limit: int = 500) -> list[dict]:
        """The stored metric series (subsystem, name), at most ``limit``; re-read at most every
        ``NAMES_TTL_S``. ``DISTINCT`` over the two LowCardinality key columns (and ``kind``) reads their
        dictionary keys only: 10 M rows in tens of milliseconds (a ``GROUP BY`` with counts took 0.6 s)."""
        now = time.monotonic()
        if self._names is None or now - self._names[0] >= NAMES_TTL_S:
            rows = self.rows("SELECT DISTINCT subsystem, name, kind FROM ben.events LIMIT 10000")
            names = sorted({(r["subsystem"], r["name"]) for r in rows if r["kind"] in ("metric", "counter")})
            self._names = (now, [{"subsystem": s, "name": n} for s, n in names])
        return self._names[1][:int(limit)]

    def last_ts(self, *, subsystem: str, name: str) -> int:
        """The newest stored point of a series (0 if none): read in primary-key order, a few granules."""
        rows = self.rows(f"SELECT ts FROM ben.events WHERE subsystem = {lit(subsystem)} AND name = {lit(name)} "
                         "ORDER BY ts DESC LIMIT 1")
        return int(rows[0]["ts"]) if rows else 0

    def series(self, *, subsystem: str, name: str, t1: int, t2: int, width: int = 800,
               attributes: dict[str, str] | None = None) -> dict:
        """min/max/avg per pixel bucket, computed in ClickHouse: at most `width` rows whatever the count."""
        width = max(10, min(int(width), 4000))
        t1, t2 = int(t1), int(t2)
        if t2 <= t1:
            raise QueryError("the time range is empty (to must be after from)")
        step = max(1, (t2 - t1) // width)
        cond = [f"subsystem = {lit(subsystem)}", f"name = {lit(name)}", f"ts >= {t1}", f"ts < {t2}"]
        for k, v in (attributes or {}).items():
            cond.append(f"has(`attributes.key`, {lit(k)}) AND "
                        f"`attributes.value`[indexOf(`attributes.key`, {lit(k)})] = {lit(v)}")
        rows = self.rows(f"SELECT intDiv(ts - {t1}, {step}) AS b, min(ts) AS t, min(value) AS lo, max(value) AS hi, "
                         f"avg(value) AS mean, count() AS n FROM ben.events WHERE {' AND '.join(cond)} "
                         "GROUP BY b ORDER BY b")
        return {"t": [r["t"] / 1e9 for r in rows], "lo": [_finite(r["lo"]) for r in rows],
                "hi": [_finite(r["hi"]) for r in rows], "mean": [_finite(r["mean"]) for r in rows],
                "points": sum(int(r["n"]) for r in rows), "buckets": len(rows)}

    def anomaly_plot(self, a: dict, width: int = 600) -> dict:
        """The anomalous series around its episode (min/max/mean per pixel), its baseline and a band: the
        1st percentile of the bucket minima to the 99th of the bucket maxima before the episode (from
        the same downsampled rows: one query per plot). The plot of an episode whose window ended more
        than ``SETTLED_S`` ago is kept for ``PLOT_TTL_S`` (LRU, by anomaly id and version): its rows no
        longer change, short of data arriving that late."""
        key = (a["id"], int(a.get("version") or 0), int(width))
        with self._lock:
            cached = self._plots.get(key)
            if cached is not None and time.monotonic() - cached[0] < PLOT_TTL_S:
                self._plots.move_to_end(key)
                return dict(cached[1])
        name, attrs = a["name"], parse_attributes(a["series"])
        start, end = int(a["start_ts"]), int(a["end_ts"])
        if not end:  # ongoing: up to the newest stored point of the series (event time, not the clock)
            end = self.last_ts(subsystem=a["subsystem"], name=name) or start
        span = max(end - start, 30 * 10**9)
        data = self.series(subsystem=a["subsystem"], name=name, t1=start - 4 * span, t2=end + span, width=width,
                           attributes=attrs)
        before = [i for i, t in enumerate(data["t"]) if t < start / 1e9]
        lows = sorted(data["lo"][i] for i in before if data["lo"][i] is not None)
        highs = sorted(data["hi"][i] for i in before if data["hi"][i] is not None)
        data.update(baseline=a["baseline"], band_lo=lows[int(0.01 * (len(lows) - 1))] if lows else None,
                    band_hi=highs[int(0.99 * (len(highs) - 1))] if highs else None, start=start / 1e9,
                    end=end / 1e9, title=a["series"])
        if int(a["end_ts"]) and time.time_ns() - (end + span) >= SETTLED_S * 10**9:
            with self._lock:
                self._plots[key] = (time.monotonic(), dict(data))
                while len(self._plots) > PLOT_CACHE:
                    self._plots.popitem(last=False)
        return data

    # -- status and topology --------------------------------------------------------------------------
    def status(self) -> list[dict]:
        """[{component, address, id, figures, last_error, up}] for the spine and the known sidecars."""
        out = []
        for address in (self.spine, *self.sidecars):
            try:
                try:
                    reply = fetch_status(address, 2.0)
                except TransportError:  # a refused connection (a busy accept queue): once more, as in result()
                    time.sleep(0.2)
                    reply = fetch_status(address, 2.0)
                out.append({"component": reply.component, "address": address, "id": reply.id, "up": True,
                            "figures": flat(reply.figures), "last_error": reply.last_error})
            except Exception as exc:  # noqa: BLE001 - a component that does not answer is shown as down
                out.append({"component": "sidecar" if address != self.spine else "spine", "address": address,
                            "id": "", "up": False, "figures": {}, "last_error": str(exc)})
        return out

    def flows(self, window_s: int = 300) -> list[dict]:
        """Which sidecar (host) carried which subsystem's events recently: the map's edges."""
        since = int((time.time() - window_s) * 1e9)
        return self.rows("SELECT sidecar_id, any(host) AS host, subsystem, count() AS n, max(stored_ts) AS last "
                         f"FROM ben.events WHERE stored_ts >= {since} GROUP BY sidecar_id, subsystem "
                         "ORDER BY sidecar_id, subsystem LIMIT 200")


def parse_attributes(series: str) -> dict[str, str]:
    """'checkout-api latency_ms{route=/pay}' -> {'route': '/pay'}."""
    m = re.search(r"\{(.*)\}$", series or "")
    attrs = {}
    for part in (m.group(1).split(",") if m else ()):
        if "=" in part:
            k, v = part.split("=", 1)
            attrs[k.strip()] = v.strip()
    return attrs


def words(a: dict) -> None:
    """An anomaly's numbers as the incident page shows them (ADR 0033, round 6): each detector's evidence
    in words and the series' unit (``a["words"]``), baseline, observed and score as text (``a["shown"]``: a
    NaN the store answers as "nan" was a 500 of the template's number format)."""
    from ben.detect.words import detector_phrase, fmt_number, number
    from ben.detect.words import unit_of

    unit = str(a.get("unit") or "") or unit_of(str(a.get("name") or ""))  # (rows before the unit column: '')
    a["words"] = [detector_phrase(d, ev, unit) for d, ev in a["evidence"].items()]
    score = number(a.get("score"))
    a["shown"] = {"baseline": fmt_number(a.get("baseline"), unit), "observed": fmt_number(a.get("observed"), unit),
                  "score": "n/a" if score is None else f"{score:.3f}"}
