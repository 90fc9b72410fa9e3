"""The web interface as a newcomer meets it (ADR 0033, "Web, federation and cortex newcomers"), in Debian's
headless Chromium: a browser with JavaScript off, and a feed page left open while the spine stops and
starts again."""

from __future__ import annotations

import json
import shutil
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from ben.cli.procs import Cluster
from ben.core.config import WebConfig
from ben.web import WebServer
from ben.web.reads import Reader
from tests.web.test_incident_words import ANOMALIES, INC, no_plot, rows
from tests.web.test_web import browser  # noqa: F401 - the module's browser fixture

OPEN = {**INC, "state": "open", "resolved_ts": 0}


def open_rows(self, sql: str) -> list[dict]:
    return [dict(OPEN)] if sql.startswith("SELECT * FROM ben.incidents") else rows(self, sql)


@pytest.fixture
def url(tmp_path: Path, monkeypatch) -> str:
    """An open incident the page can acknowledge; no spine (the acknowledgement would reach none)."""
    monkeypatch.setattr(Reader, "rows", open_rows)
    monkeypatch.setattr(Reader, "anomaly_plot", no_plot)
    server = WebServer(WebConfig(listen_port=0), f"unix://{tmp_path / 'no-spine.sock'}").start()
    yield server.url.rstrip("/")
    server.shutdown(2.0)


def test_with_javascript_off_the_page_says_so_and_acknowledging_says_nothing_was_done(browser, url) -> None:  # noqa: F811
    """The page said nothing of it: the map and plots were blank, and the acknowledge button sent the form as a
    GET of the page itself, which came back the same (nothing acknowledged, nothing said)."""
    assert ANOMALIES
    context = browser.new_context(java_script_enabled=False)
    try:
        pg = context.new_page()
        pg.goto(f"{url}/incident/{OPEN['id']}")
        note = pg.get_by_test_id("noscript")
        assert note.is_visible() and "ben acknowledge ID" in note.inner_text(), pg.content()[:2000]
        pg.fill("input[name=by]", "alice")
        with pg.expect_navigation():
            pg.click("form.ack button")
        body = pg.inner_text("body")
        assert "nothing was acknowledged" in body and f"ben acknowledge {OPEN['id']} --by NAME" in body, body
    finally:
        context.close()


def test_a_feed_left_open_says_when_the_spine_stops_and_clears_when_it_is_back(browser) -> None:  # noqa: F811
    """The list stayed as it was, as if live: an empty feed changed nothing when the spine stopped, and a
    list that could not be read again was kept in silence. (Its own page: the browser logs the 503 the
    stopped spine gives, which the module's ``page`` fixture counts as an error.)"""
    home = Path(tempfile.mkdtemp(prefix="bwn-", dir="/tmp"))
    cluster = Cluster(home)
    web = None
    context = browser.new_context()
    page = context.new_page()
    try:
        cluster.start_spine()
        web = WebServer(WebConfig(listen_port=0, poll_interval_ms=200), cluster.spine_addr).start()
        page.goto(f"{web.url.rstrip('/')}/incidents")
        status = page.get_by_test_id("feed-status")
        page.wait_for_selector("#live-dot.on")
        assert status.is_hidden()
        cluster.spine.stop()
        page.wait_for_selector("[data-testid=feed-status]:not([hidden])", timeout=30_000)
        said = status.inner_text()
        assert said.startswith("not updated since") and "spine" in said, said
        cluster.start_spine()
        page.wait_for_selector("[data-testid=feed-status][hidden]", state="attached", timeout=30_000)
    finally:
        context.close()
        if web is not None:
            web.shutdown(2.0)
        cluster.stop()
        shutil.rmtree(home, ignore_errors=True)


@pytest.mark.parametrize("by, said", [("ops/alice", "by: the operator's name"),
                                      ("alice", "nothing answers at unix://")])
def test_an_acknowledgement_that_fails_says_so_on_the_page(browser, url, by, said) -> None:  # noqa: F811
    """htmx swaps only 2xx answers: a name the server refuses, or a spine that stopped, left the result empty as
    if the button had done nothing (and the spine's failure was a whole HTML page, which was never shown)."""
    context = browser.new_context()
    try:
        pg = context.new_page()
        pg.goto(f"{url}/incident/{OPEN['id']}")
        pg.fill("input[name=by]", by)
        pg.click("form.ack button")
        result = pg.locator("#ack-result")
        pg.wait_for_function("() => document.getElementById('ack-result').textContent !== ''", timeout=30_000)
        text = result.inner_text()
        assert text.startswith("nothing was acknowledged: ") and said in text and "<" not in text, text
        assert result.get_attribute("class") == "error"
    finally:
        context.close()


def test_the_series_explorer_says_when_the_spine_does_not_answer(tmp_path) -> None:
    """/api/series answered the site's HTML error page: the explorer's JSON.parse failed and it said nothing."""
    server = WebServer(WebConfig(listen_port=0), f"unix://{tmp_path / 'no-spine.sock'}").start()
    try:
        with pytest.raises(urllib.error.HTTPError) as answer:
            urllib.request.urlopen(f"{server.url.rstrip('/')}/api/series?subsystem=a&name=b", timeout=30)
        assert answer.value.code == 503 and "nothing answers" in json.loads(answer.value.read())["error"]
    finally:
        server.shutdown(2.0)


def test_the_incident_page_says_why_the_cortex_recommends_nothing(tmp_path, monkeypatch) -> None:
    """A responses file with no [[subsystems]] entry for the incident's subsystem: the page showed the table's
    headings over no row."""
    from ben.core.config import BenConfig, CortexConfig
    from ben.web.triage import recommender

    monkeypatch.setattr(Reader, "rows", open_rows)
    monkeypatch.setattr(Reader, "anomaly_plot", no_plot)
    (tmp_path / "r.toml").write_text('[[subsystems]]\nmatch = "batch-*"\nresponses = ["watch"]\n')
    cfg = BenConfig(cortex=CortexConfig(data_dir=tmp_path / "cx", responses=tmp_path / "r.toml"))
    server = WebServer(WebConfig(listen_port=0), f"unix://{tmp_path / 'no-spine.sock'}",
                       recommend=recommender(cfg)).start()
    try:
        with urllib.request.urlopen(f"{server.url.rstrip('/')}/incident/{OPEN['id']}", timeout=30) as answer:
            page = answer.read().decode()
        assert "no response for subsystem &#39;checkout-api&#39;" in page and "r.toml" in page, page[-3000:]
    finally:
        server.shutdown(2.0)


def test_a_feed_window_the_menu_does_not_list_is_shown_as_chosen(url) -> None:
    """`/incidents?since_s=60` (a URL edited by hand) filtered the list to the last minute while the menu said
    "any time" (no option selected: the browser shows the first): the page said another filter than the one
    applied."""
    with urllib.request.urlopen(f"{url}/incidents?since_s=60", timeout=30) as answer:
        page = answer.read().decode()
    assert '<option value="60" selected>last 60 s</option>' in page, page
