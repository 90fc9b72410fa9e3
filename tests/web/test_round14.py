"""The web interface as the fourteenth stranger used it (ADR 0033, "2026-12-07, web round 14"): URLs edited by
hand, a token that is missing, wrong or changed while a page is open, two tabs on one incident, Back after a
query, a phone's window. Over real HTTP to ``WebServer``; what happens in the page in Debian's headless
Chromium (``tests/web/test_web.py``'s browser), with a real spine where the behaviour is the spine's."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from ben.core.config import WebConfig
from ben.web import WebServer
from ben.web.reads import Reader
from tests.web.test_web import browser, site  # noqa: F401 - the module's browser and real cluster

TOKEN = "round-14-token-long-enough-0"


def answer(url: str, headers: dict | None = None) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@pytest.fixture
def no_spine(tmp_path: Path):
    server = WebServer(WebConfig(listen_port=0), f"unix://{tmp_path / 'no-spine.sock'}").start()
    yield server.url.rstrip("/")
    server.shutdown(2.0)


@pytest.mark.parametrize("query, said", [("since_s=abc", "since_s must be a whole number (got 'abc')"),
                                         ("limit=1e3", "limit must be a whole number (got '1e3')"),
                                         ("since_s=60&limit=%E2%85%A0", "limit must be a whole number (got '\u2160')")])
def test_a_feed_number_that_is_none_names_its_field_and_value(no_spine, query, said) -> None:
    """Was "since_s and limit must be whole numbers" for either: neither the field nor the value named."""
    status, text = answer(f"{no_spine}/incidents?{query}")
    assert status == 400 and text == said, text


def test_a_missing_or_wrong_token_says_how_a_browser_gives_one(tmp_path, monkeypatch) -> None:
    """Every 401 said "needs its access token (Authorization: Bearer ...)": a header a person with a browser cannot
    send, and the same words when the cookie held a token that was changed since."""
    monkeypatch.setenv("BEN_R14_TOKEN", TOKEN)
    server = WebServer(WebConfig(listen_port=0, token_env="BEN_R14_TOKEN"), f"unix://{tmp_path / 'x.sock'}").start()
    url = server.url.rstrip("/")
    try:
        status, text = answer(f"{url}/status")
        assert status == 401 and "?token=TOKEN" in text and "not this interface's" not in text, text
        status, text = answer(f"{url}/status", {"Cookie": "ben_web_token=an-old-token-of-last-week-0"})
        assert status == 401 and "ben_web_token cookie is not this interface's" in text and "?token=TOKEN" in text
        status, text = answer(f"{url}/status?token=typo")
        assert status == 401 and "?token= is not this interface's" in text, text
    finally:
        server.shutdown(2.0)


def names(self, limit: int = 500) -> list[dict]:
    return [{"subsystem": "checkout-api", "name": "latency_ms"}, {"subsystem": "pay|eu", "name": "queue"}]


@pytest.mark.parametrize("query, said", [("subsystem=nope", "no series 'nope' is stored: showing checkout-api"),
                                         ("subsystem=checkout-api&name=nope", "no series 'checkout-api' · 'nope'"),
                                         ("name=queue", None), ("subsystem=pay%7Ceu", None)])
def test_a_series_the_url_names_that_is_not_stored_is_said(no_spine, monkeypatch, query, said) -> None:
    """`/series?subsystem=nope` drew the first series of the list, the menu naming it, as if it were the one asked
    for; `?name=queue` alone (no subsystem) drew the first series, not the one named."""
    monkeypatch.setattr(Reader, "series_names", names)
    status, text = answer(f"{no_spine}/series?{query}")
    assert status == 200
    if said:
        assert said in text.replace("&#39;", "'"), text
    else:
        assert 'data-testid="series-missing"' not in text and 'data-name="queue"\n     selected' in text, text


def test_a_subsystem_holding_a_bar_is_plotted_as_itself(browser, no_spine, monkeypatch) -> None:  # noqa: F811
    """The explorer split the menu's value ``subsystem|name`` on '|': subsystem ``pay|eu`` (printable, taken by the
    SDK) asked for series ``eu|queue`` of subsystem ``pay``, which holds nothing: an empty plot, said to be it."""
    asked: list[tuple[str, str]] = []

    def series(self, *, subsystem: str, name: str, **kwargs) -> dict:
        asked.append((subsystem, name))
        return {"t": [1.0], "lo": [1.0], "hi": [1.0], "mean": [1.0], "points": 1, "buckets": 1}

    monkeypatch.setattr(Reader, "series_names", names)
    monkeypatch.setattr(Reader, "series", series)
    monkeypatch.setattr(Reader, "last_ts", lambda self, **kwargs: 0)
    context = browser.new_context()
    try:
        pg = context.new_page()
        pg.goto(f"{no_spine}/series?subsystem=pay%7Ceu")
        pg.wait_for_function("() => document.getElementById('series-info').textContent !== ''")
        assert asked == [("pay|eu", "queue")], (asked, pg.inner_text("#series-info"))
    finally:
        context.close()


def test_two_tabs_acknowledging_one_incident_the_second_is_told(site, browser) -> None:  # noqa: F811
    """The second tab's acknowledgement (another operator's name) answered "acknowledged: ... acknowledged by alice
    (web), still open", as if bob had acknowledged it: the spine keeps the first acknowledgement, and said nothing."""
    incident = site.incident_id()
    context = browser.new_context()
    try:
        first, second = context.new_page(), context.new_page()
        for pg in (first, second):
            pg.goto(f"{site.url}/incident/{incident}")
        said = []
        for pg, by in ((first, "alice"), (second, "bob")):
            pg.fill("input[name=by]", by)
            pg.click("form.ack button")
            pg.wait_for_function("() => document.getElementById('ack-result').textContent !== ''", timeout=30_000)
            said.append(pg.inner_text("#ack-result"))
        assert said[0].startswith("acknowledged: ") and "by alice (web)" in said[0], said
        assert said[1].startswith("already acknowledged by alice (web): nothing changed"), said
    finally:
        context.close()


