"""The web interface in a real browser (Debian's headless Chromium, driven by Playwright): a real spine
and sidecar (processes over unix sockets) with data, the web server over real TCP."""

from __future__ import annotations

import json
import random
import re
import shutil
import ssl
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
from ben.control import client as audit
from ben.core.certs import init_ca, issue
from ben.core.config import BenConfig, CortexConfig, TlsConfig, WebConfig
from ben.core.errors import ConfigError
from ben.sdk import Client
from ben.web import WebServer, resolve_token
from ben.web.reads import Reader
from ben.web.triage import recommender
from tests.conftest import dump_logs

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
T0 = 1_795_000_000 * 10**9
S = 10**9
NARRATIVE = "latency_ms{route=/pay} rose from"
RESPONSES = """
[[subsystems]]
match = "checkout*"
responses = ["watch", "page:payments", "cmd:throttle"]

[commands.throttle]
action = "throttle_job"
params = { job = "checkout", rate_per_s = 5 }
"""


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
        (home / "responses.toml").write_text(RESPONSES)
        cortex = BenConfig(cortex=CortexConfig(data_dir=home / "cortex", responses=home / "responses.toml"))
        self.web = WebServer(WebConfig(listen_port=0), self.cluster.spine_addr,
                             (self.cluster.sidecar_addr,), recommend=recommender(cortex)).start()
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


def running_site():
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
def site():
    yield from running_site()


@pytest.fixture
def own_site():
    """A site for one test: for a test that needs the fault not injected yet when the module's site has it."""
    yield from running_site()


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


def click_node(page, node_id: str) -> None:
    """A real mouse click on a node of the map, where Cytoscape drew it."""
    at = page.evaluate("""(id) => { const p = window.benMap.getElementById(id).renderedPosition();
        const b = document.getElementById('map').getBoundingClientRect();
        return {x: b.left + p.x, y: b.top + p.y}; }""", node_id)
    page.mouse.click(at["x"], at["y"])


def test_the_map_shows_the_nodes_live(site, page) -> None:
    page.goto(site.url + "/")
    page.wait_for_function("() => window.benMap && window.benMap.nodes().length >= 4", timeout=10_000)
    ids = page.evaluate("() => window.benMap.nodes().map(n => n.id())")
    assert "spine" in ids and "store" in ids and "sub:checkout-api" in ids
    assert any(i.startswith("sidecar:") for i in ids), ids
    # Live: a server-sent update reaches the page without a reload.
    page.wait_for_function("() => document.getElementById('map').dataset.updated", timeout=5_000)
    click_node(page, "spine")
    page.wait_for_selector("#node-info h2:has-text('spine')", timeout=3_000)
    info = page.inner_text("#node-info")  # health: WAL depth and oldest age per lane, lag, refusals
    for lane in ("alert", "anomaly", "routine"):
        assert f"wal_records{{lane={lane}}}" in info and f"wal_oldest_age_seconds{{lane={lane}}}" in info, info
    assert "detect_lag_seconds" in info and "detect_refused_points_total" in info, info
    # A sidecar links to the series and incidents of the subsystems it carries.
    sidecar = next(i for i in ids if i.startswith("sidecar:"))
    click_node(page, sidecar)
    page.wait_for_selector("#node-info a[href='/series?subsystem=checkout-api']", timeout=3_000)
    # Clicking a subsystem opens its series and its incidents.
    click_node(page, "sub:checkout-api")
    page.wait_for_selector("#node-info h2:has-text('checkout-api')", timeout=3_000)
    page.click("#node-info a:has-text('series')")
    page.wait_for_selector("#series-plot canvas", timeout=5_000)
    assert page.evaluate("() => document.getElementById('series-pick').value") == "checkout-api|latency_ms"
    assert "3,000 points" in page.inner_text("#series-info") or "points in" in page.inner_text("#series-info")
    page.go_back()
    page.wait_for_function("() => window.benMap && window.benMap.getElementById('sub:checkout-api').length")
    click_node(page, "sub:checkout-api")
    page.click("#node-info a:has-text('incidents')")
    page.wait_for_url("**/incidents?subsystem=checkout-api")
    assert page.input_value("#filters [name=subsystem]") == "checkout-api"


