"""The ASGI app (Starlette): pages, a JSON endpoint for the series explorer, server-sent events."""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import logging
import math
import re
import time
import urllib.parse
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from ben.core.admin import acknowledge
from ben.core.errors import BenError, QueryError
from ben.core.reloaded import ReloadedSecret
from ben.web.auth import STILL_VALID, TokenAuth, client_of
from ben.web.headers import SecurityHeaders
from ben.web.live import Live
from ben.web.reads import SEVERITIES, STATES, FeedFilter, Reader, check_id, parse_attributes
from ben.web.triage import Recommend

HERE = Path(__file__).parent
log = logging.getLogger(__name__)
NAME_RE = re.compile(r"^[\w .@-]{1,64}$")


FORM_LIMIT = 1 << 20  # bytes of an urlencoded form (a statement of the SQL page, an operator's name)
URLENCODED = "application/x-www-form-urlencoded"


async def _form(request: Request, limit: int = FORM_LIMIT) -> dict[str, str] | PlainTextResponse:
    """An urlencoded form body (the only kind the pages send), without python-multipart; else the answer:
    413 when the body is over ``limit`` bytes, found as it arrives (a declared length, or counted while
    read), so a client cannot make the server hold more than that; 400 for another content type (a
    multipart form was read as an empty one: 200 and an empty page) or a body that is no such form."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return _too_large()
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in ("", URLENCODED):
        return PlainTextResponse(f"400: Content-Type {kind[:80]!r}: a form is {URLENCODED} (as the pages send "
                                 "it): nothing was run", status_code=400)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return _too_large()
    text = body.decode("utf-8", "replace")
    if any(part and "=" not in part for part in text.split("&")):  # no form the pages send
        return PlainTextResponse(f"400: the body is not {URLENCODED} (NAME=VALUE&...): nothing was run",
                                 status_code=400)
    return {k: v[0] for k, v in urllib.parse.parse_qs(text, keep_blank_values=True).items()}


#: The longest range the series explorer reads, and the feed's since_s: past it, no int of nanoseconds is a time.
MAX_RANGE_S = 100 * 365 * 86_400


def series_numbers(q) -> dict | str:
    """``/api/series``'s ``width`` (pixels) and ``range`` (seconds), or the line that names the one that is none, with
    its value: ``width=1e9`` and ``range=1e308`` were "must be finite numbers" (they are), and ``width=-3`` was taken
    as 10 (web round 15)."""
    raw = q.get("width") or "800"
    if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= 4000):
        return f"width must be a whole number of pixels, 1 to 4000 (got {raw!r:.40})"
    span = q.get("range") or "3600"
    try:
        seconds = float(span)
    except ValueError:
        seconds = math.nan
    if not q.get("from") and not (seconds > 0 and seconds <= MAX_RANGE_S):
        more = "" if math.isfinite(seconds) and seconds <= 0 else ", at most 100 years"
        return f"range must be a positive number of seconds{more} (got {span!r:.40})"
    return {"width": int(raw)}


def _too_large() -> PlainTextResponse:
    return PlainTextResponse(f"413: the form is over {FORM_LIMIT >> 20} MiB: nothing was run", status_code=413)


def _acknowledged(state: str, narrative: str, by: str) -> str:
    """The acknowledge form's answer. An incident another tab or operator acknowledged first keeps that one's name
    (the spine's acknowledgement is idempotent): it was "acknowledged: ..." as if this one had, now said."""
    if state == "resolved":  # a page opened before it resolved (the page hides the button of a resolved one)
        return f"already resolved: nothing was acknowledged ({narrative})"
    first = re.search(r"; acknowledged by (.+), still open$", narrative)
    if first and first.group(1) != by:
        return f"already acknowledged by {first.group(1)}: nothing changed ({state}: {narrative})"
    return f"{state}: {narrative}"


def _when(ts) -> str:
    ts = int(ts or 0)
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts / 1e9)) if ts else ""


