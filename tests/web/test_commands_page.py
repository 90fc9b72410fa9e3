"""The commands page: state, signer, reason and outcome; a proposal shows the exact line to run, and no
key material ever reaches the page (a real spine with a trust store and policy)."""

from __future__ import annotations

import urllib.request

from ben.control import client
from ben.control.documents import make_envelope
from ben.core.config import WebConfig
from ben.web import WebServer
from tests.control.conftest import live  # noqa: F401 - the control plane's module fixture


def test_a_proposal_shows_the_line_to_run_and_no_key(live) -> None:  # noqa: F811
    s, c = live.setup, live.cluster
    env, signed = make_envelope(s.bot, "set_mode", "batch", {"mode": "maintenance"}, "batch queue stuck for 10 min")
    assert client.send(c.spine_addr, signed).state == "awaiting_approval"
    web = WebServer(WebConfig(listen_port=0), c.spine_addr).start()
    try:
        with urllib.request.urlopen(web.url + "commands", timeout=30) as r:
            html = r.read().decode()
    finally:
        web.shutdown(2.0)
    assert f"ben command approve {env.id} --reason" in html and f"ben command refuse {env.id} --reason" in html
    assert "awaiting_approval" in html and "batch queue stuck for 10 min" in html and "set_mode" in html
    assert "bot" in html  # the signer
    for key_file in (s.home / "keys").glob("*.key"):
        secret = key_file.read_text().strip()
        assert secret and secret not in html and secret.splitlines()[-1] not in html
