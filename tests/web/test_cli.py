"""`ben spine --web` and `ben web` as real processes: they print the URL, and the pages answer."""

from __future__ import annotations

import re
import urllib.request

from ben.cli.procs import Proc, wait_for, write_config


def url_in(proc: Proc) -> str:
    found = re.search(r"web interface on (http://\S+)|serving (http://\S+)", proc.tail(200))
    return (found.group(1) or found.group(2)) if found else ""


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as r:
        assert r.status == 200
        return r.read().decode()


def test_spine_web_and_ben_web_serve_the_pages(home) -> None:
    config = write_config(home / "ben.toml", home)
    config.write_text(config.read_text() + "[web]\nlisten_port = 0\n")
    spine_addr = f"unix://{home / 'spine.sock'}"
    spine = Proc(["spine", "--config", str(config), "--web"], home / "logs" / "spine.log")
    beside = None
    try:
        spine.wait_ready(spine_addr, 60)
        inside = wait_for(lambda: url_in(spine), 60, "the spine to print the web URL")
        assert inside.startswith("http://127.0.0.1:")
        assert "rows_stored_total" in get(inside + "status")
        beside = Proc(["web", "--spine", spine_addr, "--port", "0"], home / "logs" / "web.log")
        url = wait_for(lambda: url_in(beside) or (not beside.alive() and beside.tail()), 30, "ben web's URL")
        assert url.startswith("http://127.0.0.1:"), url
        assert "no incidents" in get(url + "incidents")
    finally:
        if beside is not None:
            beside.stop()
        spine.stop()
