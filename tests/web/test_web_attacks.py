"""The attack matrix (ADR 0045, 2026-12-06), continued against the web interface of a real spine: what
another site in the operator's browser, a local client on loopback and a crafted URL can do.

The rig is ``tests/test_attack_matrix.py``'s (spine with ``--web``, store process, sidecar; umask 000).
``docs/security.md`` maps each cell to its test.
"""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request

import pytest

from tests.helpers import Flood, descriptors
from tests.test_attack_matrix import Rig, rig, rss_bytes  # noqa: F401 - the module's rig fixture


def get(url: str, headers: dict | None = None) -> tuple[int, dict, str]:
    """Status, headers (lower-case names) and body of a GET."""
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read().decode(errors="replace")


def raw(port: int, request: bytes) -> bytes:
    """A request sent as bytes (no client normalises its path), the answer until the server closes (or
    resets the connection: what it answered before, if anything)."""
    out = b""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
        try:
            s.sendall(request)
            while chunk := s.recv(65536):
                out += chunk
        except (ConnectionResetError, BrokenPipeError):
            pass
    return out


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else 0


def port_of(r: Rig) -> int:
    return int(r.web.rsplit(":", 1)[1])


@pytest.mark.parametrize("path", ["/", "/incidents", "/sql?q=SELECT%201", "/status", "/api/series?subsystem=a&name=b",
                                  "/incident/nope", "/no-such-page"])
def test_every_answer_carries_the_security_headers(rig: Rig, path: str) -> None:  # noqa: F811
    """Clickjacking (the acknowledge button in a frame), sniffing, inline scripts of another's, caching."""
    status, headers, _ = get(rig.web + path)
    assert status in (200, 400, 404), status
    csp = headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp, headers
    assert "unsafe-inline" not in csp.split("script-src", 1)[1].split(";")[0], csp
    assert headers.get("x-frame-options") == "DENY" and headers.get("x-content-type-options") == "nosniff"
    assert headers.get("cross-origin-resource-policy") == "same-origin" and headers.get("referrer-policy") == "same-origin"
    assert headers.get("cache-control") == "no-store", headers  # telemetry and query results: never cached


def test_the_static_files_are_cacheable_and_not_sniffed(rig: Rig) -> None:  # noqa: F811
    status, headers, body = get(rig.web + "/static/app.js")
    assert status == 200 and "ben" in body
    assert headers.get("x-content-type-options") == "nosniff" and headers.get("cache-control") != "no-store"


