"""Turns at the OTLP receiver's one parse and one conversion thread, handed round-robin between clients (ADR
0045, round 10).

Each export is parsed, then converted, one at a time (the conversion keeps metric streams' cumulative state in
request order). In arrival order, one local account's requests queued ahead of everyone's: three gzip bodies of
952 bytes (300,000 empty OTLP/JSON records each, within ``shape.MAX_PARTS``) kept another account's one-record
export waiting 15.5 s, past an SDK's 10 s export timeout, and 128 connections of such requests would have kept it
waiting for minutes. ``Turns`` serves the clients waiting in turn: a client's next request waits behind one
request of every other client waiting, never behind its own backlog. Within a client, requests keep their order
(the unnamed client "" is one client: peers of other hosts, the unix socket's applications).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque


class Turns:
    """One turn at a time; waiting clients are served round-robin, each client's requests in order."""

    def __init__(self) -> None:
        self._waiting: OrderedDict[str, deque[asyncio.Future]] = OrderedDict()
        self._busy = False

    def turn(self, client: str) -> _Turn:
        return _Turn(self, client)

    async def acquire(self, client: str) -> None:
        if not self._busy and not self._waiting:
            self._busy = True
            return
        granted = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(client, deque()).append(granted)
        try:
            await granted
        except asyncio.CancelledError:
            if granted.done() and not granted.cancelled():
                self.release()  # the turn came as we were cancelled: hand it on
            else:
                queue = self._waiting.get(client)
                if queue is not None and granted in queue:
                    queue.remove(granted)
                    if not queue:
                        del self._waiting[client]
            raise

    def release(self) -> None:
        """End the current turn: the next waiting client's oldest request gets it (that client then goes last)."""
        while self._waiting:
            client, queue = next(iter(self._waiting.items()))
            granted = queue.popleft()
            if queue:
                self._waiting.move_to_end(client)
            else:
                del self._waiting[client]
            if not granted.done():
                granted.set_result(None)
                return
        self._busy = False

    def waiting(self) -> int:
        return sum(len(q) for q in self._waiting.values())


class _Turn:
    def __init__(self, turns: Turns, client: str):
        self._turns = turns
        self._client = client

    async def __aenter__(self) -> None:
        await self._turns.acquire(self._client)

    async def __aexit__(self, *exc) -> None:
        self._turns.release()