def test_back_to_a_page_of_sql_results_shows_them_again(site, browser) -> None:  # noqa: F811
    """The SQL form posts: Back to its results was Chromium's "Confirm Form Resubmission" (net::ERR_CACHE_MISS)."""
    context = browser.new_context()
    try:
        pg = context.new_page()
        pg.goto(f"{site.url}/sql")
        pg.fill("textarea[name=q]", "SELECT 41 + 1 AS answer")
        with pg.expect_navigation():
            pg.click("#sql-form button")
        pg.goto(f"{site.url}/status")
        pg.go_back()
        assert pg.inner_text("#sql-table").split() == ["answer", "UInt16", "42"], pg.content()[:2000]
        assert pg.input_value("textarea[name=q]") == "SELECT 41 + 1 AS answer"
    finally:
        context.close()


def test_a_phone_s_window_shows_the_whole_menu_and_the_map(site, browser) -> None:  # noqa: F811
    """At 375 px the menu ran off the screen (commands and the live dot past its right edge) and the map, beside
    the node panel's 340 px, was squeezed to no width: the map page showed nothing but its heading."""
    context = browser.new_context(viewport={"width": 375, "height": 740})
    try:
        pg = context.new_page()
        pg.goto(f"{site.url}/")
        pg.wait_for_function("() => window.benMap !== undefined")
        right = pg.evaluate("Math.max(...[...document.querySelectorAll('nav > *')]"
                            ".map((e) => e.getBoundingClientRect().right))")
        assert right <= 375, right
        box = pg.locator("#map").bounding_box()
        assert box["width"] >= 300 and box["height"] >= 300, box
        pg.goto(f"{site.url}/sql?q=SELECT%201")
        assert pg.evaluate("document.documentElement.scrollWidth") <= 375
    finally:
        context.close()


def test_a_page_left_open_while_the_token_changes_says_so(site, browser, monkeypatch) -> None:  # noqa: F811
    """The interface restarted with another token: the live stream's reconnection got a 401, which a browser never
    retries; the feed stayed as it was with a grey dot and no word. The series explorer's "show" said "the web
    interface does not answer" of a 401 that said why."""
    monkeypatch.setenv("BEN_R14_TOKEN", TOKEN)
    web = WebServer(WebConfig(listen_port=0, token_env="BEN_R14_TOKEN", poll_interval_ms=200),
                    site.cluster.spine_addr).start()
    port = web.port
    context = browser.new_context()
    try:
        feed, series = context.new_page(), context.new_page()
        feed.goto(f"http://127.0.0.1:{port}/incidents?token={TOKEN}")
        series.goto(f"http://127.0.0.1:{port}/series")
        feed.wait_for_selector("#live-dot.on")
        series.wait_for_function("() => document.getElementById('series-info').textContent.includes('points')")
        web.shutdown(2.0)
        os.environ["BEN_R14_TOKEN"] = "another-token-long-enough-1"
        web = WebServer(WebConfig(listen_port=port, token_env="BEN_R14_TOKEN", poll_interval_ms=200),
                        site.cluster.spine_addr).start()
        # (while the interface is away the note says "live updates paused", web round 15; then the 401's line)
        feed.wait_for_function("() => document.getElementById('live-status').textContent.startsWith('live updates "
                               "stopped')", timeout=30_000)
        said = feed.inner_text("[data-testid=live-status]")
        assert said.startswith("live updates stopped at") and "cookie is not this interface's" in said, said
        series.click("#series-form button")
        series.wait_for_function("() => document.getElementById('series-info').textContent.startsWith('401')")
        assert "cookie is not this interface's" in series.inner_text("#series-info")
    finally:
        context.close()
        web.shutdown(2.0)