def _duration(inc: dict) -> str:
    end = int(inc.get("resolved_ts") or 0) or int(time.time() * 1e9)
    s = max(0, (end - int(inc.get("opened_ts") or 0)) // 10**9)
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


class ServerTiming:
    """ASGI middleware: ``Server-Timing: app;dur=MS`` on every answer, the time from the request to the
    start of the response (the page rendered; a stream's first byte). ``ben bench web`` reads it."""

    def __init__(self, app):
        self._app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()

        async def timed(message):
            if message["type"] == "http.response.start":
                ms = (time.perf_counter() - started) * 1000
                message = {**message, "headers": [*message.get("headers", []),
                                                  (b"server-timing", f"app;dur={ms:.2f}".encode())]}
            await send(message)

        await self._app(scope, receive, timed)


def create_app(reader: Reader, *, token: str | ReloadedSecret[str] | None = None, poll_interval_s: float = 0.5,
               operator: str | None = None, recommend: Recommend | None = None,
               local_uids: frozenset[int] | None = None,
               certificates: frozenset[str] | None = None) -> SecurityHeaders:
    """The web interface over `reader`; wrapped in token auth when `token` is set. ``recommend``: the
    cortex's recommendations for the incident page (ben.web.triage; None: the cortex is off)."""
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.filters["when"] = _when
    templates.env.filters["duration"] = _duration
    live = Live(reader, poll_interval_s)
    default_operator = operator or getpass.getuser()

    async def read(fn, *args, **kwargs):
        return await asyncio.to_thread(fn, *args, **kwargs)

    def page(request: Request, name: str, status_code: int = 200, **ctx) -> HTMLResponse:
        return templates.TemplateResponse(request, name, {"nav": name, **ctx}, status_code=status_code)

    async def map_page(request: Request):
        snap = await read(live.snapshot)
        return page(request, "map.html", model=snap["map"])

    async def feed(request: Request):
        """The feed; ``/incidents/items``: its list only (what a live update of the page asks for)."""
        q = request.query_params
        numbers = {}
        for field, default in (("since_s", 0), ("limit", 100)):  # was "since_s and limit must be whole numbers"
            try:
                numbers[field] = int(q.get(field) or default)
            except ValueError:
                return PlainTextResponse(f"{field} must be a whole number (got {q[field]!r:.80})", status_code=400)
        f = FeedFilter(subsystem=q.get("subsystem", ""), severity=q.get("severity", ""), state=q.get("state", ""),
                       **numbers)
        for name, allowed in (("severity", SEVERITIES), ("state", STATES)):  # else an empty feed, in silence
            if getattr(f, name) and getattr(f, name) not in allowed:
                return PlainTextResponse(f"{name} must be one of {', '.join(allowed)} (got {getattr(f, name)!r:.80})",
                                         status_code=400)
        # 99999 was 1000, in silence; the line named both fields whichever was out of range (web round 15)
        if not 1 <= f.limit <= 1000:
            return PlainTextResponse(f"limit must be 1 to 1000 (got {f.limit})", status_code=400)
        if not 0 <= f.since_s <= MAX_RANGE_S:
            return PlainTextResponse(f"since_s must be 0 to 100 years of seconds (got {f.since_s})", status_code=400)
        rows = await read(reader.incidents, f)
        from ben.detect.words import SIGMA_SAID, says_sigma  # what "sigma" means, under a list that gives one

        name = "feed_items.html" if request.url.path.endswith("/items") else "feed.html"
        return page(request, name, incidents=rows, f=f, severities=SEVERITIES, states=STATES, sigma_said=SIGMA_SAID,
                    sigma_shown=says_sigma(*(i.get("narrative") for i in rows)))

    async def incident(request: Request):
        name = request.path_params["id"]
        # What ben explain takes, the page takes (round 15: /incident/latest and an anomaly's id were "no incident")
        if name == "latest" or name.startswith("an-"):
            try:
                found = await read(reader.incident_named, name)
            except QueryError as exc:
                return page(request, "error.html", 400, message=str(exc))
            if found is None:
                return page(request, "error.html", 404, message="no incidents yet (the feed shows them as they open)"
                            if name == "latest" else f"no anomaly {name!r} of an incident")
            return RedirectResponse(f"/incident/{urllib.parse.quote(found, safe='')}", status_code=303)
        if name.startswith("cmd-"):
            return page(request, "error.html", 404, message=f"{name[:64]!r} is a command's id: the commands page "
                        "lists it, with its incident")
        try:
            inc = await read(reader.incident, name)
        except QueryError as exc:
            return page(request, "error.html", 400, message=str(exc))
        if inc is None:
            return page(request, "error.html", 404, message=f"no incident {request.path_params['id']!r}")
        async def plot(a: dict) -> dict:
            try:
                return {**await read(reader.anomaly_plot, a), "evidence": a["evidence"], "score": a["score"]}
            except BenError as exc:
                return {"title": a["series"], "error": str(exc)}

        async def recommendations() -> dict | None:
            if recommend is None:
                return None
            try:
                return await read(recommend, inc, inc["anomalies"])
            except Exception as exc:  # noqa: BLE001 - the page shows the incident whatever the cortex says
                log.warning("cortex recommendations for %s: %s", inc["id"], exc)
                return {"error": str(exc)}

        recs, *plots = await asyncio.gather(recommendations(), *(plot(a) for a in inc["anomalies"][:12]))
        return page(request, "incident.html", inc=inc, plots=plots, operator=default_operator, recs=recs)

    async def ack(request: Request):
        if request.headers.get("hx-request") != "true":  # no cross-site form posts (CSRF)
            # A form sent without the page's script (JavaScript off) came here too: it was a GET of the page
            # itself, which looked the same (nothing said, nothing acknowledged). Now it is told, with the way out.
            return PlainTextResponse(
                "403: nothing was acknowledged: the incident page acknowledges through its script (htmx sends the "
                "HX-Request header, which another site's form cannot); with JavaScript off run: ben acknowledge "
                f"{request.path_params['id'][:64]} --by NAME", status_code=403)
        form = await _form(request)
        if not isinstance(form, dict):
            return form
        by = str(form.get("by", "")).strip()
        if not NAME_RE.match(by):
            return PlainTextResponse("nothing was acknowledged: by: the operator's name (letters, digits, . @ - and "
                                     "spaces, up to 64)", status_code=400)
        try:
            incident_id = check_id(request.path_params["id"])
            reply = await read(acknowledge, reader.spine, incident_id, f"{by} (web)")
        except QueryError as exc:
            return PlainTextResponse(f"nothing was acknowledged: {exc}", status_code=404)
        except BenError as exc:  # the spine stopped: was the site's error page, which the form did not show
            return PlainTextResponse(f"nothing was acknowledged: {exc}", status_code=503)
        client = request.client.host if request.client else "?"
        log.info("incident %s acknowledged by %s (web, from %s): %s", incident_id, by, client, reply.state)
        return PlainTextResponse(_acknowledged(reply.state, reply.narrative, f"{by} (web)"))

    async def series_page(request: Request):
        names = await read(reader.series_names)
        q = dict(request.query_params)
        chosen = next((n for n in names if q.get("subsystem", n["subsystem"]) == n["subsystem"]
                       and q.get("name", n["name"]) == n["name"]), None)  # ?subsystem= alone: its first series
        missing = ""
        if (q.get("subsystem") or q.get("name")) and chosen is None:  # the first series was drawn, said to be it
            asked = " · ".join(repr(q[k])[:80] for k in ("subsystem", "name") if q.get(k))
            missing = f"no series {asked} is stored" + (f": showing {names[0]['subsystem']} · {names[0]['name']}, "
                                                       "choose another above" if names else "")
        return page(request, "series.html", names=names, q=q, chosen=chosen, missing=missing)

    async def series_api(request: Request):
        q = request.query_params
        subsystem, name = q.get("subsystem", ""), q.get("name", "")
        for field, value in (("subsystem", subsystem), ("name", name)):  # was 200 and "0 points": nothing asked
            if not value:
                return JSONResponse({"error": f"{field} is needed: the series' subsystem and name (the menu of "
                                              "/series lists them)"}, status_code=400)
        numbers = series_numbers(q)  # each named with its value (was "… must be finite numbers" of width=1e9)
        if isinstance(numbers, str):
            return JSONResponse({"error": numbers}, status_code=400)
        bad = [part for part in q.get("attributes", "").split(",")  # "=x": no key, matched no series, in silence
               if part.strip() and ("=" not in part or not part.split("=", 1)[0].strip())]
        if bad:  # was dropped: the plot of every series of that name, as if no attribute were given
            return JSONResponse({"error": f"attributes: {bad[0].strip()!r:.80} is not KEY=VALUE "
                                          "(e.g. route=/pay, region=eu)"}, status_code=400)
        try:
            if q.get("to"):
                t2 = int(float(q["to"]) * 1e9)
            else:  # `range` seconds up to the series' newest point (or now, if it has none)
                t2 = (await read(reader.last_ts, subsystem=subsystem, name=name) or time.time_ns()) + 10**9
            t1 = int(float(q["from"]) * 1e9) if q.get("from") else t2 - int(float(q.get("range") or 3600) * 1e9)
            data = await read(reader.series, subsystem=subsystem, name=name, t1=t1, t2=t2,
                              width=numbers["width"],
                              attributes=parse_attributes("{" + q.get("attributes", "") + "}"))
        except (ValueError, OverflowError):  # not a number; NaN; inf or 1e300 (no int of nanoseconds)
            return JSONResponse({"error": "from and to must be finite numbers (seconds since the epoch)"},
                                status_code=400)
        except QueryError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse(data)

    async def sql(request: Request):
        if request.method == "POST":
            form = await _form(request)
            if not isinstance(form, dict):
                return form
            if "q" not in form:
                return PlainTextResponse("400: the form has no field q (the SQL statement): nothing was run",
                                         status_code=400)
            text = form["q"]
        else:
            text = request.query_params.get("q", "")
        result, error = None, ""
        if text:
            try:
                result = await read(reader.result, str(text), origin="web-sql", on_behalf=client_of(request))
            except BenError as exc:
                error = str(exc)
        return page(request, "sql.html", q=text, result=result, error=error, status_code=400 if error else 200)

    async def status(request: Request):
        return page(request, "status.html", components=await read(reader.status))

    async def commands(request: Request):
        from ben.control import client

        state = request.query_params.get("state", "")
        if state and state not in client.COMMAND_STATES:  # else an empty list, in silence
            return PlainTextResponse(f"state must be one of {', '.join(client.COMMAND_STATES)} (got {state!r:.80})",
                                     status_code=400)
        try:
            records = await read(client.list_commands, reader.spine, 200, state)
            error = ""
        except BenError as exc:
            records, error = [], str(exc)
        return page(request, "commands.html", records=records, error=error, spine=reader.spine, state=state)

    async def stream(request: Request):
        q = live.subscribe()
        live.reset()
        still_valid = request.scope.get(STILL_VALID, lambda: True)

        async def events():
            try:
                yield "retry: 1000\n\n"
                while True:
                    try:
                        item = await asyncio.wait_for(q.get(), 15.0)
                        if item is None or not still_valid():  # the server is stopping (Live.end_streams); the
                            return  # token was replaced: the browser asks again, gets a 401, and the page says so
                        event, body = item
                        yield f"event: {event}\ndata: {body}\n\n"
                    except asyncio.TimeoutError:
                        if not still_valid():
                            return
                        yield ": keep-alive\n\n"
            finally:
                live.unsubscribe(q)

        return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})

    async def favicon(request: Request):
        return RedirectResponse("/static/favicon.svg")

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        await live.shutdown()

    async def unavailable(request: Request, exc: Exception):
        message = f"{exc} (the interface reads through the spine)"
        if request.url.path.startswith("/api/"):  # the explorer reads JSON: an HTML page was no answer it showed
            return JSONResponse({"error": message}, status_code=503)
        return page(request, "error.html", 503, message=message)

    async def not_found(request: Request, exc: Exception):
        """An unknown page is the site's page saying so, with where to go (was a bare "Not Found" text);
        the API and the static files answer as before."""
        from starlette.responses import PlainTextResponse

        path = request.url.path
        if path.startswith(("/api/", "/static/")):
            return PlainTextResponse("Not Found", status_code=404)
        shown = path if len(path) <= 120 else path[:120] + f"... ({len(path)} characters)"
        return page(request, "error.html", 404, message=f"no page {shown!r}: the pages are the map (/), "
                                                        "incidents, series, SQL, status and commands (above)")

    app = Starlette(exception_handlers={BenError: unavailable, 404: not_found}, routes=[
        Route("/", map_page), Route("/incidents", feed), Route("/incidents/items", feed), Route("/incident/{id}", incident),
        Route("/incident/{id}/acknowledge", ack, methods=["POST"]), Route("/series", series_page),
        Route("/api/series", series_api), Route("/sql", sql, methods=["GET", "POST"]), Route("/status", status),
        Route("/commands", commands), Route("/live", stream), Route("/favicon.ico", favicon),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ], lifespan=lifespan)
    wrapped = SecurityHeaders(TokenAuth(ServerTiming(app), token, local_uids, certificates), HERE / "templates")
    wrapped.end_streams = live.end_streams  # called by the server as it stops (ben.web.server)
    return wrapped
