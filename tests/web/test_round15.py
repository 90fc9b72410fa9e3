"""The web interface as the fifteenth stranger used it (ADR 0033, "2026-12-07, round 14", its web part): very long
series names, numbers edited by hand in the explorer's and the feed's URLs, the tab's title, ``ben web`` restarting
under an open page. Over real HTTP to ``WebServer``; the page in Debian's headless Chromium
(``tests/web/test_web.py``'s browser)."""

from __future__ import annotations

import json

import pytest

from ben.core.config import WebConfig
from ben.web import WebServer
from ben.web.reads import Reader
from tests.web.test_round14 import answer, no_spine  # noqa: F401 - a web interface with no spine behind it
from tests.web.test_web import browser  # noqa: F401 - the module's browser

LONG = "latency_" + "ö" * 120 + "_" + "y" * 120  # 249 characters: the SDK takes names up to 256


def long_names(self, limit: int = 500) -> list[dict]:
    return [{"subsystem": "checkout-api", "name": LONG}, {"subsystem": "checkout-api", "name": "latency_ms"}]


def test_the_sql_page_s_title_is_its_name_and_its_address_still_follows_the_statement(browser, no_spine) -> None:  # noqa: F811
    """Round 14 put the SQL page's script inside its ``<title>`` as well: a title is text, so every tab, bookmark and
    history entry of the page read 'ben · SQL<script>document.addEventListener("DOMContentLoaded", () =>
    ben.sqlHistory());</script>'."""
    context = browser.new_context()
    try:
        pg = context.new_page()
        pg.goto(f"{no_spine}/sql")
        assert pg.title() == "ben · SQL", pg.title()
        pg.fill("textarea[name=q]", "SELECT 1")
        with pg.expect_navigation():
            pg.click("#sql-form button")
        assert pg.title() == "ben · SQL" and pg.url.endswith("/sql?q=SELECT+1"), (pg.title(), pg.url)
    finally:
        context.close()


def test_a_long_series_name_keeps_the_explorer_inside_the_window(browser, no_spine, monkeypatch) -> None:  # noqa: F811
    """A series named with 249 characters (the SDK takes 256) made the explorer's menu as wide as its longest name:
    2,198 px, and the whole page scrolled sideways on a phone (375 px) and on a desktop (1280 px) alike."""
    monkeypatch.setattr(Reader, "series_names", long_names)
    for width in (375, 1280):
        context = browser.new_context(viewport={"width": width, "height": 740})
        try:
            pg = context.new_page()
            pg.goto(f"{no_spine}/series")
            pg.wait_for_function("() => document.getElementById('series-info').textContent !== ''")
            right = pg.evaluate("document.getElementById('series-pick').getBoundingClientRect().right")
            assert right <= width and pg.evaluate("document.documentElement.scrollWidth") <= width, (width, right)
        finally:
            context.close()


@pytest.mark.parametrize("query, said", [
    ("subsystem=a&name=b&width=1e9", "width must be a whole number of pixels, 1 to 4000 (got '1e9')"),
    ("subsystem=a&name=b&width=-3", "width must be a whole number of pixels, 1 to 4000 (got '-3')"),
    ("subsystem=a&name=b&width=0", "width must be a whole number of pixels, 1 to 4000 (got '0')"),
    ("subsystem=a&name=b&range=1e308", "range must be a positive number of seconds, at most 100 years (got '1e308')"),
    ("subsystem=a", "name is needed"),
    ("name=b", "subsystem is needed"),
])
def test_a_series_query_names_the_number_or_part_that_is_wrong(no_spine, query, said) -> None:  # noqa: F811
    """``width=1e9`` and ``range=1e308`` said "from, to, range and width must be finite numbers" (each is finite);
    ``width=-3`` and ``0`` were taken as 10; without ``name`` (or ``subsystem``) the answer was 200 and "0 points",
    as if the series were empty. Each names its field, with the value (the spine is not asked)."""
    status, text = answer(f"{no_spine}/api/series?{query}")
    assert status == 400 and said in json.loads(text)["error"], text


@pytest.mark.parametrize("query, said", [("limit=0", "limit must be 1 to 1000 (got 0)"),
                                         ("since_s=-1", "since_s must be 0 to 100 years of seconds (got -1)")])
def test_a_feed_number_out_of_range_names_only_its_field(no_spine, query, said) -> None:  # noqa: F811
    """``/incidents?limit=0`` said "limit must be 1 to 1000 (got 0) and since_s 0 to 100 years of seconds (got 0)":
    both fields, whichever was wrong."""
    status, text = answer(f"{no_spine}/incidents?{query}")
    assert status == 400 and text == said, text


def test_a_page_left_open_while_ben_web_restarts_says_so_and_clears(browser, tmp_path) -> None:  # noqa: F811
    """``ben web`` stopped (restarted, gone) under an open map or feed: the browser asks again every second, and the
    page stayed as it was, only the dot grey, as if what it showed were live. It says so while the interface does
    not answer, and the note goes once the stream is back."""
    spine = f"unix://{tmp_path / 'no-spine.sock'}"
    web = WebServer(WebConfig(listen_port=0, poll_interval_ms=200), spine).start()
    port = web.port
    context = browser.new_context()
    try:
        pages = [context.new_page() for _ in range(2)]  # two tabs of the map (the feed needs a spine to show)
        for pg in pages:
            pg.goto(f"http://127.0.0.1:{port}/")
            pg.wait_for_selector("#live-dot.on")
        web.shutdown(2.0)
        for pg in pages:
            pg.wait_for_selector("[data-testid=live-status]:not([hidden])", timeout=30_000)
            said = pg.inner_text("[data-testid=live-status]")
            assert said.startswith("live updates paused at") and "does not answer" in said, said
        web = WebServer(WebConfig(listen_port=port, poll_interval_ms=200), spine).start()
        for pg in pages:
            pg.wait_for_selector("#live-dot.on", timeout=30_000)
            pg.wait_for_selector("[data-testid=live-status][hidden]", state="attached")
    finally:
        context.close()
        web.shutdown(2.0)