def test_ben_web_stopped_while_a_page_is_open_says_no_traceback(home) -> None:
    """Ctrl-C on `ben web` with a page open (its live stream): uvicorn waited its graceful second, cancelled the
    stream and logged "ERROR: Cancel 1 running task(s)", "ERROR: Exception in ASGI application" and a 40-line
    traceback in the operator's terminal. The streams now end as the server stops."""
    import http.client
    import signal

    from ben.cli.procs import Proc, wait_for
    from tests.web.test_cli import url_in

    web = Proc(["web", "--spine", f"unix://{home / 'no-spine.sock'}", "--port", "0"], home / "web.log")
    try:
        url = wait_for(lambda: url_in(web) or (not web.alive() and web.tail()), 30, "ben web's URL")
        host, port = url.split("//")[1].rstrip("/").split(":")
        stream = http.client.HTTPConnection(host, int(port), timeout=30)
        try:
            stream.request("GET", "/live")
            answer = stream.getresponse()
            assert answer.status == 200 and answer.readline() == b"retry: 1000\n"
            web.signal(signal.SIGINT)
            web.popen.wait(30)  # (exit 130, "ben: interrupted": uvicorn raises the SIGINT it caught again once stopped)
        finally:
            stream.close()
        said = web.tail(200)
        assert "Traceback" not in said and "ERROR" not in said, said
    finally:
        web.stop()


@pytest.mark.parametrize("query, said", [("attributes=%3Dx", "attributes: '=x' is not KEY=VALUE"),
                                         ("attributes=route%3D%2Fpay%2C%20%3D", "attributes: '=' is not KEY=VALUE"),
                                         ("range=-5", "range must be a positive number of seconds (got '-5')"),
                                         ("range=0", "range must be a positive number of seconds (got '0')")])
def test_a_series_query_without_a_key_or_with_no_range_names_it(no_spine, query, said) -> None:
    """`attributes==x` (no key) matched no series: 200 and "0 points"; `range=-5` said "the time range is empty (to
    must be after from)", naming two fields the explorer never sent."""
    status, text = answer(f"{no_spine}/api/series?subsystem=a&name=b&{query}")
    assert status == 400 and said in json.loads(text)["error"], text


def test_a_series_with_no_points_in_the_range_says_what_was_asked(browser, no_spine, monkeypatch) -> None:  # noqa: F811
    """Attributes no stored point has (or a range before the first point) showed "0 points in 0 buckets, 3 ms"
    over an empty plot: nothing named the series, the attributes or the range."""
    monkeypatch.setattr(Reader, "series_names", names)
    monkeypatch.setattr(Reader, "series", lambda self, **kwargs: {"t": [], "lo": [], "hi": [], "mean": [],
                                                                  "points": 0, "buckets": 0})
    monkeypatch.setattr(Reader, "last_ts", lambda self, **kwargs: 0)
    context = browser.new_context()
    try:
        pg = context.new_page()
        pg.goto(f"{no_spine}/series")
        pg.fill("#series-attrs", "route=/nowhere")
        pg.press("#series-attrs", "Enter")
        pg.wait_for_function("() => document.getElementById('series-info').textContent.startsWith('no stored')")
        said = pg.inner_text("#series-info")
        assert "checkout-api · latency_ms with route=/nowhere in this range" in said, said
    finally:
        context.close()


def test_the_map_s_nodes_open_from_the_keyboard(site, browser) -> None:  # noqa: F811
    """The nodes are drawn on a canvas: Tab went through the menu and back, and no key opened a node's figures."""
    context = browser.new_context()
    try:
        pg = context.new_page()
        pg.goto(f"{site.url}/")
        pg.wait_for_selector("[data-testid=node-list] button[data-node=spine]")
        for _ in range(30):
            pg.keyboard.press("Tab")
            if pg.evaluate("document.activeElement.dataset.node") == "spine":
                break
        pg.keyboard.press("Enter")
        assert pg.inner_text("#node-info h2") == "spine" and "up" in pg.inner_text("#node-info")
    finally:
        context.close()


def test_a_live_stream_opened_with_a_token_since_replaced_ends(tmp_path) -> None:
    """`web.token_file` replaced (a token that leaked): every new request with the old token was refused, but a
    `/live` stream opened with it went on streaming the map and the incidents for as long as it stayed open."""
    import http.client

    from tests.web.test_token_file import NEW, OLD, _replace

    token = tmp_path / "token"
    token.write_text(OLD + "\n")
    token.chmod(0o600)
    web = WebServer(WebConfig(listen_port=0, token_file=token, poll_interval_ms=200),
                    f"unix://{tmp_path / 'no-spine.sock'}").start()
    stream = http.client.HTTPConnection("127.0.0.1", web.port, timeout=60)
    try:
        stream.request("GET", "/live", headers={"Authorization": f"Bearer {OLD}"})
        answer = stream.getresponse()
        assert answer.status == 200 and answer.readline() == b"retry: 1000\n"
        _replace(token, NEW)
        rest = answer.read()  # the server ends it (at its next message or keep-alive); before, the read timed out
        assert rest.count(b"event: ") <= 2, rest[:500]  # at most what was on its way when the file was replaced
    finally:
        stream.close()
        web.shutdown(2.0)