CROSS = [  # what a page of another site (or another port of localhost: same-site) makes the browser send
    ("/sql?q=SELECT%20now()", {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "image"}),
    ("/sql?q=SELECT%20now()", {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}),
    ("/sql?q=SELECT%20now()", {"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "cors", "Sec-Fetch-Dest": "empty"}),
    ("/api/series?subsystem=a&name=b", {"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "no-cors",
                                        "Sec-Fetch-Dest": "script"}),
    ("/incidents", {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "iframe"}),
]


@pytest.mark.parametrize("path, headers", CROSS, ids=[f"{p[:12]}-{h['Sec-Fetch-Dest']}" for p, h in CROSS])
def test_another_site_cannot_make_the_browser_query_or_read(rig: Rig, path: str, headers: dict) -> None:  # noqa: F811
    """``<img src="http://127.0.0.1:8427/sql?q=...">`` on any page ran a query in the operator's name (a
    GET carries no Origin; only posts were checked)."""
    status, _, body = get(rig.web + path, headers)
    assert status == 403 and "another site" in body, (status, body[:300])


def test_a_link_from_another_site_opens_a_page_and_ben_s_own_pages_query(rig: Rig) -> None:  # noqa: F811
    nav = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}
    assert get(rig.web + "/incidents", nav)[0] == 200
    assert get(rig.web + "/sql", nav)[0] == 200  # the form, without running anything
    own = {"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "cors", "Sec-Fetch-Dest": "empty"}
    status, _, body = get(rig.web + "/sql?q=SELECT%2041%2B1%20AS%20answer", own)
    assert status == 200 and "42" in body
    typed = {"Sec-Fetch-Site": "none", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}  # the address bar
    assert get(rig.web + "/sql?q=SELECT%201", typed)[0] == 200


@pytest.mark.parametrize("value", ["1e400", "-1e400", "inf", "nan"])
def test_a_time_range_out_of_bounds_is_a_named_400(rig: Rig, value: str) -> None:  # noqa: F811
    """``range=1e400`` is a float but no time: it was an uncaught OverflowError (500)."""
    for param in ("range", "from", "to"):
        status, _, body = get(f"{rig.web}/api/series?subsystem=a&name=b&{param}={value}")
        said = json.loads(body)["error"]  # range: named with its value since web round 15 (ADR 0033)
        assert status == 400 and ("range must be a positive number of seconds, at most 100 years" in said
                                  if param == "range" else "finite numbers" in said), (param, status, body[:200])


TRAVERSAL = [b"/static/../app.py", b"/static/%2e%2e/app.py", b"/static/..%2fapp.py", b"/static/vendor/../../auth.py",
             b"/static/%2e%2e%2f%2e%2e%2fauth.py", b"/static//etc/passwd", b"/static/..\\app.py",
             b"/static/%252e%252e/app.py"]


@pytest.mark.parametrize("path", TRAVERSAL)
def test_static_files_do_not_reach_outside_their_directory(rig: Rig, path: bytes) -> None:  # noqa: F811
    answer = raw(port_of(rig), b"GET " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    assert status_of(answer) in (400, 404), answer[:300]
    assert b"import" not in answer and b"root:" not in answer


def test_over_long_urls_and_headers_are_refused_and_others_served(rig: Rig) -> None:  # noqa: F811
    port = port_of(rig)
    started = time.monotonic()
    long_url = raw(port, b"GET /incidents?subsystem=" + b"a" * 200_000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   b"Connection: close\r\n\r\n")
    long_header = raw(port, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: " + b"b" * 200_000 + b"\r\n"
                      b"Connection: close\r\n\r\n")
    many = raw(port, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(20_000))
               + b"Connection: close\r\n\r\n")
    for answer in (long_url, long_header, many):
        assert answer == b"" or 400 <= status_of(answer) < 500, answer[:200]
    assert time.monotonic() - started < 20
    assert get(rig.web + "/status")[0] == 200


def test_values_in_urls_are_quoted_and_escaped(rig: Rig) -> None:  # noqa: F811
    """SQL in the fixed pages' parameters stays a literal; markup in a reflected value or a result is text."""
    for path in ("/incidents?subsystem=x%27%20OR%201%3D1%20--%20", "/incidents?subsystem=x%5C%27%20OR%201%3D1%20--",
                 "/incidents?severity=%27)%20UNION%20SELECT%201--", "/incidents/items?state=%27%3BDROP%20TABLE%20ben.events",
                 "/commands?state=%27%20OR%201%3D1%20--", "/incident/" + "a" * 5000, "/series?subsystem=%27%22%3E%3Cscript%3E"):
        status, _, body = get(rig.web + path)
        assert status in (200, 400) and "Syntax error" not in body and "Exception" not in body, (path, body[:300])
        assert "<script>" not in body.split("</head>", 1)[-1].replace("<script>document.addEventListener", ""), path
    status, _, body = get(f"{rig.web}/api/series?subsystem=x%27%20OR%20%271%27%3D%271&name=y%27%20OR%20%271%27%3D%271")
    assert status == 200 and json.loads(body)["points"] == 0, body[:300]
    xss = urllib.request.quote("SELECT '</script><script>alert(1)</script>' AS x, 'javascript:alert(2)' AS `<img src=x>`")
    status, _, body = get(f"{rig.web}/sql?q={xss}")
    assert status == 200, body[:500]
    assert "<script>alert(1)" not in body and "<img src=x>" not in body, body


def _post_huge(port: int, headers: bytes, total: int, chunked: bool) -> bytes:
    """POST /sql with a body of ``total`` bytes (sent while the server reads), the answer."""
    piece = b"q=" + b"a" * (1 << 20)
    out = b""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        try:
            s.sendall(b"POST /sql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                      + headers + b"Connection: close\r\n\r\n")
            for _ in range(total // len(piece)):
                s.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
            if chunked:
                s.sendall(b"0\r\n\r\n")
            while chunk := s.recv(65536):
                out += chunk
        except (ConnectionResetError, BrokenPipeError):
            pass
    return out


@pytest.mark.parametrize("chunked", [False, True], ids=["declared", "chunked"])
def test_a_huge_form_is_refused_as_it_arrives(rig: Rig, chunked: bool) -> None:  # noqa: F811
    """A 300 MB form posted to /sql (or the acknowledgement) was read whole into the spine's memory
    before its size was looked at."""
    pid = rig.cluster.spine.pid
    before = rss_bytes(pid)
    total = 300 << 20
    headers = b"Transfer-Encoding: chunked\r\n" if chunked else b"Content-Length: %d\r\n" % total
    answer = _post_huge(port_of(rig), headers, total, chunked)
    grown = rss_bytes(pid) - before
    assert answer == b"" or status_of(answer) == 413, answer[:300]
    assert grown < 100 << 20, f"the spine grew {grown >> 20} MiB"
    assert get(rig.web + "/status")[0] == 200


@pytest.mark.parametrize("method", [b"PUT", b"DELETE", b"PATCH", b"TRACE"])
def test_other_methods_change_nothing(rig: Rig, method: bytes) -> None:  # noqa: F811
    for path in (b"/", b"/sql", b"/incident/inc-1/acknowledge", b"/static/app.js"):
        answer = raw(port_of(rig), method + b" " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n"
                     b"Connection: close\r\n\r\n")
        assert status_of(answer) in (404, 405), (path, answer[:200])
        assert b"TRACE " not in answer.split(b"\r\n\r\n", 1)[-1]  # no request echoed (cross-site tracing)


def test_the_token_cookie_of_an_https_interface_is_secure(rig: Rig, tmp_path) -> None:  # noqa: F811
    """Over HTTPS the cookie carrying the token is ``Secure``: a peer in the middle that makes the browser
    ask ``http://`` the same host and port does not get it in clear."""
    import ssl

    from ben.core.certs import init_ca, issue
    from ben.core.config import TlsConfig, WebConfig
    from ben.web import WebServer

    init_ca(tmp_path)
    issue(tmp_path, "web", server=True)
    issue(tmp_path, "alice")
    token = tmp_path / "token"
    token.write_text("a-web-token-long-enough-0123\n")
    token.chmod(0o600)
    cfg = WebConfig(listen_host="127.0.0.1", listen_port=0, token_file=token,
                    tls=TlsConfig(cert=tmp_path / "web.crt", key=tmp_path / "web.key", ca=tmp_path / "ca.crt"),
                    tls_clients=["alice"])
    web = WebServer(cfg, rig.cluster.spine_addr).start()
    try:
        ctx = ssl.create_default_context(cafile=str(tmp_path / "ca.crt"))
        ctx.load_cert_chain(tmp_path / "alice.crt", tmp_path / "alice.key")

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=ctx), NoRedirect)
        with pytest.raises(urllib.error.HTTPError) as answer:
            opener.open(f"https://127.0.0.1:{web.port}/status?token=a-web-token-long-enough-0123", timeout=20)
        answer.value.close()   # the answer holds the TLS connection: closed before the server stops
        assert answer.value.code == 303
        cookie = answer.value.headers["set-cookie"]
        assert "ben_web_token=" in cookie and "secure" in cookie.lower() and "httponly" in cookie.lower(), cookie
    finally:
        web.shutdown(2.0)


def test_another_user_cannot_take_the_spine_s_file_descriptors_through_the_web_port(rig: Rig) -> None:  # noqa: F811
    """3,000 idle connections to the loopback port from another account: the spine (whose process serves
    the interface) held one descriptor each until the header deadline, toward its RLIMIT_NOFILE (at
    the limit, measured: ``accept`` failed with EMFILE, and so would its WAL and store files)."""
    pid = rig.cluster.spine.pid
    before = descriptors(pid)
    with Flood(port_of(rig)) as flood:
        most = flood.peak_descriptors(pid)  # while they are held (the header deadline is 10 s)
        print(f"the spine held at most {most} descriptors, {before} before the flood")
        assert most < 1000, f"the spine holds {most} descriptors"
        assert get(rig.web + "/status")[0] == 200  # its own user is still served meanwhile


_GUESSER = """
import sys, urllib.request, urllib.error
codes = []
for token in [f"guess-{i:04d}-long-enough" for i in range(COUNT)] + ["RIGHT"]:
    req = urllib.request.Request("URL", headers={"Authorization": "Bearer " + token})
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            codes.append(r.status)
    except urllib.error.HTTPError as e:
        codes.append(e.code)
print(" ".join(map(str, codes)))
"""


def test_a_local_account_guessing_the_token_runs_out_of_guesses_and_the_operator_is_served(rig: Rig,  # noqa: F811
                                                                                            tmp_path) -> None:
    """ADR 0045, round 7: wrong tokens were answered 401 as fast as they came (any number of guesses). Now a
    client (on loopback: the kernel-named account) has 20 wrong tokens at once, then 2 a minute; past them it
    is answered 429 without its token being looked at, even the right one. The operator's account has a
    budget of its own and is served; the same stale token sent again and again (a browser's old cookie) is
    one guess."""
    import subprocess

    from ben.core.config import WebConfig
    from ben.web import WebServer
    from tests.helpers import NOBODY

    secret = "the-right-token-0123456789"
    token = tmp_path / "token"
    token.write_text(secret + "\n")
    token.chmod(0o600)
    web = WebServer(WebConfig(listen_host="127.0.0.1", listen_port=0, token_file=token), rig.cluster.spine_addr).start()
    try:
        url = f"http://127.0.0.1:{web.port}/status"
        script = _GUESSER.replace("COUNT", "30").replace("URL", url).replace("RIGHT", secret)
        out = subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                              "/usr/bin/python3", "-c", script], capture_output=True, text=True, timeout=120)
        codes = [int(c) for c in out.stdout.split()]
        assert codes[:20] == [401] * 20 and set(codes[20:]) == {429}, (codes, out.stderr)  # the right one too
        for _ in range(40):  # the operator's browser with a cookie from before the token changed
            assert get(url, {"Cookie": "ben_web_token=an-old-token-0123456789"})[0] == 401
        assert get(url, {"Authorization": f"Bearer {secret}"})[0] == 200
        answer = raw(web.port, f"GET /status?token={secret} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: ben_web_token="
                     "an-old-token-0123456789\r\nConnection: close\r\n\r\n".encode())
        assert status_of(answer) == 303 and b"ben_web_token=" + secret.encode() in answer, answer[:300]
    finally:
        web.shutdown()


