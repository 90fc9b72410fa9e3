"""The web interface as the sixteenth stranger used it (ADR 0033, "2026-12-07/08, round 15", its web part): what the
pages say of "sigma", and what they say with no data yet. Over real HTTP to ``WebServer``; the pages in Debian's
headless Chromium (``tests/web/test_web.py``'s browser). The stored rows are given to the interface's reader (no spine
is started for a page's wording)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from ben.detect.words import SIGMA_SAID
from ben.web.reads import Reader
from tests.web.test_round14 import answer, no_spine  # noqa: F401 - a web interface with no spine behind it
from tests.web.test_web import browser  # noqa: F401 - the module's browser

NS = 1_796_000_000_000_000_000
INCIDENT = {"id": "inc-5161a0000a", "subsystem": "checkout-api", "state": "open", "severity": "high",
            "opened_ts": NS, "updated_ts": NS, "resolved_ts": 0,
            "narrative": "11:02 checkout-api latency_ms rose from 120 ms to 480 ms (18.0 sigma; CUSUM over 14 points); "
                         "still open"}
ANOMALY = {"id": "an-5161a0000b", "series": "latency_ms{route=/pay}", "subsystem": "checkout-api",
           "name": "latency_ms", "unit": "ms", "start_ts": NS, "end_ts": 0, "baseline": 120.0, "observed": 480.0,
           "score": 0.99, "version": 1, "sentence": "latency_ms rose from 120 ms to 480 ms (18.0 sigma)",
           "evidence": json.dumps({"cusum": {"sigma": 18.0, "points": 14}})}


def stored(incidents: list[dict]):
    """A reader's ``rows`` answering the pages' queries from these incidents (their anomaly: ANOMALY)."""
    def rows(self, sql: str) -> list[dict]:
        if "FROM ben.anomalies" in sql:
            return [dict(ANOMALY)]
        if sql.startswith("SELECT * FROM ben.incidents"):
            return [dict(i) for i in incidents if repr(i["id"]) in sql]
        if "FROM ben.incidents" in sql and "ORDER BY opened_ts DESC" in sql:
            return [dict(i) for i in incidents]
        return []
    return rows


@pytest.fixture
def plotless(monkeypatch):
    monkeypatch.setattr(Reader, "anomaly_plot", lambda self, a, width=600: {"title": a["series"], "t": []})


def test_the_incident_page_says_what_sigma_is_once(browser, no_spine, monkeypatch, plotless) -> None:  # noqa: F811
    """The narrative and the evidence say "18.0 sigma", "18 sigma from normal at its peak": the page never said what a
    sigma is (``ben explain`` says it once under the evidence since ADR 0012's round 2)."""
    monkeypatch.setattr(Reader, "rows", stored([INCIDENT]))
    context = browser.new_context()
    try:
        pg = context.new_page()
        pg.goto(f"{no_spine}/incident/{INCIDENT['id']}")
        said = pg.locator("[data-testid=sigma-said]")
        assert said.count() == 1 and said.is_visible() and said.inner_text() == SIGMA_SAID, pg.content()[:2000]
        assert pg.inner_text("body").count("multiples of the series' usual spread") == 1
    finally:
        context.close()


def test_a_page_without_sigma_does_not_define_it(no_spine, monkeypatch, plotless) -> None:  # noqa: F811
    """Said only where a figure in sigma is shown."""
    quiet = {**INCIDENT, "narrative": "11:02 checkout-api latency_ms changed shape; still open"}
    anomaly = {**ANOMALY, "sentence": "latency_ms changed shape", "evidence": json.dumps({"flat": {"points": 30}})}
    monkeypatch.setattr(Reader, "rows", lambda self, sql: [dict(anomaly)] if "ben.anomalies" in sql
                        else [dict(quiet)] if "ben.incidents" in sql else [])
    status, text = answer(f"{no_spine}/incident/{INCIDENT['id']}")
    assert status == 200 and "usual spread" not in text, text
    status, text = answer(f"{no_spine}/incidents")
    assert status == 200 and 'data-testid="sigma-said" hidden' in text, text


def test_the_feed_says_what_sigma_is_under_a_list_that_gives_one(browser, no_spine, monkeypatch) -> None:  # noqa: F811
    """Every narrative of the feed says "(18.0 sigma; ...)": the feed said nothing of what it is either."""
    monkeypatch.setattr(Reader, "rows", stored([INCIDENT]))
    context = browser.new_context()
    try:
        pg = context.new_page()
        pg.goto(f"{no_spine}/incidents")
        said = pg.locator("[data-testid=sigma-said]")
        assert said.is_visible() and said.inner_text() == SIGMA_SAID, pg.content()[:2000]
    finally:
        context.close()


def test_an_incident_of_a_long_series_name_keeps_its_pages_inside_the_window(browser, no_spine, monkeypatch,  # noqa: F811
                                                                             plotless) -> None:
    """Round 15 kept the explorer's menu inside the window for a series named with 249 characters (the SDK takes
    256); an incident of that series was not: its narrative, heading and sentence are one word each too long for any
    line, and the incident page was 2,449 px wide, the feed 2,123 px, on a desktop (1280 px) and a phone alike."""
    from tests.web.test_round15 import LONG

    inc = {**INCIDENT, "narrative": INCIDENT["narrative"].replace("latency_ms", LONG)}
    anomaly = {**ANOMALY, "series": LONG + "{route=/pay}", "name": LONG,
               "sentence": ANOMALY["sentence"].replace("latency_ms", LONG)}
    monkeypatch.setattr(Reader, "rows", lambda self, sql: [dict(anomaly)] if "ben.anomalies" in sql
                        else [dict(inc)] if "ben.incidents" in sql else [])
    for width in (1280, 375):
        context = browser.new_context(viewport={"width": width, "height": 740})
        try:
            pg = context.new_page()
            for path in (f"/incident/{INCIDENT['id']}", "/incidents"):
                pg.goto(f"{no_spine}{path}")
                assert LONG in pg.inner_text("main").replace("\n", "")
                assert pg.evaluate("document.documentElement.scrollWidth") <= width, (width, path)
        finally:
            context.close()


@pytest.mark.parametrize("query, said", [
    ("", "no incidents yet: detection learns each series before it calls anything abnormal (an hour"),
    ("?subsystem=checkout", "no incidents match these filters (subsystem is the exact name: 'checkout')"),
    ("?severity=high", "no incidents match these filters"),
])
def test_an_empty_feed_says_why(no_spine, monkeypatch, query, said) -> None:  # noqa: F811
    """An empty feed said "no incidents", whether nothing had been detected yet (a newcomer's first hour: detection
    learns each series first) or the filters matched nothing (``subsystem=checkout`` for ``checkout-api``: the
    filter is an exact name, round 12 of the web)."""
    monkeypatch.setattr(Reader, "rows", lambda self, sql: [])
    status, text = answer(f"{no_spine}/incidents{query}")
    assert status == 200 and said in text.replace("&#39;", "'"), text


def test_the_incident_page_takes_latest_and_an_anomaly_s_id_as_ben_explain_does(no_spine, monkeypatch) -> None:  # noqa: F811
    """``ben explain latest`` and ``ben explain an-…`` explain an incident; ``/incident/latest`` and
    ``/incident/an-…`` said "no incident 'latest'" (404), and a command's id "no incident 'cmd-…'". They go to the
    incident (303), or say there is none yet, or what a ``cmd-`` id is."""
    asked: list[str] = []

    def rows(self, sql: str) -> list[dict]:
        asked.append(sql)
        if "ORDER BY opened_ts DESC LIMIT 1" in sql or "'an-5161a0000b'" in sql:
            return [{"id": INCIDENT["id"]}]
        return []
    monkeypatch.setattr(Reader, "rows", rows)

    class Stay(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None
    opener = urllib.request.build_opener(Stay)
    for path in ("latest", "an-5161a0000b"):
        try:
            opener.open(f"{no_spine}/incident/{path}", timeout=30)
            raise AssertionError("not redirected")
        except urllib.error.HTTPError as exc:
            assert exc.code == 303 and exc.headers["location"] == f"/incident/{INCIDENT['id']}", (path, exc.code)
    monkeypatch.setattr(Reader, "rows", lambda self, sql: [])
    for path, said in (("latest", "no incidents yet"), ("an-000000000000", "no anomaly 'an-000000000000'"),
                       ("cmd-0123456789abcdef", "is a command's id: the commands page lists it")):
        status, text = answer(f"{no_spine}/incident/{path}")
        assert status == 404 and said in text.replace("&#39;", "'"), (path, text)


def test_a_live_update_of_the_feed_keeps_the_keyboard_s_place(browser, tmp_path, monkeypatch) -> None:  # noqa: F811
    """From the keyboard, Tab to an incident's link in the feed: the next live update (any change among the newest
    incidents) drew the list again and the focused link went with the old one, focus back at the page's top, the
    user's place lost, at every update. Focus stays on the same incident's link."""
    from ben.core.config import WebConfig
    from ben.web import WebServer

    said = {"narrative": INCIDENT["narrative"]}
    other = {**INCIDENT, "id": "inc-5161a0000d", "opened_ts": NS - 10**12}
    monkeypatch.setattr(Reader, "rows", lambda self, sql: [{**INCIDENT, **said}, dict(other)]
                        if "ORDER BY opened_ts DESC" in sql else [])
    server = WebServer(WebConfig(listen_port=0, poll_interval_ms=100), f"unix://{tmp_path}/no.sock").start()
    context = browser.new_context()
    try:
        pg = context.new_page()
        pg.goto(f"{server.url}incidents")
        pg.wait_for_function("() => document.getElementById('live-dot').classList.contains('on')")
        link = f"a[href='/incident/{other['id']}']"
        pg.focus(link)
        before = pg.evaluate("document.getElementById('feed').dataset.updated || ''")
        said["narrative"] = INCIDENT["narrative"] + "; acknowledged by alice, still open"  # a change the poller sees
        pg.wait_for_function("(b) => (document.getElementById('feed').dataset.updated || '') !== b", arg=before)
        assert pg.evaluate("document.activeElement.getAttribute('href')") == f"/incident/{other['id']}"
    finally:
        context.close()
        server.shutdown(2.0)