@pytest.mark.serial  # a time bound: alone, not beside another test (ADR 0048)
def test_an_injected_fault_appears_in_the_feed_within_5_s(site, page, request) -> None:
    if site.fault_at is not None:  # another test ran first and injected the module site's fault
        site = request.getfixturevalue("own_site")
    the_map = page.context.new_page()
    the_map.goto(site.url + "/")
    the_map.wait_for_function("() => window.benMap && window.benMap.getElementById('sub:checkout-api').length")
    assert the_map.evaluate("() => window.benMap.getElementById('sub:checkout-api').data('open')") == 0
    # The map notes (browser clock) when the subsystem's open incidents first reach the screen.
    the_map.evaluate("""() => { window.benMap.on('data', 'node', (e) => { if (e.target.id() === 'sub:checkout-api'
        && e.target.data('open') >= 1 && !window.openShownAt) window.openShownAt = Date.now(); }); }""")
    page.goto(site.url + "/incidents")
    page.wait_for_selector("#live-dot.on", timeout=5_000)
    fault_at = site.inject_fault()
    # When the change is in the store (polled as fast as a query answers): from there to the map's screen.
    stored_at = wait_for(lambda: query_rows(site.cluster.spine_addr, "SELECT id FROM ben.incidents FINAL")
                         and time.time(), 30, "the incident to be stored", interval=0.02)
    page.wait_for_selector(f"#feed li.incident:has-text('{NARRATIVE}')", timeout=5_000)
    took = time.monotonic() - fault_at
    assert took < 5.0, took
    item = page.inner_text("#feed li.incident")
    assert "checkout-api" in item and "open" in item and re.search(r"\b\d+m\d\ds\b|\b\d+h\d\dm\b", item), item
    assert page.locator("#feed li.incident .badge").inner_text() in ("critical", "high", "medium", "low", "warning")
    # The map, open in another tab, shows the open incident on its subsystem < 2 s after it was stored.
    the_map.wait_for_function("() => window.openShownAt", timeout=5_000)
    shown_after = the_map.evaluate("() => window.openShownAt") / 1000 - stored_at
    assert shown_after < 2.0, shown_after
    health = the_map.evaluate("() => window.benMap.getElementById('sub:checkout-api').data('health')")
    assert sum(v for k, v in health.items() if k.startswith("open_")) >= 1, health  # open incidents by severity
    the_map.close()
    page.goto("about:blank")  # its live stream ends before a site of its own (own_site) stops


