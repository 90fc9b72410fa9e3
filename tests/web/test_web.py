"""The web interface in a real browser (Debian's headless Chromium, driven by Playwright): a real spine
and sidecar (processes over unix sockets) with data, the web server over real TCP."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from ben.cli.demo import DEMO_TIMING
from ben.cli.procs import Cluster, query_rows, wait_for
from ben.core.config import WebConfig
from ben.core.errors import ConfigError
from ben.sdk import Client
from ben.web import WebServer, resolve_token
from ben.web.reads import Reader
from tests.conftest import dump_logs

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
T0 = 1_795_000_000 * 10**9
S = 10**9
NARRATIVE = "latency_ms{route=/pay} rose from"


def level(sec: int) -> float:
    return 480.0 if sec >= 300 else 120.0


def emit(cluster: Cluster, first: int, last: int) -> None:
    client = Client("checkout-api", sidecar=cluster.sidecar_addr, max_batch_events=20)
    rng = random.Random(first)
    for sec in range(first, last):
        for j in range(10):
            client.gauge("latency_ms", rng.gauss(level(sec), level(sec) / 10), {"route": "/pay"},
                         ts=T0 + sec * S + j * S // 10)
    assert client.flush(timeout=60)
    client.shutdown()


class Site:
    """A cluster with five minutes of quiet data, the web interface beside it, and a browser."""

    def __init__(self, home: Path):
        self.home = home
        self.cluster = Cluster(home, spine={"detect": {"bucket_ms": 1000, "group_window_s": 60.0,
                                                       "resolve_after_s": 3600.0, "timing": DEMO_TIMING}}).start()
        emit(self.cluster, 0, 300)
        wait_for(lambda: self.cluster.status("spine").get("detect_points_total", 0) >= 299, 60, "detection warm-up")
        self.web = WebServer(WebConfig(listen_port=0, poll_interval_ms=250), self.cluster.spine_addr,
                             (self.cluster.sidecar_addr,)).start()
        self.url = self.web.url.rstrip("/")
        self.fault_at: float | None = None

    def inject_fault(self) -> float:
        """Twenty seconds of latency at four times its level; returns when the SDK has flushed."""
        if self.fault_at is None:
            emit(self.cluster, 300, 320)
            self.fault_at = time.monotonic()
        return self.fault_at

    def incident_id(self) -> str:
        self.inject_fault()
        rows = wait_for(lambda: query_rows(self.cluster.spine_addr, "SELECT id FROM ben.incidents FINAL"), 30,
                        "the incident to be stored")
        return rows[0]["id"]


@pytest.fixture(scope="module")
def site():
    home = Path(tempfile.mkdtemp(prefix="bw-", dir="/tmp"))
    s = None
    try:
        s = Site(home)
        yield s
    finally:
        if s is not None:
            s.web.shutdown(2.0)
            s.cluster.stop()
        dump_logs(home)
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), f"{CHROMIUM} missing: run scripts/debian-deps.sh (as root)"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    """A fresh page that records console errors and uncaught exceptions; none may occur."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.errors = errors
    yield pg
    context.close()
    assert errors == [], f"console errors: {errors}"


def test_the_map_shows_the_nodes_live(site, page) -> None:
    page.goto(site.url + "/")
    page.wait_for_function("() => window.benMap && window.benMap.nodes().length >= 4", timeout=10_000)
    ids = page.evaluate("() => window.benMap.nodes().map(n => n.id())")
    assert "spine" in ids and "store" in ids and "sub:checkout-api" in ids
    assert any(i.startswith("sidecar:") for i in ids), ids
    # Live: a server-sent update reaches the page without a reload.
    page.wait_for_function("() => document.getElementById('map').dataset.updated", timeout=5_000)
    page.click("#map", position={"x": 5, "y": 5})
    node = page.evaluate("() => { const n = window.benMap.getElementById('spine'); n.emit('tap'); return n.id(); }")
    assert node == "spine" and "spine" in page.inner_text("#node-info")
    assert "wal_records" in page.inner_text("#node-info")


def test_an_injected_fault_appears_in_the_feed_within_5_s(site, page) -> None:
    the_map = page.context.new_page()
    the_map.goto(site.url + "/")
    the_map.wait_for_function("() => window.benMap && window.benMap.getElementById('sub:checkout-api').length")
    if site.fault_at is None:  # (in file order the fault is injected here for the first time)
        assert the_map.evaluate("() => window.benMap.getElementById('sub:checkout-api').data('open')") == 0
    page.goto(site.url + "/incidents")
    page.wait_for_selector("#live-dot.on", timeout=5_000)
    fault_at = site.inject_fault()
    page.wait_for_selector(f"#feed li.incident:has-text('{NARRATIVE}')", timeout=5_000)
    took = time.monotonic() - fault_at
    assert took < 5.0, took
    item = page.inner_text("#feed li.incident")
    assert "checkout-api" in item and "open" in item
    # The map, open in another tab, shows the open incident on its subsystem within 2 s of it being seen.
    the_map.wait_for_function("() => window.benMap.getElementById('sub:checkout-api').data('open') >= 1",
                              timeout=2_000)
    the_map.close()


def test_the_feed_filters(site, page) -> None:
    site.incident_id()
    page.goto(site.url + "/incidents?state=resolved")
    assert page.locator("#feed li.incident").count() == 0
    page.goto(site.url + "/incidents?subsystem=checkout-api&state=open")
    assert NARRATIVE in page.inner_text("#feed")


