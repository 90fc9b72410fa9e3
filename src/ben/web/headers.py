"""Security headers on every answer of the web interface, and the fetch-metadata check.

A page of ben's shows telemetry and runs the operator's queries: no other site may frame it
(clickjacking the acknowledge button), include it (``<script src>``, ``<img>``), make the browser
guess its type, keep it in a cache, or run a script ben did not ship. The only inline scripts are
the templates' one-line page starters: the policy allows exactly those, by hash, read from the
templates when the app is made.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from starlette.requests import Request

INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)


def inline_script_hashes(templates: Path) -> list[str]:
    """CSP ``'sha256-...'`` sources of the templates' inline scripts (constant text, no Jinja in them)."""
    found = set()
    for path in sorted(templates.glob("*.html")):
        for body in INLINE_SCRIPT.findall(path.read_text(encoding="utf-8")):
            if "{{" in body or "{%" in body:
                raise ValueError(f"{path.name}: an inline script with template code cannot be allowed by hash")
            found.add("'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'")
    return sorted(found)


def policy(templates: Path) -> str:
    scripts = " ".join(["'self'", *inline_script_hashes(templates)])
    return ("default-src 'self'; " f"script-src {scripts}; "
            "style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; "
            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


class SecurityHeaders:
    """ASGI middleware: CSP, no framing, no sniffing, same-origin resources, no referrer to other sites
    (``same-origin``: with ``no-referrer`` a browser sends ``Origin: null`` on the pages' own posts);
    ``no-store`` on every answer but the static files (pages and JSON carry telemetry and results)."""

    def __init__(self, app, templates: Path):
        self._app = app
        self._fixed = [(b"content-security-policy", policy(templates).encode()), (b"x-frame-options", b"DENY"),
                       (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin"),
                       (b"cross-origin-opener-policy", b"same-origin"),
                       (b"cross-origin-resource-policy", b"same-origin")]

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        static = scope.get("path", "").startswith("/static/")

        async def with_headers(message):
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if static or h[0].lower() != b"cache-control"]
                headers += self._fixed
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self._app(scope, receive, with_headers)


def foreign_request(request: Request) -> str | None:
    """Why a request the browser says comes from another site (``Sec-Fetch-Site``) is refused, or None.

    Another site (or another port of localhost: ``same-site``) may link to a page (a top-level
    navigation), nothing else: no ``<img src="/sql?q=...">`` running a query in the operator's
    name, no script or fetch, no form; and a link may not run a query either. A client without
    fetch metadata (curl, an old browser) is judged by the other checks alone.
    """
    site = request.headers.get("sec-fetch-site")
    if site in (None, "same-origin", "none"):
        return None
    navigation = (request.method in ("GET", "HEAD") and request.headers.get("sec-fetch-mode") == "navigate"
                  and request.headers.get("sec-fetch-dest", "document") == "document")
    if navigation and not (request.url.path == "/sql" and request.query_params.get("q")):
        return None
    return (f"a request from another site (Sec-Fetch-Site: {site}) may only open a page; queries and reads "
            "start from ben's own pages")