def test_the_feed_filters(site, page) -> None:
    incident_id = site.incident_id()
    row = query_rows(site.cluster.spine_addr,
                     f"SELECT severity, state FROM ben.incidents FINAL WHERE id = '{incident_id}'")[0]
    severity, state = row["severity"], row["state"]  # state: open, or acknowledged when that test ran first
    other = "critical" if severity != "critical" else "low"
    shown = lambda: page.eval_on_selector_all("#feed li.incident", "ls => ls.map(l => l.dataset.id)")  # noqa: E731
    page.goto(site.url + "/incidents?state=resolved")
    assert shown() == []
    # A live update asks the server for the list with the page's filters (the store filters: a filtered
    # list may reach past the newest 100 the message carries); the list stays empty.
    page.wait_for_selector("#live-dot.on", timeout=5_000)
    before = page.evaluate("() => Number(document.getElementById('feed').dataset.updated || 0)")
    with page.expect_response(lambda r: r.url.endswith("/incidents/items?state=resolved"), timeout=5_000):
        page.evaluate("() => { window.another = new EventSource('/live'); }")  # a new listener: all is sent again
    page.wait_for_function(f"() => Number(document.getElementById('feed').dataset.updated || 0) > {before}")
    assert shown() == []
    page.goto(site.url + f"/incidents?subsystem=checkout-api&state={state}")
    assert NARRATIVE in page.inner_text("#feed") and shown() == [incident_id]
    page.goto(site.url + "/incidents?subsystem=other-api")
    assert shown() == []
    page.goto(f"{site.url}/incidents?severity={severity}")
    assert shown() == [incident_id]
    page.goto(f"{site.url}/incidents?severity={other}")
    assert shown() == []
    # Time: the incident opened at its events' time (T0 + 5 min, weeks ago): outside the last hour.
    page.goto(site.url + "/incidents?since_s=3600")
    assert shown() == []
    page.goto(site.url + f"/incidents?since_s={int(time.time() - T0 / S) + 3600}")
    assert shown() == [incident_id]


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
    assert "sigma from normal at its peak" in page.inner_text("[data-testid=evidence-words]")  # in words (ADR 0033)
    # Hovering over the shaded episode shows the detectors' statistics.
    over = page.evaluate("""() => { const u = window.benPlots[0], box = u.over.getBoundingClientRect();
        const p = JSON.parse(document.getElementById('plots').textContent)[0];
        return {x: box.left + u.valToPos((p.start + p.end) / 2, 'x'), y: box.top + box.height / 2}; }""")
    page.mouse.move(over["x"], over["y"])
    page.wait_for_selector("[data-testid=detector-tip]:has-text('level_z')", timeout=3_000)
    feed = page.context.new_page()  # the feed, open in another tab, shows the change live
    feed.goto(site.url + "/incidents")
    feed.wait_for_selector(f"#feed li.incident.state-open[data-id='{incident_id}']", timeout=5_000)
    page.fill("input[name=by]", "alice")
    page.click("form.ack button")
    page.wait_for_selector("#ack-result:has-text('acknowledged')", timeout=10_000)
    feed.wait_for_selector(f"#feed li.incident.state-acknowledged[data-id='{incident_id}']", timeout=5_000)
    feed.close()
    rows = query_rows(site.cluster.spine_addr, f"SELECT state, narrative FROM ben.incidents FINAL WHERE id = '{incident_id}'")
    assert rows[0]["state"] == "acknowledged" and "alice (web)" in rows[0]["narrative"]
    # Audited in the hash-chained, signed audit log with the operator's name, and the chain still verifies
    # (the local log and its copy in ben.audit).
    acks = [e for e in audit.audit_entries(site.cluster.spine_addr)
            if e["kind"] == "acknowledgement" and e["command_id"] == incident_id]
    assert len(acks) == 1 and acks[0]["actor"] == "alice (web)", acks
    assert json.loads(acks[0]["body"])["by"] == "alice (web)"
    verdict = audit.verify_audit(site.cluster.spine_addr)
    assert verdict.ok, list(verdict.problems)
    # ... and the incident page's audit trail shows it.
    page.goto(f"{site.url}/incident/{incident_id}")
    assert "acknowledgement" in page.inner_text("#audit") and "alice (web)" in page.inner_text("#audit")


def test_an_acknowledgement_is_audited_once_however_often_it_is_sent(site) -> None:
    """An acknowledgement is audited before it is applied, and only the one that changed the incident: a
    click (or `ben incidents ack`) repeated after a lost answer added a second entry (ADR 0046 round 5)."""
    from ben.core.admin import acknowledge

    incident_id = site.incident_id()
    for _ in range(3):
        reply = acknowledge(site.cluster.spine_addr, incident_id, "bob")
        assert reply.state == "acknowledged"
    acks = [e for e in audit.audit_entries(site.cluster.spine_addr)
            if e["kind"] == "acknowledgement" and e["command_id"] == incident_id]
    assert len(acks) == 1, acks   # alice's from the page, if that test ran first, else bob's
    assert audit.verify_audit(site.cluster.spine_addr).ok


