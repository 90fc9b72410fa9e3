"""``web.token_file`` replaced while the interface runs (ADR 0045, round 12): the token read at start stayed the one
in force until a restart (the spine's own, with ``ben spine --web``), so a token that leaked kept opening every page
and ``/sql`` after the operator had replaced it. A real web interface, real HTTP."""

from __future__ import annotations

import logging
import os
import urllib.error
import urllib.request
from pathlib import Path

from ben.core.config import WebConfig
from ben.web import WebServer

OLD, NEW, OTHER = "the-leaked-token-0123456789", "the-new-token-9876543210ab", "a-loose-token-0123456789abcd"


def _code(port: int, token: str) -> int:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/static/style.css", headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(req, timeout=20) as answer:
            return answer.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _replace(path: Path, text: str, mode: int = 0o600) -> None:
    """As ``ben keys trust`` and editors write: a new file renamed over the old one."""
    tmp = path.with_name(path.name + ".new")
    tmp.write_text(text + "\n")
    tmp.chmod(mode)
    os.replace(tmp, path)


def test_a_replaced_token_file_refuses_the_old_token_at_once(tmp_path, caplog) -> None:
    token = tmp_path / "token"
    token.write_text(OLD + "\n")
    token.chmod(0o600)
    web = WebServer(WebConfig(listen_host="127.0.0.1", listen_port=0, token_file=token),
                    f"unix://{tmp_path / 'no-spine.sock'}").start()
    try:
        assert _code(web.port, OLD) == 200
        _replace(token, NEW)
        assert _code(web.port, OLD) == 401  # on the code before: 200 until the interface restarted
        assert _code(web.port, NEW) == 200
        with caplog.at_level(logging.WARNING, logger="ben.web.auth"):
            _replace(token, OTHER, 0o644)  # others may read it: no secret, not taken; the one in force is kept
            assert _code(web.port, NEW) == 200 and _code(web.port, OTHER) == 401
        assert any("web.token_file" in r.getMessage() and "kept" in r.getMessage() for r in caplog.records)
        token.unlink()  # gone: the one in force is kept
        assert _code(web.port, NEW) == 200
    finally:
        web.shutdown()


def test_a_token_file_another_account_owns_or_may_replace_is_not_taken(tmp_path, caplog) -> None:
    """ADR 0045 round 14: only the file's mode was checked. Another account that can put a file at the path (a
    directory it may write; in a sticky one, after the operator removed the old file) put its own there, 0600 with
    its token, and the interface took it. Now such a file is not taken (the token in force is kept, logged), and a
    token file in a directory another account may write refuses the start, naming ``web.token_file``."""
    import pytest

    from ben.core.errors import ConfigError
    from ben.web.auth import read_token_file

    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    (shared / "token").write_text(OLD + "\n")
    (shared / "token").chmod(0o600)
    with pytest.raises(ConfigError) as refused:
        read_token_file(shared / "token")
    assert refused.value.field == "web.token_file" and str(shared) in str(refused.value)

    sticky = tmp_path / "sticky"
    sticky.mkdir()
    sticky.chmod(0o1777)
    token = sticky / "token"
    token.write_text(OLD + "\n")
    token.chmod(0o600)
    web = WebServer(WebConfig(listen_host="127.0.0.1", listen_port=0, token_file=token),
                    f"unix://{tmp_path / 'no-spine.sock'}").start()
    try:
        assert _code(web.port, OLD) == 200
        token.unlink()
        token.write_text(OTHER + "\n")
        token.chmod(0o600)
        os.chown(token, 65534, 65534)  # nobody's file, nobody's token
        with caplog.at_level(logging.WARNING, logger="ben.web.auth"):
            assert _code(web.port, OTHER) == 401 and _code(web.port, OLD) == 200  # on the code before: 200, 401
        assert any("web.token_file" in r.getMessage() and "uid 65534" in r.getMessage() for r in caplog.records)
    finally:
        web.shutdown()
