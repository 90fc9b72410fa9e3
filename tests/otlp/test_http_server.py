"""ben.otlp.http_server's connection cap, on a real aiohttp server and real loopback sockets."""

from __future__ import annotations

import asyncio

from aiohttp import web

from ben.otlp.http_server import cap_connections


def test_a_connection_closed_as_it_is_accepted_leaves_no_traceback_in_the_log() -> None:
    """A connection the cap closes as it arrives (over the cap with every place busy, or closed by its client
    before it was accepted) was closed inside aiohttp's ``connection_made``, before the handler's task first
    ran: that task then failed its ``assert manager is not None`` and asyncio logged "Task exception was never
    retrieved" with a traceback, once per connection. Under a flood the sidecar's log was those tracebacks
    (and the attack tests' expected lines went out of its tail)."""

    async def run() -> list[dict]:
        loop = asyncio.get_running_loop()
        errors: list[dict] = []
        loop.set_exception_handler(lambda _loop, context: errors.append(context))
        server = web.Server(lambda request: web.Response(text="ok"))
        cap_connections(server, 0)  # every new connection is over the cap, and nothing else can give way
        listener = await loop.create_server(server, "127.0.0.1", 0)
        port = listener.sockets[0].getsockname()[1]
        for _ in range(20):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            assert await asyncio.wait_for(reader.read(), 10) == b""  # closed by the server
            writer.close()
        for _ in range(20):  # the handlers' tasks have run (and failed, before)
            await asyncio.sleep(0)
        listener.close()
        await listener.wait_closed()
        await server.shutdown(1.0)
        import gc
        import warnings
        with warnings.catch_warnings():  # (files other tests of this worker left to the collector are not ours)
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()  # "never retrieved" is reported when a failed task is collected
        await asyncio.sleep(0)
        return errors

    errors = asyncio.run(run())
    assert not errors, [str(e.get("exception") or e.get("message")) for e in errors]
