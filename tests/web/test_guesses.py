"""Wrong-token budgets per client (``ben.web.guesses``; ADR 0045, round 7)."""

from __future__ import annotations

import ipaddress
import os
import socket

from ben.web.guesses import Guesses, client_key


def test_a_budget_refills_and_a_repeated_wrong_token_costs_once() -> None:
    now = [0.0]
    g = Guesses(burst=3, per_minute=2, clock=lambda: now[0])
    for i in range(3):
        assert g.allowed("a")
        g.wrong("a", [f"t{i}"])
    assert not g.allowed("a") and g.allowed("b")      # another client has its own budget
    assert g.retry_after_s("a") == 30
    now[0] = 30.0                                     # 2 a minute: one more guess after 30 s
    assert g.allowed("a")
    g.wrong("a", ["t0"])                              # tried before: no cost
    assert g.allowed("a")
    g.wrong("a", ["t9"])
    assert not g.allowed("a") and g.refused == 2


def test_a_client_is_its_uid_on_loopback_else_its_address_or_its_ipv6_64() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.create_connection(server.getsockname()) as client:
            assert client_key(client.getsockname(), server.getsockname()) == f"uid {os.getuid()}"
    assert client_key(("192.0.2.7", 1), ("192.0.2.1", 8427)) == "192.0.2.7"
    assert client_key(("2001:db8::1:2:3:4", 1), None) == "2001:db8::/64"
    assert ipaddress.ip_network(client_key(("2001:db8:0:1::9", 1), None)).prefixlen == 64


def test_a_made_up_forwarded_address_is_no_new_client(tmp_path) -> None:
    """ADR 0045 round 10: uvicorn believed ``X-Forwarded-For`` from loopback by default (``proxy_headers``), so a
    local account naming another address in each request was a new client each time, with a budget of its own:
    60 guesses in a row, all answered 401. Now the client is its socket (the kernel-named uid): past 20, 429."""
    import urllib.error
    import urllib.request

    from ben.core.config import WebConfig
    from ben.web import WebServer

    token = tmp_path / "token"
    token.write_text("the-right-token-0123456789\n")
    token.chmod(0o600)
    web = WebServer(WebConfig(listen_host="127.0.0.1", listen_port=0, token_file=token),
                    f"unix://{tmp_path / 'no-spine.sock'}").start()
    codes = []
    try:
        for i in range(30):
            req = urllib.request.Request(f"http://127.0.0.1:{web.port}/status", headers={
                "Authorization": f"Bearer guess-{i:04d}-long-enough", "X-Forwarded-For": f"10.0.{i}.1",
                "X-Real-IP": f"10.1.{i}.1", "Forwarded": f"for=10.2.{i}.1"})
            try:
                with urllib.request.urlopen(req, timeout=20) as answer:
                    codes.append(answer.status)
            except urllib.error.HTTPError as exc:
                codes.append(exc.code)
    finally:
        web.shutdown()
    assert codes[:20] == [401] * 20 and set(codes[20:]) == {429}, codes
