"""E-mail addresses (``ben.redact.detectors``' ``email``), found in linear time, and not the ``password@host`` of a
URL's credentials."""

from __future__ import annotations

import re
from collections.abc import Iterator


# -- e-mail addresses -------------------------------------------------------------------------------------
EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
_EMAIL_LOCAL_AT = re.compile(r"[A-Za-z0-9._%+\-]+@")
_EMAIL_RUN_AT = re.compile(r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]+@")   # from the start of a run only
_EMAIL_DOMAIN = re.compile(r"[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
_PORT = re.compile(r":[0-9]{1,5}(?![0-9])").match
_URL_USERINFO = re.compile(r"[a-z][a-z0-9+.\-]{1,20}://[^\s/@:?#]*:[^\s/?#]*$", re.I)


def _email_matches(text: str) -> Iterator[tuple[int, int, int]]:
    """``EMAIL.finditer`` as (start, at, end), in linear time. The pattern alone tries every start of a
    long run of local-part characters and reads to the run's end each time (quadratic: 30 s for one
    100,000-character word). Its local part cannot hold '@', so a match starts where the run before an
    '@' starts, or where the previous match ended (inside that run): each run is read once."""
    pos = 0
    while (m := _EMAIL_LOCAL_AT.match(text, pos) or _EMAIL_RUN_AT.search(text, pos)) is not None:
        at = m.end() - 1
        domain = _EMAIL_DOMAIN.match(text, at + 1)
        if domain is None:
            pos = at + 1
            continue
        yield m.start(), at, domain.end()
        pos = domain.end()


def email_spans(text: str) -> Iterator[tuple[int, int]]:
    """E-mail addresses, but not the ``password@host`` of ``scheme://user:password@host``: that '@' ends
    a URL's credentials (url_userinfo masks the password; the host is no personal data); nor the ``user@host`` of
    ``scheme://user@host:port`` (a login name, a host and its port; ``https://ann@example.com/x`` is still masked)."""
    for a, at, b in _email_matches(text):
        if a >= 3 and text[a - 3:a] == "://" and _PORT(text, b) is not None:
            continue   # scheme://user@host:port/…: a login name, a host and its port (postgresql://app@db.internal:5432)
        if "://" in text[max(0, a - 230):a]:
            w0 = max(0, a - 230)   # not read further back than used (2026-12-08)
            lo = max(text.rfind(" ", w0, a), text.rfind("\n", w0, a), text.rfind("\t", w0, a), a - 230, -1) + 1
            if _URL_USERINFO.search(text, lo, at) is not None:
                continue
        yield a, b