def test_the_incident_page_shows_the_cortex_recommendations(site, page) -> None:
    incident_id = site.incident_id()
    page.goto(f"{site.url}/incident/{incident_id}")
    section = page.locator("#recommendations")
    assert "Recommended responses" in section.inner_text()
    shown = page.eval_on_selector_all("#recommendations tr[data-response]", "rs => rs.map(r => r.dataset.response)")
    assert sorted(shown) == ["page:payments", "watch"], shown
    assert f"ben cortex accept {incident_id} page:payments" in section.inner_text()
    assert "cmd:throttle not offered" in section.inner_text()  # no command policy allows it: excluded
    # The same ranking as `ben explain --json` gives (its audit line: in the cortex's history).
    history = [json.loads(line) for line in (site.home / "cortex" / "history.jsonl").read_text().splitlines()]
    assert any(e["type"] == "recommendation" and e["incident"] == incident_id and e["ranked"] == shown
               for e in history), history


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
        base = f"http://127.0.0.1:{web.port}"
        wrong = {"Authorization": "Bearer wrong-token-0123456789"}
        for path, method, headers in [("/status", "GET", {}), ("/status", "GET", wrong), ("/live", "GET", {}),
                                      ("/static/app.js", "GET", {}), ("/api/series", "GET", {}),
                                      ("/incident/inc-0/acknowledge", "POST", {"HX-Request": "true"})]:
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(urllib.request.Request(base + path, method=method, headers=headers,
                                                              data=b"by=mallory" if method == "POST" else None),
                                       timeout=10)
            assert refused.value.code == 401, path
            refused.value.close()
        with urllib.request.urlopen(urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"}),
                                    timeout=10) as ok:
            assert ok.status == 200
        marker = f"token_{time.time_ns()}"  # the spine's query log: the client is the token (ADR 0045, 2026-12)
        with urllib.request.urlopen(urllib.request.Request(f"{base}/sql?q=SELECT+1+AS+{marker}",
                                                           headers={"Authorization": f"Bearer {token}"}), timeout=30):
            pass
        (entry,) = [e for e in audit.audit_entries(site.cluster.spine_addr, log="queries") if marker in e["body"]]
        assert json.loads(entry["body"])["for"] == "web token", entry
        context = browser.new_context()
        pg = context.new_page()
        assert pg.goto(url).status == 401
        assert pg.goto(f"{url}?token={token}").status == 200  # sets an HttpOnly cookie, then redirects
        assert "?token" not in pg.url and pg.goto(url).status == 200
        context.close()
    finally:
        web.shutdown(2.0)


def test_read_only_except_acknowledgement(site) -> None:
    """Every route answers GET only, but the acknowledgement (POST, with htmx's header: no cross-site form)."""
    for path in ("/", "/incidents", "/incident/inc-0", "/series", "/api/series", "/status", "/commands", "/live"):
        for method in ("POST", "PUT", "DELETE"):
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(urllib.request.Request(site.url + path, method=method, data=b""), timeout=10)
            assert refused.value.code == 405, (method, path)
            refused.value.close()
    incident_id = site.incident_id()
    with pytest.raises(urllib.error.HTTPError) as refused:  # a cross-site form cannot send HX-Request
        urllib.request.urlopen(urllib.request.Request(f"{site.url}/incident/{incident_id}/acknowledge",
                                                      data=b"by=mallory"), timeout=10)
    assert refused.value.code == 403
    refused.value.close()
    narrative = query_rows(site.cluster.spine_addr, "SELECT narrative FROM ben.incidents FINAL")[0]["narrative"]
    assert "mallory" not in narrative


