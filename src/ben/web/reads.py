"""What the pages show, read through the spine's public admin API (the CLI's read-only query path).

Every function here is synchronous and blocking (gRPC); the app calls them in a worker thread.
Values are put into SQL only as quoted literals (``lit``) or checked numbers.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
import re
import time
from dataclasses import dataclass

from ben.core.admin import fetch_status, run_query
from ben.core.errors import QueryError, TransportError
from ben.core.figures import flat

ID_RE = re.compile(r"^[A-Za-z0-9-]{1,64}$")
SEVERITIES = ("critical", "high", "medium", "low", "warning", "info")
STATES = ("open", "acknowledged", "resolved")


def lit(value: str) -> str:
    """A ClickHouse string literal."""
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


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

    def __init__(self, spine: str, sidecars: tuple[str, ...] = (), timeout_s: float = 30.0):
        self.spine = spine
        self.sidecars = tuple(sidecars)
        self._timeout = timeout_s

    def rows(self, sql: str) -> list[dict]:
        return self.result(sql)["data"]

    def result(self, sql: str) -> dict:
        """Full ClickHouse JSON (meta, data, statistics). A connection refused is tried once more after
        0.2 s (a spine busy accepting); a second refusal is the caller's TransportError."""
        try:
            return json.loads(run_query(self.spine, sql, self._timeout))
        except TransportError:
            time.sleep(0.2)
            return json.loads(run_query(self.spine, sql, self._timeout))

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
        found = self.rows(f"SELECT * FROM ben.incidents FINAL WHERE id = {lit(check_id(incident_id))}")
        if not found:
            return None
        inc = found[0]
        iid = lit(inc["id"])
        queries = {  # independent: asked at once (the incident page's server time is their slowest)
            "anomalies": f"SELECT * FROM ben.anomalies FINAL WHERE incident_id = {iid} ORDER BY start_ts",
            "commands": "SELECT id, action, target, issuer, state, reason, receipt, updated_ts FROM ben.commands FINAL "
                        f"WHERE incident_id = {iid} ORDER BY updated_ts",
            "audit": "SELECT seq, ts, kind, command_id, actor, body FROM ben.audit WHERE command_id IN (SELECT id FROM "
                     f"ben.commands FINAL WHERE incident_id = {iid}) OR command_id = {iid} OR position(body, {iid}) > 0 "
                     "ORDER BY seq LIMIT 200",
        }
        with ThreadPoolExecutor(len(queries), thread_name_prefix="ben-web-read") as pool:
            futures = {k: pool.submit(self.rows, sql) for k, sql in queries.items()}
            inc.update({k: f.result() for k, f in futures.items()})
        for a in inc["anomalies"]:
            try:
                a["evidence"] = json.loads(a["evidence"] or "{}")
            except ValueError:
                a["evidence"] = {"raw": a["evidence"]}
        return inc

    def open_counts(self) -> list[dict]:
        return self.rows("SELECT subsystem, severity, count() AS n FROM ben.incidents FINAL "
                         "WHERE state != 'resolved' GROUP BY subsystem, severity")

    # -- series ---------------------------------------------------------------------------------------
    def series_names(self, limit: int = 500) -> list[dict]:
        return self.rows("SELECT subsystem, name, count() AS n, max(ts) AS last_ts FROM ben.events "
                         "WHERE kind IN ('metric', 'counter') GROUP BY subsystem, name ORDER BY subsystem, name "
                         f"LIMIT {int(limit)}")

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
        return {"t": [r["t"] / 1e9 for r in rows], "lo": [r["lo"] for r in rows], "hi": [r["hi"] for r in rows],
                "mean": [r["mean"] for r in rows], "points": sum(int(r["n"]) for r in rows), "buckets": len(rows)}

    def anomaly_plot(self, a: dict, width: int = 600) -> dict:
        """The anomalous series around its episode (min/max/mean per pixel), its baseline and a band: the
        1st percentile of the bucket minima to the 99th of the bucket maxima before the episode (from
        the same downsampled rows: one query per plot)."""
        name, attrs = a["name"], parse_attributes(a["series"])
        start, end = int(a["start_ts"]), int(a["end_ts"])
        if not end:  # ongoing: up to the newest stored point of the series (event time, not the clock)
            end = int(self.rows(f"SELECT max(ts) AS t FROM ben.events WHERE subsystem = {lit(a['subsystem'])} "
                                f"AND name = {lit(name)}")[0]["t"] or start)
        span = max(end - start, 30 * 10**9)
        data = self.series(subsystem=a["subsystem"], name=name, t1=start - 4 * span, t2=end + span, width=width,
                           attributes=attrs)
        before = [i for i, t in enumerate(data["t"]) if t < start / 1e9]
        lows = sorted(data["lo"][i] for i in before)
        highs = sorted(data["hi"][i] for i in before)
        data.update(baseline=a["baseline"], band_lo=lows[int(0.01 * (len(lows) - 1))] if lows else None,
                    band_hi=highs[int(0.99 * (len(highs) - 1))] if highs else None, start=start / 1e9,
                    end=end / 1e9, title=a["series"])
        return data

    # -- status and topology --------------------------------------------------------------------------
    def status(self) -> list[dict]:
        """[{component, address, id, figures, last_error, up}] for the spine and the known sidecars."""
        out = []
        for address in (self.spine, *self.sidecars):
            try:
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
