"""Web interface benchmark: server time per page with many incidents and events stored.

    ben bench web [--incidents N] [--events N] [--requests R] [--json]

Fills a spine's embedded chDB directly (INSERT ... SELECT FROM numbers(), before the spine starts) with
N incidents (each with one anomaly) and N events spread over the last six days across 20 subsystems,
starts the spine (a real process), serves the web interface beside it (uvicorn over loopback TCP,
in this process) and times R requests of each page: server time (the app's ``Server-Timing`` header: from
the request to the rendered page) and, beside it, the whole request as the client saw it on loopback
(the client shares this process and its GIL with the server, so that figure is an upper bound). The baseline, in the same run: the page's main
query through the same admin API ``ben query`` uses (``ben.core.admin.run_query``), in-process, so that
the CLI's own start-up (~0.5 s of imports) is not counted against it.

Pages: feed (/incidents, the newest 100; and with all four filters), incident (/incident/ID: incident,
anomaly, commands, audit and the plot's downsampled series; a different incident per request), map (/),
status (/status), commands (/commands), series (/series: the list of series) and series data
(/api/series over the whole six days). Baselines: the feed's query, and the incident page's statements
one after the other, through ``run_query``.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
import urllib.request
from pathlib import Path

S = 10**9
SUBSYSTEMS = 20


def _say(progress: bool, msg: str) -> None:
    if progress:
        print(f"bench web: {msg}", flush=True)


def fill(path: Path, incidents: int, events: int, t0: int, span_ns: int) -> None:
    """Incidents, anomalies and events written straight into the chDB directory the spine will open."""
    from ben.store import ChdbStore

    store = ChdbStore(path)
    try:
        step_i = span_ns // max(incidents, 1)
        store.execute(f"""INSERT INTO ben.incidents (id, subsystem, state, severity, opened_ts, updated_ts, resolved_ts,
            narrative, anomaly_ids, version)
            SELECT concat('inc-b', leftPad(toString(number), 9, '0')), concat('sub-', toString(number % {SUBSYSTEMS})),
                   ['resolved', 'resolved', 'open', 'acknowledged'][number % 4 + 1],
                   ['medium', 'high', 'low', 'critical'][number % 4 + 1],
                   {t0} + number * {step_i}, {t0} + number * {step_i} + 60000000000,
                   if(number % 4 < 2, {t0} + number * {step_i} + 90000000000, 0),
                   concat('sub-', toString(number % {SUBSYSTEMS}), ' latency_ms rose from 120 ms to ',
                          toString(300 + number % 200), ' ms (CUSUM 12.0 sigma over 3 points)'),
                   [concat('an-b', leftPad(toString(number), 9, '0'))], 1
            FROM numbers({incidents})""")
        store.execute(f"""INSERT INTO ben.anomalies (id, series, subsystem, name, start_ts, end_ts, baseline, observed,
            score, detectors, evidence, sentence, incident_id, version)
            SELECT concat('an-b', leftPad(toString(number), 9, '0')),
                   concat('sub-', toString(number % {SUBSYSTEMS}), ' latency_ms'),
                   concat('sub-', toString(number % {SUBSYSTEMS})), 'latency_ms',
                   {t0} + number * {step_i}, {t0} + number * {step_i} + 60000000000, 120, 400, 0.93,
                   ['cusum', 'ewma'], '{{"cusum": {{"sigma": 12.0, "points": 3}}, "ewma": {{"sigma": 9.5}}}}',
                   'latency_ms rose from 120 ms to 400 ms', concat('inc-b', leftPad(toString(number), 9, '0')), 1
            FROM numbers({incidents})""")
        step_e = span_ns // max(events, 1)
        chunk = 2_000_000
        for first in range(0, events, chunk):
            n = min(chunk, events - first)
            store.execute(f"""INSERT INTO ben.events (ts, kind, host, subsystem, instance, name, value, body,
                producer_id, producer_seq, sidecar_id, sidecar_seq, lane, spine_seq, stored_ts)
                SELECT {t0} + (number + {first}) * {step_e}, 'metric', 'bench-host',
                       concat('sub-', toString(number % {SUBSYSTEMS})), 'i0', 'latency_ms',
                       120 + 30 * sin(number / 1000) + (number % 7), '', 'bench', number + {first}, 'sc-bench', 0,
                       'routine', 0, {t0} + (number + {first}) * {step_e}
                FROM numbers({n})""")
        store.sync()
    finally:
        store.close()


def _time(fn, requests: int) -> dict:
    fn()  # warm: first query of a part loads its marks
    times = []
    for _ in range(requests):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return {"p50_ms": statistics.median(times), "p99_ms": times[min(len(times) - 1, int(len(times) * 0.99))],
            "n": len(times)}


def _get(url: str, server_ms: list[float]) -> None:
    with urllib.request.urlopen(url, timeout=120) as r:
        r.read()
        if r.status != 200:
            raise RuntimeError(f"{url}: {r.status}")
        server_ms.append(float(r.headers["Server-Timing"].split("dur=")[1]))


def _page(urls: list[str], requests: int) -> dict:
    """Server time (the app's Server-Timing header) and the whole request as the client saw it; the
    requests go round ``urls`` (the incident page: a different incident each time, nothing cached)."""
    server: list[float] = []
    turn = iter(range(10**9))
    wall = _time(lambda: _get(urls[next(turn) % len(urls)], server), requests)
    server = sorted(server[1:])  # the first was the warm-up
    return {"p50_ms": statistics.median(server), "p99_ms": server[min(len(server) - 1, int(len(server) * 0.99))],
            "request_p50_ms": wall["p50_ms"], "request_p99_ms": wall["p99_ms"], "n": len(server)}


def _incident_sqls(reader, incident_id: str) -> list[str]:
    """The statements the incident page sends (incident, anomalies, commands, audit, each plot's series)."""
    from ben.web.reads import Reader

    sent: list[str] = []

    class Recording(Reader):
        def rows(self, sql: str) -> list[dict]:
            sent.append(sql)
            return super().rows(sql)

    rec = Recording(reader.spine)
    inc = rec.incident(incident_id)
    for a in inc["anomalies"][:12]:
        rec.anomaly_plot(a)
    return sent


def run(incidents: int = 100_000, events: int = 10_000_000, requests: int = 30, progress: bool = True) -> dict:
    from ben.cli.procs import Cluster, query_rows
    from ben.core.admin import run_query
    from ben.core.config import WebConfig
    from ben.web import WebServer
    from ben.web.reads import FeedFilter, Reader

    tmp = Path(tempfile.mkdtemp(prefix="bbw-", dir="/tmp"))
    cluster = Cluster(tmp, stop_with_parent=True)
    web = None
    try:
        now = time.time_ns()
        span = 6 * 86400 * S
        t0 = now - span
        started = time.perf_counter()
        fill(tmp / "spine" / "chdb", incidents, events, t0, span)
        fill_s = time.perf_counter() - started
        _say(progress, f"stored {incidents:,} incidents and {events:,} events in {fill_s:.1f} s")
        cluster.start_spine(timeout=300)
        spine = cluster.spine_addr
        counts = query_rows(spine, "SELECT (SELECT count() FROM ben.incidents) AS i, (SELECT count() FROM ben.events) AS e")[0]
        web = WebServer(WebConfig(listen_port=0), spine).start()
        base = web.url.rstrip("/")
        reader = Reader(spine)
        # The incident page: a different incident per request (request + 1 of the newest: one is a warm-up).
        ids = [r["id"] for r in reader.incidents(FeedFilter(limit=requests + 1))]
        feed_sql = ("SELECT id, subsystem, state, severity, opened_ts, updated_ts, resolved_ts, narrative "
                    "FROM ben.incidents FINAL ORDER BY opened_ts DESC LIMIT 100")
        pages = {
            "feed": [f"{base}/incidents"],
            "feed_filtered": [f"{base}/incidents?subsystem=sub-3&severity=critical&state=acknowledged&since_s=86400"],
            "incident": [f"{base}/incident/{i}" for i in ids],
            "map": [f"{base}/"],
            "status": [f"{base}/status"],
            "commands": [f"{base}/commands"],
            "series": [f"{base}/series"],
            "series_data": [f"{base}/api/series?subsystem=sub-1&name=latency_ms&from={t0 / S}&to={now / S}&width=1000"],
        }
        result: dict = {"incidents": int(counts["i"]), "events": int(counts["e"]), "fill_s": fill_s,
                        "requests": requests, "load_average_1m_start": os.getloadavg()[0], "pages": {}}
        for name, url in pages.items():
            result["pages"][name] = _page(url, requests)
            _say(progress, f"{name}: p50 {result['pages'][name]['p50_ms']:.1f} ms, "
                           f"p99 {result['pages'][name]['p99_ms']:.1f} ms")
        result["baseline_query"] = {
            "feed": _time(lambda: run_query(spine, feed_sql), requests),
            "incident": _time(lambda: [run_query(spine, sql) for sql in _incident_sqls(reader, ids[0])], requests),
        }
        for name, r in result["baseline_query"].items():
            _say(progress, f"ben query (the {name} page's SQL, one statement after the other): "
                           f"p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms")
        result["p99_ms"] = max(p["p99_ms"] for p in result["pages"].values())
        result["p99_ms_feed_incident"] = max(result["pages"][p]["p99_ms"] for p in ("feed", "incident"))
        result["load_average_1m_end"] = os.getloadavg()[0]
        return result
    finally:
        if web is not None:
            web.shutdown(2.0)
        cluster.stop()
        shutil.rmtree(tmp, ignore_errors=True)
