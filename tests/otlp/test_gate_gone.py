"""A connection whose client left before it was accepted takes no place (ADR 0045, round 9).

Round 8 counted 214 closes for the 200 connections of five floods. The cause: connections of an earlier flood
(its process gone, its last connections still in the accept queue or arriving from SYN retries) were accepted
during the next one. The kernel lists such a client end with no owner, so it was the unnamed client "": admitted,
and, the listener full, it evicted the newest connection of the account holding most, a live one. Measured with
the gate alone (a flood of 3,000 from ``nobody`` closed, then five floods of 40): 357 such connections admitted
and 23 live connections evicted for them. Now the gate closes a loopback connection no client holds at once.
Real sockets, a real gate, the gRPC side a plain unix listener.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from pathlib import Path

from ben.otlp.gate import Gate


async def _wait(condition, what: str, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.01)


def test_a_connection_its_client_closed_before_accept_takes_no_place_and_evicts_no_one(tmp_path: Path) -> None:
    async def scenario() -> None:
        gate = Gate(per_client=16, total=2, directory=tmp_path / "gate")
        spliced: list[asyncio.StreamWriter] = []  # the gRPC side's ends, closed at the end
        inner = await asyncio.start_unix_server(lambda r, w: spliced.append(w), path=gate.inner)
        port = await gate.start("127.0.0.1", 0)
        live = []
        try:
            for _ in range(2):  # this account holds the listener's two places
                live.append(await asyncio.open_connection("127.0.0.1", port))
            await _wait(lambda: sum(gate.held.values()) == 2, "two connections admitted")
            # connected and closed while the loop does not run: the gate accepts it only after its client left
            gone = socket.create_connection(("127.0.0.1", port))
            gone.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\0" * 8)  # no linger: no FIN_WAIT owner either
            gone.close()
            time.sleep(0.1)
            await _wait(lambda: getattr(gate, "gone", 0) or gate.evicted or gate.refused, "the gate to see it")
            assert gate.evicted == 0 and gate.refused == 0 and gate.gone == 1
            assert dict(gate.held) == {f"u{os.geteuid()}": 2}
            for reader, writer in live:  # both still open: nothing was closed for a client that left
                assert not writer.is_closing() and not reader.at_eof()
        finally:
            for writer in [w for _, w in live] + spliced:
                writer.close()
            await gate.shutdown()
            inner.close()
            await inner.wait_closed()
            await asyncio.sleep(0.05)  # the closed transports' callbacks run

    asyncio.run(scenario())
