"""The commands page: state, signer, reason and outcome; a proposal shows the exact line to run (and
running it decides the proposal), and no key material ever reaches the page (a real spine with a trust
store and policy)."""

from __future__ import annotations

import html
import re
import shlex
import urllib.request

from ben.control import client
from ben.control.documents import make_envelope
from ben.core.config import WebConfig
from ben.web import WebServer
from tests.control.conftest import live  # noqa: F401 - the control plane's module fixture
from tests.control.test_commands import ben


def test_a_proposal_shows_the_line_to_run_and_no_key(live, monkeypatch) -> None:  # noqa: F811
    s, c = live.setup, live.cluster
    env, signed = make_envelope(s.bot, "set_mode", "batch", {"mode": "maintenance"}, "batch queue stuck for 10 min")
    assert client.send(c.spine_addr, signed).state == "awaiting_approval"
    web = WebServer(WebConfig(listen_port=0), c.spine_addr).start()

    def commands_page() -> str:
        with urllib.request.urlopen(web.url + "commands", timeout=30) as r:
            return html.unescape(r.read().decode())

    try:
        page = commands_page()
        assert f"ben command approve {env.id} --reason" in page and f"ben command refuse {env.id} --reason" in page
        assert "awaiting_approval" in page and "batch queue stuck for 10 min" in page and "set_mode" in page
        assert "bot" in page  # the signer
        for key_file in (s.home / "keys").glob("*.key"):
            secret = key_file.read_text().strip()
            assert secret and secret not in page and secret.splitlines()[-1] not in page
        # The line shown is the one to run: with a reason and the operator's key, it refuses the proposal.
        line = re.search(rf'ben command refuse {env.id} --reason "\.\.\." --spine [^\s<]+', page).group(0)
        argv = [("not tonight" if a == "..." else a) for a in shlex.split(line)]
        monkeypatch.setenv("BEN_KEY", str(s.home / "keys" / "alice.key"))
        out = ben(*argv[1:])
        assert out.returncode == 0 and "refused" in out.stdout, out
        after = commands_page()
        row = re.search(rf"<tr[^>]*>(?:(?!</tr>).)*{env.id}(?:(?!</tr>).)*</tr>", after, re.S).group(0)
        assert "refused by alice: not tonight" in row and f"ben command approve {env.id}" not in after
    finally:
        web.shutdown(2.0)