def test_the_incident_page_draws_its_plot_and_acknowledges(site, page) -> None:
    incident_id = site.incident_id()
    page.goto(f"{site.url}/incident/{incident_id}")
    assert NARRATIVE in page.inner_text("#narrative")
    page.wait_for_selector("[data-plot='0'] canvas", timeout=5_000)
    painted = page.evaluate("""() => { const c = document.querySelector("[data-plot='0'] canvas");
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
        for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; }""")
    assert painted > 2_000, painted  # lines, band and the shaded episode
    assert "level_z" in page.inner_text("table.evidence").lower()
    # Hovering over the shaded episode shows the detectors' statistics.
    over = page.evaluate("""() => { const u = window.benPlots[0], box = u.over.getBoundingClientRect();
        const p = JSON.parse(document.getElementById('plots').textContent)[0];
        return {x: box.left + u.valToPos((p.start + p.end) / 2, 'x'), y: box.top + box.height / 2}; }""")
    page.mouse.move(over["x"], over["y"])
    page.wait_for_selector("[data-testid=detector-tip]:has-text('level_z')", timeout=3_000)
    page.fill("input[name=by]", "alice")
    page.click("form.ack button")
    page.wait_for_selector("#ack-result:has-text('acknowledged')", timeout=10_000)
    rows = query_rows(site.cluster.spine_addr, f"SELECT state, narrative FROM ben.incidents FINAL WHERE id = '{incident_id}'")
    assert rows[0]["state"] == "acknowledged" and "alice (web)" in rows[0]["narrative"]


def test_the_sql_page_shows_a_table_and_refuses_a_write(site, page) -> None:
    page.goto(site.url + "/sql")
    page.fill("textarea[name=q]", "SELECT toUInt32(intDiv(ts, 60000000000) % 1000) AS minute, avg(value) AS v "
                                  "FROM ben.events GROUP BY minute ORDER BY minute")
    page.click("form button")
    page.wait_for_selector("#sql-table")
    assert page.locator("#sql-table tr").count() > 2
    assert page.locator("#sql-chart canvas").count() == 1
    page.fill("textarea[name=q]", "INSERT INTO ben.incidents (id) VALUES ('inc-forged')")
    with page.expect_response(lambda r: r.url.endswith("/sql")) as response:
        page.click("form button")
    assert response.value.status == 400
    assert page.inner_text("[data-testid=sql-error]")
    page.errors.clear()  # the 400 itself is logged by the browser as a failed resource
    assert query_rows(site.cluster.spine_addr, "SELECT count() AS n FROM ben.incidents WHERE id = 'inc-forged'")[0]["n"] == 0


def test_status_commands_and_series_pages(site, page) -> None:
    page.goto(site.url + "/status")
    assert "rows_stored_total" in page.inner_text("main") and "sidecar" in page.inner_text("main")
    page.goto(site.url + "/commands")
    assert "no commands" in page.inner_text("main")
    page.goto(site.url + "/series?subsystem=checkout-api&name=latency_ms")
    page.wait_for_selector("#series-plot canvas", timeout=5_000)
    assert "points in" in page.inner_text("#series-info")


def test_series_are_downsampled_in_the_store(site) -> None:
    reader = Reader(site.cluster.spine_addr)
    data = reader.series(subsystem="checkout-api", name="latency_ms", t1=T0, t2=T0 + 300 * S, width=50)
    assert data["buckets"] <= 50 and data["points"] == 3000
    raw = query_rows(site.cluster.spine_addr, "SELECT min(value) AS lo, max(value) AS hi FROM ben.events "
                                             f"WHERE name = 'latency_ms' AND ts >= {T0} AND ts < {T0 + 300 * S}")[0]
    assert min(data["lo"]) == raw["lo"] and max(data["hi"]) == raw["hi"]
    # The explorer's JSON endpoint, with an attribute filter.
    q = f"subsystem=checkout-api&name=latency_ms&from={T0 / S}&to={T0 / S + 300}&width=50"
    with urllib.request.urlopen(f"{site.url}/api/series?{q}&attributes=route%3D/pay", timeout=30) as r:
        assert json.loads(r.read())["points"] == 3000
    with urllib.request.urlopen(f"{site.url}/api/series?{q}&attributes=route%3D/other", timeout=30) as r:
        assert json.loads(r.read())["points"] == 0


def test_a_non_loopback_bind_needs_the_token(site, browser, monkeypatch) -> None:
    token = "s3cret-token-0123456789"
    monkeypatch.setenv("BEN_TEST_WEB_TOKEN", token)
    web = WebServer(WebConfig(listen_host="0.0.0.0", listen_port=0, token_env="BEN_TEST_WEB_TOKEN"),
                    site.cluster.spine_addr).start()
    try:
        url = f"http://127.0.0.1:{web.port}/status"
        for headers in ({}, {"Authorization": "Bearer wrong-token-0123456789"}):
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10)
            assert refused.value.code == 401
            refused.value.close()
        with urllib.request.urlopen(urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"}),
                                    timeout=10) as ok:
            assert ok.status == 200
        context = browser.new_context()
        pg = context.new_page()
        assert pg.goto(url).status == 401
        assert pg.goto(f"{url}?token={token}").status == 200  # sets an HttpOnly cookie, then redirects
        assert "?token" not in pg.url and pg.goto(url).status == 200
        context.close()
    finally:
        web.shutdown(2.0)


def test_a_non_loopback_bind_without_a_token_refuses_to_start(tmp_path) -> None:
    with pytest.raises(ConfigError) as err:
        resolve_token(WebConfig(listen_host="0.0.0.0"))
    assert err.value.field == "web.token_env"
    with pytest.raises(ConfigError) as err:
        resolve_token(WebConfig(listen_host="10.0.0.1", token_file=tmp_path / "missing"))
    assert err.value.field == "web.token_file"
    assert resolve_token(WebConfig()) is None
    out = subprocess.run([sys.executable, "-m", "ben", "web", "--host", "0.0.0.0", "--port", "0"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "web.token_env" in out.stderr, out.stderr
