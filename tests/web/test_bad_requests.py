"""The web interface given bad URL parameters and forms on purpose, over real HTTP (ADR 0033, amendment of
2026-12-06): each is a 4xx naming the parameter, never a 500 or a silent empty page. No spine runs: every case is
refused before anything is read (a valid request then reaches the reader, whose failure is a 503)."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from ben.core.config import WebConfig
from ben.web import WebServer


@pytest.fixture(scope="module")
def url(tmp_path_factory) -> str:
    home: Path = tmp_path_factory.mktemp("web")
    server = WebServer(WebConfig(listen_port=0), f"unix://{home / 'no-spine.sock'}").start()
    yield server.url.rstrip("/")
    server.shutdown(2.0)


def fetch(url: str, data: bytes | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@pytest.mark.parametrize("query", ["to=inf", "to=10&from=1e300", "to=-inf&from=0", "to=1e400", "to=10&range=1e300"])
def test_a_series_time_that_is_no_number_of_nanoseconds_is_a_400(url: str, query: str) -> None:
    status, body = fetch(f"{url}/api/series?subsystem=a&name=b&{query}")  # was 500 Internal Server Error
    said = json.loads(body)["error"]  # range is named with its value since web round 15 (ADR 0033)
    assert status == 400 and ("finite numbers" in said or said.startswith("range must be")), (status, body)


@pytest.mark.parametrize("query,named", [("limit=-5", "limit"), ("limit=0", "limit"), ("limit=99999", "limit"),
                                         ("since_s=-1", "since_s"), ("since_s=99999999999999999999", "since_s")])
def test_a_feed_limit_or_window_out_of_range_is_a_400(url: str, query: str, named: str) -> None:
    status, body = fetch(f"{url}/incidents?{query}")  # was 200 (LIMIT -5 sent to ClickHouse; 99999 read as 1000)
    assert status == 400 and named in body and query.split("=")[1] in body, (status, body)


def test_a_valid_feed_request_still_reaches_the_spine(url: str) -> None:
    status, body = fetch(f"{url}/incidents?limit=5&since_s=3600")
    assert status == 503 and "no-spine.sock" in body, (status, body[:500])


def test_sql_over_a_mebibyte_is_refused_not_dropped(url: str) -> None:
    """Was 200 and an empty SQL page. The length is declared: the answer comes before the body is sent
    (the server does not read it; a client still writing it would see the connection close)."""
    host, port = urllib.parse.urlsplit(url).hostname, urllib.parse.urlsplit(url).port
    with socket.create_connection((host, port), timeout=30) as s:
        s.sendall(b"POST /sql HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                  b"Content-Length: %d\r\nConnection: close\r\n\r\n" % (host.encode(), port, (1 << 20) + 10))
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413") and b"over 1 MiB: nothing was run" in body, answer[:500]


@pytest.mark.parametrize("path,named", [
    ("/incidents?severity=bogus", "severity must be one of critical"),
    ("/incidents?state=closed", "state must be one of open, acknowledged, resolved"),
    ("/incidents/items?state=%00", "state must be one of"),
    ("/commands?state=bogus", "state must be one of awaiting_approval"),
    ("/api/series?subsystem=a&name=b&attributes=garbage", "'garbage' is not KEY=VALUE"),
    ("/api/series?subsystem=a&name=b&attributes=route%3D%2Fpay,%20eu", "'eu' is not KEY=VALUE"),
])
def test_a_filter_value_that_matches_nothing_by_construction_is_a_400(url: str, path: str, named: str) -> None:
    """Each was a 200 with an empty feed, an empty command list, or the plot of every series (the attribute
    filter dropped): the page looked as if there were nothing, in silence."""
    status, body = fetch(f"{url}{path}")
    assert status == 400 and named in body, (status, body[:500])


def test_valid_filters_still_reach_the_spine(url: str) -> None:
    for path in ("/incidents?severity=high&state=open", "/commands?state=awaiting_approval"):
        status, body = fetch(f"{url}{path}")
        assert status in (200, 503) and "must be one of" not in body, (path, status, body[:300])


def _post(url: str, body: bytes, content_type: str) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@pytest.mark.parametrize("body,content_type,named", [
    (b"--x\r\ngarbage\r\n--x--", "multipart/form-data; boundary=x", "Content-Type 'multipart/form-data'"),
    (b'{"q": "SELECT 1"}', "application/json", "Content-Type 'application/json'"),
    (b"\x00\xff garbage", "application/x-www-form-urlencoded", "not application/x-www-form-urlencoded"),
    (b"sql=SELECT+1", "application/x-www-form-urlencoded", "no field q"),
])
def test_a_sql_form_that_is_no_form_of_the_page_is_a_400(url: str, body: bytes, content_type: str,
                                                          named: str) -> None:
    status, text = _post(f"{url}/sql", body, content_type)  # was 200 and an empty SQL page
    assert status == 400 and named in text and "nothing was run" in text, (status, text[:500])


def test_the_page_s_own_sql_form_still_reaches_the_spine(url: str) -> None:
    status, text = _post(f"{url}/sql", b"q=SELECT+1", "application/x-www-form-urlencoded; charset=UTF-8")
    assert status == 400 and "no-spine.sock" in text, (status, text[:500])  # the spine's absence, not the form
    status, _ = _post(f"{url}/sql", b"q=", "application/x-www-form-urlencoded")
    assert status == 200  # an empty statement: the empty page, as before


@pytest.mark.parametrize("path", ["/nope", "/incidents/items/x", "/" + "a" * 5000])
def test_an_unknown_page_is_the_site_s_page_saying_so(url: str, path: str) -> None:
    """ADR 0033 round 6: an unknown page was a bare "Not Found" text (no way back, no word of the pages)."""
    status, body = fetch(url + path)
    assert status == 404 and "no page &#39;/" in body and "the pages are the map (/)" in body, (status, body[:300])
    assert 'href="/incidents"' in body and len(body) < 20_000  # the site's navigation; the path cut
    for api in ("/api/nope", "/static/nope.js"):  # the API and static files answer as before
        assert fetch(url + api) == (404, "Not Found")