SMUGGLING = {  # (framing both servers must refuse, what it is)
    "CL+TE": b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    "TE+CL": b"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n",
    "CL,CL": b"Content-Length: 0\r\nContent-Length: 40\r\n\r\nGET /status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    "TE xchunked": b"Transfer-Encoding: xchunked\r\nContent-Length: 0\r\n\r\n",
    "TE space": b"Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
    "CL +5": b"Content-Length: +5\r\n\r\nabcde",
}


@pytest.mark.parametrize("case", list(SMUGGLING))
@pytest.mark.parametrize("where", ["web", "otlp_http"])
def test_ambiguous_framing_is_refused_and_nothing_is_smuggled(rig: Rig, where: str, case: str) -> None:  # noqa: F811
    """Round 7 (held): a body whose length two parsers could read differently (request smuggling through a
    proxy in front) is a 400 or a closed connection, and no second request is answered from it."""
    port, path, ctype = ((port_of(rig), b"/sql", b"application/x-www-form-urlencoded") if where == "web" else
                         (rig.otlp_http, b"/v1/logs", b"application/x-protobuf"))
    answer = raw(port, b"POST " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: "
                 + ctype + b"\r\n" + SMUGGLING[case])
    answers = [line for line in answer.split(b"\r\n") if line.startswith(b"HTTP/1.")]
    assert len(answers) <= 1 and (not answers or b" 400 " in answers[0]), answer[:300]
    assert b"SMUGGLED" not in answer


