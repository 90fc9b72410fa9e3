"""The live feed: one poller per server, fanned out to every open page over server-sent events.

The poller asks the spine every ``poll_interval_ms`` (default 500 ms) for its figures and the newest
incidents, and pushes a message only when something changed: a change reaches the screen within one
interval plus a query (< 2 s). Topology (which sidecar carries which subsystem) is re-read every 5 s.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time

from ben.web.reads import SEVERITIES, FeedFilter, Reader

log = logging.getLogger(__name__)

HEALTH_RE = re.compile(r"(wal|lag|refus|reject|oldest|drop|backlog|pending|incident)", re.I)
TOPOLOGY_EVERY_S = 5.0


def map_model(status: list[dict], flows: list[dict], open_counts: list[dict]) -> dict:
    """Nodes (spine, store, sidecars, subsystems) with health figures, and edges for the data flow."""
    nodes: list[dict] = []
    edges: list[dict] = []
    by_sub: dict[str, dict[str, int]] = {}
    for r in open_counts:
        by_sub.setdefault(r["subsystem"], {})[r["severity"]] = int(r["n"])
    spine = next((s for s in status if s["component"] == "spine"), None)
    health = lambda figs: {k: v for k, v in sorted(figs.items()) if HEALTH_RE.search(k)}  # noqa: E731
    nodes.append({"id": "spine", "kind": "spine", "label": "spine", "up": bool(spine and spine["up"]),
                  "health": health(spine["figures"]) if spine else {},
                  "error": spine["last_error"] if spine else ""})
    nodes.append({"id": "store", "kind": "store", "label": "store (ClickHouse)", "up": bool(spine and spine["up"]),
                  "health": {k: v for k, v in (spine["figures"] if spine else {}).items()
                             if k.startswith(("rows_stored", "store_"))}})
    edges.append({"source": "spine", "target": "store"})
    sidecars: dict[str, dict] = {}
    for s in status:
        if s["component"] != "spine":
            sid = s["id"] or s["address"]
            sidecars[sid] = {"id": f"sidecar:{sid}", "kind": "sidecar", "label": f"sidecar {sid}", "up": s["up"],
                             "health": health(s["figures"]), "error": s["last_error"]}
    for f in flows:
        sid = f["sidecar_id"] or "?"
        sidecars.setdefault(sid, {"id": f"sidecar:{sid}", "kind": "sidecar", "label": f"sidecar {sid} ({f['host']})",
                                  "up": True, "health": {}, "error": ""})
    for sc in sidecars.values():
        nodes.append(sc)
        edges.append({"source": sc["id"], "target": "spine"})
    subs = sorted({f["subsystem"] for f in flows} | set(by_sub))
    for sub in subs:
        counts = by_sub.get(sub, {})
        nodes.append({"id": f"sub:{sub}", "kind": "subsystem", "label": sub, "up": True,
                      "health": {f"open_{k}": v for k, v in counts.items()},
                      "open": sum(counts.values()), "worst": next((s for s in SEVERITIES
                                                                    if counts.get(s)), "")})
    for f in flows:
        edges.append({"source": f"sub:{f['subsystem']}", "target": f"sidecar:{f['sidecar_id'] or '?'}"})
    return {"nodes": nodes, "edges": edges, "ts": time.time()}


class Live:
    """Polls the spine while at least one page listens; each listener gets the latest messages."""

    def __init__(self, reader: Reader, interval_s: float = 0.5):
        self._reader = reader
        self._interval = interval_s
        self._listeners: set[asyncio.Queue] = set()
        self._task: asyncio.Task | None = None
        self._last: dict[str, str] = {}
        self._flows: list[dict] = []
        self._flows_at = 0.0

    def snapshot(self) -> dict[str, dict]:
        """One full poll (blocking): the messages a page gets first."""
        now = time.monotonic()
        if now - self._flows_at >= TOPOLOGY_EVERY_S:
            try:
                self._flows = self._reader.flows()
            except Exception as exc:  # noqa: BLE001 - the map shows what it has
                log.debug("flows: %s", exc)
            self._flows_at = now
        status = self._reader.status()
        error = ""
        try:
            counts = self._reader.open_counts()
            incidents = self._reader.incidents(FeedFilter(limit=100))
        except Exception as exc:  # noqa: BLE001 - spine down: the map shows it red
            log.debug("incidents: %s", exc)
            counts, incidents, error = [], [], str(exc)
        # The error is part of the message: an empty feed whose spine stopped changed nothing else, so no
        # page heard of it (a feed page then says its list is stale; ben.web static app.js).
        return {"map": map_model(status, self._flows, counts),
                "incidents": {"incidents": incidents, **({"error": error} if error else {})}}

    def subscribe(self) -> asyncio.Queue:
        q: asyncio.Queue = asyncio.Queue(maxsize=16)
        self._listeners.add(q)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())
        return q

    def unsubscribe(self, q: asyncio.Queue) -> None:
        self._listeners.discard(q)

    async def _run(self) -> None:
        self._last = {}
        while self._listeners:
            try:
                snap = await asyncio.to_thread(self.snapshot)
            except Exception as exc:  # noqa: BLE001
                log.warning("live poll failed: %s", exc)
                snap = {}
            for event, payload in snap.items():
                body = json.dumps(payload, default=str)
                key = json.dumps({k: v for k, v in payload.items() if k != "ts"}, default=str)
                if self._last.get(event) == key:
                    continue
                self._last[event] = key
                for q in list(self._listeners):
                    if q.full():
                        q.get_nowait()
                    q.put_nowait((event, body))
            await asyncio.sleep(self._interval)

    def end_streams(self) -> None:
        """The server is stopping: every open ``/live`` stream ends now (a ``None`` in its queue). Uvicorn waited
        its graceful second for them, then cancelled them: an ERROR and a 40-line traceback in the terminal of
        ``ben web`` stopped with Ctrl-C while a page was open. (A browser reconnects to the next server.)"""
        for q in list(self._listeners):
            if q.full():
                q.get_nowait()
            q.put_nowait(None)

    def reset(self) -> None:
        """A new listener must get everything once: forget what was sent."""
        self._last = {}

    async def shutdown(self) -> None:
        self._listeners.clear()
        if self._task is not None:
            self._task.cancel()
