"""One loop both control servicers run: send what an outbox receives until the other side leaves."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator


async def relay(outbox: asyncio.Queue, reader: asyncio.Future) -> AsyncIterator:
    """Yield each message put in ``outbox`` until ``reader`` (the task reading the incoming side of
    the same stream) ends; the caller looks at ``reader`` for how it ended."""
    while True:
        get = asyncio.ensure_future(outbox.get())
        done, _ = await asyncio.wait({get, reader}, return_when=asyncio.FIRST_COMPLETED)
        if get not in done:
            get.cancel()
            return
        yield get.result()


def broke(reader: asyncio.Future) -> BaseException | None:
    """The error the reading side ended with, if any."""
    return None if reader.cancelled() else reader.exception()