def test_another_account_s_busy_connections_neither_hold_the_spine_nor_keep_the_operator_out(rig: Rig) -> None:  # noqa: F811
    """Round 7 (held): 400 connections of another account, each posting to /sql with a body that never
    comes, are answered 403 before the body is read and count as idle: the spine's descriptors stay bounded
    and its own user is served meanwhile."""
    import subprocess

    from tests.helpers import NOBODY, descriptors
    from tests.otlp.test_otlp_attacks import _BUSY

    script = (_BUSY.replace("PORT", str(port_of(rig))).replace("COUNT", "400").replace("/v1/logs", "/sql")
              .replace("application/x-protobuf", "application/x-www-form-urlencoded"))
    proc = subprocess.Popen(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                             "/usr/bin/python3", "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "holding"
        assert get(rig.web + "/status")[0] == 200
        assert descriptors(rig.cluster.spine.pid) < 1000
    finally:
        proc.communicate("", timeout=30)


_SEND_AND_CLOSE = """
import socket, sys
for marker in sys.argv[2:]:  # many in a row: the interface answers them in turn, the last ones after they closed
    s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
    s.sendall(b'GET /sql?q=SELECT%20%27' + marker.encode() + b'%27 HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n\\r\\n')
    s.close()  # at once: the kernel keeps its end as an orphan, then a TIME_WAIT entry listed with uid 0
print('sent', flush=True)
"""


def test_another_account_that_closes_its_end_is_not_served_as_root(rig: Rig) -> None:  # noqa: F811
    """Round 8: another account sends ``/sql?q=...`` and closes its socket at once. By the time the interface
    asked the kernel who the client was, the client's end was a TIME_WAIT entry, which the kernel lists with
    uid 0: a spine running as root (as here) served it as root, and the query ran in the operator's name
    (recorded as ``uid 0 (root)``). A write (acknowledging an incident) would have gone through the same way.
    Now an entry with no owner names no one, and the request is refused like any other account's."""
    import subprocess

    from ben.control import client
    from ben.cli.procs import wait_for
    from tests.helpers import NOBODY

    stamp = time.time_ns()
    markers = [f"closed{stamp}x{i}" for i in range(200)]
    out = subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "/usr/bin/python3",
                          "-c", _SEND_AND_CLOSE, str(port_of(rig)), *markers], capture_output=True, text=True,
                         timeout=60)
    assert out.stdout.strip() == "sent", out.stderr
    mine = f"operator{stamp}"  # the operator's own query after them: the store runs them one at a time, in turn
    assert get(rig.web + f"/sql?q=SELECT%20%27{mine}%27")[0] == 200

    def sqls() -> list[str]:
        return [json.loads(e["body"]).get("sql", "") for e in client.audit_entries(rig.cluster.spine_addr, log="queries")]

    seen = wait_for(lambda: (lambda s: s if any(mine in q for q in s) else None)(sqls()), 60,
                    "the operator's own query in the query log")
    assert not [q for q in seen if "closed" + str(stamp) in q], "another account's query ran as the operator"