def test_client_certificates_stand_in_for_the_token(site, tmp_path) -> None:
    """[web.tls] from `ben certs`: HTTPS off loopback without a token; only clients whose certificate
    the CA signed get an answer, and of those only the names of ``web.tls_clients`` (ADR 0045, round 11: a
    sidecar's certificate of the same CA read every page and ran SQL through the spine's operator path)."""
    certs, other = tmp_path / "certs", tmp_path / "other"
    init_ca(certs)
    issue(certs, "web", server=True)
    issue(certs, "alice")
    issue(certs, "sc-1")  # a sidecar's certificate, the same CA
    init_ca(other)
    issue(other, "mallory")
    tls = TlsConfig(cert=certs / "web.crt", key=certs / "web.key", ca=certs / "ca.crt")
    with pytest.raises(ConfigError) as err:  # client certificates without naming whose: refused at start
        WebServer(WebConfig(listen_host="0.0.0.0", listen_port=0, tls=tls), site.cluster.spine_addr)
    assert err.value.field == "web.tls_clients" and "a sidecar's too" in str(err.value)
    cfg = WebConfig(listen_host="0.0.0.0", listen_port=0, tls=tls, tls_clients=["alice"])
    assert resolve_token(cfg) is None  # no token needed: the certificates authenticate
    web = WebServer(cfg, site.cluster.spine_addr).start()
    try:
        assert web.url.startswith("https://")
        url = f"https://127.0.0.1:{web.port}/status"

        def client(name: str | None, ca_dir: Path = certs) -> ssl.SSLContext:
            ctx = ssl.create_default_context(cafile=str(certs / "ca.crt"))
            if name:
                ctx.load_cert_chain(ca_dir / f"{name}.crt", ca_dir / f"{name}.key")
            return ctx

        with urllib.request.urlopen(url, context=client("alice"), timeout=10) as r:
            assert r.status == 200 and "<title>ben · status</title>" in r.read().decode()
        marker = f"cert_{time.time_ns()}"  # the spine's query log names the certificate (ADR 0045, 2026-12)
        with urllib.request.urlopen(url.replace("/status", f"/sql?q=SELECT+1+AS+{marker}"), context=client("alice"),
                                    timeout=30) as r:
            assert r.status == 200
        (entry,) = [e for e in audit.audit_entries(site.cluster.spine_addr, log="queries") if marker in e["body"]]
        assert json.loads(entry["body"])["for"] == "certificate CN=alice", entry
        for path in ("/status", "/sql?q=SELECT+1", "/api/series?subsystem=x&name=y"):  # the CA's, not named
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(url.replace("/status", path), context=client("sc-1"), timeout=30)
            assert refused.value.code == 403, path
            assert "certificate CN=sc-1 is not named in web.tls_clients" in refused.value.read().decode()
        # a form of another site posted by a browser without fetch metadata: the browser presents the operator's
        # certificate to any site, so the form's Origin decides (ran the query on the code before)
        for origin, code in ((f"https://127.0.0.1:{web.port}", 200), ("https://elsewhere.example", 403)):
            form = urllib.request.Request(url.replace("/status", "/sql"), data=b"q=SELECT+1", method="POST",
                                          headers={"Origin": origin})
            try:
                with urllib.request.urlopen(form, context=client("alice"), timeout=30) as r:
                    assert (r.status, origin) == (code, origin)
            except urllib.error.HTTPError as answer:
                assert (answer.code, origin) == (code, origin)
                assert "another site" in answer.read().decode()
        for ctx in (client(None), client("mallory", other)):  # no certificate; one another CA signed
            with pytest.raises(OSError):  # the handshake fails (ssl.SSLError, or reset: TLS 1.3)
                urllib.request.urlopen(url, context=ctx, timeout=10).read()
        with pytest.raises(OSError):  # and plain HTTP gets no page (the connection is closed)
            urllib.request.urlopen(f"http://127.0.0.1:{web.port}/status", timeout=10).read()
    finally:
        web.shutdown(2.0)
    with pytest.raises(ConfigError) as err:  # part of [web.tls] is an error naming the field
        resolve_token(WebConfig(listen_host="0.0.0.0", tls=TlsConfig(cert=certs / "web.crt")))
    assert err.value.field == "web.tls.key"


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