def test_a_served_client_sending_its_body_a_byte_at_a_time_is_cut(rig: Rig) -> None:  # noqa: F811
    """Round 8: a client the interface serves (here its own uid) asks for a page, then on the same keep-alive
    connection posts to ``/sql`` with a body sent a byte a second: the header deadline saw a request running
    and the connection was held for as long as the client liked (one of the spine's descriptors and a task
    each). Now the body must arrive within ``[web] body_timeout_s`` (4 s in this rig) of its headers: 408,
    closed. The operator is served meanwhile."""
    import select

    from ben.cli.procs import wait_for

    with socket.create_connection(("127.0.0.1", port_of(rig)), timeout=20) as s:
        s.sendall(b"GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        first = b""
        while b"\r\n\r\n" not in first:
            first += s.recv(65536)
        assert status_of(first) == 200  # served: a client of the interface's own uid
        s.sendall(b"POST /sql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                  b"Content-Length: 1000\r\n\r\nq=SELECT+1")
        answer, closed = b"", False

        def trickle() -> bool:  # one more byte a second, until the server answers or closes
            nonlocal answer, closed
            if select.select([s], [], [], 1.0)[0]:
                try:
                    chunk = s.recv(65536)
                except OSError:
                    chunk = b""
                answer += chunk
                closed = not chunk
                return closed
            s.sendall(b"+")
            return False

        wait_for(trickle, 120, "the web interface to cut a body sent a byte a second")
        assert get(rig.web + "/status")[0] == 200
    assert answer == b"" or b" 408 " in answer.split(b"\r\n", 1)[0], answer[-300:]


def test_a_huge_result_on_the_sql_page_is_refused_as_it_arrives(rig: Rig) -> None:  # noqa: F811
    """ADR 0045 round 11: the SQL page took any result the spine allows (256 MiB): one of 200 MB (a page of 300 MB)
    took the interface's process (the spine's, with ``ben spine --web``) from 62 MB to 1.3 GB. Now a result over
    ``web.sql_max_result_bytes`` is refused as it arrives, naming the option; a smaller one is shown."""
    from ben.core.config import WebConfig
    from ben.web import WebServer

    web = WebServer(WebConfig(listen_port=0, sql_max_result_bytes=64 << 10), rig.cluster.spine_addr).start()
    try:
        status, _, body = get(f"http://127.0.0.1:{web.port}/sql?q=SELECT+repeat('x',+1000)+AS+s+FROM+numbers(200)")
        assert status == 400 and "web.sql_max_result_bytes" in body and "add a LIMIT" in body, (status, body[:500])
        assert len(body) < 64 << 10
        status, _, body = get(f"http://127.0.0.1:{web.port}/sql?q=SELECT+repeat('x',+1000)+AS+s+FROM+numbers(20)")
        assert status == 200 and body.count("x" * 1000) >= 20, status
    finally:
        web.shutdown(2.0)
